// Package urgent owns urgent moves: when a facility must move bookings at
// short notice, which numbers reach each patient. It finds every number
// the engine has seen for a patient (the booking's own and those of their
// other bookings) and ranks them by what happened on each, with the
// evidence, so that the call goes first to the number that works.
package urgent

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
)

// Class is how far a number is trusted to reach its patient, best first.
type Class int

const (
	// Reached: the number answered a call or sent an SMS recently.
	Reached Class = iota
	// Delivered: an SMS to it was delivered (or it answered, but not
	// recently): someone has the phone, maybe not the patient.
	Delivered
	// Unused: nothing says whether it works: never used, or only calls
	// nobody answered and SMS to a phone that was off.
	Unused
	// Failed: the number does not exist or is not the patient's, and
	// nothing since says otherwise.
	Failed
)

var classNames = [...]string{"reached", "delivered", "unused", "failed"}

func (c Class) String() string {
	if c >= 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// MarshalText writes the class's name, for JSON.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Patient is whom the numbers are sought for, as the booking to move says.
type Patient struct {
	FiscalCode string // "" when the extract had none
	Surname    string
	Name       string
	BirthDate  string // YYYY-MM-DD, "" when unknown
}

// Target is a booking to move and its patient.
type Target struct {
	Node, Code string
	Phone      string // the number on the booking
	Patient    Patient
}

// Matches says whether a stored booking is the patient's: by codice
// fiscale when both have one (two people may share a name and a birth
// date), otherwise by surname, name and birth date, compared without case,
// accents, apostrophes or spaces ("D'Amico Nicolò" is "DAMICO NICOLO'").
func (p Patient) Matches(b store.PersonBooking) bool {
	if p.FiscalCode != "" && b.FiscalCode != "" {
		return p.FiscalCode == b.FiscalCode
	}
	if p.BirthDate == "" || b.BirthDate != p.BirthDate {
		return false
	}
	s, n := fold(p.Surname), fold(p.Name)
	return s != "" && n != "" && s == fold(b.Surname) && n == fold(b.Name)
}

// fold reduces a name to its letters, upper-case and without accents.
func fold(s string) string {
	var sb strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.IsLetter(r) {
			sb.WriteRune(unicode.ToUpper(r))
		}
	}
	return sb.String()
}

// Number is one number seen for a patient, ranked.
type Number struct {
	Phone string `json:"phone"`
	Class Class  `json:"class"`
	// Landline: it can be called but not sent an SMS.
	Landline bool `json:"landline"`
	// OnBooking: the number written on the booking to move.
	OnBooking bool `json:"on_booking"`
	// Evidence says, in Italian for the back office, why the number ranks
	// where it does: what happened on it, and where it was found.
	Evidence []string `json:"evidence"`
	// Last is the latest sign the number works (an answer, a reply, a
	// delivered SMS), zero for none.
	Last time.Time `json:"last,omitzero"`
	// Seen is when an import last wrote it on one of the patient's
	// bookings.
	Seen time.Time `json:"seen,omitzero"`
}

// Callable says whether the campaign should try the number at all.
func (n Number) Callable() bool { return n.Class != Failed }

// Settings of the ranking.
type Settings struct {
	// Recent is how long an answer or a reply makes a number Reached;
	// older, it counts as Delivered.
	Recent time.Duration
	// History is how far back the store is asked.
	History time.Duration
	// MaxBookings bounds the patient's bookings read.
	MaxBookings int
}

// DefaultSettings: a year of answers is recent; two years are read.
var DefaultSettings = Settings{Recent: 365 * 24 * time.Hour, History: 2 * 365 * 24 * time.Hour, MaxBookings: 200}

// Validate names the first setting that cannot work.
func (s Settings) Validate() error {
	switch {
	case s.Recent <= 0:
		return fmt.Errorf("urgent: recent must be positive, got %v", s.Recent)
	case s.History < s.Recent:
		return fmt.Errorf("urgent: history (%v) must be at least recent (%v)", s.History, s.Recent)
	case s.MaxBookings < 1:
		return fmt.Errorf("urgent: max bookings must be at least 1, got %d", s.MaxBookings)
	}
	return nil
}

// HistoryStore is what Numbers reads; *store.Store has it.
type HistoryStore interface {
	PersonBookings(ctx context.Context, fiscalCode, birthDate string, limit int) ([]store.PersonBooking, error)
	NumberHistory(ctx context.Context, phones []string, since time.Time) ([]store.NumberEvent, error)
}

// Numbers finds and ranks every number seen for the target's patient.
func Numbers(ctx context.Context, st HistoryStore, t Target, s Settings, now time.Time) ([]Number, error) {
	cands, err := st.PersonBookings(ctx, t.Patient.FiscalCode, t.Patient.BirthDate, s.MaxBookings)
	if err != nil {
		return nil, err
	}
	var mine []store.PersonBooking
	for _, b := range cands {
		if (b.Node == t.Node && b.Code == t.Code) || t.Patient.Matches(b) {
			mine = append(mine, b)
		}
	}
	phones := []string{}
	if t.Phone != "" {
		phones = append(phones, t.Phone)
	}
	for _, b := range mine {
		if b.Phone != "" && !slices.Contains(phones, b.Phone) && len(phones) < store.MaxHistoryNumbers {
			phones = append(phones, b.Phone)
		}
	}
	events, err := st.NumberHistory(ctx, phones, now.Add(-s.History))
	if err != nil {
		return nil, err
	}
	return Rank(t, mine, events, s, now), nil
}

// Rank orders the numbers of the target's patient: by class, then the
// latest sign each works, then the one on the booking, then the most
// recently written on a booking. A failure after the last sign a number
// worked makes it Failed (numbers are given up and reassigned); a sign
// after a failure makes it good again.
func Rank(t Target, mine []store.PersonBooking, events []store.NumberEvent, s Settings, now time.Time) []Number {
	type acc struct {
		n                     Number
		answered, replied     []time.Time
		delivered, unanswered []time.Time
		undelivered           map[int][]time.Time
		lastFail              time.Time
		failWhy               string
		found                 []string
	}
	by := map[string]*acc{}
	var order []string
	get := func(p string) *acc {
		a := by[p]
		if a == nil {
			_, kind := phone.Classify(p)
			a = &acc{n: Number{Phone: p, Landline: kind == phone.Landline}, undelivered: map[int][]time.Time{}}
			by[p] = a
			order = append(order, p)
		}
		return a
	}
	if t.Phone != "" {
		get(t.Phone).n.OnBooking = true
	}
	for _, b := range mine {
		if b.Phone == "" {
			continue
		}
		a := get(b.Phone)
		if b.UpdatedAt.After(a.n.Seen) {
			a.n.Seen = b.UpdatedAt
		}
		if b.Node == t.Node && b.Code == t.Code {
			continue
		}
		a.found = append(a.found, fmt.Sprintf("prenotazione %s %s del %s", b.Node, phone.MaskCode(b.Code), day(b.At)))
	}
	fail := func(a *acc, at time.Time, why string) {
		if !at.Before(a.lastFail) {
			a.lastFail, a.failWhy = at, why
		}
	}
	for _, e := range events {
		a, ok := by[e.Phone]
		if !ok {
			continue
		}
		switch e.Kind {
		case store.EventCall:
			switch {
			case e.Answered:
				a.answered = append(a.answered, e.At)
			case voice.Outcome(e.Outcome) == voice.InvalidNumber:
				fail(a, e.At, fmt.Sprintf("numero inesistente alla chiamata del %s", day(e.At)))
			default:
				a.unanswered = append(a.unanswered, e.At)
			}
		case store.EventReply:
			a.replied = append(a.replied, e.At)
		case store.EventSMS:
			switch {
			case e.Outcome == store.StatusDelivered:
				a.delivered = append(a.delivered, e.At)
			case e.Outcome == "sent":
				// Left, and never reported: says nothing yet.
			case wrongNumber(e.Code):
				fail(a, e.At, fmt.Sprintf("SMS del %s non consegnato: %s", day(e.At), sms.ErrorText(e.Code)))
			default:
				a.undelivered[e.Code] = append(a.undelivered[e.Code], e.At)
			}
		}
	}
	out := make([]Number, 0, len(order))
	for _, p := range order {
		a := by[p]
		n := a.n
		lastAnswer := latest(slices.Concat(a.answered, a.replied))
		lastDelivered := latest(a.delivered)
		n.Last = lastAnswer
		if lastDelivered.After(n.Last) {
			n.Last = lastDelivered
		}
		switch {
		case !a.lastFail.IsZero() && !n.Last.After(a.lastFail):
			n.Class = Failed
		case !lastAnswer.IsZero() && now.Sub(lastAnswer) <= s.Recent:
			n.Class = Reached
		case !n.Last.IsZero():
			n.Class = Delivered
		default:
			n.Class = Unused
		}
		ev := []string{}
		if len(a.answered) > 0 {
			ev = append(ev, count(len(a.answered), "ha risposto a una chiamata", "ha risposto a %d chiamate")+lastOn(a.answered, true))
		}
		if len(a.replied) > 0 {
			ev = append(ev, count(len(a.replied), "ha inviato un SMS", "ha inviato %d SMS")+lastOn(a.replied, false))
		}
		if len(a.delivered) > 0 {
			ev = append(ev, count(len(a.delivered), "un SMS consegnato", "%d SMS consegnati")+lastOn(a.delivered, false))
		}
		if a.failWhy != "" {
			ev = append(ev, a.failWhy)
		}
		if len(a.unanswered) > 0 {
			ev = append(ev, count(len(a.unanswered), "una chiamata senza risposta", "%d chiamate senza risposta")+lastOn(a.unanswered, true))
		}
		for _, code := range slices.Sorted(maps.Keys(a.undelivered)) {
			ts := a.undelivered[code]
			why := sms.ErrorText(code)
			if why == "" {
				why = fmt.Sprintf("errore %d", code)
			}
			ev = append(ev, count(len(ts), "un SMS non consegnato", "%d SMS non consegnati")+lastOn(ts, false)+" ("+why+")")
		}
		if len(ev) == 0 {
			ev = append(ev, "mai usato")
		}
		if n.Landline {
			ev = append(ev, "numero fisso: solo chiamate, niente SMS")
		}
		if n.OnBooking {
			ev = append(ev, "è il numero della prenotazione da spostare")
		}
		for _, f := range a.found {
			ev = append(ev, "trovato sulla "+f)
		}
		n.Evidence = ev
		out = append(out, n)
	}
	slices.SortStableFunc(out, func(a, b Number) int {
		return cmp.Or(cmp.Compare(a.Class, b.Class), b.Last.Compare(a.Last), boolFirst(a.OnBooking, b.OnBooking),
			b.Seen.Compare(a.Seen), cmp.Compare(a.Phone, b.Phone))
	})
	return out
}

// wrongNumber says a provider error means the number is not (or no longer)
// a working one, rather than a phone that is off or a network's fault.
func wrongNumber(code int) bool {
	switch code {
	case 21211, 30005:
		return true
	}
	return false
}

func boolFirst(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

func latest(ts []time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}

func day(t time.Time) string { return t.In(cup.Rome).Format("02/01/2006") }

// lastOn says the date of the latest of ts: " il 30/11/2026" for one,
// ", l'ultimo il 30/11/2026" for several (l'ultima for calls).
func lastOn(ts []time.Time, feminine bool) string {
	if len(ts) == 1 {
		return " il " + day(ts[0])
	}
	if feminine {
		return ", l'ultima il " + day(latest(ts))
	}
	return ", l'ultimo il " + day(latest(ts))
}

func count(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf(many, n)
}
