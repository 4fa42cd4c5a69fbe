package store

import (
	"context"
	"fmt"
	"time"
)

// ConfirmAfter is how long a sent message may wait for its delivery report
// before the provider is asked for it, and before the console counts it as
// unconfirmed.
const ConfirmAfter = 30 * time.Minute

// ConfirmWithin is how far back unconfirmed messages are asked about: a
// provider's status is final well within it, so an older "sent" stays so.
const ConfirmWithin = 72 * time.Hour

// Unconfirmed is a sent message with no final status yet.
type Unconfirmed struct {
	ID         int64  `db:"id"`
	ProviderID string `db:"provider_id"`
}

// Unconfirmed lists messages sent between ConfirmWithin and after ago that
// have no final status, and were not asked about in the last recheck,
// least recently touched first. A message is asked about once after has
// passed since its send, so a row touched after that was asked (MarkAsked).
func (s *Store) Unconfirmed(ctx context.Context, now time.Time, after, recheck time.Duration, limit int) ([]Unconfirmed, error) {
	var out []Unconfirmed
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT id, provider_id FROM messages
		WHERE status = ? AND sent_at BETWEEN ? AND ? AND provider_id IS NOT NULL
			AND (updated_at < sent_at + ? OR updated_at <= ?)
		ORDER BY updated_at, id LIMIT ?`),
		StatusSent, ms(now.Add(-ConfirmWithin)), ms(now.Add(-after)), after.Milliseconds(), ms(now.Add(-recheck)), limit)
	if err != nil {
		return nil, fmt.Errorf("store: unconfirmed messages: %w", err)
	}
	return out, nil
}

// MarkAsked notes that the provider was asked about a message and had no
// final status for it, so that it is asked again only after a while.
func (s *Store) MarkAsked(ctx context.Context, id int64, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`UPDATE messages SET updated_at = ? WHERE id = ? AND status = ?`), ms(now), id, StatusSent)
	if err != nil {
		return fmt.Errorf("store: mark asked: %w", err)
	}
	return nil
}
