package recall_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/recall"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/voice"
)

// call is an attempt as the dialer records it for the contact of number.
type call struct {
	number  string
	outcome voice.Outcome
	result  string
	final   bool
	answers []store.Answer
}

// attempts records one attempt for each contact of the calls, as the
// dialer would.
func attempts(t *testing.T, st *store.Store, campaign int64, calls ...call) {
	t.Helper()
	ctx := context.Background()
	cs, err := st.ClaimContacts(ctx, "dialer", campaign, monday9.Add(time.Hour), monday9.Add(2*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]store.Contact{}
	for _, c := range cs {
		by[c.Phone] = c
	}
	for _, a := range calls {
		c, ok := by[a.number]
		if !ok {
			t.Fatalf("no contact %s to call", a.number)
		}
		if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: c.ID, Owner: "dialer", Counted: true,
			StartedAt: monday9.Add(time.Hour), EndedAt: monday9.Add(time.Hour + time.Minute), Outcome: string(a.outcome),
			Result: a.result, Answers: a.answers, Final: a.final, NextAttemptAt: monday9.Add(3 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
}

func outcomes(t *testing.T, st *store.Store, campaign int64) map[string]string {
	t.Helper()
	bs, err := st.RecallBookings(context.Background(), campaign)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, b := range bs {
		got[b.Code] = b.Outcome + "/" + b.Cancel
	}
	return got
}

func TestNotAnsweringNeverCancels(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := setup(t, st, [][]any{
		row("RX-TORACE", "B-1", "+393331110001", 9, 8),
		row("RX-TORACE", "B-2", "+393331110002", 9, 9),
		row("RX-TORACE", "B-3", "+393331110003", 9, 10),
		row("RX-TORACE", "B-4", "+393331110004", 9, 11),
	})
	now := func() time.Time { return monday9.Add(time.Hour) }
	j := b.job(t, "engine-a", now)
	rx, _ := recall.Find(b.agendas, "rx")
	ctx := context.Background()
	rep, err := j.Build(ctx, rx, recall.Options{})
	if err != nil {
		t.Fatal(err)
	}
	attempts(t, st, rep.CampaignID,
		call{"+393331110001", voice.NoAnswer, "", false, nil},
		call{"+393331110002", voice.NoAnswer, "", true, nil},
		call{"+393331110003", voice.InvalidNumber, "", true, nil},
		call{"+393331110004", voice.Answered, script.HungUp, true, nil})
	if _, err := j.Settle.SettleAll(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"B-1": "/", "B-2": "not_reached/", "B-3": "wrong_number/", "B-4": "not_reached/"}
	if got := outcomes(t, st, rep.CampaignID); !equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	if c := b.cup.done(); len(c) != 0 {
		t.Errorf("cancelled %q in the CUP", c)
	}
	items, _ := st.OpenWorkItems(ctx, store.WorkFilter{Kind: "recall", Now: now()})
	if len(items) != 2 || !strings.Contains(items[0].Body, "non raggiunto dopo l'ultimo tentativo") {
		t.Errorf("work items %+v, want the two patients not reached", items)
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestCancellationWithoutWriteBackOrRefusedGoesToTheBackOffice(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := setup(t, st, [][]any{
		row("RX-TORACE", "B-1", "+393331110001", 9, 8),
		row("RX-TORACE", "B-2", "+393331110002", 9, 9),
		row("ECO", "E-1", "+393331110003", 9, 9),
	})
	b.cup.refuse["B-2"] = true
	now := func() time.Time { return monday9.Add(time.Hour) }
	j := b.job(t, "engine-a", now)
	ctx := context.Background()
	rx, _ := recall.Find(b.agendas, "rx")
	eco, _ := recall.Find(b.agendas, "eco")
	rep, err := j.Build(ctx, rx, recall.Options{})
	if err != nil {
		t.Fatal(err)
	}
	repEco, err := j.Build(ctx, eco, recall.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cancelled := func(node, code string) store.Answer {
		return store.Answer{Question: script.BookingQuestion(node, code), Value: "cancelled", Keys: "2"}
	}
	attempts(t, st, rep.CampaignID,
		call{"+393331110001", voice.Answered, "cancelled", true, []store.Answer{cancelled("ASL1", "B-1")}},
		call{"+393331110002", voice.Answered, "cancelled", true, []store.Answer{cancelled("ASL1", "B-2")}})
	attempts(t, st, repEco.CampaignID,
		call{"+393331110003", voice.Answered, "cancelled", true, []store.Answer{cancelled("ASL1", "E-1")}})

	// A node without write-back for the second agenda's campaign: the
	// settler of that process has none.
	s, err := j.Settle.SettleCampaign(ctx, rep.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	noWB := b.settler(t, now)
	noWB.Exec = map[string]*mssql.Executor{}
	if _, err := noWB.SettleCampaign(ctx, repEco.CampaignID); err != nil {
		t.Fatal(err)
	}
	if s.Cancelled != 1 || s.BackOffice != 1 {
		t.Errorf("settled %+v", s)
	}
	got := outcomes(t, st, rep.CampaignID)
	if got["B-1"] != "cancelled/done" || got["B-2"] != "cancelled/failed" {
		t.Errorf("outcomes %v", got)
	}
	if got := outcomes(t, st, repEco.CampaignID); got["E-1"] != "cancelled/back_office" {
		t.Errorf("outcomes %v", got)
	}
	items, _ := st.OpenWorkItems(ctx, store.WorkFilter{Kind: "recall", Now: now()})
	var codes []string
	for _, it := range items {
		codes = append(codes, it.Code)
		if !strings.HasPrefix(it.Body, "Disdetta da eseguire nel CUP") {
			t.Errorf("work item %q", it.Body)
		}
	}
	slices.Sort(codes)
	if !slices.Equal(codes, []string{"B-2", "E-1"}) {
		t.Errorf("work items for %q, want the refused and the one without write-back", codes)
	}
	// Only B-1 was cancelled in the CUP, and only its agenda offers slots.
	if f := b.freed.all(); len(f) != 1 || f[0].BookingCode != "B-1" || f[0].ServiceType != "S" {
		t.Errorf("freed %+v", f)
	}
}

// Several engine processes settle the same calls at once: the booking is
// cancelled in the CUP once and its slot announced once.
func TestSettlingTogetherCancelsOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, [][]any{row("RX-TORACE", "B-1", "+393331110001", 9, 8)})
		now := func() time.Time { return monday9.Add(time.Hour) }
		rx, _ := recall.Find(b.agendas, "rx")
		ctx := context.Background()
		rep, err := b.job(t, "engine-a", now).Build(ctx, rx, recall.Options{})
		if err != nil {
			t.Fatal(err)
		}
		attempts(t, st, rep.CampaignID, call{"+393331110001", voice.Answered, "cancelled", true,
			[]store.Answer{{Question: script.BookingQuestion("ASL1", "B-1"), Value: "cancelled", Keys: "2"}}})
		var wg sync.WaitGroup
		for range 8 {
			s := b.settler(t, now)
			wg.Go(func() {
				if _, err := s.SettleAll(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if c := b.cup.done(); len(c) != 1 {
			t.Errorf("cancelled in the CUP %q, want once", c)
		}
		if f := b.freed.all(); len(f) != 1 {
			t.Errorf("slot announced %d times, want once", len(f))
		}
	})
}
