package offers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/worklist"
)

// MoveRequest asks the CUP to move a booking into a freed slot.
type MoveRequest struct {
	Node, Agenda, Code string
	From, To           time.Time
	SlotID, OfferID    int64
}

// Mover carries a move out in the CUP (a node's write-back statement).
// Its Move must fail with an error wrapping ErrSlotTaken when the slot is
// no longer free there: the CUP's own front office books the same agendas.
type Mover interface {
	Move(ctx context.Context, r MoveRequest) error
}

// ErrSlotTaken is a move the CUP refused because the slot was taken.
var ErrSlotTaken = errors.New("offers: the slot is no longer free in the CUP")

// ErrNoMover is a Mover's answer for a node it cannot move bookings on:
// the move is then a work item, as without a Mover.
var ErrNoMover = errors.New("offers: no write-back move for this node")

// Outcome is what an acceptance or a refusal came to.
type Outcome string

const (
	// Moved: this acceptance took the slot and the CUP moved the booking.
	Moved Outcome = "moved"
	// Pending: this acceptance took the slot; the move waits for the CUP
	// (a work item for the back office, or a write-back to retry).
	Pending Outcome = "pending"
	// Lost: this acceptance took the slot, but the CUP had given it away.
	Lost Outcome = "lost"
	// TakenByOther: another acceptance came first.
	TakenByOther Outcome = "taken"
	// Expired: the offer no longer stood.
	Expired Outcome = "expired"
	// Already: this offer had already been accepted.
	Already Outcome = "already"
	// Declined: the patient said no (or had said no before accepting).
	Declined Outcome = "declined"
)

// Result is an answer's outcome and what to tell the patient ("" when a
// message in the outbox tells them instead).
type Result struct {
	Outcome Outcome
	Text    string
	Offer   store.Offer
	Slot    store.FreedSlot
	// inCall: the patient is on the line and hears the outcome there.
	inCall bool
}

// Accept takes offer offerID for by ("sms", "call", "operator:NAME"):
// the first valid acceptance of a slot wins, on any process, and every
// other is told the slot has just been taken and their appointment
// stands. The winner's booking is moved through the Mover (or a work item
// asks the back office to); the confirmation goes only once the CUP
// confirms the move.
func (s *Service) Accept(ctx context.Context, offerID int64, by string) (Result, error) {
	return s.accept(ctx, offerID, by, false)
}

func (s *Service) accept(ctx context.Context, offerID int64, by string, inCall bool) (Result, error) {
	res, err := s.st.TakeSlot(ctx, offerID, by, s.now())
	if err != nil {
		return Result{}, err
	}
	r := Result{Offer: res.Offer, Slot: res.Slot, inCall: inCall}
	if !res.Won {
		switch res.Offer.Status {
		case store.OfferAccepted, store.OfferMoved:
			r.Outcome, r.Text = Already, alreadyText(res.Slot)
			if res.Offer.Status == store.OfferMoved {
				r.Text = movedText(res.Slot)
			}
		case store.OfferDeclined:
			r.Outcome, r.Text = Declined, declinedText(res.Offer)
		case store.OfferExpired:
			r.Outcome, r.Text = Expired, expiredText(res.Slot, res.Offer)
		default:
			r.Outcome, r.Text = TakenByOther, takenText(res.Slot, res.Offer)
			// The slot may have ended without being taken (the cutoff).
			if res.Slot.Status == store.SlotExpired || res.Slot.Status == store.SlotOpen {
				r.Outcome, r.Text = Expired, expiredText(res.Slot, res.Offer)
			}
		}
		return r, nil
	}
	s.log.Info("slot taken", "slot", res.Slot.ID, "offer", offerID, "by", by, "booking", phone.MaskCode(res.Offer.Code))
	return s.move(ctx, r)
}

// Decline records a refusal; it harms nobody.
func (s *Service) Decline(ctx context.Context, offerID int64, by string) (Result, error) {
	o, err := s.st.OfferByID(ctx, offerID)
	if err != nil {
		return Result{}, err
	}
	if _, err := s.st.DeclineOffer(ctx, offerID, by, s.now()); err != nil {
		return Result{}, err
	}
	sl, err := s.st.FreedSlot(ctx, o.SlotID)
	if err != nil {
		return Result{}, err
	}
	o, err = s.st.OfferByID(ctx, offerID)
	if err != nil {
		return Result{}, err
	}
	if o.Status == store.OfferAccepted || o.Status == store.OfferMoved {
		return Result{Outcome: Already, Text: alreadyText(sl), Offer: o, Slot: sl}, nil
	}
	return Result{Outcome: Declined, Text: declinedText(o), Offer: o, Slot: sl}, nil
}

func (s *Service) move(ctx context.Context, r Result) (Result, error) {
	if s.mover == nil {
		return s.askBackOffice(ctx, r, "")
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.MoveTimeout)
	err := s.mover.Move(mctx, MoveRequest{Node: r.Offer.Node, Agenda: r.Slot.Agenda, Code: r.Offer.Code,
		From: r.Offer.BookingTime(), To: r.Slot.Time(), SlotID: r.Slot.ID, OfferID: r.Offer.ID})
	cancel()
	switch {
	case err == nil:
		return s.finish(ctx, r, true, "")
	case errors.Is(err, ErrSlotTaken):
		return s.finish(ctx, r, false, "il CUP ha dato il posto ad altri")
	case errors.Is(err, ErrNoMover):
		return s.askBackOffice(ctx, r, "")
	default:
		// The CUP's answer is not known: a person checks in the CUP and
		// closes the move; the patient keeps the appointment meanwhile.
		s.log.Warn("move not confirmed by the CUP; a work item asks the back office", "slot", r.Slot.ID, "err", err)
		return s.askBackOffice(ctx, r, "Lo spostamento automatico non ha avuto risposta certa dal CUP: verificare. ")
	}
}

// askBackOffice makes the move a work item (its RefID the slot); the
// patient is told the request is made, not that it is done. The operator's
// closing of it is ConfirmMove.
func (s *Service) askBackOffice(ctx context.Context, r Result, why string) (Result, error) {
	body := why + fmt.Sprintf("Spostare la prenotazione %s (nodo %s, agenda %s) da %s a %s, poi registrare se lo spostamento è fatto (posto %d).",
		r.Offer.Code, r.Offer.Node, r.Slot.Agenda, r.Offer.BookingTime().Format("02/01/2006 15:04"), r.Slot.Time().Format("02/01/2006 15:04"), r.Slot.ID)
	if _, _, err := s.st.AddWorkItem(ctx, store.NewWorkItem{Kind: string(worklist.Move), RefID: r.Slot.ID, Phone: r.Offer.Phone, Body: body,
		Node: r.Offer.Node, Code: r.Offer.Code, BookingAt: r.Offer.BookingTime(), ArrivedAt: s.now()}); err != nil {
		return Result{}, err
	}
	r.Outcome, r.Text = Pending, pendingText(r.Slot, r.Offer)
	return r, nil
}

// ConfirmMove records that the back office moved a taken slot's booking
// in the CUP (moved true) or found the slot given away (false); the
// patient is then told.
func (s *Service) ConfirmMove(ctx context.Context, slotID int64, moved bool) (Result, error) {
	sl, err := s.st.FreedSlot(ctx, slotID)
	if err != nil {
		return Result{}, err
	}
	if sl.Status != store.SlotTaken {
		return Result{}, fmt.Errorf("offers: slot %d is %s, not waiting for a move", slotID, sl.Status)
	}
	o, err := s.st.OfferByID(ctx, sl.TakenOffer)
	if err != nil {
		return Result{}, err
	}
	note := ""
	if !moved {
		note = "il CUP ha dato il posto ad altri"
	}
	return s.finish(ctx, Result{Offer: o, Slot: sl}, moved, note)
}

// finish records the CUP's answer, tells the patient by SMS (an operator
// when SMS cannot reach them), and frees the old slot in turn.
func (s *Service) finish(ctx context.Context, r Result, moved bool, note string) (Result, error) {
	now := s.now()
	done, err := s.st.FinishMove(ctx, r.Slot.ID, moved, note, now)
	if err != nil {
		return Result{}, err
	}
	if !done {
		return Result{}, fmt.Errorf("offers: slot %d was no longer waiting for its move", r.Slot.ID)
	}
	text := lostText(r.Slot, r.Offer)
	r.Outcome = Lost
	if moved {
		text = movedText(r.Slot)
		r.Outcome = Moved
		s.log.Info("booking moved into a freed slot", "slot", r.Slot.ID, "booking", phone.MaskCode(r.Offer.Code))
	} else {
		s.log.Info("the CUP gave the slot away before the move", "slot", r.Slot.ID, "booking", phone.MaskCode(r.Offer.Code))
	}
	// A patient on an offer call hears the outcome in it; a message
	// (an operator's call, for a landline) would only say it again. A
	// mobile is still sent the confirmation of a move, to keep.
	if !r.inCall || (moved && s.reachesBySMS(ctx, r.Offer.Phone)) {
		if err := s.tell(ctx, r.Offer, text, now); err != nil {
			return Result{}, err
		}
	}
	if moved && !s.cfg.NoCascade {
		if _, _, err := s.free(ctx, FreedSlot{Node: r.Offer.Node, Agenda: r.Slot.Agenda, At: r.Offer.BookingTime(),
			ServiceType: cup.ServiceType(r.Slot.ServiceType), BookingCode: r.Offer.Code}, SourceCascade); err != nil && !errors.Is(err, ErrTooLate) {
			s.log.Warn("the old slot of a moved booking could not be offered", "slot", r.Slot.ID, "err", err)
		}
	}
	return r, nil
}

// reachesBySMS: the number is a mobile that has not sent STOP.
func (s *Service) reachesBySMS(ctx context.Context, number string) bool {
	_, kind := phone.Classify(number)
	opted, err := s.st.IsOptedOut(ctx, number)
	return err == nil && kind == phone.Mobile && !opted
}

// tell queues text for the offer's number through the outbox, or gives
// it to an operator to say when SMS cannot reach it.
func (s *Service) tell(ctx context.Context, o store.Offer, text string, now time.Time) error {
	text = sms.Transliterate(text)
	_, kind := phone.Classify(o.Phone)
	opted, err := s.st.IsOptedOut(ctx, o.Phone)
	if err != nil {
		return err
	}
	if kind != phone.Mobile || opted {
		_, _, err := s.st.AddWorkItem(ctx, store.NewWorkItem{Kind: string(worklist.Offer), Phone: o.Phone,
			Body: "Comunicare al paziente: " + text, Node: o.Node, Code: o.Code, BookingAt: o.BookingTime(), ArrivedAt: now})
		return err
	}
	info := sms.Analyze(text)
	return s.st.InTx(ctx, func(t *store.Tx) error {
		_, err := t.InsertMessages(ctx, []store.NewMessage{{Kind: "offer_outcome", Phone: o.Phone,
			Day: now.In(cup.Rome).Format(store.DayLayout), Body: text, Encoding: string(info.Encoding), Segments: info.Segments,
			NotBefore: now, ExpiresAt: now.Add(24 * time.Hour)}}, now)
		return err
	})
}
