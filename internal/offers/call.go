package offers

import (
	"context"
	"fmt"
)

// The choices of an offer call's menu (job.OfferAccepted, job.OfferDeclined).
const (
	callAccepted = "accepted"
	callDeclined = "declined"
)

// DecideCall is the offer calls' decision (job.OfferDecide): a patient who
// keyed 1 in the call takes offer offerID exactly as an SMS ACCETTO would,
// through the same conditional write, and 2 declines it. It returns the
// outcome (moved, pending, lost, taken, expired, already, declined), whose
// closing the script says before hanging up, so that a patient who finds
// the slot just taken hears it in the same call.
func (s *Service) DecideCall(ctx context.Context, offerID int64, choice string) (string, error) {
	var (
		r   Result
		err error
	)
	switch choice {
	case callAccepted:
		r, err = s.accept(ctx, offerID, "call", true)
	case callDeclined:
		r, err = s.Decline(ctx, offerID, "call")
	default:
		return "", fmt.Errorf("offers: %q is not a choice of an offer call", choice)
	}
	if err != nil {
		return "", err
	}
	return string(r.Outcome), nil
}
