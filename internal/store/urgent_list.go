package store

import (
	"context"
	"fmt"
	"time"
)

// UrgentMoves returns the latest moves, newest first: those of one node, or
// of every node when node is "".
func (s *Store) UrgentMoves(ctx context.Context, node string, limit int) ([]UrgentMove, error) {
	var out []UrgentMove
	q := `SELECT id, campaign_id, node, reason, new_at, by_at, created_by, created_at FROM urgent_moves`
	args := []any{}
	if node != "" {
		q += ` WHERE node = ?`
		args = append(args, node)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	if err := s.rd.SelectContext(ctx, &out, s.rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: urgent moves: %w", err)
	}
	return out, nil
}

// UrgentContactOutcomeExpired is the outcome of a contact of an urgent
// move closed uncalled because the move's deadline passed.
const UrgentContactOutcomeExpired = "expired"

// ExpireUrgentContacts closes, uncalled, the contacts still waiting in the
// campaigns of urgent moves whose deadline is past, so that no call is
// placed after it; a call already in progress ends as it would. The
// conditional write races safely with a claim: a contact is either claimed
// (before the deadline) or closed, never both. It says how many it closed.
func (s *Store) ExpireUrgentContacts(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE contacts SET status = 'final', outcome = ?, final_at = ?
		WHERE status = 'pending' AND campaign_id IN (SELECT u.campaign_id FROM urgent_moves u WHERE u.by_at <= ?)`),
		UrgentContactOutcomeExpired, ms(now), ms(now))
	if err != nil {
		return 0, fmt.Errorf("store: expire urgent contacts: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// UrgentExpired is the state of an urgent move's booking whose patient was
// not reached before the move's deadline.
const UrgentExpired = "expired"
