package store

import (
	"context"
	"fmt"
	"time"
)

// OfferCall is an offer to be made by a call: a contact of the standing
// campaign Campaign (of kind "offer"), created active with Script the
// first time an offer is called.
type OfferCall struct {
	Campaign, Script string
	Contact          NewContact
	// Offer is the offer the call makes; its record keeps the contact,
	// to withdraw it when the offer ends before the call.
	Offer int64
}

// OfferWithdrawn is the outcome of an offer call's contact withdrawn
// before it was called, because its offer ended (the slot went to
// another, the patient answered otherwise, the offer expired).
const OfferWithdrawn = "withdrawn"

// AddOfferCall adds the contact of an offer call to its campaign, in the
// transaction that records the offer, so that an offer is never recorded
// without its call or called without its record. The campaign is made,
// active, when it does not exist; a campaign of that name of another kind
// is an error.
func (t *Tx) AddOfferCall(ctx context.Context, c OfferCall, now time.Time) (int64, error) {
	if _, err := t.tx.ExecContext(ctx, t.s.rebind(`INSERT INTO campaigns (name, kind, created_at, script, state) VALUES (?, 'offer', ?, ?, ?)
		ON CONFLICT (name) DO NOTHING`), c.Campaign, ms(now), c.Script, CampaignActive); err != nil {
		return 0, fmt.Errorf("store: offer campaign %q: %w", c.Campaign, err)
	}
	var k struct {
		ID   int64  `db:"id"`
		Kind string `db:"kind"`
	}
	if err := t.tx.GetContext(ctx, &k, t.s.rebind(`SELECT id, kind FROM campaigns WHERE name = ?`), c.Campaign); err != nil {
		return 0, fmt.Errorf("store: offer campaign %q: %w", c.Campaign, err)
	}
	if k.Kind != "offer" {
		return 0, fmt.Errorf("store: campaign %q is a %s campaign, not offer", c.Campaign, k.Kind)
	}
	if err := t.s.loadContacts(ctx, t, k.ID, []NewContact{c.Contact}, now); err != nil {
		return 0, err
	}
	if c.Offer != 0 {
		if _, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE offers SET contact_id = (SELECT MAX(id) FROM contacts WHERE campaign_id = ?) WHERE id = ?`),
			k.ID, c.Offer); err != nil {
			return 0, fmt.Errorf("store: offer %d contact: %w", c.Offer, err)
		}
	}
	return k.ID, nil
}

// withdrawOfferCalls closes, as withdrawn, the contacts still waiting of
// the offers that which selects (a query of offer ids, with args). A
// contact a dialer holds already is left to its call: the conditional
// write on its status decides, so a contact is never both called and
// withdrawn, and its answer is then told the offer ended.
func (t *Tx) withdrawOfferCalls(ctx context.Context, now time.Time, which string, args ...any) error {
	a := append([]any{OfferWithdrawn, ms(now)}, args...)
	if _, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE contacts SET status = 'final', outcome = ?, final_at = ?
		WHERE status = 'pending' AND id IN (SELECT contact_id FROM offers WHERE contact_id <> 0 AND id IN (`+which+`))`), a...); err != nil {
		return fmt.Errorf("store: withdraw offer calls: %w", err)
	}
	return nil
}
