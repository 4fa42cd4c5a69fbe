package script

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
)

// Payload is what a recall contact carries for its script, as JSON in
// store.Contact.Payload.
type Payload struct {
	// Code is the booking code, for matching results back to the CUP.
	Code string `json:"code,omitempty"`
	// Appointment is when the booking is.
	Appointment time.Time `json:"appointment,omitzero"`
	// Offer, Offered and Until are an offer call's: the offer's id, the
	// slot it offers and when it ends.
	Offer   int64     `json:"offer,omitempty"`
	Offered time.Time `json:"offered,omitzero"`
	Until   time.Time `json:"until,omitzero"`
	// Bookings, when there are any, are the number's bookings, asked
	// about one after the other in one call (Code and Appointment are then
	// unused).
	Bookings []Booking `json:"bookings,omitempty"`
}

// ContactDecide is Decide for one contact: what the campaign's job makes
// of the choice a patient keyed in the call with contact c, decided before
// the closing is said.
type ContactDecide func(ctx context.Context, c store.Contact, p Payload, choice string) (string, error)

// Booking is one of several bookings a call asks about.
type Booking struct {
	Node string    `json:"node"`
	Code string    `json:"code"`
	At   time.Time `json:"at"`
	// Facility is the recorded segment that names the booking's facility
	// (said for {facility: true}); "" for none.
	Facility string `json:"facility,omitempty"`
}

// BookingQuestion is the name of the answer about booking (node, code) in
// a call about several bookings.
func BookingQuestion(node, code string) string { return "booking:" + node + "/" + code }

// ScriptError is the result recorded when the script failed on our side
// during an answered call.
const ScriptError = "script_error"

// Answered is what the glue needs of an answered call; *voice.Call has it.
type Answered interface {
	Player
	Hangup() voice.Result
}

// MenuQuestion is the name the answer to a script's menu is stored under
// (store.Answer.Question): a recall script asks that one question.
const MenuQuestion = "menu"

// CallFunc is the dialer's Call for a campaign run by s: it calls the
// contact, letting it ring for ring (0: the Caller's default), runs the
// script when answered and hangs up. The attempt carries the script's
// result and its answer to the menu; the call's Digits are the keys the
// script took, which is what s.Positive reads.
func CallFunc(caller *voice.Caller, s *Script, ring time.Duration) func(context.Context, store.Contact) dialer.Attempt {
	return CallFuncDeciding(caller, s, ring, nil)
}

// CallFuncDeciding is CallFunc with each menu choice decided by decide
// during the call (see Script.RunFor); the attempt's result is what decide
// came to.
func CallFuncDeciding(caller *voice.Caller, s *Script, ring time.Duration, decide ContactDecide) func(context.Context, store.Contact) dialer.Attempt {
	return callWith(func(ctx context.Context, req voice.Request) (Answered, voice.Result) {
		call, r := caller.Place(ctx, req)
		if call == nil {
			return nil, r
		}
		return call, r
	}, s, ring, decide)
}

// callWith is CallFunc over any way of placing a call, so that tests can
// answer with a fake.
func callWith(place func(context.Context, voice.Request) (Answered, voice.Result), s *Script, ring time.Duration, decide ContactDecide) func(context.Context, store.Contact) dialer.Attempt {
	return func(ctx context.Context, c store.Contact) dialer.Attempt {
		var p Payload
		if c.Payload != "" {
			if err := json.Unmarshal([]byte(c.Payload), &p); err != nil {
				// Not worth a call: the script could not say the booking.
				return dialer.Attempt{Call: voice.Result{Outcome: voice.Failed, Err: fmt.Errorf("script: contact %d payload: %w", c.ID, err)}}
			}
		}
		call, r := place(ctx, voice.Request{To: c.Phone, RingTimeout: ring})
		if call == nil {
			return dialer.Attempt{Call: r}
		}
		if len(p.Bookings) > 0 {
			result, digits, answers, err := s.RunBookings(ctx, call, p.Bookings)
			r = call.Hangup()
			if err != nil {
				result = ScriptError
				r.Err = err
			}
			r.Digits = digits
			return dialer.Attempt{Call: r, Result: result, Answers: answers}
		}
		var d Decide
		if decide != nil {
			d = func(ctx context.Context, choice string) (string, error) { return decide(ctx, c, p, choice) }
		}
		result, digits, err := s.RunFor(ctx, call, Fields{Appointment: p.Appointment, Offered: p.Offered, Until: p.Until}, d)
		r = call.Hangup()
		if err != nil {
			result = ScriptError
			r.Err = err
		}
		r.Digits = digits
		return dialer.Attempt{Call: r, Result: result, Answers: []store.Answer{{Question: MenuQuestion, Value: result, Keys: digits}}}
	}
}

// RunBookings asks about each booking in turn on one answered call: the
// first step (the greeting) is said once, the other steps and the menu for
// each booking. After a result in s.Continue the call goes on to the next
// booking; any other result ends it, and the bookings not reached have no
// answer. The result is the last booking's, the answers one per booking
// asked (BookingQuestion), and the farewell is said when every booking was
// asked.
func (s *Script) RunBookings(ctx context.Context, call Player, bs []Booking) (result, digits string, answers []store.Answer, err error) {
	for i, b := range bs {
		sc := *s
		if i > 0 && len(s.Steps) > 1 {
			sc.Steps = s.Steps[1:]
		}
		sc.Steps = withFacility(sc.Steps, b.Facility)
		r, d, err := sc.Run(ctx, call, b.At)
		digits += d
		if err != nil {
			return r, digits, answers, err
		}
		result = r
		if r == HungUp || r == NoResponse {
			return result, digits, answers, nil
		}
		answers = append(answers, store.Answer{Question: BookingQuestion(b.Node, b.Code), Value: r, Keys: d})
		if !slices.Contains(s.Continue, r) {
			return result, digits, answers, nil
		}
	}
	if a, err := s.compose(s.Farewell, Fields{}); err != nil {
		return result, digits, answers, fmt.Errorf("script: farewell: %w", err)
	} else if a != nil {
		if err := call.PlayWhole(ctx, a); err != nil && !errors.Is(err, voice.ErrHungUp) {
			return result, digits, answers, fmt.Errorf("script: farewell: %w", err)
		}
	}
	return result, digits, answers, nil
}

// withFacility is steps with {facility: true} replaced by the segment seg;
// steps themselves are not changed.
func withFacility(steps []Step, seg string) []Step {
	if seg == "" {
		return steps
	}
	out := make([]Step, len(steps))
	for i, st := range steps {
		out[i] = Step{Say: make([]Item, len(st.Say))}
		for j, it := range st.Say {
			if it.Facility {
				it = Item{Segment: seg}
			}
			out[i].Say[j] = it
		}
	}
	return out
}
