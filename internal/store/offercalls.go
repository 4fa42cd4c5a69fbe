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
}

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
	return k.ID, nil
}
