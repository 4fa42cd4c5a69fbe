package engine

import (
	"context"
	"log/slog"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/clock"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/offers"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/web"
)

// NewOffers builds the freed-slot offers from the offers section, on the
// configured calendar; mover nil makes every move a work item. With a SIP
// trunk, offers to landlines and to mobiles that sent STOP are called
// (campaigns/offer.yaml); without one they are work items for operators.
func NewOffers(cfg config.Config, st *store.Store, mover offers.Mover, log *slog.Logger, now clock.Func, owner string) (*offers.Service, error) {
	cal, err := Calendar(cfg)
	if err != nil {
		return nil, err
	}
	oc := cfg.Offers.Package()
	oc.Owner = owner
	if cfg.Voice.Trunk.Proxy != "" {
		oc.CallCampaign, oc.CallScript = offers.DefaultCallCampaign, campaigns.Offer
	}
	return offers.New(oc, offers.Deps{Store: st, Calendar: cal, Mover: mover, Log: log, Now: now})
}

// CallHooks are what calls act through while they go on, for a campaign
// called outside serve (richiamo campaign run): an offer call's key takes
// the slot as serve would, the move a work item for the back office.
func CallHooks(cfg config.Config, st *store.Store, log *slog.Logger, now clock.Func) (job.Hooks, error) {
	o, err := NewOffers(cfg, st, nil, log, now, "")
	if err != nil {
		return job.Hooks{}, err
	}
	return job.Hooks{Offer: o.DecideCall}, nil
}

// offerDesk is the console's way to the offers: what an operator records
// on an offer's work item acts as the patient's answer would.
type offerDesk struct{ s *offers.Service }

func (d offerDesk) AcceptOffer(ctx context.Context, offerID int64, by string) (web.OfferAnswer, error) {
	r, err := d.s.Accept(ctx, offerID, by)
	if err != nil {
		return "", err
	}
	switch {
	case r.Outcome == offers.Moved, r.Outcome == offers.Already && r.Offer.Status == store.OfferMoved:
		return web.OfferMoved, nil
	case r.Outcome == offers.Pending, r.Outcome == offers.Already:
		return web.OfferPending, nil
	}
	return web.OfferGone, nil
}

func (d offerDesk) DeclineOffer(ctx context.Context, offerID int64, by string) error {
	_, err := d.s.Decline(ctx, offerID, by)
	return err
}

func (d offerDesk) ConfirmMove(ctx context.Context, slotID int64, moved bool) error {
	_, err := d.s.ConfirmMove(ctx, slotID, moved)
	return err
}
