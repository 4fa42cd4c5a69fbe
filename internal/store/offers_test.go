package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func seedBookings(t *testing.T, st *store.Store, bs []cup.Booking) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.StartImport(ctx, "test", t0)
		if err != nil {
			return err
		}
		return tx.UpsertBookings(ctx, id, bs, t0)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func rome(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, cup.Rome)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) time.Time { return rome(s + " 00:00") }

func TestCandidatesComeInOfferOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := func(code, phone, at, prio, booked string) cup.Booking {
			bk := cup.Booking{Node: "ASL1", Code: code, Phone: phone, At: rome(at), Agenda: "RM-TORACE", Priority: prio, ServiceType: cup.ServiceInstrumental}
			if booked != "" {
				bk.BookedOn = day(booked)
			}
			return bk
		}
		seedBookings(t, st, []cup.Booking{
			b("P-OLD", "+393330000001", "2027-04-01 09:00", "P", "2026-10-01"),
			b("NONE", "+393330000002", "2027-05-01 09:00", "", "2026-09-01"),
			b("B-1", "+393330000003", "2027-03-01 09:00", "B", "2026-11-20"),
			b("D-FAR", "+393330000004", "2027-06-01 09:00", "D", "2026-11-01"),
			b("D-NEAR", "+393330000005", "2027-03-01 09:00", "D", "2026-11-01"),
			b("D-CODE-A", "+393330000006", "2027-03-01 09:00", "D", "2026-11-01"),
			b("D-NODATE", "+393330000007", "2027-08-01 09:00", "D", ""),
			b("TOO-SOON", "+393330000008", "2027-01-10 09:00", "U", "2026-11-01"),
			{Node: "ASL1", Code: "OTHER-AGENDA", Phone: "+393330000009", At: rome("2027-04-01 09:00"), Agenda: "ECO", Priority: "U"},
			{Node: "ASL2", Code: "OTHER-NODE", Phone: "+393330000010", At: rome("2027-04-01 09:00"), Agenda: "RM-TORACE", Priority: "U"},
		})
		rows, err := st.Candidates(ctx, store.CandidateQuery{Node: "ASL1", Agenda: "RM-TORACE", From: day("2027-02-01"), Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.Code)
		}
		want := []string{"B-1", "D-FAR", "D-CODE-A", "D-NEAR", "D-NODATE", "P-OLD", "NONE"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("order %v, want %v", got, want)
		}
	})
}

// slotWithOffers records a slot and n offers of it, one per number.
func slotWithOffers(t *testing.T, st *store.Store, n int) (store.FreedSlot, []int64) {
	t.Helper()
	ctx := context.Background()
	sl, added, err := st.AddFreedSlot(ctx, store.NewSlot{Node: "ASL1", Agenda: "RM", At: rome("2026-12-20 10:00"), Source: "manual",
		FreedAt: t0, CutoffAt: rome("2026-12-17 10:00")})
	if err != nil || !added {
		t.Fatalf("add slot: %v %v", added, err)
	}
	var ids []int64
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for i := range n {
			id, ok, err := tx.AddOffer(ctx, store.NewOffer{SlotID: sl.ID, Wave: 1, Node: "ASL1", Code: fmt.Sprintf("C%03d", i),
				Phone: fmt.Sprintf("+39333%07d", i), BookingAt: rome("2027-03-01 10:00"), Channel: "sms", ExpiresAt: t0.Add(2 * time.Hour)}, t0)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("offer %d not added", i)
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sl, ids
}

func TestFiftyAcceptancesOfOneSlotGiveOneWinner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sl, ids := slotWithOffers(t, st, 50)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			won  []int64
			errs []error
		)
		start := make(chan struct{})
		for _, id := range ids {
			wg.Go(func() {
				<-start
				res, err := st.TakeSlot(ctx, id, "sms", t0.Add(time.Minute))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				} else if res.Won {
					won = append(won, id)
				} else if res.Offer.Status != store.OfferLate {
					errs = append(errs, fmt.Errorf("offer %d lost as %q, want late", id, res.Offer.Status))
				}
			})
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if len(won) != 1 {
			t.Fatalf("%d acceptances won the slot, want 1", len(won))
		}
		got, err := st.FreedSlot(ctx, sl.ID)
		if err != nil || got.Status != store.SlotTaken || got.TakenOffer != won[0] {
			t.Fatalf("slot %+v %v", got, err)
		}
	})
}

func TestAnExpiredOfferCannotTakeTheSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sl, ids := slotWithOffers(t, st, 2)
		res, err := st.TakeSlot(ctx, ids[0], "sms", t0.Add(3*time.Hour))
		if err != nil || res.Won || res.Offer.Status != store.OfferExpired {
			t.Fatalf("late acceptance: %+v %v", res, err)
		}
		if got, _ := st.FreedSlot(ctx, sl.ID); got.Status != store.SlotOpen {
			t.Fatalf("slot is %s after an expired acceptance, want open", got.Status)
		}
	})
}

func TestANumberHoldsOneStandingOffer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, _ = slotWithOffers(t, st, 1)
		other, _, err := st.AddFreedSlot(ctx, store.NewSlot{Node: "ASL1", Agenda: "RM", At: rome("2026-12-21 10:00"), Source: "manual",
			FreedAt: t0, CutoffAt: rome("2026-12-18 10:00")})
		if err != nil {
			t.Fatal(err)
		}
		var ok bool
		err = st.InTx(ctx, func(tx *store.Tx) error {
			_, ok, err = tx.AddOffer(ctx, store.NewOffer{SlotID: other.ID, Wave: 1, Node: "ASL1", Code: "C000", Phone: "+393330000000",
				BookingAt: rome("2027-03-01 10:00"), Channel: "sms", ExpiresAt: t0.Add(time.Hour)}, t0)
			return err
		})
		if err != nil || ok {
			t.Fatalf("a second standing offer to one number: added %v, %v", ok, err)
		}
	})
}

func TestAFinishedMoveMovesTheBookingAndCountsInTheFigures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		seedBookings(t, st, []cup.Booking{{Node: "ASL1", Code: "C000", Phone: "+393330000000", At: rome("2027-03-01 10:00"), Agenda: "RM"}})
		sl, ids := slotWithOffers(t, st, 1)
		if res, err := st.TakeSlot(ctx, ids[0], "operator:anna", t0.Add(10*time.Minute)); err != nil || !res.Won {
			t.Fatalf("take: %+v %v", res, err)
		}
		if done, err := st.FinishMove(ctx, sl.ID, true, "", t0.Add(11*time.Minute)); err != nil || !done {
			t.Fatalf("finish: %v %v", done, err)
		}
		if done, _ := st.FinishMove(ctx, sl.ID, false, "", t0.Add(12*time.Minute)); done {
			t.Fatal("a moved slot was finished twice")
		}
		b, err := st.Booking(ctx, "ASL1", "C000")
		if err != nil || !b.At.Equal(rome("2026-12-20 10:00")) {
			t.Fatalf("booking after the move: %v %v", b.At, err)
		}
		figs, err := st.OfferFigures(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
		if err != nil || len(figs) != 1 {
			t.Fatalf("figures %+v %v", figs, err)
		}
		f := figs[0]
		if f.Freed != 1 || f.Taken != 1 || f.Moved != 1 || f.Expired != 0 || f.RefillMillis != (10*time.Minute).Milliseconds() {
			t.Fatalf("figures %+v", f)
		}
	})
}
