package offers

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
)

// Channels an offer goes by.
const (
	ChannelSMS  = "sms"  // a mobile that has not sent STOP
	ChannelCall = "call" // a landline, or a mobile that sent STOP
)

// Candidate is a booking that may be offered a slot, in offer order.
type Candidate struct {
	Node     string    `json:"node"`
	Code     string    `json:"code"`
	Phone    string    `json:"-"`
	At       time.Time `json:"at"`
	Priority string    `json:"priority"`
	BookedOn string    `json:"booked_on"`
	Channel  string    `json:"channel"`
}

// Ranking is a slot's candidates with the rule that chose them.
type Ranking struct {
	Slot        time.Time `json:"slot"`
	ServiceType string    `json:"service_type"`
	MinDays     int       `json:"min_days"`
	// From is the earliest appointment a candidate may have.
	From       time.Time   `json:"-"`
	Candidates []Candidate `json:"candidates"`
}

// MinDays is the wait rule for a service type: an unknown type takes the
// longer wait, so that no patient within the D class's time is moved.
func (c Config) minDays(t cup.ServiceType) int {
	c = c.withDefaults()
	if t == cup.ServiceVisit {
		return c.MinDaysVisit
	}
	return c.MinDaysExam
}

// from is the earliest appointment a candidate for a slot at, offered on
// day on, may have: later than the slot, and on a day at least minDays
// after on.
func from(at time.Time, on calendar.Date, minDays int) time.Time {
	d := on.AddDays(minDays)
	start := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, cup.Rome)
	return later(start, at.Add(time.Millisecond))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// CandidateRequest asks for the ranking of a slot.
type CandidateRequest struct {
	Node, Agenda string
	At           time.Time
	// ServiceType of the slot; "" for that of the agenda's bookings.
	ServiceType cup.ServiceType
	// On is the day of the offer (Europe/Rome); zero for today.
	On calendar.Date
	// Bookings, when not nil, are ranked instead of the store's (an
	// extract read by hand); nothing is excluded for standing offers.
	Bookings []cup.Booking
	// SlotID leaves out the numbers already offered this slot.
	SlotID int64
	// Limit bounds the candidates; 0 for the default of 50.
	Limit int
}

// Candidates ranks the candidates of a slot: bookings of the same node
// and agenda, later than the slot and at least the minimum wait after the
// day of the offer, reachable on their channel, holding no standing offer
// and not offered this slot before; by priority class U, B, D, P, none,
// then the earliest booking date, then the appointment furthest away, then
// the code. A number is offered once, for its best-ranked booking. It
// records and sends nothing.
func (s *Service) Candidates(ctx context.Context, r CandidateRequest) (Ranking, error) {
	if r.On == (calendar.Date{}) {
		r.On = calendar.DateOf(s.now().In(cup.Rome))
	}
	if r.Limit <= 0 {
		r.Limit = 50
	}
	st := r.ServiceType
	if st == "" {
		if r.Bookings != nil {
			st = agendaType(r.Bookings, r.Node, r.Agenda)
		} else if p, err := s.st.AgendaProfile(ctx, r.Node, r.Agenda); err == nil {
			st = cup.ServiceType(p.ServiceType)
		}
	}
	md := s.cfg.minDays(st)
	rk := Ranking{Slot: r.At.In(cup.Rome), ServiceType: string(st), MinDays: md, From: from(r.At, r.On, md), Candidates: []Candidate{}}
	var rows []store.CandidateRow
	if r.Bookings != nil {
		rows = rankBookings(r.Bookings, r.Node, r.Agenda, rk.From)
	} else {
		// Several bookings of one number, and unreachable numbers, are
		// dropped below: ask for more than needed, and again if short.
		ask := r.Limit*2 + 8
		for {
			var err error
			rows, err = s.st.Candidates(ctx, store.CandidateQuery{Node: r.Node, Agenda: r.Agenda, From: rk.From, SlotID: r.SlotID, Limit: ask})
			if err != nil {
				return Ranking{}, err
			}
			if len(rows) < ask || len(pick(rows, r.Limit)) >= r.Limit {
				break
			}
			ask *= 4
		}
	}
	rk.Candidates = pick(rows, r.Limit)
	return rk, nil
}

// pick keeps each number's first booking and the reachable ones, up to n.
func pick(rows []store.CandidateRow, n int) []Candidate {
	seen := map[string]bool{}
	out := []Candidate{}
	for _, row := range rows {
		if len(out) == n {
			break
		}
		if seen[row.Phone] {
			continue
		}
		seen[row.Phone] = true
		ch := channel(row)
		if ch == "" {
			continue
		}
		out = append(out, Candidate{Node: row.Node, Code: row.Code, Phone: row.Phone, At: time.UnixMilli(row.At).In(cup.Rome),
			Priority: row.Priority, BookedOn: row.BookedOn, Channel: ch})
	}
	return out
}

// channel is how a number is reached: SMS to a mobile, a call to a
// landline or to a mobile that sent STOP; "" for a number that cannot be
// reached (not a number, or on the do-not-call list without SMS).
func channel(row store.CandidateRow) string {
	_, kind := phone.Classify(row.Phone)
	switch {
	case kind == phone.Mobile && !row.OptedOut:
		return ChannelSMS
	case (kind == phone.Mobile || kind == phone.Landline) && !row.DoNotCall:
		return ChannelCall
	}
	return ""
}

func priorityRank(p string) int {
	switch p {
	case "U":
		return 0
	case "B":
		return 1
	case "D":
		return 2
	case "P":
		return 3
	}
	return 4
}

// rankBookings applies the store's ranking to bookings read from files.
func rankBookings(bs []cup.Booking, node, agenda string, earliest time.Time) []store.CandidateRow {
	var rows []store.CandidateRow
	for _, b := range bs {
		if b.Node != node || b.Agenda != agenda || b.At.Before(earliest) {
			continue
		}
		booked := ""
		if !b.BookedOn.IsZero() {
			booked = b.BookedOn.In(cup.Rome).Format(store.DayLayout)
		}
		rows = append(rows, store.CandidateRow{Node: b.Node, Code: b.Code, Phone: b.Phone, At: b.At.UnixMilli(), Priority: b.Priority, BookedOn: booked})
	}
	bookedKey := func(s string) string { return cmp.Or(s, "9999-12-31") }
	slices.SortStableFunc(rows, func(a, b store.CandidateRow) int {
		return cmp.Or(cmp.Compare(priorityRank(a.Priority), priorityRank(b.Priority)),
			strings.Compare(bookedKey(a.BookedOn), bookedKey(b.BookedOn)),
			cmp.Compare(b.At, a.At),
			strings.Compare(a.Code, b.Code))
	})
	return rows
}

// agendaType is the service type of an agenda's bookings.
func agendaType(bs []cup.Booking, node, agenda string) cup.ServiceType {
	for _, b := range bs {
		if b.Node == node && b.Agenda == agenda && b.ServiceType != "" {
			return b.ServiceType
		}
	}
	return ""
}
