package recall_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
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
