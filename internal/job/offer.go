package job

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
)

// The menu results of an offer call's script: take the slot, or keep the
// appointment one has.
const (
	OfferAccepted = "accepted"
	OfferDeclined = "declined"
)

// OfferDecide acts on the choice a patient keyed in an offer call, during
// the call: OfferAccepted takes the slot of offer id (the first valid
// acceptance wins, however it came), OfferDeclined records the refusal.
// It returns what the choice came to (moved, taken …), which the script
// then says.
type OfferDecide func(ctx context.Context, offer int64, choice string) (string, error)

// Hooks are what the engine lends the kinds of call that act during the
// call, before the patient is told the outcome.
type Hooks struct {
	// Offer decides offer calls; without it offer campaigns cannot be
	// dialled.
	Offer OfferDecide
}

// offerCalls are offer calls: the freed slot's date and time, how long
// the offer stands, 1 to take it and 2 to keep one's appointment; the
// choice is decided in the call, so that a patient who takes a slot just
// taken hears so before hanging up.
type offerCalls struct{}

func (offerCalls) Check(text []byte) error {
	_, err := loadOffer(text)
	return err
}

func loadOffer(text []byte) (*script.Script, error) {
	s, err := script.Load(text, italian())
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(s.Menu.Keys)) {
		ch := s.Menu.Keys[k]
		if ch.Transfer == "" && ch.Result != OfferAccepted && ch.Result != OfferDeclined {
			return nil, fmt.Errorf("script: menu.keys[%q]: an offer call's key gives %s, %s or a transfer, not %q", k, OfferAccepted, OfferDeclined, ch.Result)
		}
	}
	return s, nil
}

func (offerCalls) Plan(text []byte, caller *voice.Caller, h Hooks) (dialer.Plan, error) {
	if h.Offer == nil {
		return dialer.Plan{}, errors.New("job: offer calls need the offers service")
	}
	s, err := loadOffer(text)
	if err != nil {
		return dialer.Plan{}, err
	}
	decide := func(ctx context.Context, c store.Contact, p script.Payload, choice string) (string, error) {
		if p.Offer == 0 {
			return "", fmt.Errorf("job: contact %d carries no offer", c.ID)
		}
		return h.Offer(ctx, p.Offer, choice)
	}
	rules, maxAttempts := s.Rules()
	pl := dialer.Plan{Call: script.CallFuncDeciding(caller, s, 0, decide), Positive: s.Positive, MaxAttempts: maxAttempts,
		SameDay: s.SameDay(), Rules: rules}
	return pl, pl.Validate()
}
