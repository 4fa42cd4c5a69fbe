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

func TestACleanUpRequestIsDecidedOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id, err := st.AddCleanUpRequest(ctx, store.CleanUpRequest{Node: "ASL2", Agenda: "ORTOPEDIA", FromDay: "2026-12-01", ToDay: "2026-12-15",
			Reason: "medico in ferie", RequestedBy: "referente.asl2", RequestedAt: t0.UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 6 {
			wg.Go(func() {
				err := st.DecideCleanUpRequest(ctx, id, fmt.Sprintf("tl%d", i), i%2 == 0, "", t0.Add(time.Hour))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case !errors.Is(err, store.ErrTaken):
					t.Errorf("decide: %v", err)
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d people decided the request", won)
		}
		r, err := st.CleanUpRequestByID(ctx, id)
		if err != nil || r.Status == store.CleanUpRequested || r.DecidedBy == "" {
			t.Fatalf("decided request %+v %v", r, err)
		}
		mine, err := st.CleanUpRequests(ctx, "ASL2", 10)
		if err != nil || len(mine) != 1 {
			t.Fatalf("ASL2's requests %+v %v", mine, err)
		}
		if others, err := st.CleanUpRequests(ctx, "ASL1", 10); err != nil || len(others) != 0 {
			t.Fatalf("ASL1 sees %+v %v", others, err)
		}
		if r.Status == store.CleanUpAccepted {
			if err := st.SetCleanUpCampaign(ctx, id, 0); err != nil {
				t.Fatal(err)
			}
			if r, _ := st.CleanUpRequestByID(ctx, id); r.Status != store.CleanUpRequested {
				t.Fatalf("a campaign that could not be made leaves the request %q", r.Status)
			}
		}
	})
}
