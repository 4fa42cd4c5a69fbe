package store

import (
	"context"
	"fmt"
	"time"
)

// CancelRequestDone is a cancellation request (an ANNULLA reply to a
// reminder) done in the CUP, whose slot is to be announced.
type CancelRequestDone struct {
	ID   int64  `db:"id"`
	Node string `db:"node"`
	Code string `db:"code"`
	At   int64  `db:"at"`
}

// TakeCancelRequestsDone returns the cancellation requests whose work item
// was closed as done (by the engine after its write-back, or by an
// operator who did it in the CUP by hand) and whose slot was not yet
// announced, and records them as announced: one conditional UPDATE, so
// that each slot is announced by one caller, once, however often the item
// is closed or however many processes ask. id limits it to one request (0:
// all).
func (s *Store) TakeCancelRequestsDone(ctx context.Context, id int64, now time.Time) ([]CancelRequestDone, error) {
	var out []CancelRequestDone
	err := s.db.SelectContext(ctx, &out, s.rebind(`UPDATE booking_responses SET slot_freed_at = ?
		WHERE slot_freed_at = 0 AND (CAST(? AS BIGINT) = 0 OR id = ?)
		AND id IN (SELECT w.ref_id FROM work_items w WHERE w.kind = ? AND w.status = 'closed' AND w.outcome = ?)
		RETURNING id, node, code, at`), ms(now), id, id, InboxCancel, ClosureDone)
	if err != nil {
		return nil, fmt.Errorf("store: cancel requests done: %w", err)
	}
	return out, nil
}
