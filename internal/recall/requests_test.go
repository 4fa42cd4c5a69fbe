package recall_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/recall"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/voice"
)

// A patient's ANNULLA to a reminder waits on the worklist as a cancel
// item: with the node's write-back the engine carries it out in the CUP
// and closes it, once even with two engine processes; one the CUP refuses
// stays open for the back office.
func TestCancellationRequestsAreCarriedOutThroughWriteBack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		b.cup.refuse["R-2"] = true
		now := func() time.Time { return monday9.Add(time.Hour) }
		ctx := context.Background()
		for _, code := range []string{"R-1", "R-2"} {
			if _, _, err := st.AddWorkItem(ctx, store.NewWorkItem{Kind: store.InboxCancel, Phone: "+393331110001", Body: "ANNULLA",
				Node: "ASL1", Code: code, BookingAt: time.Date(2026, 12, 3, 9, 0, 0, 0, monday9.Location()), ArrivedAt: now()}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for _, owner := range []string{"richiamo:a", "richiamo:b"} {
			s := b.settler(t, now)
			wg.Go(func() {
				if _, err := s.CarryOutRequests(ctx, owner); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := b.cup.done(); !slices.Equal(got, []string{"R-1"}) {
			t.Errorf("cancelled in the CUP %q, want R-1 once", got)
		}
		open, err := st.OpenWorkItems(ctx, store.WorkFilter{Kind: store.InboxCancel, Now: now()})
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != 1 || open[0].Code != "R-2" || open[0].ClaimedBy != "" {
			t.Errorf("open requests %+v, want R-2 released for the back office", open)
		}
	})
}

// A cancellation handed to the back office frees its slot when an operator
// closes the work item as done, and only then; announced once by two
// engine processes.
func TestACancellationDoneByAnOperatorFreesItsSlot(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, [][]any{row("RX-TORACE", "B-1", "+393331110001", 9, 8)})
		now := func() time.Time { return monday9.Add(time.Hour) }
		ctx := context.Background()
		rx, _ := recall.Find(b.agendas, "rx")
		j := b.job(t, "engine-a", now)
		j.Settle.Exec = nil
		rep, err := j.Build(ctx, rx, recall.Options{})
		if err != nil {
			t.Fatal(err)
		}
		attempts(t, st, rep.CampaignID, call{"+393331110001", voice.Answered, "cancelled", true,
			[]store.Answer{{Question: script.BookingQuestion("ASL1", "B-1"), Value: "cancelled", Keys: "2"}}})
		if _, err := j.Settle.SettleAll(ctx); err != nil {
			t.Fatal(err)
		}
		if n, _ := j.Settle.DoneByOperators(ctx); n != 0 || len(b.freed.all()) != 0 {
			t.Fatal("the slot was announced before the operator did the cancellation")
		}
		items, err := st.OpenWorkItems(ctx, store.WorkFilter{Kind: "recall", Now: now()})
		if err != nil || len(items) != 1 {
			t.Fatalf("work items %+v %v", items, err)
		}
		if err := st.ClaimWorkItem(ctx, items[0].ID, "maria", now()); err != nil {
			t.Fatal(err)
		}
		if err := st.CloseWorkItem(ctx, items[0].ID, "maria", store.ClosureDone, "annullata nel CUP", now()); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 2 {
			s := b.settler(t, now)
			wg.Go(func() {
				if _, err := s.DoneByOperators(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if f := b.freed.all(); len(f) != 1 || f[0].BookingCode != "B-1" {
			t.Errorf("freed %+v, want B-1 once", f)
		}
		if got := outcomes(t, st, rep.CampaignID); got["B-1"] != "cancelled/done" {
			t.Errorf("outcomes %v", got)
		}
	})
}

// An ANNULLA to a reminder, on a node without write-back, waits for the
// back office; the operator who closes it as done in the CUP frees its
// slot, once: closing it again or two engine processes looking at once
// announce nothing more.
func TestACancellationRequestClosedByHandFreesItsSlotOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, [][]any{row("RX-TORACE", "B-1", "+393331110001", 9, 8)})
		now := func() time.Time { return monday9.Add(time.Hour) }
		ctx := context.Background()
		rx, _ := recall.Find(b.agendas, "rx")
		j := b.job(t, "engine-a", now)
		j.Settle.Exec = nil
		if _, err := j.Build(ctx, rx, recall.Options{}); err != nil {
			t.Fatal(err)
		}
		bk := cup.Booking{Node: "ASL1", Code: "B-1", Phone: "+393331110001", Agenda: "RX-TORACE", ServiceType: cup.ServiceInstrumental,
			At: time.Date(2026, 12, 10, 9, 0, 0, 0, monday9.Location())}
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			id, err := tx.StartImport(ctx, "test", now())
			if err != nil {
				return err
			}
			return tx.UpsertBookings(ctx, id, []cup.Booking{bk}, now())
		}); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordResponse(ctx, bk, store.ResponseCancel, 0, now()); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Settle.CarryOutRequests(ctx, "richiamo:a"); err != nil {
			t.Fatal(err)
		}
		if n, _ := j.Settle.DoneByOperators(ctx); n != 0 || len(b.freed.all()) != 0 {
			t.Fatal("the slot was announced before the operator did the cancellation")
		}
		items, err := st.OpenWorkItems(ctx, store.WorkFilter{Kind: store.InboxCancel, Now: now()})
		if err != nil || len(items) != 1 {
			t.Fatalf("work items %+v %v", items, err)
		}
		for range 2 {
			_ = st.CloseWorkItem(ctx, items[0].ID, "maria", store.ClosureDone, "annullata nel CUP", now())
			var wg sync.WaitGroup
			for range 2 {
				s := b.settler(t, now)
				wg.Go(func() {
					if _, err := s.DoneByOperators(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		if f := b.freed.all(); len(f) != 1 || f[0].BookingCode != "B-1" || f[0].Agenda != "RX-TORACE" {
			t.Errorf("freed %+v, want B-1 once", f)
		}
	})
}
