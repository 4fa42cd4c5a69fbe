// Package group owns the sports-medicine bookings of whole clubs: the
// athletes a club sends, the slots the facility agreed for them, and the
// plan that gives every athlete a slot of their visit type on as few days as
// possible. It reads and plans; it stores and sends nothing.
package group

import (
	"time"

	"github.com/richiamo/richiamo/internal/cup"
)

// VisitType is the kind of sports-medicine visit an athlete needs; a slot
// is agreed for one kind, because the competitive visit takes the longer
// examination (ECG under stress, spirometry).
type VisitType string

const (
	Competitive    VisitType = "agonistica"
	NonCompetitive VisitType = "non_agonistica"
)

// visitTypes are the kinds in the order plans and reports list them.
var visitTypes = [...]VisitType{Competitive, NonCompetitive}

// label is how a visit type is written for people.
func (v VisitType) label() string {
	if v == NonCompetitive {
		return "non agonistica"
	}
	return string(v)
}

// Athlete is one row of a club's list.
type Athlete struct {
	Surname    string
	Name       string
	BirthDate  time.Time // a day, midnight in Europe/Rome
	FiscalCode string    // codice_fiscale, checked and upper case
	Phone      string    // E.164 mobile, "" when the list gives none
	Type       VisitType
	Club       string // societa

	// Where the row came from.
	File string
	Line int
}

// Slot is one time the facility agreed for the clubs' athletes: Places
// athletes of Type at At.
type Slot struct {
	At     time.Time // Europe/Rome
	Type   VisitType
	Places int
	// Place is where the visit is (struttura), for the athletes' message;
	// "" when the slots file does not say.
	Place string

	File string
	Line int
}

// Day is the slot's day, YYYY-MM-DD in Europe/Rome.
func (s Slot) Day() string { return s.At.In(cup.Rome).Format(time.DateOnly) }

// Time is the slot's time, HH:MM in Europe/Rome.
func (s Slot) Time() string { return s.At.In(cup.Rome).Format("15:04") }

// Reasons a row of a list or of the slots is not usable. They are codes of
// the command-line JSON output: never rename one.
const (
	ReasonMissingCell    cup.Reason = "missing_cell"
	ReasonBadFiscalCode  cup.Reason = "bad_fiscal_code"
	ReasonDuplicate      cup.Reason = "duplicate"
	ReasonBadBirthDate   cup.Reason = "bad_birth_date"
	ReasonBadVisitType   cup.Reason = "bad_visit_type"
	ReasonBadDate        cup.Reason = "bad_date"
	ReasonBadTime        cup.Reason = "bad_time"
	ReasonBadPlaces      cup.Reason = "bad_places"
	ReasonPastSlot       cup.Reason = "past_slot"
	ReasonWrongCellCount cup.Reason = "wrong_cell_count"
)

// Reasons an athlete is left out of a plan.
const (
	// UnplacedNoSlotOfType: no agreed slot is for the athlete's visit type.
	UnplacedNoSlotOfType = "no_slot_of_type"
	// UnplacedNoPlacesLeft: the agreed slots of the type hold fewer athletes
	// than the list has; those listed last are left out.
	UnplacedNoPlacesLeft = "no_places_left"
)
