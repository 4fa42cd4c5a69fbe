// Package cup owns what the engine reads from the CUP: bookings and the
// reasons a source row cannot become one. Sources (extract files today, the
// nodes' SQL Server databases later) all produce the same Booking and the same
// Rejection, so that the jobs downstream never care where a row came from.
package cup

import (
	"fmt"
	"time"
	_ "time/tzdata" // Europe/Rome must resolve on hosts without a zoneinfo database
)

// ServiceType is the family of the booked service, which decides the wait
// thresholds of the recall rules (day 31 for visits, day 61 for exams).
type ServiceType string

const (
	ServiceUnknown      ServiceType = ""
	ServiceVisit        ServiceType = "V" // visita specialistica
	ServiceInstrumental ServiceType = "S" // prestazione strumentale
)

// Booking is one CUP booking about to be performed.
type Booking struct {
	Node        string    // CUP node (health body); "" when the source does not say
	Code        string    // codice_prenotazione, unique within a node
	Phone       string    // patient's mobile, E.164
	At          time.Time // appointment, in Europe/Rome
	Agenda      string
	ServiceCode string
	Service     string
	ServiceType ServiceType
	Facility    string // struttura
	Address     string // indirizzo
	Priority    string // U, B, D, P or ""
	BookedOn    time.Time
	Surname     string
	Name        string
	FiscalCode  string    // codice_fiscale, "" when the source has none
	BirthDate   time.Time // data_nascita, a day; zero when the source has none

	// Where the row came from, for reports and rejections.
	Source string
	Line   int
}

// Reason is why a source row was not usable. The codes are part of the
// command-line JSON output and of reports: never rename one.
type Reason string

const (
	ReasonMissingPhone       Reason = "missing_phone"
	ReasonInvalidPhone       Reason = "invalid_phone"
	ReasonLandline           Reason = "landline"
	ReasonMissingBookingCode Reason = "missing_booking_code"
	ReasonBadDatetime        Reason = "bad_datetime"
	ReasonOptedOut           Reason = "opted_out"
	// ReasonControlCharacter: a cell holds a control character (a NUL, an
	// escape), which would be stored and sent as it is.
	ReasonControlCharacter Reason = "control_character"
)

// Rejection is one unusable row: where it is and why.
type Rejection struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason Reason `json:"reason"`
	// Detail says more for a person (which column, what was wrong), without
	// repeating the phone number or other personal data.
	Detail string `json:"detail,omitempty"`
	// Node is the CUP node the row names (or the source's), so that each
	// node's manager sees the rows to correct in its own CUP; "" when the
	// row named none.
	Node string `json:"node,omitempty"`
}

func (r Rejection) Error() string {
	if r.Detail != "" {
		return fmt.Sprintf("%s:%d: %s (%s)", r.File, r.Line, r.Reason, r.Detail)
	}
	return fmt.Sprintf("%s:%d: %s", r.File, r.Line, r.Reason)
}

// Key identifies a booking across extracts: a booking code is unique within
// its node.
func (b Booking) Key() string { return b.Node + "\x00" + b.Code }

// Rome is the time zone of every user-facing time.
var Rome = mustLoad("Europe/Rome")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("cup: time zone %s: %v", name, err))
	}
	return loc
}
