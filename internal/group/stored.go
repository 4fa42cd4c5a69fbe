package group

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
)

// A plan kept in the store: the console uploads a club's list and the
// agreed slots, confirms the plan, has the bookings made in the CUP and
// the athletes told; a changed list is planned again against it.

// StoreRows are a plan as the store keeps it: its slots and every athlete
// of the list, in the list's order (athletes as given, placed or not).
func StoreRows(athletes []Athlete, slots []Slot, p Plan) ([]store.GroupSlot, []store.GroupAssignment) {
	ss := make([]store.GroupSlot, 0, len(slots))
	for _, s := range slots {
		ss = append(ss, store.GroupSlot{At: s.At.UnixMilli(), VisitType: string(s.Type), Places: s.Places, Place: s.Place})
	}
	slotOf := map[string]Slot{}
	for _, a := range p.Assigned {
		slotOf[a.Athlete.FiscalCode] = a.Slot
	}
	reason := map[string]string{}
	for _, u := range p.Unplaced {
		reason[u.Athlete.FiscalCode] = u.Reason
	}
	as := make([]store.GroupAssignment, 0, len(athletes))
	for i, a := range athletes {
		row := store.GroupAssignment{Position: i, FiscalCode: a.FiscalCode, Surname: a.Surname, Name: a.Name,
			BirthDay: a.BirthDate.Format(time.DateOnly), Phone: a.Phone, VisitType: string(a.Type), Club: a.Club, Reason: reason[a.FiscalCode]}
		if s, ok := slotOf[a.FiscalCode]; ok {
			row.At, row.Place = s.At.UnixMilli(), s.Place
		}
		as = append(as, row)
	}
	return ss, as
}

// FromStore is a kept plan again: its slots, and its assignments as a
// Plan (Days, Assigned and Unplaced; the search's figures are not kept).
func FromStore(ss []store.GroupSlot, as []store.GroupAssignment) ([]Slot, Plan) {
	slots := make([]Slot, 0, len(ss))
	for _, s := range ss {
		slots = append(slots, Slot{At: time.UnixMilli(s.At).In(cup.Rome), Type: VisitType(s.VisitType), Places: s.Places, Place: s.Place})
	}
	var p Plan
	for _, a := range as {
		ath := AthleteOf(a)
		if a.At == 0 {
			u := Unplaced{Athlete: ath, Reason: a.Reason}
			p.Unplaced = append(p.Unplaced, u)
			continue
		}
		s := Slot{At: time.UnixMilli(a.At).In(cup.Rome), Type: ath.Type, Place: a.Place}
		p.Assigned = append(p.Assigned, Assignment{Athlete: ath, Slot: s})
		if d := s.Day(); !slices.Contains(p.Days, d) {
			p.Days = append(p.Days, d)
		}
	}
	slices.Sort(p.Days)
	return slots, p
}

// AthleteOf is a kept athlete.
func AthleteOf(a store.GroupAssignment) Athlete {
	bd, _ := time.ParseInLocation(time.DateOnly, a.BirthDay, cup.Rome)
	return Athlete{Surname: a.Surname, Name: a.Name, BirthDate: bd, FiscalCode: a.FiscalCode, Phone: a.Phone, Type: VisitType(a.VisitType), Club: a.Club}
}

// PreviousOf are a kept plan's assignments, for Replan.
func PreviousOf(as []store.GroupAssignment) []Previous {
	var out []Previous
	for _, a := range as {
		if a.At != 0 {
			out = append(out, Previous{FiscalCode: a.FiscalCode, Type: VisitType(a.VisitType), At: time.UnixMilli(a.At).In(cup.Rome)})
		}
	}
	return out
}

// Notice is the SMS telling an athlete of a booked visit, or nil when the
// athlete has no mobile or the visit is past. Notify and the console make
// the same message, and the store sends it once per athlete and time.
func Notice(a Assignment, now time.Time) *store.GroupNotice {
	if a.Athlete.Phone == "" || !a.Slot.At.After(now) {
		return nil
	}
	body := SMS(a)
	info := sms.Analyze(body)
	return &store.GroupNotice{FiscalCode: a.Athlete.FiscalCode, At: a.Slot.At, Message: store.NewMessage{Kind: "group", Phone: a.Athlete.Phone,
		Day: dayOf(a.Slot.At), Body: body, Encoding: string(info.Encoding), Segments: info.Segments, NotBefore: now, ExpiresAt: a.Slot.At}}
}

// Booker books an athlete's visit in the CUP through a node's write-back
// book statement; the engine gives one over the nodes that declare it.
type Booker interface {
	// CanBook says whether node has a book statement.
	CanBook(node string) bool
	// Book books b (node, agenda, time, phone; Code is the athlete's
	// codice fiscale, the only identity a new booking has).
	Book(ctx context.Context, b cup.Booking) error
}

// ErrSlotTaken is a booking the CUP refused because the slot is not free.
var ErrSlotTaken = errors.New("group: the CUP says the slot is not free")

// BookResult is what Book did for one athlete.
type BookResult struct {
	FiscalCode string
	Err        error
}

// BookInCUP books each assignment through bk on node's agenda, one by one,
// and says for each whether the CUP took it; a booking refused does not
// stop the others.
func BookInCUP(ctx context.Context, bk Booker, node, agenda string, as []Assignment) []BookResult {
	out := make([]BookResult, 0, len(as))
	for _, a := range as {
		err := bk.Book(ctx, cup.Booking{Node: node, Agenda: agenda, At: a.Slot.At, Phone: a.Athlete.Phone,
			Surname: a.Athlete.Surname, Name: a.Athlete.Name, FiscalCode: a.Athlete.FiscalCode, BirthDate: a.Athlete.BirthDate, Facility: a.Slot.Place})
		if err != nil {
			err = fmt.Errorf("book %s at %s: %w", phone.MaskCode(a.Athlete.FiscalCode), a.Slot.At.In(cup.Rome).Format("02/01 15:04"), err)
		}
		out = append(out, BookResult{FiscalCode: a.Athlete.FiscalCode, Err: err})
		if ctx.Err() != nil {
			break
		}
	}
	return out
}
