package store

import (
	"context"
	"fmt"
	"time"
)

// Taking the next work item: an operator asks for "the next one" rather
// than choosing, so the choice of item and its claim must be one write, or
// two operators asking at the same moment would be handed the same item.

// NextWork chooses the item an operator is given next.
type NextWork struct {
	// By is the operator who takes it.
	By string
	// Kind keeps one kind ("" all); Node one CUP node's items ("" all).
	Kind, Node string
	Now        time.Time
}

// ClaimNextWorkItem gives by the open item due longest, unclaimed and not
// asked back for someone else, in one conditional write. An item asked
// back for a time comes first once that time has come: the patient was
// told when to expect the call. On PostgreSQL the
// rows other operators are taking are skipped, not waited for. An operator
// works one item at a time: one who already holds an item is given that
// one again. ErrNotFound when nothing is due.
func (s *Store) ClaimNextWorkItem(ctx context.Context, n NextWork) (WorkItem, error) {
	if n.By == "" {
		return WorkItem{}, fmt.Errorf("store: next work item for nobody")
	}
	var it WorkItem
	err := s.InTx(ctx, func(t *Tx) error {
		var held []WorkItem
		err := t.tx.SelectContext(ctx, &held, s.rebind(`SELECT `+workCols+` FROM work_items
			WHERE status = 'open' AND claimed_by = ? AND (? = '' OR node = ?) ORDER BY claimed_at, id LIMIT 1`), n.By, n.Node, n.Node)
		if err != nil {
			return fmt.Errorf("store: held work item: %w", err)
		}
		if len(held) == 1 {
			it = held[0]
			return nil
		}
		sub := `SELECT id FROM work_items WHERE status = 'open' AND claimed_by = '' AND due_at <= ?
			AND (due_for = '' OR due_for = ?) AND (? = '' OR kind = ?) AND (? = '' OR node = ?)
			ORDER BY CASE WHEN due_at > arrived_at THEN 0 ELSE 1 END, due_at, id LIMIT 1`
		if s.dialect == Postgres {
			sub += ` FOR UPDATE SKIP LOCKED`
		}
		var got []WorkItem
		err = t.tx.SelectContext(ctx, &got, s.rebind(`UPDATE work_items SET claimed_by = ?, claimed_at = ?
			WHERE id = (`+sub+`) AND status = 'open' AND claimed_by = '' RETURNING `+workCols),
			n.By, ms(n.Now), ms(n.Now), n.By, n.Kind, n.Kind, n.Node, n.Node)
		if err != nil {
			return fmt.Errorf("store: claim next work item: %w", err)
		}
		if len(got) == 0 {
			return fmt.Errorf("store: no work item due: %w", ErrNotFound)
		}
		it = got[0]
		return nil
	})
	return it, err
}

// HeldWorkItem is the open item by holds, ErrNotFound when none.
func (s *Store) HeldWorkItem(ctx context.Context, by string) (WorkItem, error) {
	var it WorkItem
	err := s.rd.GetContext(ctx, &it, s.rebind(`SELECT `+workCols+` FROM work_items
		WHERE status = 'open' AND claimed_by = ? ORDER BY claimed_at, id LIMIT 1`), by)
	if err != nil {
		return WorkItem{}, fmt.Errorf("store: held work item: %w", notFound(err))
	}
	return it, nil
}

// PhoneWorkItems lists the items about a number, open ones first, then the
// latest closed; node keeps one CUP node's items ("" all).
func (s *Store) PhoneWorkItems(ctx context.Context, phone, node string, limit int) ([]WorkItem, error) {
	var out []WorkItem
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT `+workCols+` FROM work_items
		WHERE phone = ? AND (? = '' OR node = ?)
		ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, arrived_at DESC, id DESC LIMIT ?`), phone, node, node, limit)
	if err != nil {
		return nil, fmt.Errorf("store: work items of a number: %w", err)
	}
	return out, nil
}

// CodeWorkItems lists the items about a booking code, newest first.
func (s *Store) CodeWorkItems(ctx context.Context, code, node string, limit int) ([]WorkItem, error) {
	var out []WorkItem
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT `+workCols+` FROM work_items
		WHERE code = ? AND (? = '' OR node = ?) ORDER BY arrived_at DESC, id DESC LIMIT ?`), code, node, node, limit)
	if err != nil {
		return nil, fmt.Errorf("store: work items of a booking: %w", err)
	}
	return out, nil
}
