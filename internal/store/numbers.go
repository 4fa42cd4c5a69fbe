package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
)

// A patient's numbers: the bookings that may be theirs and what happened
// on each number the engine used (calls, SMS, replies). Package urgent
// decides which bookings are the patient's and ranks the numbers; these
// are its queries.

// PersonBooking is a stored booking with what identifies its patient.
type PersonBooking struct {
	Node       string    `db:"node"`
	Code       string    `db:"code"`
	Phone      string    `db:"phone"`
	At         time.Time `db:"-"`
	Agenda     string    `db:"agenda"`
	Surname    string    `db:"surname"`
	Name       string    `db:"name"`
	FiscalCode string    `db:"fiscal_code"`
	BirthDate  string    `db:"birth_date"` // YYYY-MM-DD or ""
	// UpdatedAt is when an import last wrote the booking, and so the number
	// on it.
	UpdatedAt time.Time `db:"-"`

	AtMs        int64 `db:"at"`
	UpdatedAtMs int64 `db:"updated_at"`
}

// PersonBookings returns the bookings that may be the patient's: those with
// the codice fiscale, and those of people born on birthDate (YYYY-MM-DD),
// whose names the caller compares. Either may be "" to leave it out. At
// most limit rows, the most recently written first.
func (s *Store) PersonBookings(ctx context.Context, fiscalCode, birthDate string, limit int) ([]PersonBooking, error) {
	if fiscalCode == "" && birthDate == "" {
		return nil, nil
	}
	rows, err := s.personBookings(ctx, `SELECT `+personBookingCols+`
		FROM bookings WHERE (fiscal_code <> '' AND fiscal_code = ?) OR (birth_date <> '' AND birth_date = ?)
		ORDER BY updated_at DESC, node, code LIMIT ?`, fiscalCode, birthDate, limit)
	if err != nil {
		return nil, fmt.Errorf("store: person bookings: %w", err)
	}
	return rows, nil
}

// Kinds of NumberEvent.
const (
	EventCall  = "call"  // a counted call attempt; Outcome is the attempt's
	EventSMS   = "sms"   // a message that left; Outcome is its status
	EventReply = "reply" // an SMS that came from the number
)

// NumberEvent is one thing that happened on a number.
type NumberEvent struct {
	Phone   string
	Kind    string
	At      time.Time
	Outcome string // the call's outcome or the message's status; "" for a reply
	// Code is the call's SIP status or the message's provider error code.
	Code int
	// Answered is set for a call someone picked up.
	Answered bool
}

// MaxHistoryNumbers bounds one NumberHistory question.
const MaxHistoryNumbers = 100

// NumberHistory returns what happened on the numbers since since: counted
// call attempts, messages sent (with their last status), and replies, in
// time order.
func (s *Store) NumberHistory(ctx context.Context, phones []string, since time.Time) ([]NumberEvent, error) {
	if len(phones) == 0 {
		return nil, nil
	}
	if len(phones) > MaxHistoryNumbers {
		return nil, fmt.Errorf("store: number history: %d numbers, at most %d at a time", len(phones), MaxHistoryNumbers)
	}
	in := strings.TrimSuffix(strings.Repeat("?,", len(phones)), ",")
	args := func(extra ...any) []any {
		a := make([]any, 0, len(phones)+len(extra))
		for _, p := range phones {
			a = append(a, p)
		}
		return append(a, extra...)
	}
	var out []NumberEvent
	var calls []struct {
		Phone      string `db:"phone"`
		StartedAt  int64  `db:"started_at"`
		AnsweredAt int64  `db:"answered_at"`
		Outcome    string `db:"outcome"`
		SIPCode    int    `db:"sip_code"`
	}
	if err := s.rd.SelectContext(ctx, &calls, s.rebind(`SELECT c.phone, a.started_at, a.answered_at, a.outcome, a.sip_code
		FROM attempts a JOIN contacts c ON c.id = a.contact_id
		WHERE c.phone IN (`+in+`) AND a.counted = ? AND a.started_at >= ?`), args(true, ms(since))...); err != nil {
		return nil, fmt.Errorf("store: number history: calls: %w", err)
	}
	for _, c := range calls {
		out = append(out, NumberEvent{Phone: c.Phone, Kind: EventCall, At: time.UnixMilli(c.StartedAt),
			Outcome: c.Outcome, Code: c.SIPCode, Answered: c.AnsweredAt != 0})
	}
	var msgs []struct {
		Phone     string `db:"phone"`
		Status    string `db:"status"`
		ErrorCode int    `db:"error_code"`
		SentAt    int64  `db:"sent_at"`
		FinalAt   int64  `db:"final_at"`
	}
	if err := s.rd.SelectContext(ctx, &msgs, s.rebind(`SELECT phone, status, error_code, sent_at, final_at FROM messages
		WHERE phone IN (`+in+`) AND status IN ('sent', 'delivered', 'undelivered', 'failed') AND (sent_at >= ? OR final_at >= ?)`),
		args(ms(since), ms(since))...); err != nil {
		return nil, fmt.Errorf("store: number history: messages: %w", err)
	}
	for _, m := range msgs {
		at := m.FinalAt
		if at == 0 {
			at = m.SentAt
		}
		out = append(out, NumberEvent{Phone: m.Phone, Kind: EventSMS, At: time.UnixMilli(at), Outcome: m.Status, Code: m.ErrorCode})
	}
	var replies []struct {
		Phone      string `db:"phone"`
		ReceivedAt int64  `db:"received_at"`
	}
	if err := s.rd.SelectContext(ctx, &replies, s.rebind(`SELECT phone, received_at FROM replies
		WHERE phone IN (`+in+`) AND received_at >= ?`), args(ms(since))...); err != nil {
		return nil, fmt.Errorf("store: number history: replies: %w", err)
	}
	for _, r := range replies {
		out = append(out, NumberEvent{Phone: r.Phone, Kind: EventReply, At: time.UnixMilli(r.ReceivedAt)})
	}
	slices.SortStableFunc(out, func(a, b NumberEvent) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Phone, b.Phone), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Outcome, b.Outcome))
	})
	return out, nil
}

// MaxMoveBookings bounds the bookings one urgent move names.
const MaxMoveBookings = 5000

const personBookingCols = `node, code, phone, at, agenda, surname, name, fiscal_code, birth_date, updated_at`

func (s *Store) personBookings(ctx context.Context, q string, args ...any) ([]PersonBooking, error) {
	var rows []PersonBooking
	if err := s.rd.SelectContext(ctx, &rows, s.rebind(q), args...); err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].At = time.UnixMilli(rows[i].AtMs).In(cup.Rome)
		rows[i].UpdatedAt = time.UnixMilli(rows[i].UpdatedAtMs)
	}
	return rows, nil
}

// UpcomingAgendaBookings returns the bookings of an agenda of node from day
// fromDay to day toDay (YYYY-MM-DD, Europe/Rome, both included) that are
// after now, in time order, at most MaxMoveBookings.
func (s *Store) UpcomingAgendaBookings(ctx context.Context, node, agenda, fromDay, toDay string, now time.Time) ([]PersonBooking, error) {
	rows, err := s.personBookings(ctx, `SELECT `+personBookingCols+` FROM bookings
		WHERE node = ? AND agenda = ? AND day >= ? AND day <= ? AND at > ? ORDER BY at, code LIMIT ?`,
		node, agenda, fromDay, toDay, ms(now), MaxMoveBookings)
	if err != nil {
		return nil, fmt.Errorf("store: agenda bookings: %w", err)
	}
	return rows, nil
}

// CodeBookings returns the bookings of node with the given codes that are
// after now, in time order; a code with no such booking is left out.
func (s *Store) CodeBookings(ctx context.Context, node string, codes []string, now time.Time) ([]PersonBooking, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	if len(codes) > MaxMoveBookings {
		return nil, fmt.Errorf("store: code bookings: %d codes, at most %d", len(codes), MaxMoveBookings)
	}
	var out []PersonBooking
	for len(codes) > 0 {
		n := min(len(codes), 500)
		args := []any{node}
		for _, c := range codes[:n] {
			args = append(args, c)
		}
		args = append(args, ms(now))
		rows, err := s.personBookings(ctx, `SELECT `+personBookingCols+` FROM bookings
			WHERE node = ? AND code IN (`+strings.TrimSuffix(strings.Repeat("?,", n), ",")+`) AND at > ?`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: code bookings: %w", err)
		}
		out = append(out, rows...)
		codes = codes[n:]
	}
	slices.SortFunc(out, func(a, b PersonBooking) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Code, b.Code)) })
	return out, nil
}
