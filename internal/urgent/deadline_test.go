package urgent

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
)

// deadlineMove files a move of two bookings due by monday10 + 2h.
func deadlineMove(t *testing.T, st *store.Store) Created {
	t.Helper()
	at := monday10.AddDate(0, 0, 3)
	importBookings(t, st, []cup.Booking{
		{Node: "asl1", Code: "DL001", Phone: "+393330000501", At: at, Agenda: "RM-SUD", Surname: "Gialli", Name: "Eva"},
		{Node: "asl1", Code: "DL002", Phone: "+393330000602", At: at.Add(time.Hour), Agenda: "RM-SUD", Surname: "Rosa", Name: "Ivo"},
	}, monday10.AddDate(0, 0, -10))
	c, err := Create(context.Background(), st, Request{Node: "asl1", Agenda: "RM-SUD", From: "2026-12-03", To: "2026-12-03",
		By: monday10.Add(2 * time.Hour), CreatedBy: "cup.asl1", Name: "urgente-dl"}, DefaultSettings, monday10)
	if err != nil {
		t.Fatal(err)
	}
	if c.Calls != 2 {
		t.Fatalf("created %+v", c)
	}
	return c
}

func TestNoUrgentCallIsPlacedAfterTheDeadline(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	ctx := context.Background()
	c := deadlineMove(t, st)
	// Before the deadline one call is placed and nobody answers.
	cs, err := st.ClaimContacts(ctx, "test", c.CampaignID, monday10, monday10.Add(time.Hour), 1)
	if err != nil || len(cs) != 1 {
		t.Fatalf("claimed %+v %v", cs, err)
	}
	if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: cs[0].ID, Owner: "test", Counted: true, StartedAt: monday10,
		EndedAt: monday10.Add(30 * time.Second), Outcome: "no_answer", Final: true}); err != nil {
		t.Fatal(err)
	}
	// The deadline passes: the waiting contact is not claimed, nor a next
	// number loaded.
	late := monday10.Add(2 * time.Hour)
	if cs, err := st.ClaimContacts(ctx, "test", store.AnyActive, late, late.Add(time.Hour), 10); err != nil || len(cs) != 0 {
		t.Fatalf("claimed after the deadline: %+v %v", cs, err)
	}
	if n, err := (Settler{Store: st, Now: func() time.Time { return late }, Log: testkit.Logger(t)}).Step(ctx); err != nil || n != 2 {
		t.Fatalf("settled %d %v", n, err)
	}
	if cs, err := st.ClaimContacts(ctx, "test", store.AnyActive, late, late.Add(time.Hour), 10); err != nil || len(cs) != 0 {
		t.Fatalf("claimed after settling: %+v %v", cs, err)
	}
	_, rs, err := Results(ctx, st, c.ID)
	if err != nil || len(rs) != 2 {
		t.Fatalf("results %+v %v", rs, err)
	}
	for _, r := range rs {
		if r.State != store.UrgentExpired || r.Outcome != "non raggiunto" || r.Action != "termine scaduto: richiamare il paziente" || r.WorkItem == 0 {
			t.Errorf("%s: %+v", r.Code, r)
		}
	}
}

// A claim and the deadline's closing race: each contact is either called
// (claimed before the deadline) or closed uncalled, never both.
func TestADeadlineAndAClaimNeverBothTakeAContact(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); deadlineRace(t, storetest.SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); deadlineRace(t, storetest.Postgres(t)) })
}

func deadlineRace(t *testing.T, st *store.Store) {
	ctx := context.Background()
	c := deadlineMove(t, st)
	by := monday10.Add(2 * time.Hour)
	var (
		wg      sync.WaitGroup
		claimed []store.Contact
		closed  int64
		errs    [2]error
	)
	wg.Go(func() {
		claimed, errs[0] = st.ClaimContacts(ctx, "test", c.CampaignID, by.Add(-time.Millisecond), by.Add(time.Hour), 10)
	})
	wg.Go(func() { closed, errs[1] = st.ExpireUrgentContacts(ctx, by) })
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if int64(len(claimed))+closed != 2 {
		t.Fatalf("claimed %d, closed %d, of 2 contacts", len(claimed), closed)
	}
	for _, k := range claimed {
		var status string
		ts, err := st.UrgentTargets(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range ts {
			if tg.ContactID == k.ID {
				status = tg.ContactStatus
			}
		}
		if status != "in_progress" {
			t.Errorf("claimed contact %d is %q", k.ID, status)
		}
	}
}
