package offers_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/offers"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func manyWaiting(n int) []patient {
	ps := make([]patient, n)
	for i := range ps {
		ps[i] = patient{fmt.Sprintf("W-%03d", i), fmt.Sprintf("+39333200%04d", i), fmt.Sprintf("2027-03-%02d 09:00", 1+i%28), "D", "2026-10-01"}
	}
	return ps
}

// TestFiftyAcceptancesAtOnceMoveOnePatient: 50 patients accept one slot
// at the same moment, by SMS through the webhook, by a key in the call
// and through an operator; one is moved, 49 are told it was just taken.
func TestFiftyAcceptancesAtOnceMoveOnePatient(t *testing.T) {
	t.Parallel()
	each(t, opts{cfg: offers.Config{WaveSize: 50}}, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		ps := manyWaiting(50)
		b.seed(t, ps...)
		sl := b.free(t)
		if ts := b.tick(t); ts.Offers != 50 {
			t.Fatalf("wave %+v, want 50 offers", ts)
		}
		var (
			wg              sync.WaitGroup
			mu              sync.Mutex
			moved, taken    int
			others          []string
			start           = make(chan struct{})
			offersByPatient = map[string]store.Offer{}
		)
		for _, p := range ps {
			offersByPatient[p.phone] = b.offerOf(t, sl.ID, p.phone)
		}
		for i, p := range ps {
			o := offersByPatient[p.phone]
			wg.Go(func() {
				<-start
				var outcome string
				switch i % 3 {
				case 0:
					ans := b.reply(t, p.phone, "ACCETTO")
					switch {
					case ans == "":
						outcome = string(offers.Moved)
					case strings.Contains(ans, "appena stato preso"):
						outcome = string(offers.TakenByOther)
					default:
						outcome = "answer " + ans
					}
				case 1:
					r, err := b.svc.Accept(ctx, o.ID, "call")
					outcome = string(r.Outcome)
					if err != nil {
						outcome = err.Error()
					}
				case 2:
					r, err := b.svc.Accept(ctx, o.ID, "operator:anna")
					outcome = string(r.Outcome)
					if err != nil {
						outcome = err.Error()
					}
				}
				mu.Lock()
				defer mu.Unlock()
				switch outcome {
				case string(offers.Moved):
					moved++
				case string(offers.TakenByOther):
					taken++
				default:
					others = append(others, outcome)
				}
			})
		}
		close(start)
		wg.Wait()
		if moved != 1 || taken != 49 || len(others) > 0 {
			t.Fatalf("moved %d, taken %d, other %q; want 1 and 49", moved, taken, others)
		}
		if n := b.cup.calls.Load(); n != 1 {
			t.Fatalf("%d moves asked of the CUP, want 1", n)
		}
	})
}

// TestTwoEnginesOnOneStoreNeverMoveTwoPatientsIntoOneSlot: two engine
// processes share one PostgreSQL store; both tick (each wave goes once),
// and both receive every patient's acceptance of every slot. Each slot is
// moved once, to one patient.
func TestTwoEnginesOnOneStoreNeverMoveTwoPatientsIntoOneSlot(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	stA := openStore(t, dsn)
	stB := openStore(t, dsn)
	a := setup(t, stA, opts{cfg: offers.Config{WaveSize: 10, Owner: "engine-a"}})
	bEngine := setupShared(t, stB, a.cup, a.clock, opts{cfg: offers.Config{WaveSize: 10, Owner: "engine-b"}})
	ps := manyWaiting(100)
	a.seed(t, ps...)
	const slots = 10
	for i := range slots {
		if _, _, err := a.svc.Free(ctx, node, agenda, slotAt.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, e := range []*bundle{a, bEngine} {
		wg.Go(func() {
			if _, err := e.svc.Tick(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var all []store.Offer
	for id := int64(1); id <= slots; id++ {
		os, err := stA.SlotOffers(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, os...)
	}
	// Both engines ranked at once, so a number one picked for a slot may
	// have gone to the other's slot first: fewer offers, never two
	// standing ones for a number, never two waves of a slot.
	standing := map[string]int64{}
	for _, o := range all {
		if prev, ok := standing[o.Phone]; ok {
			t.Fatalf("%s holds offers of slots %d and %d at once", o.Phone, prev, o.SlotID)
		}
		standing[o.Phone] = o.SlotID
		if o.Wave != 1 {
			t.Fatalf("offer %d is of wave %d: a slot's wave went twice", o.ID, o.Wave)
		}
	}
	for id := int64(1); id <= slots; id++ {
		s, err := stA.FreedSlot(ctx, id)
		if err != nil || s.Waves != 1 {
			t.Fatalf("slot %d sent %d waves (%v), want 1", id, s.Waves, err)
		}
	}
	start := make(chan struct{})
	for _, o := range all {
		for _, e := range []*bundle{a, bEngine} {
			wg.Go(func() {
				<-start
				if _, err := e.svc.Accept(ctx, o.ID, "call"); err != nil {
					t.Error(err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	var moved []string
	if err := stA.DB().Select(&moved, `SELECT code FROM test_cup_agenda ORDER BY code`); err != nil {
		t.Fatal(err)
	}
	if len(moved) != slots || a.cup.calls.Load() != slots {
		t.Fatalf("%d bookings moved with %d moves asked, want %d and %d", len(moved), a.cup.calls.Load(), slots, slots)
	}
	for id := int64(1); id <= slots; id++ {
		var n int
		if err := stA.DB().Get(&n, stA.DB().Rebind(`SELECT COUNT(*) FROM offers WHERE slot_id = ? AND status = 'moved'`), id); err != nil || n != 1 {
			t.Fatalf("slot %d has %d moved offers (%v), want 1", id, n, err)
		}
	}
}

// TestTwoProcessesSendEachWaveOnce: two services on one store tick at the
// same moment over ten due slots; each slot's wave goes once and no
// number holds two standing offers.
func TestTwoProcessesSendEachWaveOnce(t *testing.T) {
	t.Parallel()
	each(t, opts{cfg: offers.Config{WaveSize: 5, Owner: "engine-a"}}, func(t *testing.T, a *bundle) {
		ctx := context.Background()
		other, err := offers.New(offers.Config{WaveSize: 5, Owner: "engine-b"}, offers.Deps{Store: a.st, Mover: a.cup, Now: a.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		a.seed(t, manyWaiting(60)...)
		for i := range 10 {
			if _, _, err := a.svc.Free(ctx, node, agenda, slotAt.Add(time.Duration(i)*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for _, s := range []*offers.Service{a.svc, other} {
			wg.Go(func() {
				if _, err := s.Tick(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		standing := map[string]bool{}
		for id := int64(1); id <= 10; id++ {
			s, err := a.st.FreedSlot(ctx, id)
			if err != nil || s.Waves != 1 {
				t.Fatalf("slot %d sent %d waves (%v), want 1", id, s.Waves, err)
			}
			os, _ := a.st.SlotOffers(ctx, id)
			for _, o := range os {
				if standing[o.Phone] {
					t.Fatalf("%s holds two standing offers", o.Phone)
				}
				standing[o.Phone] = true
			}
		}
	})
}
