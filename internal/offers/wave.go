package offers

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/worklist"
)

// TickStats is what one tick did.
type TickStats struct {
	Waves         int // waves sent
	Offers        int // offers made in them
	ExpiredOffers int64
	ExpiredSlots  int64
}

// Tick ends the offers and slots whose time has come, then sends the
// waves that are due, each claimed with a lease so that one process sends
// it.
func (s *Service) Tick(ctx context.Context) (TickStats, error) {
	var ts TickStats
	now := s.now()
	var err error
	if ts.ExpiredOffers, err = s.st.ExpireOffers(ctx, now); err != nil {
		return ts, err
	}
	if ts.ExpiredSlots, err = s.st.ExpireSlots(ctx, now); err != nil {
		return ts, err
	}
	slots, err := s.st.ClaimDueSlots(ctx, s.cfg.Owner, now, now.Add(s.cfg.Lease), 50)
	if err != nil {
		return ts, err
	}
	var errs []error
	for _, sl := range slots {
		n, err := s.wave(ctx, sl, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if n > 0 {
			ts.Waves++
			ts.Offers += n
		}
	}
	return ts, errors.Join(errs...)
}

// wave offers sl to its next WaveSize candidates, or puts the wave off to
// the next opening of the contact hours.
func (s *Service) wave(ctx context.Context, sl store.FreedSlot, now time.Time) (int, error) {
	if !s.cal.Open(now) {
		next := s.cal.NextOpen(now)
		if next.IsZero() {
			next = now.Add(s.cfg.WaveInterval)
		}
		return 0, s.st.WaveDone(ctx, sl.ID, s.cfg.Owner, false, next)
	}
	until := now.Add(s.cfg.Hold)
	if cut := time.UnixMilli(sl.CutoffAt); cut.Before(until) {
		until = cut
	}
	// Another engine's wave, at the same moment, may take numbers ranked
	// here (one standing offer a number): those are left out, and the
	// places left are ranked again (the ranking leaves out numbers holding
	// an offer), a few times, rather than leave the slot unoffered for a
	// whole interval.
	made := 0
	for try := 0; try < 5 && made < s.cfg.WaveSize; try++ {
		n, taken, err := s.offerTo(ctx, sl, now, until, s.cfg.WaveSize-made)
		if err != nil {
			return 0, err
		}
		made += n
		if taken == 0 {
			break
		}
	}
	if made > 0 {
		s.log.Info("offer wave sent", "slot", sl.ID, "wave", sl.Waves+1, "offers", made)
	}
	return made, s.st.WaveDone(ctx, sl.ID, s.cfg.Owner, made > 0, now.Add(s.cfg.WaveInterval))
}

// offerTo offers sl to its next limit candidates, in one transaction; it
// returns how many it offered, and how many of those ranked were taken by
// another slot's offer meanwhile.
func (s *Service) offerTo(ctx context.Context, sl store.FreedSlot, now, until time.Time, limit int) (made, taken int, err error) {
	rk, err := s.Candidates(ctx, CandidateRequest{Node: sl.Node, Agenda: sl.Agenda, At: sl.Time(),
		ServiceType: cup.ServiceType(sl.ServiceType), On: calendar.DateOf(now.In(cup.Rome)), SlotID: sl.ID, Limit: limit})
	if err != nil {
		return 0, 0, err
	}
	err = s.st.InTx(ctx, func(t *store.Tx) error {
		made, taken = 0, 0
		for _, c := range rk.Candidates {
			no := store.NewOffer{SlotID: sl.ID, Wave: sl.Waves + 1, Node: c.Node, Code: c.Code, Phone: c.Phone,
				BookingAt: c.At, Channel: c.Channel, ExpiresAt: until}
			id, ok, err := t.AddOffer(ctx, no, now)
			if err != nil {
				return err
			}
			if !ok {
				taken++ // another slot's offer reached this number first
				continue
			}
			o := store.Offer{ID: id, SlotID: sl.ID, Node: c.Node, Code: c.Code, Phone: c.Phone, BookingAt: c.At.UnixMilli()}
			if c.Channel == ChannelSMS {
				body := sms.Transliterate(offerText(sl, o, until))
				info := sms.Analyze(body)
				ids, err := t.InsertMessages(ctx, []store.NewMessage{{Kind: "offer", Phone: c.Phone, Day: now.In(cup.Rome).Format(store.DayLayout),
					Body: body, Encoding: string(info.Encoding), Segments: info.Segments, NotBefore: now, ExpiresAt: until}}, now)
				if err != nil {
					return err
				}
				if err := t.SetOfferMessage(ctx, id, ids[c.Phone]); err != nil {
					return err
				}
				// The answer is awaited until the offer ends; a later
				// ACCETTO still reaches us, to be told it came too late.
				if err := t.OpenExpectation(ctx, store.Expectation{Phone: c.Phone, Job: store.JobOffer, RefID: id,
					OpenedAt: now.UnixMilli(), ExpiresAt: until.Add(s.cfg.Hold).UnixMilli()}); err != nil {
					return err
				}
			} else if s.cfg.CallCampaign != "" {
				payload, err := json.Marshal(script.Payload{Code: c.Code, Appointment: c.At, Offer: id, Offered: sl.Time(), Until: until})
				if err != nil {
					return err
				}
				if _, err := t.AddOfferCall(ctx, store.OfferCall{Campaign: s.cfg.CallCampaign, Script: string(s.cfg.CallScript),
					Contact: store.NewContact{Phone: c.Phone, Payload: string(payload), Node: c.Node}, Offer: id}, now); err != nil {
					return err
				}
			} else {
				if _, _, err := t.AddWorkItem(ctx, store.NewWorkItem{Kind: string(worklist.Offer), RefID: id, Phone: c.Phone,
					Body: operatorText(sl, o, until), Node: c.Node, Code: c.Code, BookingAt: c.At, ArrivedAt: now}); err != nil {
					return err
				}
			}
			made++
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return made, taken, nil
}
