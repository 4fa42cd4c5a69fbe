package offers_test

import (
	"context"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/offers"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice"
)

// dialOffersToSIPp dials the offer campaign's one contact through the real
// voice engine to a patient played by SIPp with scenario, and checks
// SIPp's call went as the scenario expects.
func (b *bundle) dialOffersToSIPp(t *testing.T, scenario string) []store.AttemptResult {
	t.Helper()
	patient := testkit.StartSIPp(t, scenario, 60*time.Second)
	as := b.dialOffersVia(t, patient.URI, b.svc.DecideCall)
	patient.Wait(t)
	return as
}

// A landline patient played by SIPp, on each store, answers the offer call and presses 1
// over RFC 4733: the slot is taken and the booking moved, in the CUP and
// in the store.
func TestAnOfferCallToSIPpPressingOneMovesTheBooking(t *testing.T) {
	t.Parallel()
	each(t, opts{cfg: callOffers}, testOfferCallPressingOne)
}

func testOfferCallPressingOne(t *testing.T, b *bundle) {
	ctx := context.Background()
	b.seed(t, patient{"FISSO1", "+390612345678", "2027-03-10 09:00", "B", "2026-09-01"})
	sl := b.free(t)
	if ts := b.tick(t); ts.Offers != 1 {
		t.Fatalf("wave %+v, want 1 offer", ts)
	}
	as := b.dialOffersToSIPp(t, "answer_key_1.xml")
	if len(as) != 1 || as[0].Outcome != string(voice.Answered) || as[0].Result != string(offers.Moved) {
		t.Fatalf("attempts %+v, want one answered and moved", as)
	}
	if o := b.offerOf(t, sl.ID, "+390612345678"); o.Status != store.OfferMoved || o.AnsweredBy != "call" {
		t.Fatalf("offer %+v, want moved, answered by call", o)
	}
	got, err := b.st.FreedSlot(ctx, sl.ID)
	if err != nil || got.Status != store.SlotMoved {
		t.Fatalf("slot %+v %v, want moved", got, err)
	}
	if n := b.cup.calls.Load(); n != 1 || b.cup.holder(t, slotAt) != "FISSO1" {
		t.Fatalf("%d moves asked of the CUP, slot held by %q; want FISSO1 moved once", n, b.cup.holder(t, slotAt))
	}
	bk, err := b.st.Booking(ctx, "ASL1", "FISSO1")
	if err != nil || !bk.At.Equal(slotAt) {
		t.Fatalf("booking %+v %v, want moved to %v", bk, err, slotAt)
	}
}

// A patient played by SIPp presses 2: the offer is declined, the slot
// stays open and nothing is moved.
func TestAnOfferCallToSIPpPressingTwoDeclines(t *testing.T) {
	t.Parallel()
	each(t, opts{cfg: callOffers}, testOfferCallPressingTwo)
}

func testOfferCallPressingTwo(t *testing.T, b *bundle) {
	ctx := context.Background()
	b.seed(t, patient{"FISSO1", "+390612345678", "2027-03-10 09:00", "B", "2026-09-01"})
	sl := b.free(t)
	b.tick(t)
	as := b.dialOffersToSIPp(t, "answer_key_2.xml")
	if len(as) != 1 || as[0].Result != string(offers.Declined) {
		t.Fatalf("attempts %+v, want one declined", as)
	}
	if o := b.offerOf(t, sl.ID, "+390612345678"); o.Status != store.OfferDeclined {
		t.Fatalf("offer %+v, want declined", o)
	}
	got, err := b.st.FreedSlot(ctx, sl.ID)
	if err != nil || got.Status != store.SlotOpen || b.cup.calls.Load() != 0 {
		t.Fatalf("slot %+v %v, %d moves; want it open and nothing moved", got, err, b.cup.calls.Load())
	}
}
