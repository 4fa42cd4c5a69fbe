package job

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
)

// CleanUpBookings is what a clean-up reads of the store: the bookings of
// an agenda of a node; *store.Store has it.
type CleanUpBookings interface {
	AgendaBookings(ctx context.Context, node, agenda string, from, to time.Time) ([]store.AgendaBooking, error)
}

// CleanUpAgenda is a one-off recall of an agenda of one CUP node over a
// range of appointments, as a CUP manager asked: one contact per booking,
// so that each booking has its own result for the CUP.
type CleanUpAgenda struct {
	Bookings CleanUpBookings
	Node     string
	Agenda   string
	// From and To bound the appointments, [From, To).
	From, To   time.Time
	CallScript Script
}

// Kind is CleanUp.
func (CleanUpAgenda) Kind() Kind { return CleanUp }

// Script is the clean-up's call script.
func (j CleanUpAgenda) Script() Script { return j.CallScript }

// Contacts reads the agenda's bookings in appointment order.
func (j CleanUpAgenda) Contacts(ctx context.Context, _ Source) ([]store.NewContact, []Skipped, error) {
	bs, err := j.Bookings.AgendaBookings(ctx, j.Node, j.Agenda, j.From, j.To)
	if err != nil {
		return nil, nil, err
	}
	out := make([]store.NewContact, 0, len(bs))
	for _, b := range bs {
		payload, err := json.Marshal(script.Payload{Code: b.Code, Appointment: store.FromMillis(b.At)})
		if err != nil {
			return nil, nil, fmt.Errorf("job: clean-up payload: %w", err)
		}
		out = append(out, store.NewContact{Phone: b.Phone, Payload: string(payload), Node: j.Node})
	}
	return out, nil, nil
}
