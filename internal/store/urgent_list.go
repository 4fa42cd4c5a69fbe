package store

import (
	"context"
	"fmt"
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
	if err := s.db.SelectContext(ctx, &out, s.rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: urgent moves: %w", err)
	}
	return out, nil
}
