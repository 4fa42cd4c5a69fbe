package store

import (
	"context"
	"fmt"
	"time"
)

// ConsoleAttempt is a call an operator placed from the console: their
// extension rang, then the patient, and the two were joined.
type ConsoleAttempt struct {
	ContactID int64
	// Operator is the console account that placed the call.
	Operator string
	// Counted says the attempt uses up one of the contact's attempts (not a
	// congestion, nor a call that never reached the patient).
	Counted                                   bool
	StartedAt, RingingAt, AnsweredAt, EndedAt time.Time
	SIPCode                                   int
	Outcome                                   string
}

// RecordConsoleAttempt stores a console call with the IVR's attempts, so
// that the contact's history and the service levels count it. The
// contact's state is left to the work item the operator closes.
func (s *Store) RecordConsoleAttempt(ctx context.Context, a ConsoleAttempt) error {
	return s.InTx(ctx, func(t *Tx) error {
		var c struct {
			CampaignID int64 `db:"campaign_id"`
			Attempts   int   `db:"attempts"`
		}
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR UPDATE"
		}
		if err := t.tx.GetContext(ctx, &c, s.rebind(`SELECT campaign_id, attempts FROM contacts WHERE id = ?`+lock), a.ContactID); err != nil {
			return fmt.Errorf("store: console call on contact %d: %w", a.ContactID, notFound(err))
		}
		counted := 0
		if a.Counted {
			counted = 1
		}
		if _, err := t.tx.ExecContext(ctx, s.rebind(`INSERT INTO attempts (contact_id, campaign_id, attempt, counted, started_at, ringing_at, answered_at, ended_at,
			sip_code, outcome, final, positive, operator) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			a.ContactID, c.CampaignID, c.Attempts+1, a.Counted, ms(a.StartedAt), ms(a.RingingAt), ms(a.AnsweredAt), ms(a.EndedAt),
			a.SIPCode, a.Outcome, false, false, a.Operator); err != nil {
			return fmt.Errorf("store: console call: %w", err)
		}
		if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE contacts SET attempts = attempts + ?,
			first_attempt_at = CASE WHEN first_attempt_at = 0 AND ? = 1 THEN ? ELSE first_attempt_at END WHERE id = ?`),
			counted, counted, ms(a.StartedAt), a.ContactID); err != nil {
			return fmt.Errorf("store: console call: %w", err)
		}
		return nil
	})
}

// WorkItemContact is the campaign contact a call job's work item is
// about, or 0 when it has none (a patient's message, a cancellation).
func (s *Store) WorkItemContact(ctx context.Context, it WorkItem) (int64, error) {
	var q string
	switch it.Kind {
	case "survey":
		return it.RefID, nil
	case "recall":
		q = `SELECT c.id FROM recall_bookings b JOIN contacts c ON c.campaign_id = b.campaign_id AND c.phone = b.phone WHERE b.id = ? ORDER BY c.id LIMIT 1`
	case WorkUrgent:
		q = `SELECT contact_id FROM urgent_targets WHERE id = ?`
	default:
		return 0, nil
	}
	var ids []int64
	if err := s.rd.SelectContext(ctx, &ids, s.rebind(q), it.RefID); err != nil {
		return 0, fmt.Errorf("store: contact of work item %d: %w", it.ID, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// ConsoleAttemptOperator is the operator recorded on an attempt (empty for
// the IVR's), for the tests and the contact's history.
func (s *Store) ConsoleAttemptOperator(ctx context.Context, contact int64, attempt int) (string, error) {
	var op string
	if err := s.rd.GetContext(ctx, &op, s.rebind(`SELECT operator FROM attempts WHERE contact_id = ? AND attempt = ?`), contact, attempt); err != nil {
		return "", fmt.Errorf("store: attempt %d of contact %d: %w", attempt, contact, notFound(err))
	}
	return op, nil
}
