package script

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
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
}

// ScriptError is the result recorded when the script failed on our side
// during an answered call.
const ScriptError = "script_error"

// Answered is what the glue needs of an answered call; *voice.Call has it.
type Answered interface {
	Player
	Hangup() voice.Result
}

// Results carries each call's script result from the call to its attempt
// record: voice.Result has no field for it, so the Store that Results
// wraps fills store.AttemptRecord.Result when the dialer records the
// attempt. Safe for concurrent use.
type Results struct {
	mu sync.Mutex
	m  map[int64]string
}

// NewResults is an empty Results.
func NewResults() *Results { return &Results{m: map[int64]string{}} }

func (r *Results) put(contact int64, result string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[contact] = result
}

func (r *Results) take(contact int64) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.m[contact]
	delete(r.m, contact)
	return res
}

// Store wraps st so that each attempt it records carries its call's script
// result.
func (r *Results) Store(st dialer.Store) dialer.Store { return resultStore{st, r} }

type resultStore struct {
	dialer.Store
	r *Results
}

func (s resultStore) RecordAttempt(ctx context.Context, a store.AttemptRecord) error {
	if res := s.r.take(a.ContactID); res != "" {
		a.Result = res
	}
	return s.Store.RecordAttempt(ctx, a)
}

// CallFunc is the dialer's Call for a campaign run by s: it calls the
// contact, letting it ring for ring (0: the Caller's default), runs the
// script when answered and hangs up. The Result's Digits are the keys the
// script took, which is what s.Positive reads; the script's result goes to
// results (nil drops it).
func CallFunc(caller *voice.Caller, s *Script, ring time.Duration, results *Results) func(context.Context, store.Contact) voice.Result {
	return callWith(func(ctx context.Context, req voice.Request) (Answered, voice.Result) {
		call, r := caller.Place(ctx, req)
		if call == nil {
			return nil, r
		}
		return call, r
	}, s, ring, results)
}

// callWith is CallFunc over any way of placing a call, so that tests can
// answer with a fake.
func callWith(place func(context.Context, voice.Request) (Answered, voice.Result), s *Script, ring time.Duration, results *Results) func(context.Context, store.Contact) voice.Result {
	return func(ctx context.Context, c store.Contact) voice.Result {
		var p Payload
		if c.Payload != "" {
			if err := json.Unmarshal([]byte(c.Payload), &p); err != nil {
				// Not worth a call: the script could not say the booking.
				return voice.Result{Outcome: voice.Failed, Err: fmt.Errorf("script: contact %d payload: %w", c.ID, err)}
			}
		}
		call, r := place(ctx, voice.Request{To: c.Phone, RingTimeout: ring})
		if call == nil {
			return r
		}
		result, digits, err := s.Run(ctx, call, p.Appointment)
		r = call.Hangup()
		if err != nil {
			result = ScriptError
			r.Err = err
		}
		r.Digits = digits
		results.put(c.ID, result)
		return r
	}
}
