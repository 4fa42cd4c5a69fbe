package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func newMove(t *testing.T, st *store.Store, name string, targets ...store.NewUrgentTarget) store.CreatedUrgentMove {
	t.Helper()
	m, err := st.CreateUrgentMove(context.Background(), store.NewUrgentMove{Campaign: name, Kind: "urgent_move", Script: "x", Node: "asl1",
		Reason: "guasto", By: t0.Add(48 * time.Hour), CreatedBy: "cup.asl1", Targets: targets}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCreateUrgentMove(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		m := newMove(t, st, "urgente-1",
			store.NewUrgentTarget{Node: "asl1", Code: "A1", BookingAt: t0.Add(24 * time.Hour), Numbers: []string{"+393330000001", "+393330000002"},
				Payload: `{"code":"A1"}`, Message: store.NewMessage{Kind: "urgent", Phone: "+393330000001", Day: "2026-12-01", Body: "b",
					Encoding: "gsm7", Segments: 1, NotBefore: t0, ExpiresAt: t0.Add(time.Hour)}},
			store.NewUrgentTarget{Node: "asl1", Code: "A2", BookingAt: t0.Add(24 * time.Hour)},
		)
		if m.Targets != 2 || m.Calls != 1 || m.Messages != 1 || m.NoNumber != 1 {
			t.Fatalf("%+v", m)
		}
		ts, err := st.UrgentTargets(ctx, m.ID)
		if err != nil || len(ts) != 2 {
			t.Fatalf("%v %v", ts, err)
		}
		if ts[0].State != store.UrgentCalling || ts[0].ContactID == 0 || ts[0].ContactStatus != "pending" || ts[0].MessageStatus != "planned" ||
			len(ts[0].Numbers()) != 2 {
			t.Fatalf("first %+v", ts[0])
		}
		if ts[1].State != store.UrgentNoNumber || ts[1].WorkItemID == 0 {
			t.Fatalf("second %+v", ts[1])
		}
		w, err := st.WorkItemByID(ctx, ts[1].WorkItemID)
		if err != nil || w.Kind != store.WorkUrgent || w.Code != "A2" {
			t.Fatalf("work item %+v %v", w, err)
		}
		// A failure leaves nothing: the same campaign name again.
		if _, err := st.CreateUrgentMove(ctx, store.NewUrgentMove{Campaign: "urgente-1", Kind: "urgent_move", Node: "asl1", By: t0}, t0); err == nil {
			t.Fatal("a second campaign of the same name was created")
		}
	})
}

func TestUrgentContactsAreClaimedBeforeRoutineOnes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		// The routine recall was due an hour earlier.
		id, err := st.AddCampaign(ctx, "recall", "recall", t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.LoadContacts(ctx, id, []store.NewContact{{Phone: "+393330000011"}, {Phone: "+393330000012"}}, t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		m := newMove(t, st, "urgente", store.NewUrgentTarget{Node: "asl1", Code: "U1", BookingAt: t0, Numbers: []string{"+393330000021"}})
		// One channel free: the urgent contact takes it.
		got, err := st.ClaimContacts(ctx, "d", 0, t0, t0.Add(time.Hour), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].CampaignID != m.CampaignID {
			t.Fatalf("claimed %+v, want the urgent contact", got)
		}
		next, err := st.ClaimContacts(ctx, "d", 0, t0, t0.Add(time.Hour), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(next) != 1 || next[0].CampaignID != id || next[0].Seq != 1 {
			t.Fatalf("then claimed %+v, want the recall's first", next)
		}
	})
}

func TestAnUrgentCallToANumberGoesBeforeARoutineOne(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		// The same patient is in a recall loaded earlier.
		id, err := st.AddCampaign(ctx, "recall", "recall", t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.LoadContacts(ctx, id, []store.NewContact{{Phone: "+393330000061"}}, t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		m := newMove(t, st, "urgente", store.NewUrgentTarget{Node: "asl1", Code: "U1", BookingAt: t0, Numbers: []string{"+393330000061"}})
		got, err := st.ClaimContacts(ctx, "d", 0, t0, t0.Add(time.Hour), 5)
		if err != nil {
			t.Fatal(err)
		}
		// One call per number at a time: the urgent one.
		if len(got) != 1 || got[0].CampaignID != m.CampaignID {
			t.Fatalf("claimed %+v, want the urgent contact alone", got)
		}
	})
}

// closeContact calls a target's contact once, with a final outcome.
func closeContact(t *testing.T, st *store.Store, contact int64, outcome, result string) {
	t.Helper()
	ctx := context.Background()
	cs, err := st.ClaimContacts(ctx, "d", 0, t0.Add(time.Minute), t0.Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.ID != contact {
			if err := st.ReleaseContact(ctx, c.ID, "d", t0); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: c.ID, Owner: "d", Counted: true, StartedAt: t0.Add(time.Minute),
			EndedAt: t0.Add(2 * time.Minute), Outcome: outcome, Result: result, Final: true}); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("contact %d not claimable", contact)
}

func TestOnlyOneProcessMovesABookingToItsNextNumber(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		m := newMove(t, st, "urgente", store.NewUrgentTarget{Node: "asl1", Code: "U1", BookingAt: t0,
			Numbers: []string{"+393330000031", "+393330000032", "+393330000033"}})
		ts, _ := st.UrgentTargets(ctx, m.ID)
		closeContact(t, st, ts[0].ContactID, "invalid_number", "")
		due, err := st.UrgentTargetsToSettle(ctx, 10)
		if err != nil || len(due) != 1 || due[0].LastOutcome != "invalid_number" {
			t.Fatalf("to settle %+v %v", due, err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		moved := 0
		for range 8 {
			wg.Go(func() {
				msg := &store.NewMessage{Kind: "urgent", Phone: "+393330000032", Day: "2026-12-01", Body: "b", Encoding: "gsm7", Segments: 1,
					NotBefore: t0, ExpiresAt: t0.Add(time.Hour)}
				_, ok, err := st.NextUrgentNumber(ctx, ts[0].ID, ts[0].ContactID, `{}`, msg, t0.Add(3*time.Minute))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					moved++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		after, _ := st.UrgentTargets(ctx, m.ID)
		if moved != 1 || after[0].Tried != 1 || after[0].ContactStatus != "pending" || after[0].MessageStatus != "planned" {
			t.Fatalf("moved %d times, target %+v", moved, after[0])
		}
		var contacts int
		if err := st.DB().Get(&contacts, st.DB().Rebind(`SELECT COUNT(*) FROM contacts WHERE campaign_id = ? AND phone = ?`), m.CampaignID, "+393330000032"); err != nil || contacts != 1 {
			t.Fatalf("%d contacts for the second number (%v)", contacts, err)
		}
		if err := st.DB().Get(&contacts, st.DB().Rebind(`SELECT COUNT(*) FROM messages WHERE phone = ?`), "+393330000032"); err != nil || contacts != 1 {
			t.Fatalf("%d SMS to the second number (%v)", contacts, err)
		}
	})
}

func TestOnlyOneProcessSettlesABooking(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		m := newMove(t, st, "urgente", store.NewUrgentTarget{Node: "asl1", Code: "U1", BookingAt: t0, Numbers: []string{"+393330000041"}})
		ts, _ := st.UrgentTargets(ctx, m.ID)
		closeContact(t, st, ts[0].ContactID, "answered", "operator")
		var wg sync.WaitGroup
		var mu sync.Mutex
		settled := 0
		for range 8 {
			wg.Go(func() {
				ok, err := st.SettleUrgentTarget(ctx, ts[0].ID, ts[0].ContactID, store.UrgentReached, "operator", "+393330000041",
					&store.NewWorkItem{Node: "asl1", Code: "U1", Phone: "+393330000041", Body: "richiamare", ArrivedAt: t0}, t0.Add(3*time.Minute))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					settled++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		after, _ := st.UrgentTargets(ctx, m.ID)
		if settled != 1 || after[0].State != store.UrgentReached || after[0].Choice != "operator" || after[0].WorkItemID == 0 {
			t.Fatalf("settled %d times, target %+v", settled, after[0])
		}
		var items int
		if err := st.DB().Get(&items, st.DB().Rebind(`SELECT COUNT(*) FROM work_items WHERE kind = ?`), store.WorkUrgent); err != nil || items != 1 {
			t.Fatalf("%d work items (%v)", items, err)
		}
		if due, _ := st.UrgentTargetsToSettle(ctx, 10); len(due) != 0 {
			t.Fatalf("still to settle: %+v", due)
		}
	})
}
