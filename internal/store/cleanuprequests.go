package store

import (
	"context"
	"fmt"
	"time"
)

// Clean-up requests: a CUP manager asks for an agenda of its node to be
// recalled over a range of days; the back office decides once, by one
// conditional write, so two people deciding at once cannot both accept
// (and make two campaigns) or one accept what the other refused.

// Clean-up request states.
const (
	CleanUpRequested = "requested"
	CleanUpAccepted  = "accepted"
	CleanUpRefused   = "refused"
)

// CleanUpRequest is one request.
type CleanUpRequest struct {
	ID           int64  `db:"id" json:"id"`
	Node         string `db:"node" json:"node"`
	Agenda       string `db:"agenda" json:"agenda"`
	FromDay      string `db:"from_day" json:"from_day"`
	ToDay        string `db:"to_day" json:"to_day"`
	Reason       string `db:"reason" json:"reason"`
	Status       string `db:"status" json:"status"`
	RequestedBy  string `db:"requested_by" json:"requested_by"`
	RequestedAt  int64  `db:"requested_at" json:"requested_at"`
	DecidedBy    string `db:"decided_by" json:"decided_by,omitempty"`
	DecidedAt    int64  `db:"decided_at" json:"decided_at,omitempty"`
	DecisionNote string `db:"decision_note" json:"decision_note,omitempty"`
	CampaignID   int64  `db:"campaign_id" json:"campaign_id,omitempty"`
}

const cleanUpCols = `id, node, agenda, from_day, to_day, reason, status, requested_by, requested_at, decided_by, decided_at, decision_note, campaign_id`

// AddCleanUpRequest records a request and returns its id.
func (s *Store) AddCleanUpRequest(ctx context.Context, r CleanUpRequest) (int64, error) {
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, s.rebind(`INSERT INTO cleanup_requests (node, agenda, from_day, to_day, reason, status, requested_by, requested_at)
		VALUES (?, ?, ?, ?, ?, 'requested', ?, ?) RETURNING id`), r.Node, r.Agenda, r.FromDay, r.ToDay, r.Reason, r.RequestedBy, r.RequestedAt)
	if err != nil {
		return 0, fmt.Errorf("store: add clean-up request: %w", err)
	}
	return ids[0], nil
}

// CleanUpRequests lists the requests of node ("" every node), newest first.
func (s *Store) CleanUpRequests(ctx context.Context, node string, limit int) ([]CleanUpRequest, error) {
	var out []CleanUpRequest
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT `+cleanUpCols+` FROM cleanup_requests
		WHERE (? = '' OR node = ?) ORDER BY requested_at DESC, id DESC LIMIT ?`), node, node, limit)
	if err != nil {
		return nil, fmt.Errorf("store: clean-up requests: %w", err)
	}
	return out, nil
}

// CleanUpRequestByID returns one request.
func (s *Store) CleanUpRequestByID(ctx context.Context, id int64) (CleanUpRequest, error) {
	var r CleanUpRequest
	if err := s.rd.GetContext(ctx, &r, s.rebind(`SELECT `+cleanUpCols+` FROM cleanup_requests WHERE id = ?`), id); err != nil {
		return CleanUpRequest{}, fmt.Errorf("store: clean-up request %d: %w", id, notFound(err))
	}
	return r, nil
}

// DecideCleanUpRequest accepts or refuses a request still waiting, by by at
// now with a note; ErrTaken when it was decided meanwhile.
func (s *Store) DecideCleanUpRequest(ctx context.Context, id int64, by string, accept bool, note string, now time.Time) error {
	status := CleanUpRefused
	if accept {
		status = CleanUpAccepted
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE cleanup_requests SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?
		WHERE id = ? AND status = 'requested'`), status, by, ms(now), note, id)
	if err != nil {
		return fmt.Errorf("store: decide clean-up request: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.CleanUpRequestByID(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("store: clean-up request %d already decided: %w", id, ErrTaken)
	}
	return nil
}

// SetCleanUpCampaign records the campaign an accepted request became; a
// campaign that could not be made gives the request back to be decided
// (campaign 0).
func (s *Store) SetCleanUpCampaign(ctx context.Context, id, campaign int64) error {
	q := `UPDATE cleanup_requests SET campaign_id = ? WHERE id = ? AND status = 'accepted'`
	if campaign == 0 {
		q = `UPDATE cleanup_requests SET status = 'requested', decided_by = '', decided_at = 0, decision_note = '', campaign_id = ? WHERE id = ? AND status = 'accepted'`
	}
	if _, err := s.db.ExecContext(ctx, s.rebind(q), campaign, id); err != nil {
		return fmt.Errorf("store: clean-up campaign: %w", err)
	}
	return nil
}

// AgendaBooking is a booking of an agenda, for a clean-up's contacts.
type AgendaBooking struct {
	Code  string `db:"code"`
	Phone string `db:"phone"`
	At    int64  `db:"at"`
}

// AgendaBookings lists the bookings of an agenda of node with appointments
// in [from, to), by appointment.
func (s *Store) AgendaBookings(ctx context.Context, node, agenda string, from, to time.Time) ([]AgendaBooking, error) {
	var out []AgendaBooking
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT code, phone, at FROM bookings
		WHERE node = ? AND agenda = ? AND at >= ? AND at < ? ORDER BY at, code`), node, agenda, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: agenda bookings: %w", err)
	}
	return out, nil
}

// ContactResult is one contact of a campaign with how it stands, and the
// payload that says which booking it is about.
type ContactResult struct {
	Seq      int    `db:"seq"`
	Phone    string `db:"phone"`
	Payload  string `db:"payload"`
	Status   string `db:"status"`
	Outcome  string `db:"outcome"`
	Attempts int    `db:"attempts"`
	FinalAt  int64  `db:"final_at"`
}

// ContactResults lists a campaign's contacts in load order with each
// closed one's outcome (the script's result when it gave one).
func (s *Store) ContactResults(ctx context.Context, campaign int64) ([]ContactResult, error) {
	var out []ContactResult
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT c.seq, c.phone, c.payload, c.status,
		CASE WHEN c.status = 'final' THEN `+contactOutcome+` ELSE c.outcome END AS outcome, c.attempts, c.final_at
		FROM contacts c WHERE c.campaign_id = ? ORDER BY c.seq`), campaign)
	if err != nil {
		return nil, fmt.Errorf("store: contact results: %w", err)
	}
	return out, nil
}
