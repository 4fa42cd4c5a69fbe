package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestAnAthleteIsToldOfAVisitOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		at := t0.Add(72 * time.Hour)
		n := store.GroupNotice{FiscalCode: "RSSMRA80A01H501U", At: at, Message: store.NewMessage{Kind: "group", Phone: "+393330000051",
			Day: "2026-12-03", Body: "b", Encoding: "gsm7", Segments: 1, NotBefore: t0, ExpiresAt: at}}
		// The same list sent by two operators at once.
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range 4 {
			wg.Go(func() {
				q, _, err := st.QueueGroupNotices(ctx, []store.GroupNotice{n}, t0)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += q
				mu.Unlock()
			})
		}
		wg.Wait()
		var msgs int
		if err := st.DB().Get(&msgs, `SELECT COUNT(*) FROM messages WHERE kind = 'group'`); err != nil || msgs != 1 || total != 1 {
			t.Fatalf("%d messages, %d queued (%v)", msgs, total, err)
		}
		// Another time is another visit.
		n.At = at.Add(time.Hour)
		if q, already, err := st.QueueGroupNotices(ctx, []store.GroupNotice{n}, t0); err != nil || q != 1 || already != 0 {
			t.Fatalf("%d %d %v", q, already, err)
		}
	})
}

// newGroupPlan stores a draft of two athletes on one slot, one of them
// without a mobile, planned against previous (0 for none).
func newGroupPlan(t *testing.T, st *store.Store, previous int64, at time.Time) int64 {
	t.Helper()
	id, err := st.CreateGroupPlan(context.Background(), store.GroupPlan{PreviousID: previous, Club: "Virtus", Node: "asl1", Days: 1, CreatedBy: "coordinatore"},
		[]store.GroupSlot{{At: at.UnixMilli(), VisitType: "agonistica", Places: 2, Place: "Medicina dello sport"}},
		[]store.GroupAssignment{
			{FiscalCode: "RSSMRA80A01H501U", Surname: "Rossi", Name: "Mario", BirthDay: "1980-01-01", Phone: "+393330000051", VisitType: "agonistica", Club: "Virtus", At: at.UnixMilli()},
			{FiscalCode: "BNCNNA90A41H501X", Surname: "Bianchi", Name: "Anna", BirthDay: "1990-01-01", VisitType: "agonistica", Club: "Virtus", At: at.UnixMilli()},
			{FiscalCode: "VRDLCU95A01H501Y", Surname: "Verdi", Name: "Luca", BirthDay: "1995-01-01", VisitType: "non_agonistica", Club: "Virtus", Reason: "no_slot_of_type"},
		}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func groupBooked(at time.Time) []store.GroupBooked {
	return []store.GroupBooked{
		{FiscalCode: "RSSMRA80A01H501U", Notice: &store.GroupNotice{FiscalCode: "RSSMRA80A01H501U", At: at, Message: store.NewMessage{Kind: "group",
			Phone: "+393330000051", Day: "2026-12-03", Body: "b", Encoding: "gsm7", Segments: 1, NotBefore: t0, ExpiresAt: at}}},
		{FiscalCode: "BNCNNA90A41H501X"},
		// Not placed: nothing to book.
		{FiscalCode: "VRDLCU95A01H501Y"},
	}
}

func TestAGroupPlanIsConfirmedOnceAndBookedOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		at := t0.Add(72 * time.Hour)
		id := newGroupPlan(t, st, 0, at)
		if ps, err := st.GroupPlans(ctx, false, 10); err != nil || len(ps) != 0 {
			t.Fatalf("a draft is listed: %+v %v", ps, err)
		}
		// Not confirmed: nothing can be booked.
		if _, _, err := st.BookGroupAssignments(ctx, id, groupBooked(at), "coordinatore", t0); !errors.Is(err, store.ErrGroupState) {
			t.Fatalf("a draft booked: %v", err)
		}
		if err := st.ConfirmGroupPlan(ctx, id, "coordinatore", t0); err != nil {
			t.Fatal(err)
		}
		if err := st.ConfirmGroupPlan(ctx, id, "altro", t0); !errors.Is(err, store.ErrGroupState) {
			t.Fatalf("confirmed twice: %v", err)
		}
		p, err := st.GroupPlanByID(ctx, id)
		if err != nil || p.State != store.GroupConfirmed || p.ConfirmedBy != "coordinatore" || p.Athletes != 3 || p.Placed != 2 || p.ToBook != 2 {
			t.Fatalf("plan %+v %v", p, err)
		}
		// Two people say at once that the bookings are made.
		var wg sync.WaitGroup
		var mu sync.Mutex
		booked, queued := 0, 0
		for range 4 {
			wg.Go(func() {
				b, q, err := st.BookGroupAssignments(ctx, id, groupBooked(at), "coordinatore", t0)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				booked, queued = booked+b, queued+q
				mu.Unlock()
			})
		}
		wg.Wait()
		var msgs int
		if err := st.DB().Get(&msgs, `SELECT COUNT(*) FROM messages WHERE kind = 'group'`); err != nil || msgs != 1 || booked != 2 || queued != 1 {
			t.Fatalf("%d messages, %d booked, %d queued (%v)", msgs, booked, queued, err)
		}
		if p, err := st.GroupPlanByID(ctx, id); err != nil || p.ToBook != 0 {
			t.Fatalf("after booking %+v %v", p, err)
		}
	})
}

func TestAChangedListReplacesThePlanOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		at := t0.Add(72 * time.Hour)
		first := newGroupPlan(t, st, 0, at)
		if err := st.ConfirmGroupPlan(ctx, first, "coordinatore", t0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.BookGroupAssignments(ctx, first, groupBooked(at), "coordinatore", t0); err != nil {
			t.Fatal(err)
		}
		// Two changed lists planned against the first plan: the second
		// confirmed finds it replaced.
		a, b := newGroupPlan(t, st, first, at), newGroupPlan(t, st, first, at.Add(time.Hour))
		if err := st.ConfirmGroupPlan(ctx, a, "coordinatore", t0); err != nil {
			t.Fatal(err)
		}
		if err := st.ConfirmGroupPlan(ctx, b, "coordinatore", t0); !errors.Is(err, store.ErrGroupState) {
			t.Fatalf("two plans replace one: %v", err)
		}
		if p, err := st.GroupPlanByID(ctx, first); err != nil || p.State != store.GroupReplaced {
			t.Fatalf("first %+v %v", p, err)
		}
		// The athletes who kept their slot keep its booking.
		as, err := st.GroupAssignments(ctx, a)
		if err != nil || len(as) != 3 || as[0].BookedAt == 0 || as[1].BookedAt == 0 || as[2].BookedAt != 0 || as[0].BookedBy != "coordinatore" {
			t.Fatalf("assignments %+v %v", as, err)
		}
		if ps, err := st.GroupPlans(ctx, false, 10); err != nil || len(ps) != 2 || ps[0].ID != a || ps[0].ToBook != 0 {
			t.Fatalf("plans %+v %v", ps, err)
		}
		if _, err := st.GroupPlanByID(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing plan: %v", err)
		}
	})
}

func TestAnAthleteIsBookedThroughTheWriteBackByOneClaim(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		at := t0.Add(72 * time.Hour)
		id := newGroupPlan(t, st, 0, at)
		all := []string{"RSSMRA80A01H501U", "BNCNNA90A41H501X", "VRDLCU95A01H501Y"}
		if got, err := st.ClaimGroupBookings(ctx, id, all, t0, time.Minute); err != nil || len(got) != 0 {
			t.Fatalf("a draft's athletes claimed: %v %v", got, err)
		}
		if err := st.ConfirmGroupPlan(ctx, id, "coordinatore", t0); err != nil {
			t.Fatal(err)
		}
		// Two consoles begin booking at once: each athlete with a slot is
		// claimed by one.
		var wg sync.WaitGroup
		var mu sync.Mutex
		claimed := map[string]int{}
		for range 4 {
			wg.Go(func() {
				got, err := st.ClaimGroupBookings(ctx, id, all, t0, time.Minute)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				for _, cf := range got {
					claimed[cf]++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(claimed) != 2 || claimed[all[0]] != 1 || claimed[all[1]] != 1 {
			t.Fatalf("claimed %v", claimed)
		}
		// The CUP refused the second: released, it is claimed again; a
		// claim left by a console that stopped lapses after the lease.
		if err := st.ReleaseGroupBookings(ctx, id, all[1:2]); err != nil {
			t.Fatal(err)
		}
		if got, err := st.ClaimGroupBookings(ctx, id, all, t0.Add(time.Second), time.Minute); err != nil || len(got) != 1 || got[0] != all[1] {
			t.Fatalf("after the release %v %v", got, err)
		}
		if _, _, err := st.BookGroupAssignments(ctx, id, groupBooked(at)[:1], "coordinatore", t0); err != nil {
			t.Fatal(err)
		}
		if got, err := st.ClaimGroupBookings(ctx, id, all, t0.Add(2*time.Minute), time.Minute); err != nil || len(got) != 1 || got[0] != all[1] {
			t.Fatalf("after the lease, only the one not booked: %v %v", got, err)
		}
	})
}
