package survey

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/calendar"
	dialcampaigns "github.com/richiamo/richiamo/internal/dialer/campaigns"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
)

// TestTheDialerHoldsTheSurveyWithSimulatedPatients runs the morning the
// issue describes: the call log arrives, the sample is drawn, the dialer
// of active campaigns calls the three drawn patients over SIP and RTP, two
// answer (one with low ratings), one is busy, and the low rating opens a
// follow-up.
func TestTheDialerHoldsTheSurveyWithSimulatedPatients(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	ctx := context.Background()
	dir := t.TempDir()
	morning(t, dir, 30) // m00, m10 and m20 are drawn: numbers 100, 110, 120
	caller, _ := patient(t, `seed: 1
behaviours:
  answer_and_press: {weight: 1, digits: "5445", after: 1s}
  invalid_key: {weight: 0, digits: "4215", after: 1s}
  busy: {weight: 0}
overrides:
  - {ends_with: "110", behaviour: invalid_key}
  - {ends_with: "120", behaviour: busy}
max_call: 2m
`)
	now := testkit.RunningClock(at("2026-12-01", "09:40:00"))
	svc := &Service{Config: Config{Seed: seed}, Store: st, Script: campaigns.Survey, Inbox: filepath.Join(dir, "*.csv"), Now: now, Log: testkit.Logger(t)}
	if err := svc.Validate(); err != nil {
		t.Fatal(err)
	}
	if r, err := svc.Round(ctx); err != nil || r.Sampled != 3 {
		t.Fatalf("round %+v %v", r, err)
	}
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	runner, err := dialcampaigns.New(dialcampaigns.Config{Store: st, Caller: caller, Calendar: cal, Channels: 3, CallsPerSecond: 10,
		Owner: "serve", Refresh: 200 * time.Millisecond, Now: now, Log: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := runner.Run(runCtx); err != nil {
			t.Error(err)
		}
	})
	testkit.WaitFor(t, func() error {
		var n int
		if err := st.DB().Get(&n, `SELECT COUNT(*) FROM attempts`); err != nil || n < 3 {
			return fmt.Errorf("%d attempts %v", n, err)
		}
		return nil
	}, 90*time.Second)
	stop()
	wg.Wait()

	r, err := svc.Round(ctx)
	if err != nil || r.FollowUps != 1 {
		t.Fatalf("round %+v %v, want one follow-up", r, err)
	}
	items, err := st.OpenWorkItems(ctx, store.WorkFilter{Now: now()})
	if err != nil || len(items) != 1 {
		t.Fatalf("work items %+v %v", items, err)
	}
	want := "telefonata delle 08:30 con l'operatore 042 (coda prenotazioni). Voti: servizio 4, cortesia dell'operatore 2, competenza dell'operatore 1, problema risolto 5."
	if !strings.Contains(items[0].Body, want) || items[0].Phone != "+39"+number(110) {
		t.Errorf("item %+v, want %q", items[0], want)
	}
	var busy []struct {
		Status  string `db:"status"`
		Outcome string `db:"outcome"`
	}
	if err := st.DB().Select(&busy, `SELECT status, outcome FROM contacts WHERE phone = ?`, "+39"+number(120)); err != nil || len(busy) != 1 ||
		busy[0].Status != "pending" || busy[0].Outcome != "busy" {
		t.Errorf("the busy patient's contact %+v %v, want pending for another attempt", busy, err)
	}
	f, err := Compute(ctx, st, Config{Seed: seed}, at("2026-12-01", "00:00:00"), at("2026-12-01", "00:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range f.Days {
		if row.Operator == AllOperators {
			if row.Handled != 30 || row.Sampled != 3 || row.Called != 3 || row.Completed != 2 || row.FollowUpsOpened != 1 {
				t.Errorf("the day's figures %+v", row)
			}
			if q := row.Questions["cortesia"]; q == nil || q.Mean != 3 || q.Insufficient != 0.5 {
				t.Errorf("cortesia %+v", q)
			}
		}
	}
}
