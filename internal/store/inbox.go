package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The operators' inbox: patients' replies the engine could not act on and
// cancellation requests, claimed by one operator at a time and closed.

// ErrTaken is returned when an inbox item is held by another operator.
var ErrTaken = errors.New("store: taken by another operator")

// Inbox item kinds: a patient's reply that the engine could not act on, and
// a cancellation request to carry out in the CUP.
const (
	InboxReply  = "reply"
	InboxCancel = "cancel"
)

// Inbox closures.
const (
	ClosureAnswered = "answered" // an SMS answer was queued
	ClosureDone     = "done"     // dealt with otherwise
)

// InboxItem is one piece of work in the operators' inbox.
type InboxItem struct {
	Kind      string `db:"kind" json:"kind"`
	ID        int64  `db:"id" json:"id"`
	Phone     string `db:"phone" json:"phone"`
	Body      string `db:"body" json:"body"`
	ArrivedAt int64  `db:"arrived_at" json:"arrived_at"`
	ClaimedBy string `db:"claimed_by" json:"claimed_by"`
	ClaimedAt int64  `db:"claimed_at" json:"claimed_at"`
	ClosedBy  string `db:"closed_by" json:"closed_by,omitempty"`
	ClosedAt  int64  `db:"closed_at" json:"closed_at,omitempty"`
	Closure   string `db:"closure" json:"closure,omitempty"`
	Answer    string `db:"answer" json:"answer,omitempty"`
	Node      string `db:"node" json:"node,omitempty"`
	Code      string `db:"code" json:"code,omitempty"`
	BookingAt int64  `db:"booking_at" json:"booking_at,omitempty"`
	Open      bool   `db:"-" json:"open"`
}

// Waited is the time from arrival to closure, or to now while open.
func (it InboxItem) Waited(now time.Time) time.Duration {
	end := ms(now)
	if it.ClosedAt != 0 {
		end = it.ClosedAt
	}
	return time.Duration(end-it.ArrivedAt) * time.Millisecond
}

const (
	replyItemSelect = `SELECT 'reply' AS kind, r.id, r.phone, r.body, r.received_at AS arrived_at, r.claimed_by, r.claimed_at,
		r.closed_by, r.closed_at, r.closure, r.answer, '' AS node, '' AS code, 0 AS booking_at, r.status AS open_status
		FROM replies r`
	cancelItemSelect = `SELECT 'cancel' AS kind, b.id, COALESCE(r.phone, '') AS phone, COALESCE(r.body, '') AS body, b.created_at AS arrived_at,
		b.claimed_by, b.claimed_at, b.closed_by, b.closed_at, b.closure, b.answer, b.node, b.code, b.at AS booking_at, b.status AS open_status
		FROM booking_responses b LEFT JOIN replies r ON r.id = b.reply_id`
)

type inboxRow struct {
	InboxItem
	OpenStatus string `db:"open_status"`
}

func (r inboxRow) item() InboxItem {
	it := r.InboxItem
	it.Open = (it.Kind == InboxReply && r.OpenStatus == ReplyInbox) || (it.Kind == InboxCancel && r.OpenStatus == "open")
	return it
}

// InboxFilter chooses inbox items. Node, when set, keeps only cancellation
// requests of that node: replies carry no node.
type InboxFilter struct {
	Node  string
	Limit int
}

// InboxItems lists the open items, oldest first.
func (s *Store) InboxItems(ctx context.Context, f InboxFilter) ([]InboxItem, error) {
	return s.inboxItems(ctx, f, `r.status = 'inbox'`, `b.kind = 'cancel' AND b.status = 'open'`, "arrived_at, id", false)
}

// ClosedInboxItems lists the items closed from the console, latest first,
// with who closed them and when.
func (s *Store) ClosedInboxItems(ctx context.Context, f InboxFilter) ([]InboxItem, error) {
	return s.inboxItems(ctx, f, `r.closure <> ''`, `b.kind = 'cancel' AND b.closure <> ''`, "closed_at DESC, id DESC", true)
}

func (s *Store) inboxItems(ctx context.Context, f InboxFilter, replyWhere, cancelWhere, order string, desc bool) ([]InboxItem, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	var out []InboxItem
	if f.Node == "" {
		var rows []inboxRow
		q := replyItemSelect + ` WHERE ` + replyWhere + ` ORDER BY ` + strings.ReplaceAll(order, "arrived_at", "received_at") + ` LIMIT ?`
		if err := s.db.SelectContext(ctx, &rows, s.rebind(q), f.Limit); err != nil {
			return nil, fmt.Errorf("store: inbox replies: %w", err)
		}
		for _, r := range rows {
			out = append(out, r.item())
		}
	}
	var rows []inboxRow
	q := cancelItemSelect + ` WHERE ` + cancelWhere + ` AND (? = '' OR b.node = ?) ORDER BY ` + prefixed("b.", strings.ReplaceAll(order, "arrived_at", "created_at")) + ` LIMIT ?`
	if err := s.db.SelectContext(ctx, &rows, s.rebind(q), f.Node, f.Node, f.Limit); err != nil {
		return nil, fmt.Errorf("store: inbox cancellations: %w", err)
	}
	for _, r := range rows {
		out = append(out, r.item())
	}
	slices.SortStableFunc(out, func(a, b InboxItem) int {
		x, y := a.ArrivedAt, b.ArrivedAt
		if desc {
			x, y = b.ClosedAt, a.ClosedAt
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// prefixed qualifies the column names of an ORDER BY list.
func prefixed(p, order string) string {
	parts := strings.Split(order, ",")
	for i, s := range parts {
		parts[i] = p + strings.TrimSpace(s)
	}
	return strings.Join(parts, ", ")
}

// InboxItemByID returns one item, open or closed.
func (s *Store) InboxItemByID(ctx context.Context, kind string, id int64) (InboxItem, error) {
	var r inboxRow
	var q string
	switch kind {
	case InboxReply:
		q = replyItemSelect + ` WHERE r.id = ?`
	case InboxCancel:
		q = cancelItemSelect + ` WHERE b.id = ? AND b.kind = 'cancel'`
	default:
		return InboxItem{}, fmt.Errorf("store: inbox kind %q: %w", kind, ErrNotFound)
	}
	if err := s.db.GetContext(ctx, &r, s.rebind(q), id); err != nil {
		return InboxItem{}, fmt.Errorf("store: inbox item %s %d: %w", kind, id, notFound(err))
	}
	return r.item(), nil
}

// inboxTable names the table and open status of an item kind.
func inboxTable(kind string) (table, open string, err error) {
	switch kind {
	case InboxReply:
		return "replies", ReplyInbox, nil
	case InboxCancel:
		return "booking_responses", "open", nil
	}
	return "", "", fmt.Errorf("store: inbox kind %q: %w", kind, ErrNotFound)
}

// takeErr explains why a conditional update on an open item changed
// nothing: the item is gone or closed (ErrNotFound), or another operator
// holds it (ErrTaken).
func (t *Tx) takeErr(ctx context.Context, kind string, id int64) error {
	it, err := t.s.inboxItem(ctx, t, kind, id)
	if err != nil {
		return err
	}
	if !it.Open {
		return fmt.Errorf("store: inbox item %s %d is closed: %w", kind, id, ErrNotFound)
	}
	return fmt.Errorf("store: inbox item %s %d held by %s: %w", kind, id, it.ClaimedBy, ErrTaken)
}

func (s *Store) inboxItem(ctx context.Context, t *Tx, kind string, id int64) (InboxItem, error) {
	var r inboxRow
	q := replyItemSelect + ` WHERE r.id = ?`
	if kind == InboxCancel {
		q = cancelItemSelect + ` WHERE b.id = ?`
	}
	if err := t.tx.GetContext(ctx, &r, s.rebind(q), id); err != nil {
		return InboxItem{}, fmt.Errorf("store: inbox item %s %d: %w", kind, id, notFound(err))
	}
	return r.item(), nil
}

// ClaimInboxItem gives an open item to one operator; it is ErrTaken while
// another holds it. Claiming an item one already holds is harmless.
func (s *Store) ClaimInboxItem(ctx context.Context, kind string, id int64, by string, now time.Time) error {
	table, open, err := inboxTable(kind)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE `+table+` SET claimed_by = ?, claimed_at = CASE WHEN claimed_by = ? THEN claimed_at ELSE ? END
			WHERE id = ? AND status = ? AND (claimed_by = '' OR claimed_by = ?)`), by, by, ms(now), id, open, by)
		if err != nil {
			return fmt.Errorf("store: claim: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return t.takeErr(ctx, kind, id)
		}
		return nil
	})
}

// ReleaseInboxItem gives back an item one holds, for another operator.
func (s *Store) ReleaseInboxItem(ctx context.Context, kind string, id int64, by string) error {
	table, open, err := inboxTable(kind)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE `+table+` SET claimed_by = '', claimed_at = 0 WHERE id = ? AND status = ? AND claimed_by = ?`), id, open, by)
		if err != nil {
			return fmt.Errorf("store: release: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return t.takeErr(ctx, kind, id)
		}
		return nil
	})
}

// CloseInboxItem marks an item dealt with by by, at now. The item must be
// unclaimed or held by by.
func (s *Store) CloseInboxItem(ctx context.Context, kind string, id int64, by string, now time.Time) error {
	return s.InTx(ctx, func(t *Tx) error {
		return t.closeInboxItem(ctx, kind, id, by, ClosureDone, "", 0, now)
	})
}

func (t *Tx) closeInboxItem(ctx context.Context, kind string, id int64, by, closure, answer string, messageID int64, now time.Time) error {
	table, open, err := inboxTable(kind)
	if err != nil {
		return err
	}
	done := ReplyClosed
	if kind == InboxCancel {
		done = "done"
	}
	// An operator's answer replaces nothing the engine said: inbox replies
	// were not answered automatically.
	res, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE `+table+` SET status = ?, closed_by = ?, closed_at = ?, closure = ?,
		answer = CASE WHEN ? <> '' THEN ? ELSE answer END, answer_message_id = ?,
		claimed_by = ?, claimed_at = CASE WHEN claimed_at = 0 THEN ? ELSE claimed_at END
		WHERE id = ? AND status = ? AND (claimed_by = '' OR claimed_by = ?)`),
		done, by, ms(now), closure, answer, answer, messageID, by, ms(now), id, open, by)
	if err != nil {
		return fmt.Errorf("store: close inbox item: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return t.takeErr(ctx, kind, id)
	}
	return nil
}

// AnswerInboxItem queues msg (kind "answer") in the outbox and closes the
// item as answered, in one transaction: the running sender sends it like any
// planned message.
func (s *Store) AnswerInboxItem(ctx context.Context, kind string, id int64, by string, msg NewMessage, now time.Time) (int64, error) {
	var msgID int64
	err := s.InTx(ctx, func(t *Tx) error {
		it, err := s.inboxItem(ctx, t, kind, id)
		if err != nil {
			return err
		}
		if !it.Open {
			return fmt.Errorf("store: inbox item %s %d is closed: %w", kind, id, ErrNotFound)
		}
		if it.ClaimedBy != "" && it.ClaimedBy != by {
			return fmt.Errorf("store: inbox item %s %d held by %s: %w", kind, id, it.ClaimedBy, ErrTaken)
		}
		ids, err := t.InsertMessages(ctx, []NewMessage{msg}, now)
		if err != nil {
			return err
		}
		msgID = ids[msg.Phone]
		return t.closeInboxItem(ctx, kind, id, by, ClosureAnswered, msg.Body, msgID, now)
	})
	return msgID, err
}
