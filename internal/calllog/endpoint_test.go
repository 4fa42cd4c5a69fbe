package calllog

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/testkit"
)

type recorded struct {
	mu    sync.Mutex
	calls []Call
}

func (r *recorded) RecordCall(_ context.Context, c Call, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	return nil
}

var secret = []byte("0123456789abcdef-segreto")

func setupEndpoint(t *testing.T) (*httptest.Server, *recorded, *testkit.Clock) {
	t.Helper()
	clk := testkit.NewClock(rome("2026-12-01", "09:05:00"))
	rec := &recorded{}
	e := &Endpoint{Secret: secret, Recorder: rec, Log: testkit.Logger(t), Now: clk.Now}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, rec, clk
}

const event = `{"id_chiamata":"c1","chiamante":"3331234567","inizio":"01/12/2026 09:00:00",` +
	`"risposta":"2026-12-01T09:00:15+01:00","fine":"01/12/2026 09:03:00","operatore":"042","coda":"prenotazioni"}`

func post(t *testing.T, srv *httptest.Server, body string, ts time.Time, sig string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+Path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(TimestampHeader, strconv.FormatInt(ts.Unix(), 10))
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestTheEndpointRecordsASignedCall(t *testing.T) {
	t.Parallel()
	srv, rec, clk := setupEndpoint(t)
	if code := post(t, srv, event, clk.Now(), Sign(secret, clk.Now(), []byte(event))); code != http.StatusNoContent {
		t.Fatalf("status %d, want 204", code)
	}
	if len(rec.calls) != 1 {
		t.Fatalf("recorded %v", rec.calls)
	}
	if c := rec.calls[0]; c.ID != "c1" || c.Operator != "042" || !c.Answer.Equal(rome("2026-12-01", "09:00:15")) || !c.Handled() {
		t.Errorf("call %+v", c)
	}
}

func TestTheEndpointRefuses(t *testing.T) {
	t.Parallel()
	srv, rec, clk := setupEndpoint(t)
	now := clk.Now()
	old := now.Add(-10 * time.Minute)
	for _, tc := range []struct {
		name string
		body string
		ts   time.Time
		sig  string
		want int
	}{
		{"no signature", event, now, "", http.StatusForbidden},
		{"a signature with another secret", event, now, Sign([]byte("another-secret-of-16"), now, []byte(event)), http.StatusForbidden},
		{"a body changed after signing", strings.Replace(event, "042", "043", 1), now, Sign(secret, now, []byte(event)), http.StatusForbidden},
		{"an old request replayed", event, old, Sign(secret, old, []byte(event)), http.StatusForbidden},
		{"a body too large", strings.Repeat(" ", MaxBody+1), now, Sign(secret, now, []byte(strings.Repeat(" ", MaxBody+1))), http.StatusRequestEntityTooLarge},
		{"a signed body that is not a call", `{"id_chiamata":"c2","inizio":"ieri"}`, now, Sign(secret, now, []byte(`{"id_chiamata":"c2","inizio":"ieri"}`)), http.StatusBadRequest},
		{"a signed body with an unknown field", `{"numero":"3331234567"}`, now, Sign(secret, now, []byte(`{"numero":"3331234567"}`)), http.StatusBadRequest},
	} {
		if code := post(t, srv, tc.body, tc.ts, tc.sig); code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, code, tc.want)
		}
	}
	if len(rec.calls) != 0 {
		t.Errorf("recorded %v, want nothing", rec.calls)
	}
}

func TestTheEndpointNeedsALongEnoughSecret(t *testing.T) {
	t.Parallel()
	e := &Endpoint{Secret: []byte("short"), Recorder: &recorded{}, Log: testkit.Logger(t), Now: time.Now}
	if err := e.Validate(); err == nil || !strings.Contains(err.Error(), EnvSecret) {
		t.Errorf("err = %v, want the secret's variable named", err)
	}
}

func FuzzEvent(f *testing.F) {
	f.Add(event)
	f.Add(`{"id_chiamata":"x","inizio":"2026-12-01T09:00:00Z","fine":"2026-12-01T08:00:00Z"}`)
	f.Fuzz(func(t *testing.T, body string) {
		var ev Event
		if json.Unmarshal([]byte(body), &ev) != nil {
			return
		}
		c, err := ev.Call()
		if err == nil && (c.ID == "" || c.End.Before(c.Start)) {
			t.Fatalf("event %q let through as %+v", body, c)
		}
	})
}
