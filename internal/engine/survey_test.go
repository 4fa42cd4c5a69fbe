package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/clock"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/survey"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/yamlfile"
)

func TestTheEngineRunsTheSurveyWithTheCallLogEndpoint(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 30, 0, 0, calendar.Rome)
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Dir = dir
	cfg.Survey.Seed, cfg.CallLog.Secret = "seme-di-prova-2026", "segreto-condiviso-centralino"
	cfg.CallLog.Inbox = "chiamate/*.csv"
	eng, err := New(context.Background(), cfg, Deps{Now: clock.From(now), Log: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if eng.Survey == nil || eng.CallLog == nil {
		t.Fatalf("survey %v, endpoint %v: want both", eng.Survey, eng.CallLog)
	}
	srv := httptest.NewServer(eng.Handler())
	t.Cleanup(srv.Close)
	body := `{"id_chiamata":"c1","chiamante":"3331234567","inizio":"01/12/2026 09:00:00","risposta":"01/12/2026 09:00:10","fine":"01/12/2026 09:05:00","operatore":"042"}`
	post := func(sig string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+calllog.Path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(calllog.TimestampHeader, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(calllog.SignatureHeader, sig)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(calllog.Sign([]byte("un-altro-segreto-lungo"), now, []byte(body))); code != http.StatusForbidden {
		t.Errorf("a bad signature: %d, want 403", code)
	}
	if code := post(calllog.Sign([]byte(cfg.CallLog.Secret), now, []byte(body))); code != http.StatusNoContent {
		t.Fatalf("a signed call: %d, want 204", code)
	}
	calls, err := eng.Store.InboundCallsOfDay(context.Background(), "2026-12-01")
	if err != nil || len(calls) != 1 || calls[0].Operator != "042" {
		t.Fatalf("calls %+v %v", calls, err)
	}
	svcs, err := eng.Services()
	if err == nil {
		found := false
		for _, s := range svcs {
			found = found || s.Name == "survey"
		}
		if !found {
			t.Errorf("services %v lack the survey", svcs)
		}
	}
}

func TestACallLogWithoutTheSeedStopsStartUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "richiamo.yaml")
	if err := os.WriteFile(p, []byte("call_log:\n  inbox: chiamate/*.csv\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store.SQLite = filepath.Join(dir, "richiamo.db")
	_, err = New(context.Background(), cfg, Deps{Log: testkit.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), config.EnvSurveySeed) {
		t.Errorf("err %v, want the seed's variable named", err)
	}
}

// The example file writes the survey's settings with the survey
// package's defaults.
func TestTheExampleFileStatesTheSurveyDefaults(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "richiamo.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ex config.Config
	if err := yamlfile.Decode(data, &ex); err != nil {
		t.Fatal(err)
	}
	got := SurveyConfig(ex)
	got.Seed = nil
	if want := (survey.Config{}).WithDefaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("example %+v, defaults %+v", got, want)
	}
	if l := CallLogLayout(ex); l.Preset != "" || l.Delimiter != 0 || l.TimeLayout != "" || len(l.Columns) != 0 {
		t.Errorf("example layout %+v, want the default", l)
	}
}
