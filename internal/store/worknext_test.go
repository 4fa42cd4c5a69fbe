package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

// addRecallItems adds n recall items due one minute apart from t0.
func addRecallItems(t *testing.T, st *store.Store, n int) {
	t.Helper()
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Minute)
		if _, _, err := st.AddWorkItem(context.Background(), store.NewWorkItem{Kind: "recall", RefID: int64(i + 1),
			Phone: fmt.Sprintf("+3933310%05d", i), Node: "ASL1", ArrivedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOperatorsTakingTheNextItemAtOnceNeverShareOne(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		const items, operators = 30, 12
		addRecallItems(t, st, items)
		var wg sync.WaitGroup
		var mu sync.Mutex
		holder := map[int64]string{}
		start := make(chan struct{})
		for i := range operators {
			wg.Go(func() {
				by := fmt.Sprintf("op%02d", i)
				<-start
				for {
					it, err := st.ClaimNextWorkItem(context.Background(), store.NextWork{By: by, Now: t0.Add(time.Hour)})
					if errors.Is(err, store.ErrNotFound) {
						return
					}
					if err != nil {
						t.Errorf("%s: %v", by, err)
						return
					}
					mu.Lock()
					if other, ok := holder[it.ID]; ok {
						t.Errorf("item %d given to %s and %s", it.ID, other, by)
					}
					holder[it.ID] = by
					mu.Unlock()
					if it.ClaimedBy != by {
						t.Errorf("%s was given item %d held by %q", by, it.ID, it.ClaimedBy)
					}
					if err := st.CloseWorkItem(context.Background(), it.ID, by, "confirmed", "", t0.Add(time.Hour)); err != nil {
						t.Errorf("%s closes %d: %v", by, it.ID, err)
						return
					}
				}
			})
		}
		close(start)
		wg.Wait()
		if len(holder) != items {
			t.Fatalf("%d of %d items were taken", len(holder), items)
		}
	})
}

func TestTheNextItemIsTheOneAlreadyHeld(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		addRecallItems(t, st, 3)
		now := t0.Add(time.Hour)
		first, err := st.ClaimNextWorkItem(ctx, store.NextWork{By: "anna", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		again, err := st.ClaimNextWorkItem(ctx, store.NextWork{By: "anna", Now: now})
		if err != nil || again.ID != first.ID {
			t.Fatalf("asked twice, anna got %d then %d (%v): one item at a time", first.ID, again.ID, err)
		}
		// Asked back for tomorrow at 10:00, the item leaves the list and
		// comes back first at that hour.
		tomorrow := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		if err := st.CallBackWorkItem(ctx, first.ID, "anna", tomorrow, "anna", "non raggiunto"); err != nil {
			t.Fatal(err)
		}
		next, err := st.ClaimNextWorkItem(ctx, store.NextWork{By: "anna", Now: now})
		if err != nil || next.ID == first.ID {
			t.Fatalf("after the call back anna got %d (%v), not another item", next.ID, err)
		}
		if err := st.CloseWorkItem(ctx, next.ID, "anna", "confirmed", "", now); err != nil {
			t.Fatal(err)
		}
		luca, err := st.ClaimNextWorkItem(ctx, store.NextWork{By: "luca", Now: tomorrow})
		if err != nil || luca.ID == first.ID {
			t.Fatalf("luca was given %d (%v): an item asked back for anna is hers", luca.ID, err)
		}
		back, err := st.ClaimNextWorkItem(ctx, store.NextWork{By: "anna", Now: tomorrow})
		if err != nil || back.ID != first.ID {
			t.Fatalf("at 10:00 anna got %d (%v), want the item asked back (%d)", back.ID, err, first.ID)
		}
		held, err := st.HeldWorkItem(ctx, "anna")
		if err != nil || held.ID != first.ID {
			t.Fatalf("held %+v %v", held, err)
		}
	})
}
