package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

var recallNow = time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)

func recallCampaign(t *testing.T, st *store.Store) int64 {
	t.Helper()
	id, _, err := st.LoadCampaign(context.Background(), store.CampaignLoad{Name: "recall RX 2026-12-01", Kind: "recall",
		Contacts: []store.NewContact{{Phone: "+393331110001"}, {Phone: "+390758521234"}}}, recallNow)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRecallRunIsClaimedOnceAmongManyProcesses(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				ok, err := st.ClaimRecallRun(ctx, "rx-torace", "2026-12-01", "engine-"+string(rune('a'+i)), recallNow)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("%d processes claimed the run, want 1", n)
		}
		if ok, _ := st.ClaimRecallRun(ctx, "rx-torace", "2026-12-02", "engine-a", recallNow); !ok {
			t.Error("the next day's run could not be claimed")
		}
	})
}

func TestRecallBookingOutcomeIsDecidedOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if ok, err := st.ClaimRecallRun(ctx, "rx-torace", "2026-12-01", "engine-a", recallNow); !ok || err != nil {
			t.Fatal(ok, err)
		}
		camp := recallCampaign(t, st)
		at := time.Date(2026, 12, 9, 8, 30, 0, 0, time.UTC)
		bs := []store.RecallBooking{
			{Node: "ASL1", Code: "B-1", Phone: "+393331110001", At: at, AgendaCode: "RX-TORACE", ServiceType: "S"},
			{Node: "ASL1", Code: "B-2", Phone: "+390758521234", At: at.Add(time.Hour), AgendaCode: "RX-TORACE"},
		}
		if err := st.FinishRecallRun(ctx, "rx-torace", "2026-12-01", camp, 2, bs); err != nil {
			t.Fatal(err)
		}
		// Building twice adds nothing.
		if err := st.FinishRecallRun(ctx, "rx-torace", "2026-12-01", camp, 2, bs); err != nil {
			t.Fatal(err)
		}
		got, err := st.RecallBookings(ctx, camp)
		if err != nil || len(got) != 2 {
			t.Fatalf("bookings %+v, %v", got, err)
		}
		runs, err := st.RecallRuns(ctx, "", 0)
		if err != nil || len(runs) != 1 || runs[0].CampaignID != camp || runs[0].Bookings != 2 {
			t.Fatalf("runs %+v, %v", runs, err)
		}

		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			outcome := store.RecallCancelled
			if i%2 == 0 {
				outcome = store.RecallNotReached
			}
			wg.Go(func() {
				ok, err := st.DecideRecallBooking(ctx, got[0].ID, outcome, recallNow)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("%d callers decided the booking, want 1", n)
		}
		open, err := st.OpenRecallCampaigns(ctx)
		if err != nil || len(open) != 1 {
			t.Fatalf("open campaigns %v, %v", open, err)
		}
		if ok, _ := st.DecideRecallBooking(ctx, got[1].ID, store.RecallConfirmed, recallNow); !ok {
			t.Fatal("second booking not decided")
		}
		if open, _ := st.OpenRecallCampaigns(ctx); len(open) != 0 {
			t.Errorf("open campaigns %v after every booking was decided", open)
		}
		if err := st.SetRecallCancel(ctx, got[0].ID, store.CancelDone, ""); err != nil {
			t.Fatal(err)
		}
		cs, err := st.RecallContacts(ctx, camp)
		if err != nil || len(cs) != 2 || cs[0].Phone != "+393331110001" {
			t.Fatalf("contacts %+v, %v", cs, err)
		}
	})
}

func TestDoNotCallListCanBeListedAndEdited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for i, p := range []string{"+393331110001", "+390758521234"} {
			if err := st.AddDNC(ctx, p, recallNow.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		l, err := st.DNC(ctx, 0)
		if err != nil || len(l) != 2 || l[0].Phone != "+390758521234" {
			t.Fatalf("list %+v, %v", l, err)
		}
		if ok, err := st.RemoveDNC(ctx, "+393331110001"); !ok || err != nil {
			t.Fatalf("remove: %v %v", ok, err)
		}
		if ok, _ := st.RemoveDNC(ctx, "+393331110001"); ok {
			t.Error("removed twice")
		}
	})
}

func TestRecallCancelDoneByAnOperatorIsMarkedOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.ClaimRecallRun(ctx, "rx", "2026-12-01", "engine-a", recallNow); err != nil {
			t.Fatal(err)
		}
		camp := recallCampaign(t, st)
		at := time.Date(2026, 12, 9, 8, 30, 0, 0, time.UTC)
		if err := st.FinishRecallRun(ctx, "rx", "2026-12-01", camp, 1, []store.RecallBooking{{Node: "ASL1", Code: "B-1", Phone: "+393331110001", At: at}}); err != nil {
			t.Fatal(err)
		}
		bs, _ := st.RecallBookings(ctx, camp)
		id := bs[0].ID
		if ok, _ := st.DecideRecallBooking(ctx, id, store.RecallCancelled, recallNow); !ok {
			t.Fatal("not decided")
		}
		if err := st.SetRecallCancel(ctx, id, store.CancelBackOffice, ""); err != nil {
			t.Fatal(err)
		}
		item, _, err := st.AddWorkItem(ctx, store.NewWorkItem{Kind: "recall", RefID: id, Phone: "+393331110001", Body: "Disdetta", ArrivedAt: recallNow})
		if err != nil {
			t.Fatal(err)
		}
		if l, _ := st.RecallCancelsDoneByOperators(ctx); len(l) != 0 {
			t.Fatalf("listed %+v while the item is open", l)
		}
		if err := st.ClaimWorkItem(ctx, item, "maria", recallNow); err != nil {
			t.Fatal(err)
		}
		if err := st.CloseWorkItem(ctx, item, "maria", store.ClosureDone, "", recallNow); err != nil {
			t.Fatal(err)
		}
		l, err := st.RecallCancelsDoneByOperators(ctx)
		if err != nil || len(l) != 1 || l[0].Code != "B-1" {
			t.Fatalf("listed %+v %v", l, err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if ok, err := st.MarkRecallCancelDone(ctx, id, "operatore"); err != nil {
					t.Error(err)
				} else if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("%d marked it done, want 1", wins.Load())
		}
	})
}
