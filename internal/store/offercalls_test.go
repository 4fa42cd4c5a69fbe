package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

// callOffers records a slot at slot with an SMS offer (to smsPhone) and a
// call offer (to callPhone) whose contact is added in the same
// transaction. It returns the slot, both offers and the campaign.
func callOffers(t *testing.T, st *store.Store, slot time.Time, smsPhone, callPhone string) (store.FreedSlot, int64, int64, int64) {
	t.Helper()
	ctx := context.Background()
	sl, added, err := st.AddFreedSlot(ctx, store.NewSlot{Node: "ASL1", Agenda: "RM", At: slot, Source: "manual",
		FreedAt: t0, CutoffAt: slot.Add(-72 * time.Hour)})
	if err != nil || !added {
		t.Fatalf("add slot: %v %v", added, err)
	}
	var smsID, callID, campaign int64
	err = st.InTx(ctx, func(tx *store.Tx) error {
		var ok bool
		if smsID, ok, err = tx.AddOffer(ctx, store.NewOffer{SlotID: sl.ID, Wave: 1, Node: "ASL1", Code: "S" + smsPhone, Phone: smsPhone,
			BookingAt: rome("2027-03-01 10:00"), Channel: "sms", ExpiresAt: t0.Add(2 * time.Hour)}, t0); err != nil || !ok {
			return fmt.Errorf("sms offer: %v %v", ok, err)
		}
		if callID, ok, err = tx.AddOffer(ctx, store.NewOffer{SlotID: sl.ID, Wave: 1, Node: "ASL1", Code: "C" + callPhone, Phone: callPhone,
			BookingAt: rome("2027-03-02 10:00"), Channel: "call", ExpiresAt: t0.Add(2 * time.Hour)}, t0); err != nil || !ok {
			return fmt.Errorf("call offer: %v %v", ok, err)
		}
		campaign, err = tx.AddOfferCall(ctx, store.OfferCall{Campaign: "offerte", Script: "steps: []",
			Contact: store.NewContact{Phone: callPhone, Payload: fmt.Sprintf(`{"offer":%d}`, callID)}, Offer: callID}, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return sl, smsID, callID, campaign
}

func offerContact(t *testing.T, st *store.Store, campaign, contactID int64) store.CampaignContact {
	t.Helper()
	cs, err := st.CampaignContacts(context.Background(), store.ContactFilter{Campaign: campaign, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.ID == contactID {
			return c
		}
	}
	t.Fatalf("contact %d not in campaign %d", contactID, campaign)
	return store.CampaignContact{}
}

func TestAnOfferRecordsItsCallContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, smsID, callID, campaign := callOffers(t, st, rome("2026-12-20 10:00"), "+393330000001", "+390612345678")
		o, err := st.OfferByID(ctx, callID)
		if err != nil || o.ContactID == 0 {
			t.Fatalf("call offer %+v %v: no contact", o, err)
		}
		if c := offerContact(t, st, campaign, o.ContactID); c.Phone != "+390612345678" || c.Status != "pending" {
			t.Fatalf("contact %+v", c)
		}
		if o, _ := st.OfferByID(ctx, smsID); o.ContactID != 0 {
			t.Fatalf("sms offer has contact %d", o.ContactID)
		}
	})
}

func TestAnEndedOfferWithdrawsItsWaitingCall(t *testing.T) {
	ends := map[string]func(st *store.Store, smsID, callID int64) error{
		"taken by sms": func(st *store.Store, smsID, _ int64) error {
			_, err := st.TakeSlot(context.Background(), smsID, "sms", t0.Add(time.Minute))
			return err
		},
		"declined by sms": func(st *store.Store, _, callID int64) error {
			_, err := st.DeclineOffer(context.Background(), callID, "sms", t0.Add(time.Minute))
			return err
		},
		"accepted by an operator": func(st *store.Store, _, callID int64) error {
			_, err := st.TakeSlot(context.Background(), callID, "operator:luca", t0.Add(time.Minute))
			return err
		},
		"expired": func(st *store.Store, _, _ int64) error {
			_, err := st.ExpireOffers(context.Background(), t0.Add(2*time.Hour))
			return err
		},
		"slot past its cutoff": func(st *store.Store, _, _ int64) error {
			_, err := st.ExpireSlots(context.Background(), rome("2026-12-17 10:00"))
			return err
		},
	}
	for name, end := range ends {
		t.Run(name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				_, smsID, callID, campaign := callOffers(t, st, rome("2026-12-20 10:00"), "+393330000001", "+390612345678")
				if err := end(st, smsID, callID); err != nil {
					t.Fatal(err)
				}
				o, _ := st.OfferByID(ctx, callID)
				if c := offerContact(t, st, campaign, o.ContactID); c.Status != "final" || c.Outcome != store.OfferWithdrawn {
					t.Fatalf("contact after the offer ended: %+v", c)
				}
				got, err := st.ClaimContacts(ctx, "d1", campaign, t0.Add(2*time.Minute), t0.Add(time.Hour), 10)
				if err != nil || len(got) != 0 {
					t.Fatalf("claimed %v %v after the offer ended", got, err)
				}
			})
		})
	}
}

func TestACallInProgressIsLeftToFinishWhenItsOfferEnds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, smsID, callID, campaign := callOffers(t, st, rome("2026-12-20 10:00"), "+393330000001", "+390612345678")
		got, err := st.ClaimContacts(ctx, "d1", campaign, t0.Add(time.Minute), t0.Add(time.Hour), 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim: %v %v", got, err)
		}
		if res, err := st.TakeSlot(ctx, smsID, "sms", t0.Add(2*time.Minute)); err != nil || !res.Won {
			t.Fatalf("sms acceptance: %+v %v", res, err)
		}
		if c := offerContact(t, st, campaign, got[0].ID); c.Status != "in_progress" {
			t.Fatalf("contact being called was touched: %+v", c)
		}
		// The patient keys 1 in that call: told the slot was taken.
		res, err := st.TakeSlot(ctx, callID, "call", t0.Add(3*time.Minute))
		if err != nil || res.Won || res.Offer.Status != store.OfferLate {
			t.Fatalf("acceptance in the call: %+v %v", res, err)
		}
	})
}

// An offer taken by SMS while a dialer claims the call of another offer
// of the same slot: the call is either claimed before the slot went (and
// then its acceptance loses) or withdrawn, never claimed after; and one
// acceptance wins.
func TestAnOfferTakenBySMSWhileItsCallIsClaimed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for i := range 20 {
			slot := rome("2026-12-20 10:00").Add(time.Duration(i) * time.Hour)
			sl, smsID, callID, campaign := callOffers(t, st, slot, fmt.Sprintf("+39333%07d", i), fmt.Sprintf("+3906%08d", i))
			o, _ := st.OfferByID(ctx, callID)
			var (
				wg               sync.WaitGroup
				smsRes, callRes  store.TakeResult
				claimed          []store.Contact
				smsErr, claimErr error
				callErr          error
			)
			start := make(chan struct{})
			wg.Go(func() {
				<-start
				smsRes, smsErr = st.TakeSlot(ctx, smsID, "sms", t0.Add(time.Minute))
			})
			wg.Go(func() {
				<-start
				claimed, claimErr = st.ClaimContacts(ctx, "d1", campaign, t0.Add(time.Minute), t0.Add(time.Hour), 10)
				if claimErr == nil && len(claimed) == 1 {
					// Called: the patient keys 1.
					callRes, callErr = st.TakeSlot(ctx, callID, "call", t0.Add(time.Minute))
				}
			})
			close(start)
			wg.Wait()
			if smsErr != nil || claimErr != nil || callErr != nil {
				t.Fatal(smsErr, claimErr, callErr)
			}
			c := offerContact(t, st, campaign, o.ContactID)
			switch len(claimed) {
			case 0:
				if c.Status != "final" || c.Outcome != store.OfferWithdrawn || !smsRes.Won {
					t.Fatalf("round %d: not claimed, contact %+v, sms %+v", i, c, smsRes)
				}
			case 1:
				if c.Status != "in_progress" || claimed[0].ID != o.ContactID {
					t.Fatalf("round %d: claimed %+v, contact %+v", i, claimed, c)
				}
				if smsRes.Won == callRes.Won {
					t.Fatalf("round %d: sms won %v, call won %v", i, smsRes.Won, callRes.Won)
				}
			default:
				t.Fatalf("round %d: claimed %d contacts", i, len(claimed))
			}
			got, err := st.FreedSlot(ctx, sl.ID)
			if err != nil || got.Status != store.SlotTaken {
				t.Fatalf("round %d: slot %+v %v", i, got, err)
			}
			if again, err := st.ClaimContacts(ctx, "d2", campaign, t0.Add(2*time.Minute), t0.Add(time.Hour), 10); err != nil || len(again) != 0 {
				t.Fatalf("round %d: claimed %v %v after the slot was taken", i, again, err)
			}
			offers, _ := st.SlotOffers(ctx, sl.ID)
			won := 0
			for _, of := range offers {
				if of.Status == store.OfferAccepted {
					won++
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d accepted offers", i, won)
			}
		}
	})
}
