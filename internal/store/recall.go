package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// The recall of monitored agendas: its runs, one per agenda and day, and
// the bookings each run's campaign asks about with their outcomes. Package
// recall owns the rules; these are its queries.

// Recall outcomes of a booking.
const (
	RecallPending     = ""
	RecallConfirmed   = "confirmed"
	RecallCancelled   = "cancelled"
	RecallNotReached  = "not_reached"
	RecallWrongNumber = "wrong_number"
	RecallOperator    = "operator"
)

// What became of a cancelled booking in the CUP.
const (
	CancelNone       = ""
	CancelDone       = "done"
	CancelFailed     = "failed"
	CancelBackOffice = "back_office"
)

// RecallRun is one day's run of an agenda's recall.
type RecallRun struct {
	Agenda     string    `json:"agenda"`
	Day        string    `json:"day"`
	Owner      string    `json:"-"`
	CampaignID int64     `json:"campaign_id"`
	StartedAt  time.Time `json:"started_at"`
	Bookings   int       `json:"bookings"`
	Contacts   int       `json:"contacts"`
}

// ClaimRecallRun claims the run of agenda on day (YYYY-MM-DD, Europe/Rome)
// for owner, by one conditional INSERT: true for the one process that gets
// it, false for every other, then and later.
func (s *Store) ClaimRecallRun(ctx context.Context, agenda, day, owner string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO recall_runs (agenda, day, owner, started_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (agenda, day) DO NOTHING`), agenda, day, owner, ms(now))
	if err != nil {
		return false, fmt.Errorf("store: claim recall run: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseRecallRun gives up a claimed run that built nothing, so that a
// later try may build it.
func (s *Store) ReleaseRecallRun(ctx context.Context, agenda, day, owner string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM recall_runs WHERE agenda = ? AND day = ? AND owner = ? AND campaign_id = 0`), agenda, day, owner)
	if err != nil {
		return fmt.Errorf("store: release recall run: %w", err)
	}
	return nil
}

// RecallBooking is one booking a recall campaign asks about.
type RecallBooking struct {
	ID          int64
	CampaignID  int64
	Agenda      string
	Node        string
	Code        string
	Phone       string
	At          time.Time
	AgendaCode  string
	ServiceType string
	Facility    string
	Outcome     string
	DecidedAt   time.Time
	Cancel      string
	CancelNote  string
}

// FinishRecallRun records the campaign the run built and its bookings, in
// one transaction.
func (s *Store) FinishRecallRun(ctx context.Context, agenda, day string, campaignID int64, contacts int, bs []RecallBooking) error {
	return s.InTx(ctx, func(t *Tx) error {
		for _, b := range bs {
			if _, err := t.tx.ExecContext(ctx, s.rebind(`INSERT INTO recall_bookings
				(campaign_id, agenda, node, code, phone, booking_at, agenda_code, service_type, facility)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, node, code) DO NOTHING`),
				campaignID, agenda, b.Node, b.Code, b.Phone, ms(b.At), b.AgendaCode, b.ServiceType, b.Facility); err != nil {
				return fmt.Errorf("store: recall booking: %w", err)
			}
		}
		if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE recall_runs SET campaign_id = ?, bookings = ?, contacts = ? WHERE agenda = ? AND day = ?`),
			campaignID, len(bs), contacts, agenda, day); err != nil {
			return fmt.Errorf("store: recall run: %w", err)
		}
		return nil
	})
}

// RecallRuns lists the runs, newest day first; agenda "" lists all.
func (s *Store) RecallRuns(ctx context.Context, agenda string, limit int) ([]RecallRun, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.rd.QueryxContext(ctx, s.rebind(`SELECT agenda, day, owner, campaign_id, started_at, bookings, contacts FROM recall_runs
		WHERE (? = '' OR agenda = ?) ORDER BY day DESC, agenda LIMIT ?`), agenda, agenda, limit)
	if err != nil {
		return nil, fmt.Errorf("store: recall runs: %w", err)
	}
	defer rows.Close()
	var out []RecallRun
	for rows.Next() {
		var r RecallRun
		var started int64
		if err := rows.Scan(&r.Agenda, &r.Day, &r.Owner, &r.CampaignID, &started, &r.Bookings, &r.Contacts); err != nil {
			return nil, fmt.Errorf("store: recall runs: %w", err)
		}
		r.StartedAt = FromMillis(started)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RecallBookings lists a campaign's bookings by number and appointment.
func (s *Store) RecallBookings(ctx context.Context, campaignID int64) ([]RecallBooking, error) {
	rows, err := s.rd.QueryxContext(ctx, s.rebind(`SELECT id, campaign_id, agenda, node, code, phone, booking_at, agenda_code,
		service_type, facility, outcome, decided_at, cancel, cancel_note
		FROM recall_bookings WHERE campaign_id = ? ORDER BY phone, booking_at, id`), campaignID)
	if err != nil {
		return nil, fmt.Errorf("store: recall bookings: %w", err)
	}
	return scanRecallBookings(rows, "recall bookings")
}

// scanRecallBookings reads rows of recall_bookings columns in the order of
// RecallBooking's fields; what names the query in errors.
func scanRecallBookings(rows *sqlx.Rows, what string) ([]RecallBooking, error) {
	defer rows.Close()
	var out []RecallBooking
	for rows.Next() {
		var b RecallBooking
		var at, decided int64
		if err := rows.Scan(&b.ID, &b.CampaignID, &b.Agenda, &b.Node, &b.Code, &b.Phone, &at, &b.AgendaCode,
			&b.ServiceType, &b.Facility, &b.Outcome, &decided, &b.Cancel, &b.CancelNote); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		b.At, b.DecidedAt = FromMillis(at), FromMillis(decided)
		out = append(out, b)
	}
	return out, rows.Err()
}

// OpenRecallCampaigns lists the campaigns with bookings still undecided.
func (s *Store) OpenRecallCampaigns(ctx context.Context) ([]int64, error) {
	var ids []int64
	if err := s.rd.SelectContext(ctx, &ids, `SELECT DISTINCT campaign_id FROM recall_bookings WHERE outcome = '' ORDER BY campaign_id`); err != nil {
		return nil, fmt.Errorf("store: open recall campaigns: %w", err)
	}
	return ids, nil
}

// DecideRecallBooking sets an undecided booking's outcome, by one
// conditional UPDATE: true for the one caller that set it, who alone acts
// on it (cancels it in the CUP, offers its slot).
func (s *Store) DecideRecallBooking(ctx context.Context, id int64, outcome string, now time.Time) (bool, error) {
	if outcome == RecallPending {
		return false, fmt.Errorf("store: decide recall booking %d: empty outcome", id)
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE recall_bookings SET outcome = ?, decided_at = ? WHERE id = ? AND outcome = ''`),
		outcome, ms(now), id)
	if err != nil {
		return false, fmt.Errorf("store: decide recall booking: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetRecallCancel records what became of a cancelled booking in the CUP.
func (s *Store) SetRecallCancel(ctx context.Context, id int64, state, note string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`UPDATE recall_bookings SET cancel = ?, cancel_note = ? WHERE id = ?`), state, note, id)
	if err != nil {
		return fmt.Errorf("store: recall cancel: %w", err)
	}
	return nil
}

// RecallContact is a recall campaign's contact as the outcomes need it.
type RecallContact struct {
	ID     int64
	Phone  string
	Status string
}

// RecallContacts lists a campaign's contacts.
func (s *Store) RecallContacts(ctx context.Context, campaignID int64) ([]RecallContact, error) {
	rows, err := s.rd.QueryxContext(ctx, s.rebind(`SELECT id, phone, status FROM contacts WHERE campaign_id = ? ORDER BY seq`), campaignID)
	if err != nil {
		return nil, fmt.Errorf("store: recall contacts: %w", err)
	}
	defer rows.Close()
	var out []RecallContact
	for rows.Next() {
		var c RecallContact
		if err := rows.Scan(&c.ID, &c.Phone, &c.Status); err != nil {
			return nil, fmt.Errorf("store: recall contacts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DNCEntry is a number on the do-not-call list.
type DNCEntry struct {
	Phone   string    `json:"phone"`
	AddedAt time.Time `json:"added_at"`
}

// DNC lists the do-not-call list, newest first.
func (s *Store) DNC(ctx context.Context, limit int) ([]DNCEntry, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.rd.QueryxContext(ctx, s.rebind(`SELECT phone, added_at FROM dnc ORDER BY added_at DESC, phone LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: dnc: %w", err)
	}
	defer rows.Close()
	var out []DNCEntry
	for rows.Next() {
		var e DNCEntry
		var at int64
		if err := rows.Scan(&e.Phone, &at); err != nil {
			return nil, fmt.Errorf("store: dnc: %w", err)
		}
		e.AddedAt = FromMillis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RemoveDNC takes a number off the do-not-call list; false when it was not
// on it.
func (s *Store) RemoveDNC(ctx context.Context, phone string) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM dnc WHERE phone = ?`), phone)
	if err != nil {
		return false, fmt.Errorf("store: remove dnc: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RecallCancelsDoneByOperators lists the cancelled bookings handed to the
// back office whose work item an operator has closed as done: the
// cancellation was carried out in the CUP by hand.
func (s *Store) RecallCancelsDoneByOperators(ctx context.Context) ([]RecallBooking, error) {
	rows, err := s.rd.QueryxContext(ctx, s.rebind(`SELECT b.id, b.campaign_id, b.agenda, b.node, b.code, b.phone, b.booking_at, b.agenda_code,
		b.service_type, b.facility, b.outcome, b.decided_at, b.cancel, b.cancel_note
		FROM recall_bookings b JOIN work_items w ON w.kind = 'recall' AND w.ref_id = b.id
		WHERE b.outcome = ? AND b.cancel IN (?, ?) AND w.status = 'closed' AND w.outcome = ?
		ORDER BY b.id`), RecallCancelled, CancelBackOffice, CancelFailed, ClosureDone)
	if err != nil {
		return nil, fmt.Errorf("store: recall cancels done by operators: %w", err)
	}
	return scanRecallBookings(rows, "recall cancels done by operators")
}

// MarkRecallCancelDone records that a cancellation handed to the back
// office was done, by one conditional UPDATE: true for the one caller that
// recorded it, who alone announces the freed slot.
func (s *Store) MarkRecallCancelDone(ctx context.Context, id int64, note string) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE recall_bookings SET cancel = ?, cancel_note = ? WHERE id = ? AND cancel IN (?, ?)`),
		CancelDone, note, id, CancelBackOffice, CancelFailed)
	if err != nil {
		return false, fmt.Errorf("store: recall cancel done: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
