package remind

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/store"
)

// reply sends a patient's signed message to the inbound webhook and returns
// the text the engine answers with.
func (b *bundle) reply(t *testing.T, from, body string) string {
	t.Helper()
	resp, err := b.fake.Inbound(context.Background(), b.web.URL+InboundPath, from, "+390000000000", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("inbound webhook: %s %s", resp.Status, raw)
	}
	s := string(raw)
	i := strings.Index(s, "<Message>")
	if i < 0 {
		return ""
	}
	s = strings.TrimSuffix(s[i+len("<Message>"):], "</Message></Response>")
	return strings.NewReplacer("&#39;", "'", "&#34;", "\"", "&amp;", "&").Replace(s)
}

func (b *bundle) responses(t *testing.T, kind string) []store.Response {
	t.Helper()
	rs, err := b.st.Responses(context.Background(), kind)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestUnsignedOrForgedWebhooksAreRefused(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	var mu sync.Mutex
	refused := map[string]int{}
	b.hooks.OnError = func(webhook, reason string) {
		mu.Lock()
		refused[webhook+"/"+reason]++
		mu.Unlock()
	}
	form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}, "From": {"+393331234567"}, "Body": {"STOP"}}
	for _, tc := range []struct {
		name, path, sig string
	}{
		{"status callback without signature", StatusPath, ""},
		{"status callback signed with another token", StatusPath, twiliotest.Signature("wrong-token", b.web.URL+StatusPath, form)},
		{"reply signed for another URL", InboundPath, twiliotest.Signature(testToken, "https://elsewhere.example"+InboundPath, form)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, b.web.URL+tc.path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.sig != "" {
				req.Header.Set("X-Twilio-Signature", tc.sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}
		})
	}
	mu.Lock()
	if refused["status/signature"] != 2 || refused["inbound/signature"] != 1 {
		t.Errorf("refusals reported for the metrics: %v", refused)
	}
	mu.Unlock()
	// A forged STOP must not have opted anyone out.
	if out, _ := b.st.IsOptedOut(context.Background(), "+393331234567"); out {
		t.Fatal("forged STOP was acted on")
	}
}

func TestRepliesInItalian(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	b.plan(t, Options{},
		row("ASL1", "ASL1-2026-0012345", "3331111111", "01/12/2026 10:30"),
		row("ASL1", "ASL1-2026-0012346", "3332222222", "01/12/2026 11:00"),
		row("ASL1", "ASL1-2026-0012347", "3333333333", "01/12/2026 08:30"),
		row("AO", "AO-2026-0098765", "3333333333", "01/12/2026 15:00"),
		row("ASL1", "ASL1-2026-0012348", "3334444444", "01/12/2026 09:00"))
	b.drain(t)

	t.Run("SI confirms the booking", func(t *testing.T) {
		ans := b.reply(t, "+393331111111", "Sì, confermo!")
		if !strings.Contains(ans, "conferma") || !strings.Contains(ans, "martedì 1 dicembre alle 10:30") {
			t.Fatalf("answer %q", ans)
		}
	})
	t.Run("ANNULLA records a cancellation request for the CUP", func(t *testing.T) {
		ans := b.reply(t, "+393332222222", "annullo")
		if !strings.Contains(ans, "disdetta") || !strings.Contains(ans, "ASL1-2026-0012346") {
			t.Fatalf("answer %q", ans)
		}
	})
	t.Run("ANNULLA with two bookings asks which, then the digits decide", func(t *testing.T) {
		ans := b.reply(t, "+393333333333", "ANNULLA")
		if !strings.Contains(ans, "ultime cifre") || !strings.Contains(ans, "2347") || !strings.Contains(ans, "8765") {
			t.Fatalf("answer %q", ans)
		}
		for _, r := range b.responses(t, store.ResponseCancel) {
			if strings.HasPrefix(r.Code, "AO-") || r.Code == "ASL1-2026-0012347" {
				t.Fatalf("an ambiguous ANNULLA cancelled %s", r.Code)
			}
		}
		ans = b.reply(t, "+393333333333", "annulla 8765")
		if !strings.Contains(ans, "AO-2026-0098765") {
			t.Fatalf("answer %q", ans)
		}
	})
	t.Run("digits that match no booking say so, and name the one booking there is", func(t *testing.T) {
		ans := b.reply(t, "+393331111111", "ANNULLA 9999")
		if strings.Contains(ans, "più appuntamenti") || !strings.Contains(ans, "9999 non corrispondono") ||
			!strings.Contains(ans, "martedì 1 dicembre alle 10:30") || !strings.Contains(ans, "ASL1-2026-0012345") ||
			!strings.Contains(ans, "risponda ANNULLA") {
			t.Fatalf("answer %q", ans)
		}
	})
	t.Run("digits that match none of several bookings say so, then ask which", func(t *testing.T) {
		ans := b.reply(t, "+393333333333", "SI 4444")
		if !strings.Contains(ans, "4444 non corrispondono") || !strings.Contains(ans, "Ha più appuntamenti") || !strings.Contains(ans, "2347") {
			t.Fatalf("answer %q", ans)
		}
	})
	t.Run("a question lands in the operators' inbox", func(t *testing.T) {
		if ans := b.reply(t, "+393334444444", "Posso spostarlo al pomeriggio?"); ans != "" {
			t.Fatalf("answered %q", ans)
		}
		in, err := b.st.Inbox(context.Background(), 10)
		if err != nil || len(in) != 1 || in[0].Body != "Posso spostarlo al pomeriggio?" || in[0].ReceivedAt == 0 {
			t.Fatalf("inbox %+v %v", in, err)
		}
	})
	t.Run("a reply from a number never reminded lands in the inbox", func(t *testing.T) {
		b.reply(t, "+393335555555", "SI")
		in, _ := b.st.Inbox(context.Background(), 10)
		if len(in) != 2 {
			t.Fatalf("inbox has %d replies, want 2", len(in))
		}
	})

	conf, canc := b.responses(t, store.ResponseConfirm), b.responses(t, store.ResponseCancel)
	if len(conf) != 1 || conf[0].Code != "ASL1-2026-0012345" {
		t.Fatalf("confirmations %+v", conf)
	}
	if len(canc) != 2 {
		t.Fatalf("cancellation requests %+v", canc)
	}
}

func TestStopThenNoFurtherMessage(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"))
	b.drain(t)
	if ans := b.reply(t, "+393331234567", "STOP"); ans != "" {
		t.Fatalf("answered a STOP with %q", ans)
	}
	// The next day's extract has another booking for the same number.
	rep := b.plan(t, Options{ForDate: mondayMorning.AddDate(0, 0, 2)}, row("ASL1", "A-2", "3331234567", "02/12/2026 10:30"))
	if rep.Messages != 0 || len(rep.Rejected) != 1 || rep.Rejected[0].Reason != "opted_out" {
		t.Fatalf("after STOP: %+v", rep)
	}
	b.drain(t)
	if n := b.fake.CountTo("+393331234567"); n != 1 {
		t.Fatalf("provider holds %d messages for the number, want only the one before STOP", n)
	}
}

func TestWebhookRetriedByTheProviderIsActedOnOnce(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"))
	b.drain(t)
	ctx := context.Background()
	first, err := b.hooks.HandleReply(ctx, "SMdup", "+393331234567", "SI")
	if err != nil || first == "" {
		t.Fatalf("first: %q %v", first, err)
	}
	second, err := b.hooks.HandleReply(ctx, "SMdup", "+393331234567", "SI")
	if err != nil || second != "" {
		t.Fatalf("retried webhook answered %q %v", second, err)
	}
}

// countingReader counts what a handler reads of a body.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestOversizedWebhooksAreRefusedUnread(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	var mu sync.Mutex
	refused := map[string]int{}
	b.hooks.OnError = func(webhook, reason string) {
		mu.Lock()
		refused[webhook+"/"+reason]++
		mu.Unlock()
	}
	mux := http.NewServeMux()
	b.hooks.Register(mux)
	big := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}, "Junk": {strings.Repeat("x", 1<<20)}}.Encode()
	for _, tc := range []struct {
		name, sig, ctype string
		chunked          bool
		want             int
		reason           string
		readAtMost       int
	}{
		{"junk signature on a 1 MiB form", "junk", "application/x-www-form-urlencoded", false, http.StatusRequestEntityTooLarge, "status/too_large", 0},
		{"junk signature on a 1 MiB form sent in chunks", "junk", "application/x-www-form-urlencoded", true, http.StatusRequestEntityTooLarge, "status/too_large", MaxWebhookBody + 4096},
		{"no signature on a 1 MiB form", "", "application/x-www-form-urlencoded", true, http.StatusForbidden, "status/signature", 0},
		{"a multipart upload", "junk", "multipart/form-data; boundary=x", true, http.StatusUnsupportedMediaType, "status/bad_request", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingReader{r: strings.NewReader(big)}
			req := httptest.NewRequest(http.MethodPost, StatusPath, body)
			req.ContentLength = int64(len(big))
			if tc.chunked {
				req.ContentLength = -1
			}
			req.Header.Set("Content-Type", tc.ctype)
			if tc.sig != "" {
				req.Header.Set("X-Twilio-Signature", tc.sig)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			if body.n > tc.readAtMost {
				t.Fatalf("read %d bytes of the body, at most %d expected", body.n, tc.readAtMost)
			}
			mu.Lock()
			defer mu.Unlock()
			if refused[tc.reason] == 0 {
				t.Fatalf("not counted as %s: %v", tc.reason, refused)
			}
		})
	}
}

// lockedBuffer is a log destination several goroutines may write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestADeliveryReportContradictingAFinalOneIsLoggedNotApplied(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	var logged lockedBuffer
	b.hooks.Log = slog.New(slog.NewTextHandler(&logged, nil))
	b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"))
	b.drain(t)
	m := b.waitStatus(t, "+393331234567", store.StatusDelivered)
	post := func(status, code string) {
		t.Helper()
		form := url.Values{"MessageSid": {m.ProviderID}, "MessageStatus": {status}, "ErrorCode": {code}}
		req, _ := http.NewRequest(http.MethodPost, b.web.URL+StatusPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twiliotest.Signature(testToken, b.web.URL+StatusPath, form))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: status %d", status, resp.StatusCode)
		}
	}
	post("undelivered", "30003")
	post("failed", "30008")
	if got := b.messages(t, "+393331234567"); got[0].Status != store.StatusDelivered || got[0].ErrorCode != 0 {
		t.Fatalf("a delivered message became %s (code %d)", got[0].Status, got[0].ErrorCode)
	}
	if n := strings.Count(logged.String(), "contradicts the final status"); n != 2 {
		t.Fatalf("%d contradictions logged, want 2:\n%s", n, logged.String())
	}
}
