package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The worklist: one table of work for people (work_items). Each item is
// held by one operator at a time, decided by one conditional UPDATE; an item
// can be asked back at a time ("call back at"), for its operator or anyone,
// and is closed with an outcome and a note. Package worklist owns the
// rules; these are its queries.

// ErrTaken is returned when a work item is held by another operator.
var ErrTaken = errors.New("store: taken by another operator")

// Work item kinds that exist today: a patient's reply that the engine could
// not act on, and a cancellation request to carry out in the CUP.
const (
	InboxReply  = "reply"
	InboxCancel = "cancel"
)

// Work item closures the console gives.
const (
	ClosureAnswered = "answered" // an SMS answer was queued
	ClosureDone     = "done"     // dealt with otherwise
)

// Work item statuses.
const (
	WorkOpen   = "open"
	WorkClosed = "closed"
)

// WorkItem is one piece of work for an operator.
type WorkItem struct {
	ID        int64  `db:"id" json:"id"`
	Kind      string `db:"kind" json:"kind"`
	RefID     int64  `db:"ref_id" json:"ref_id,omitempty"`
	Phone     string `db:"phone" json:"phone"`
	Body      string `db:"body" json:"body"`
	Node      string `db:"node" json:"node,omitempty"`
	Code      string `db:"code" json:"code,omitempty"`
	BookingAt int64  `db:"booking_at" json:"booking_at,omitempty"`
	ArrivedAt int64  `db:"arrived_at" json:"arrived_at"`
	DueAt     int64  `db:"due_at" json:"due_at"`
	DueFor    string `db:"due_for" json:"due_for,omitempty"`
	Status    string `db:"status" json:"status"`
	ClaimedBy string `db:"claimed_by" json:"claimed_by"`
	ClaimedAt int64  `db:"claimed_at" json:"claimed_at"`
	ClosedBy  string `db:"closed_by" json:"closed_by,omitempty"`
	ClosedAt  int64  `db:"closed_at" json:"closed_at,omitempty"`
	Outcome   string `db:"outcome" json:"outcome,omitempty"`
	Note      string `db:"note" json:"note,omitempty"`
	Answer    string `db:"answer" json:"answer,omitempty"`
	AnswerID  int64  `db:"answer_message_id" json:"answer_message_id,omitempty"`
}

// Open says whether the item still waits for someone.
func (it WorkItem) Open() bool { return it.Status == WorkOpen }

// Waited is the time from arrival to closure, or to now while open.
func (it WorkItem) Waited(now time.Time) time.Duration {
	end := ms(now)
	if it.ClosedAt != 0 {
		end = it.ClosedAt
	}
	return time.Duration(end-it.ArrivedAt) * time.Millisecond
}

const workCols = `id, kind, ref_id, phone, body, node, code, booking_at, arrived_at, due_at, due_for, status,
	claimed_by, claimed_at, closed_by, closed_at, outcome, note, answer, answer_message_id`

// NewWorkItem is an item to add. An item with a RefID is added once per
// (Kind, RefID).
type NewWorkItem struct {
	Kind      string
	RefID     int64
	Phone     string
	Body      string
	Node      string
	Code      string
	BookingAt time.Time
	ArrivedAt time.Time
	// DueAt is when it first shows; zero for its arrival.
	DueAt time.Time
}

// AddWorkItem adds an item and returns its id; an item already there for
// the same (Kind, RefID) gives (0, false).
func (s *Store) AddWorkItem(ctx context.Context, w NewWorkItem) (int64, bool, error) {
	var id int64
	var added bool
	err := s.InTx(ctx, func(t *Tx) error {
		var err error
		id, added, err = t.AddWorkItem(ctx, w)
		return err
	})
	return id, added, err
}

// AddWorkItem adds an item inside the transaction.
func (t *Tx) AddWorkItem(ctx context.Context, w NewWorkItem) (int64, bool, error) {
	if w.Kind == "" {
		return 0, false, errors.New("store: work item without a kind")
	}
	due := w.DueAt
	if due.IsZero() {
		due = w.ArrivedAt
	}
	var ids []int64
	err := t.tx.SelectContext(ctx, &ids, t.s.rebind(`INSERT INTO work_items (kind, ref_id, phone, body, node, code, booking_at, arrived_at, due_at, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open') ON CONFLICT (kind, ref_id) WHERE ref_id <> 0 DO NOTHING RETURNING id`),
		w.Kind, w.RefID, w.Phone, w.Body, w.Node, w.Code, ms(w.BookingAt), ms(w.ArrivedAt), ms(due))
	if err != nil {
		return 0, false, fmt.Errorf("store: add work item: %w", err)
	}
	if len(ids) == 0 {
		return 0, false, nil
	}
	return ids[0], true, nil
}

// WorkFilter chooses work items. Items are listed in a stable order and
// paged by the position of the last one seen, so that paging returns every
// item once and no kind of item can push another out of reach.
type WorkFilter struct {
	// Kind keeps one kind; "" all.
	Kind string
	// Node keeps the items of one CUP node ("" all): a CUP manager sees
	// only those.
	Node string
	// Viewer is who looks: items asked back for another operator are not
	// shown to them. Now hides the items asked back for later.
	Viewer string
	Now    time.Time
	// AfterAt and AfterID continue after the last item of the previous
	// page: its ArrivedAt and ID for open items, its ClosedAt and ID for
	// closed ones (which go newest first).
	AfterAt int64
	AfterID int64
	Limit   int
}

func (f WorkFilter) limit() int {
	if f.Limit <= 0 {
		return 100
	}
	return f.Limit
}

// OpenWorkItems lists the open items due at f.Now for f.Viewer, oldest
// arrival first.
func (s *Store) OpenWorkItems(ctx context.Context, f WorkFilter) ([]WorkItem, error) {
	var out []WorkItem
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT `+workCols+` FROM work_items
		WHERE status = 'open' AND due_at <= ? AND (due_for = '' OR due_for = ?)
		AND (? = '' OR kind = ?) AND (? = '' OR node = ?)
		AND (arrived_at > ? OR (arrived_at = ? AND id > ?))
		ORDER BY arrived_at, id LIMIT ?`),
		ms(f.Now), f.Viewer, f.Kind, f.Kind, f.Node, f.Node, f.AfterAt, f.AfterAt, f.AfterID, f.limit())
	if err != nil {
		return nil, fmt.Errorf("store: open work items: %w", err)
	}
	return out, nil
}

// LaterWorkItems lists the open items asked back for after f.Now that
// f.Viewer may take then, soonest first.
func (s *Store) LaterWorkItems(ctx context.Context, f WorkFilter) ([]WorkItem, error) {
	var out []WorkItem
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT `+workCols+` FROM work_items
		WHERE status = 'open' AND due_at > ? AND (due_for = '' OR due_for = ?)
		AND (? = '' OR kind = ?) AND (? = '' OR node = ?)
		ORDER BY due_at, id LIMIT ?`),
		ms(f.Now), f.Viewer, f.Kind, f.Kind, f.Node, f.Node, f.limit())
	if err != nil {
		return nil, fmt.Errorf("store: later work items: %w", err)
	}
	return out, nil
}

// ClosedWorkItems lists closed items, latest closure first.
func (s *Store) ClosedWorkItems(ctx context.Context, f WorkFilter) ([]WorkItem, error) {
	var out []WorkItem
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT `+workCols+` FROM work_items
		WHERE status = 'closed' AND (? = '' OR kind = ?) AND (? = '' OR node = ?)
		AND (CAST(? AS BIGINT) = 0 OR closed_at < ? OR (closed_at = ? AND id < ?))
		ORDER BY closed_at DESC, id DESC LIMIT ?`),
		f.Kind, f.Kind, f.Node, f.Node, f.AfterAt, f.AfterAt, f.AfterAt, f.AfterID, f.limit())
	if err != nil {
		return nil, fmt.Errorf("store: closed work items: %w", err)
	}
	return out, nil
}

// KindCount is how many items of a kind are open and due.
type KindCount struct {
	Kind  string `db:"kind"`
	Items int    `db:"n"`
}

// OpenWorkCounts counts the open items due for f.Viewer by kind (f.Kind
// and the paging fields are ignored).
func (s *Store) OpenWorkCounts(ctx context.Context, f WorkFilter) ([]KindCount, error) {
	var out []KindCount
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT kind, COUNT(*) AS n FROM work_items
		WHERE status = 'open' AND due_at <= ? AND (due_for = '' OR due_for = ?) AND (? = '' OR node = ?)
		GROUP BY kind ORDER BY kind`), ms(f.Now), f.Viewer, f.Node, f.Node)
	if err != nil {
		return nil, fmt.Errorf("store: work counts: %w", err)
	}
	return out, nil
}

// WorkItemByID returns one item, open or closed.
func (s *Store) WorkItemByID(ctx context.Context, id int64) (WorkItem, error) {
	return s.View().workItem(ctx, id)
}

func (t *Tx) workItem(ctx context.Context, id int64) (WorkItem, error) {
	var it WorkItem
	if err := t.tx.GetContext(ctx, &it, t.s.rebind(`SELECT `+workCols+` FROM work_items WHERE id = ?`), id); err != nil {
		return WorkItem{}, fmt.Errorf("store: work item %d: %w", id, notFound(err))
	}
	return it, nil
}

// takeErr explains why a conditional update on an open item changed
// nothing: the item is gone or closed (ErrNotFound), or another operator
// holds it or it was asked back for another (ErrTaken).
func (t *Tx) takeErr(ctx context.Context, id int64, by string) error {
	it, err := t.workItem(ctx, id)
	if err != nil {
		return err
	}
	if !it.Open() {
		return fmt.Errorf("store: work item %d is closed: %w", id, ErrNotFound)
	}
	holder := it.ClaimedBy
	if holder == "" || holder == by {
		holder = it.DueFor
	}
	return fmt.Errorf("store: work item %d held by %s: %w", id, holder, ErrTaken)
}

// ClaimWorkItem gives an open item to one operator; it is ErrTaken while
// another holds it, or when it was asked back for another. Claiming an
// item one already holds is harmless.
func (s *Store) ClaimWorkItem(ctx context.Context, id int64, by string, now time.Time) error {
	return s.InTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE work_items SET claimed_by = ?, claimed_at = CASE WHEN claimed_by = ? THEN claimed_at ELSE ? END
			WHERE id = ? AND status = 'open' AND (claimed_by = '' OR claimed_by = ?) AND (due_for = '' OR due_for = ?)`), by, by, ms(now), id, by, by)
		if err != nil {
			return fmt.Errorf("store: claim: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return t.takeErr(ctx, id, by)
		}
		return nil
	})
}

// ReleaseWorkItem gives back an item one holds, for another operator.
func (s *Store) ReleaseWorkItem(ctx context.Context, id int64, by string) error {
	return s.InTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE work_items SET claimed_by = '', claimed_at = 0, due_for = '' WHERE id = ? AND status = 'open' AND claimed_by = ?`), id, by)
		if err != nil {
			return fmt.Errorf("store: release: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return t.takeErr(ctx, id, by)
		}
		return nil
	})
}

// CallBackWorkItem asks an open item back at at, for forUser ("" for
// anyone), with a note; until then it leaves the list and nobody holds it.
// The item must be unclaimed or held by by.
func (s *Store) CallBackWorkItem(ctx context.Context, id int64, by string, at time.Time, forUser, note string) error {
	return s.InTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE work_items SET due_at = ?, due_for = ?, note = ?, claimed_by = '', claimed_at = 0
			WHERE id = ? AND status = 'open' AND (claimed_by = '' OR claimed_by = ?) AND (due_for = '' OR due_for = ?)`), ms(at), forUser, note, id, by, by)
		if err != nil {
			return fmt.Errorf("store: call back: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return t.takeErr(ctx, id, by)
		}
		return nil
	})
}

// CloseWorkItem closes an item with an outcome and a note, by by at now.
// The item must be unclaimed or held by by.
func (s *Store) CloseWorkItem(ctx context.Context, id int64, by, outcome, note string, now time.Time) error {
	return s.InTx(ctx, func(t *Tx) error {
		return t.closeWorkItem(ctx, id, by, outcome, note, "", 0, now)
	})
}

func (t *Tx) closeWorkItem(ctx context.Context, id int64, by, outcome, note, answer string, messageID int64, now time.Time) error {
	var rows []struct {
		Kind  string `db:"kind"`
		RefID int64  `db:"ref_id"`
	}
	err := t.tx.SelectContext(ctx, &rows, t.s.rebind(`UPDATE work_items SET status = 'closed', closed_by = ?, closed_at = ?, outcome = ?,
		note = CASE WHEN ? <> '' THEN ? ELSE note END, answer = ?, answer_message_id = ?,
		claimed_by = ?, claimed_at = CASE WHEN claimed_at = 0 THEN ? ELSE claimed_at END, due_for = ''
		WHERE id = ? AND status = 'open' AND (claimed_by = '' OR claimed_by = ?) AND (due_for = '' OR due_for = ?)
		RETURNING kind, ref_id`),
		by, ms(now), outcome, note, note, answer, messageID, by, ms(now), id, by, by)
	if err != nil {
		return fmt.Errorf("store: close work item: %w", err)
	}
	if len(rows) == 0 {
		return t.takeErr(ctx, id, by)
	}
	return t.recordClosure(ctx, rows[0].Kind, rows[0].RefID, by, outcome, answer, messageID, now)
}

// recordClosure writes an inbox item's closure on the row it is about, too:
// the reply-time service level, the metrics and the command line read the
// replies and the cancellation requests themselves.
func (t *Tx) recordClosure(ctx context.Context, kind string, ref int64, by, outcome, answer string, messageID int64, now time.Time) error {
	var q string
	switch kind {
	case InboxReply:
		// An operator's answer replaces nothing the engine said: inbox
		// replies were not answered automatically.
		q = `UPDATE replies SET status = 'closed', closed_by = ?, closed_at = ?, closure = ?,
			answer = CASE WHEN ? <> '' THEN ? ELSE answer END, answer_message_id = ?, claimed_by = ? WHERE id = ?`
	case InboxCancel:
		q = `UPDATE booking_responses SET status = 'done', closed_by = ?, closed_at = ?, closure = ?,
			answer = CASE WHEN ? <> '' THEN ? ELSE answer END, answer_message_id = ?, claimed_by = ? WHERE id = ?`
	default:
		return nil
	}
	if _, err := t.tx.ExecContext(ctx, t.s.rebind(q), by, ms(now), outcome, answer, answer, messageID, by, ref); err != nil {
		return fmt.Errorf("store: record closure: %w", err)
	}
	return nil
}

// AnswerWorkItem queues msg (kind "answer") in the outbox and closes the
// item as answered, in one transaction: the running sender sends it like any
// planned message. With expect > 0 the patient's next message within that
// time goes back to this item (see OpenExpectation).
func (s *Store) AnswerWorkItem(ctx context.Context, id int64, by string, msg NewMessage, expect time.Duration, now time.Time) (int64, error) {
	var msgID int64
	err := s.InTx(ctx, func(t *Tx) error {
		it, err := t.workItem(ctx, id)
		if err != nil {
			return err
		}
		if !it.Open() {
			return fmt.Errorf("store: work item %d is closed: %w", id, ErrNotFound)
		}
		if (it.ClaimedBy != "" && it.ClaimedBy != by) || (it.DueFor != "" && it.DueFor != by) {
			return fmt.Errorf("store: work item %d held by another: %w", id, ErrTaken)
		}
		ids, err := t.InsertMessages(ctx, []NewMessage{msg}, now)
		if err != nil {
			return err
		}
		msgID = ids[msg.Phone]
		if err := t.closeWorkItem(ctx, id, by, ClosureAnswered, "", msg.Body, msgID, now); err != nil {
			return err
		}
		if expect > 0 {
			return t.OpenExpectation(ctx, Expectation{Phone: msg.Phone, Job: JobConversation, RefID: id,
				OpenedAt: ms(now), ExpiresAt: ms(now.Add(expect))})
		}
		return nil
	})
	return msgID, err
}

// ReopenWorkItem hands a patient's new message (reply replyID) to the work
// item of the conversation it continues, held by whoever answered last, who
// may release it. A reply item comes back to the list with the new message;
// an item of another kind (a cancellation request) stays as it was closed,
// and the reply's own item goes to that operator instead.
func (s *Store) ReopenWorkItem(ctx context.Context, id, replyID int64, now time.Time) error {
	return s.InTx(ctx, func(t *Tx) error {
		it, err := t.workItem(ctx, id)
		if err != nil {
			return err
		}
		var r Reply
		if err := t.tx.GetContext(ctx, &r, s.rebind(`SELECT id, provider_id, phone, body, kind, status, answer, received_at FROM replies WHERE id = ?`), replyID); err != nil {
			return fmt.Errorf("store: reply %d: %w", replyID, notFound(err))
		}
		holder := it.ClaimedBy
		if !it.Open() {
			holder = it.ClosedBy
		}
		if it.Kind != InboxReply {
			if err := t.replyToWorklist(ctx, replyID); err != nil {
				return err
			}
			_, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE work_items SET claimed_by = ?, claimed_at = ? WHERE kind = 'reply' AND ref_id = ? AND status = 'open' AND claimed_by = ''`),
				holder, ms(now), replyID)
			if err != nil {
				return fmt.Errorf("store: reopen: %w", err)
			}
			return nil
		}
		// The reply's own item, made when it arrived, is this one now.
		if _, err := t.tx.ExecContext(ctx, s.rebind(`DELETE FROM work_items WHERE kind = 'reply' AND ref_id = ? AND id <> ? AND status = 'open' AND claimed_by = ''`), replyID, id); err != nil {
			return fmt.Errorf("store: reopen: %w", err)
		}
		claimedAt := it.ClaimedAt
		if !it.Open() {
			claimedAt = ms(now)
		}
		_, err = t.tx.ExecContext(ctx, s.rebind(`UPDATE work_items SET ref_id = ?, body = ?, arrived_at = ?, due_at = ?, due_for = '', status = 'open',
			claimed_by = ?, claimed_at = ?, closed_by = '', closed_at = 0, outcome = '', answer_message_id = 0 WHERE id = ?`),
			replyID, r.Body, r.ReceivedAt, ms(now), holder, claimedAt, id)
		if err != nil {
			return fmt.Errorf("store: reopen: %w", err)
		}
		return nil
	})
}
