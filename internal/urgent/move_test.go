package urgent

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cup"
	campaignrunner "github.com/richiamo/richiamo/internal/dialer/campaigns"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

var update = flag.Bool("update", false, "rewrite golden files")

// monday10 is Monday 30 November 2026, 10:00 in Rome: the window is open.
var monday10 = time.Date(2026, 11, 30, 10, 0, 0, 0, calendar.Rome)

func TestShippedScriptsLoad(t *testing.T) {
	t.Parallel()
	for name, text := range map[string][]byte{"urgent.yaml": campaigns.Urgent, "urgent-rebook.yaml": campaigns.UrgentRebook} {
		if err := job.Check(string(job.UrgentMove), name, text); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRequestValidate(t *testing.T) {
	t.Parallel()
	by := monday10.Add(48 * time.Hour)
	for _, tc := range []struct {
		name string
		r    Request
		want string
	}{
		{"no node", Request{Codes: []string{"A"}, By: by}, "needs the node"},
		{"nothing named", Request{Node: "asl1", By: by}, "name the bookings"},
		{"both ways", Request{Node: "asl1", Agenda: "RM", From: "2026-12-01", To: "2026-12-02", Codes: []string{"A"}, By: by}, "not both"},
		{"an agenda without days", Request{Node: "asl1", Agenda: "RM", By: by}, "first and last day"},
		{"days backwards", Request{Node: "asl1", Agenda: "RM", From: "2026-12-03", To: "2026-12-02", By: by}, "before the first"},
		{"by in the past", Request{Node: "asl1", Codes: []string{"A"}, By: monday10}, "not in the future"},
		{"a new date in the past", Request{Node: "asl1", Codes: []string{"A"}, By: by, NewAt: monday10.Add(-time.Hour)}, "new date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.r.Validate(monday10)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	if err := (Request{Node: "asl1", Agenda: "RM", From: "2026-12-01", To: "2026-12-01", By: by}).Validate(monday10); err != nil {
		t.Fatal(err)
	}
}

// The simulated patients: numbers ending in 09 do not exist (404), those
// ending in 08 ask for an operator (0), the others accept (1).
const mix = `seed: 16
behaviours:
  answer_and_press: {weight: 1, digits: "1", after: 200ms}
  invalid_key: {weight: 0, digits: "0", after: 200ms}
overrides:
  - {ends_with: "09", behaviour: wrong_number}
  - {ends_with: "08", behaviour: invalid_key}
max_call: 30s
`

// TestUrgentMoveAgainstSimulatedPatients files an urgent move over real
// SIP and RTP: the first number of one patient is wrong and the second
// answers and accepts; another asks for an operator; one has only a
// number that failed before, one only a number that turns out wrong.
// Each ends where the CUP manager's result file says.
func TestUrgentMoveAgainstSimulatedPatients(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	ctx := context.Background()
	born := time.Date(1980, 1, 1, 0, 0, 0, 0, cup.Rome)
	at := monday10.AddDate(0, 0, 3)
	past := monday10.AddDate(0, 0, -100)
	importBookings(t, st, []cup.Booking{
		{Node: "asl1", Code: "PRE001", Phone: "+393330000109", At: at, Agenda: "RM-NORD", Surname: "Rossi", Name: "Mario", FiscalCode: rossi.FiscalCode, BirthDate: born},
		{Node: "asl1", Code: "PRE002", Phone: "+393330000208", At: at.Add(30 * time.Minute), Agenda: "RM-NORD", Surname: "Bianchi", Name: "Anna"},
		{Node: "asl1", Code: "PRE003", Phone: "+393330000301", At: at.Add(time.Hour), Agenda: "RM-NORD", Surname: "Verdi", Name: "Luca"},
		{Node: "asl1", Code: "PRE004", Phone: "+393330000409", At: at.Add(90 * time.Minute), Agenda: "RM-NORD", Surname: "Neri", Name: "Ugo"},
		// Mario Rossi's older booking elsewhere, with another number.
		{Node: "asl2", Code: "OLD001", Phone: "+393330000112", At: monday10.AddDate(0, 0, 40), Agenda: "CARDIO", Surname: "ROSSI", Name: "MARIO", BirthDate: born},
		// Another agenda of the node: not part of the move.
		{Node: "asl1", Code: "PRE900", Phone: "+393330000900", At: at, Agenda: "ECO", Surname: "Blu", Name: "Ada"},
	}, past)
	// Rossi's booking number took an SMS 100 days ago, so it is tried
	// first; Verdi's number was found not to exist.
	sendSMS(t, st, "+393330000109", "delivered", 0, past)
	sendSMS(t, st, "+393330000301", "undelivered", 30005, past.Add(time.Hour))

	newAt := time.Date(2026, 12, 7, 10, 30, 0, 0, cup.Rome)
	c, err := Create(ctx, st, Request{Node: "asl1", Agenda: "RM-NORD", From: "2026-12-03", To: "2026-12-03", NewAt: newAt,
		By: monday10.Add(24 * time.Hour), Reason: "TAC guasta", CreatedBy: "cup.asl1", Name: "urgente-tac"}, DefaultSettings, monday10)
	if err != nil {
		t.Fatal(err)
	}
	if c.Targets != 4 || c.Calls != 3 || c.NoNumber != 1 || c.Messages != 3 {
		t.Fatalf("created %+v", c)
	}
	k, err := st.CampaignByID(ctx, c.CampaignID)
	if err != nil || k.Kind != "urgent_move" || k.State != store.CampaignActive {
		t.Fatalf("campaign %+v %v", k, err)
	}

	m, err := patients.ParseMix([]byte(mix))
	if err != nil {
		t.Fatal(err)
	}
	pts, err := patients.NewServer(patients.Config{Listen: "127.0.0.1:0", Mix: m, Log: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer pts.Close()
	caller, err := voice.NewCaller(voice.Config{Bind: "127.0.0.1:0", Advertise: "127.0.0.1", Proxy: "sip:" + pts.Addr(),
		CallerID: "+390000000000", RTPPortMin: 47200, RTPPortMax: 47599, RingTimeout: 4 * time.Second, MaxDuration: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	clock := testkit.RunningClock(monday10)
	r, err := campaignrunner.New(campaignrunner.Config{Store: st, Caller: caller, Calendar: cal, Channels: 4, CallsPerSecond: 20,
		Owner: "serve", Refresh: 100 * time.Millisecond, Now: clock, Log: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Run(runCtx); err != nil {
			t.Error(err)
		}
	})
	settler := Settler{Store: st, Now: clock, Log: testkit.Logger(t)}
	testkit.WaitFor(t, func() error {
		if _, err := settler.Step(ctx); err != nil {
			return err
		}
		ts, err := st.UrgentTargets(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, tg := range ts {
			if tg.State == store.UrgentCalling {
				return fmt.Errorf("%s still being called (number %d, contact %s)", tg.Code, tg.Tried+1, tg.ContactStatus)
			}
		}
		return nil
	}, 90*time.Second)
	stop()
	wg.Wait()

	_, rs, err := Results(ctx, st, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	if err := WriteResultCSV(&csv, rs); err != nil {
		t.Fatal(err)
	}
	golden(t, "urgent-result.golden", csv.String())

	// The wrong number was called once, then the second number.
	var calls []struct {
		Phone   string `db:"phone"`
		Outcome string `db:"outcome"`
		Result  string `db:"result"`
	}
	if err := st.DB().Select(&calls, `SELECT c.phone, a.outcome, a.result FROM attempts a JOIN contacts c ON c.id = a.contact_id
		WHERE c.phone IN ('+393330000109', '+393330000112') ORDER BY a.id`); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(calls) != "[{+393330000109 invalid_number } {+393330000112 answered accepted}]" {
		t.Fatalf("calls %v", calls)
	}
	// The first SMS went to the wrong number too: the second number got
	// its own.
	var sms []string
	if err := st.DB().Select(&sms, `SELECT phone FROM messages WHERE kind = 'urgent' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sms) != "[+393330000109 +393330000208 +393330000409 +393330000112]" {
		t.Fatalf("urgent SMS to %v", sms)
	}
	items, err := st.OpenWorkItems(ctx, store.WorkFilter{Kind: store.WorkUrgent, Now: clock().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, w := range items {
		if w.Kind == store.WorkUrgent {
			bodies = append(bodies, w.Code+": "+w.Body)
		}
	}
	slices.Sort(bodies) // by booking code: calls end in any order
	golden(t, "urgent-work-items.golden", strings.Join(bodies, "\n")+"\n")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s missing (go test -update writes it)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}
