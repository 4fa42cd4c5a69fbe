package store

import (
	"context"
	"fmt"
	"time"
)

// Expectations: what a job waits to hear back from a number. Package
// inbound routes a patient's SMS by them; these are its queries.

// Jobs that wait for an SMS answer. Other jobs (offers) name their own.
const (
	JobReminder     = "reminder"     // ref: the reminder message
	JobConversation = "conversation" // ref: the work item an operator answered from
)

// Expectation is one job waiting for an answer from Phone.
type Expectation struct {
	ID        int64  `db:"id"`
	Phone     string `db:"phone"`
	Job       string `db:"job"`
	RefID     int64  `db:"ref_id"`
	OpenedAt  int64  `db:"opened_at"`
	ExpiresAt int64  `db:"expires_at"`
	ClosedAt  int64  `db:"closed_at"`
}

// OpenExpectation records that a job waits for an answer; opening one that
// exists for the same (Job, RefID) moves its expiry and opens it again.
func (s *Store) OpenExpectation(ctx context.Context, e Expectation) error {
	return s.View().OpenExpectation(ctx, e)
}

// OpenExpectation inside the transaction.
func (t *Tx) OpenExpectation(ctx context.Context, e Expectation) error {
	_, err := t.tx.ExecContext(ctx, t.s.rebind(`INSERT INTO expectations (phone, job, ref_id, opened_at, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (job, ref_id) DO UPDATE SET phone = excluded.phone, opened_at = excluded.opened_at, expires_at = excluded.expires_at, closed_at = 0`),
		e.Phone, e.Job, e.RefID, e.OpenedAt, e.ExpiresAt)
	if err != nil {
		return fmt.Errorf("store: open expectation: %w", err)
	}
	return nil
}

// OpenExpectations lists what waits for an answer from phone at now, the
// most recently opened first.
func (s *Store) OpenExpectations(ctx context.Context, phone string, now time.Time) ([]Expectation, error) {
	var out []Expectation
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT id, phone, job, ref_id, opened_at, expires_at, closed_at FROM expectations
		WHERE phone = ? AND closed_at = 0 AND expires_at > ? ORDER BY opened_at DESC, id DESC`), phone, ms(now))
	if err != nil {
		return nil, fmt.Errorf("store: open expectations: %w", err)
	}
	return out, nil
}

// CloseExpectation marks an expectation answered; it takes no more
// messages.
func (s *Store) CloseExpectation(ctx context.Context, id int64, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`UPDATE expectations SET closed_at = ? WHERE id = ? AND closed_at = 0`), ms(now), id); err != nil {
		return fmt.Errorf("store: close expectation: %w", err)
	}
	return nil
}

// ExpectReminderAnswer opens the expectation of a sent reminder message:
// its patient may confirm or cancel until the latest booking it reminded
// of. A message that reminds of nothing (not a reminder) opens none.
func (s *Store) ExpectReminderAnswer(ctx context.Context, messageID int64, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO expectations (phone, job, ref_id, opened_at, expires_at)
		SELECT m.phone, 'reminder', m.id, CAST(? AS BIGINT), MAX(b.at) FROM messages m
		JOIN reminders r ON r.message_id = m.id
		JOIN bookings b ON b.node = r.node AND b.code = r.code AND b.at = r.at
		WHERE m.id = ? AND m.kind = 'reminder' GROUP BY m.id, m.phone
		ON CONFLICT (job, ref_id) DO NOTHING`), ms(now), messageID)
	if err != nil {
		return fmt.Errorf("store: expect reminder answer: %w", err)
	}
	return nil
}
