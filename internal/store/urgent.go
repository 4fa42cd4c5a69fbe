package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Urgent moves: a CUP manager's request to reach the patients of some
// bookings at short notice, each booking's ranked numbers, and what came of
// it. Package urgent decides; these are its queries.

// Urgent target states.
const (
	UrgentCalling  = "calling"
	UrgentReached  = "reached"
	UrgentNoNumber = "no_number"
)

// WorkUrgent is the kind of the work items of urgent moves: a patient to
// call back, a move to make in the CUP, a number to find.
const WorkUrgent = "urgent"

// UrgentPriority is the dialer priority of an urgent move's campaign.
const UrgentPriority = 10

// NewUrgentMove is an urgent move to create with its campaign.
type NewUrgentMove struct {
	Campaign string // the campaign's name
	Kind     string // the campaign's kind
	Script   string
	// Active starts the campaign at once; otherwise it waits, paused, for
	// `campaign start`.
	Active    bool
	Node      string
	Reason    string
	NewAt     time.Time // zero: to be rebooked by phone
	By        time.Time
	CreatedBy string
	Targets   []NewUrgentTarget
}

// NewUrgentTarget is one booking of a move: its numbers, best first, its
// first call's payload, its SMS (Message.Phone "" for none), or, with no
// number, the work item asking for one.
type NewUrgentTarget struct {
	Node, Code string
	BookingAt  time.Time
	Numbers    []string
	Payload    string
	Message    NewMessage
	NoNumber   *NewWorkItem
}

// CreatedUrgentMove says what CreateUrgentMove made.
type CreatedUrgentMove struct {
	ID, CampaignID    int64
	Calls, Messages   int
	NoNumber, Targets int
}

// CreateUrgentMove stores the move, its campaign (of UrgentPriority), a contact for the best number of each booking that has
// one, its SMS, and a work item for each booking without a number, in one
// transaction: a failure leaves nothing behind.
func (s *Store) CreateUrgentMove(ctx context.Context, m NewUrgentMove, now time.Time) (CreatedUrgentMove, error) {
	var out CreatedUrgentMove
	err := s.InTx(ctx, func(t *Tx) error {
		state := CampaignPaused
		if m.Active {
			state = CampaignActive
		}
		if err := t.tx.GetContext(ctx, &out.CampaignID, s.rebind(`INSERT INTO campaigns (name, kind, created_at, script, state, priority)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), m.Campaign, m.Kind, ms(now), m.Script, state, UrgentPriority); err != nil {
			return fmt.Errorf("campaign %q: %w", m.Campaign, err)
		}
		if err := t.tx.GetContext(ctx, &out.ID, s.rebind(`INSERT INTO urgent_moves (campaign_id, node, reason, new_at, by_at, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), out.CampaignID, m.Node, m.Reason, ms(m.NewAt), ms(m.By), m.CreatedBy, ms(now)); err != nil {
			return err
		}
		seq := 0
		for _, tg := range m.Targets {
			numbers, err := json.Marshal(tg.Numbers)
			if err != nil {
				return err
			}
			var tid int64
			if err := t.tx.GetContext(ctx, &tid, s.rebind(`INSERT INTO urgent_targets (move_id, node, code, booking_at, numbers, updated_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), out.ID, tg.Node, tg.Code, ms(tg.BookingAt), string(numbers), ms(now)); err != nil {
				return fmt.Errorf("booking %s/%s: %w", tg.Node, tg.Code, err)
			}
			out.Targets++
			if len(tg.Numbers) == 0 {
				w := NewWorkItem{Kind: WorkUrgent, RefID: tid, Node: tg.Node, Code: tg.Code, BookingAt: tg.BookingAt, ArrivedAt: now}
				if tg.NoNumber != nil {
					w = *tg.NoNumber
					w.Kind, w.RefID = WorkUrgent, tid
				}
				wid, _, err := t.AddWorkItem(ctx, w)
				if err != nil {
					return err
				}
				if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE urgent_targets SET state = ?, work_item_id = ? WHERE id = ?`),
					UrgentNoNumber, wid, tid); err != nil {
					return err
				}
				out.NoNumber++
				continue
			}
			seq++
			cid, err := t.insertContact(ctx, out.CampaignID, seq, tg.Numbers[0], tg.Payload, tg.Node, now)
			if err != nil {
				return err
			}
			var mid int64
			if tg.Message.Phone != "" {
				ids, err := t.InsertMessages(ctx, []NewMessage{tg.Message}, now)
				if err != nil {
					return err
				}
				mid = ids[tg.Message.Phone]
				out.Messages++
			}
			if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE urgent_targets SET contact_id = ?, message_id = ? WHERE id = ?`), cid, mid, tid); err != nil {
				return err
			}
			out.Calls++
		}
		return nil
	})
	if err != nil {
		return CreatedUrgentMove{}, fmt.Errorf("store: urgent move: %w", err)
	}
	return out, nil
}

func (t *Tx) insertContact(ctx context.Context, campaign int64, seq int, phone, payload, node string, now time.Time) (int64, error) {
	if payload == "" {
		payload = "{}"
	}
	var id int64
	err := t.tx.GetContext(ctx, &id, t.s.rebind(`INSERT INTO contacts (campaign_id, seq, phone, payload, loaded_at, next_attempt_at, node)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), campaign, seq, phone, payload, ms(now), ms(now), nodeValue(node))
	if err != nil {
		return 0, fmt.Errorf("contact %d: %w", seq, err)
	}
	return id, nil
}

// UrgentMove is a stored move.
type UrgentMove struct {
	ID         int64  `db:"id"`
	CampaignID int64  `db:"campaign_id"`
	Node       string `db:"node"`
	Reason     string `db:"reason"`
	NewAt      int64  `db:"new_at"`
	ByAt       int64  `db:"by_at"`
	CreatedBy  string `db:"created_by"`
	CreatedAt  int64  `db:"created_at"`
}

// UrgentMoveByID reads a move.
func (s *Store) UrgentMoveByID(ctx context.Context, id int64) (UrgentMove, error) {
	var m UrgentMove
	if err := s.rd.GetContext(ctx, &m, s.rebind(`SELECT id, campaign_id, node, reason, new_at, by_at, created_by, created_at FROM urgent_moves WHERE id = ?`), id); err != nil {
		return UrgentMove{}, fmt.Errorf("store: urgent move %d: %w", id, notFound(err))
	}
	return m, nil
}

// UrgentTarget is one booking of a move as it stands, with its current
// contact's state and last attempt.
type UrgentTarget struct {
	ID           int64  `db:"id"`
	MoveID       int64  `db:"move_id"`
	Node         string `db:"node"`
	Code         string `db:"code"`
	BookingAt    int64  `db:"booking_at"`
	NumbersJSON  string `db:"numbers"`
	Tried        int    `db:"tried"`
	ContactID    int64  `db:"contact_id"`
	MessageID    int64  `db:"message_id"`
	State        string `db:"state"`
	Choice       string `db:"choice"`
	ReachedPhone string `db:"reached_phone"`
	WorkItemID   int64  `db:"work_item_id"`
	UpdatedAt    int64  `db:"updated_at"`

	// The current contact: its status ('' without one), the outcome and
	// script result of its last attempt, its attempts so far.
	ContactStatus string `db:"contact_status"`
	LastOutcome   string `db:"last_outcome"`
	LastResult    string `db:"last_result"`
	Attempts      int    `db:"attempts"`
	// MessageStatus is the SMS's status ('' without one).
	MessageStatus string `db:"message_status"`
}

// Numbers are the target's callable numbers, best first.
func (u UrgentTarget) Numbers() []string {
	var ns []string
	_ = json.Unmarshal([]byte(u.NumbersJSON), &ns)
	return ns
}

const urgentTargetSelect = `SELECT t.id, t.move_id, t.node, t.code, t.booking_at, t.numbers, t.tried, t.contact_id, t.message_id,
	t.state, t.choice, t.reached_phone, t.work_item_id, t.updated_at,
	COALESCE(c.status, '') AS contact_status, COALESCE(c.attempts, 0) AS attempts,
	COALESCE((SELECT a.outcome FROM attempts a WHERE a.contact_id = t.contact_id ORDER BY a.id DESC LIMIT 1), '') AS last_outcome,
	COALESCE((SELECT a.result FROM attempts a WHERE a.contact_id = t.contact_id ORDER BY a.id DESC LIMIT 1), '') AS last_result,
	COALESCE(m.status, '') AS message_status
	FROM urgent_targets t LEFT JOIN contacts c ON c.id = t.contact_id LEFT JOIN messages m ON m.id = t.message_id`

// UrgentTargets returns a move's bookings in the order they were loaded.
func (s *Store) UrgentTargets(ctx context.Context, move int64) ([]UrgentTarget, error) {
	var out []UrgentTarget
	if err := s.rd.SelectContext(ctx, &out, s.rebind(urgentTargetSelect+` WHERE t.move_id = ? ORDER BY t.id`), move); err != nil {
		return nil, fmt.Errorf("store: urgent targets: %w", err)
	}
	return out, nil
}

// UrgentTargetsToSettle returns, over every move, the bookings still
// being called whose current contact is closed: each needs its next
// number, or its outcome recorded.
func (s *Store) UrgentTargetsToSettle(ctx context.Context, limit int) ([]UrgentTarget, error) {
	var out []UrgentTarget
	if err := s.rd.SelectContext(ctx, &out, s.rebind(urgentTargetSelect+` WHERE t.state = ? AND c.status = 'final' ORDER BY t.id LIMIT ?`),
		UrgentCalling, limit); err != nil {
		return nil, fmt.Errorf("store: urgent targets to settle: %w", err)
	}
	return out, nil
}

// NextUrgentNumber moves a booking from its closed contact fromContact to
// the number numbers[tried+1], loading a contact for it in the move's
// campaign, due at once, and queueing msg when it is not nil (an SMS to
// that number). One conditional write decides: when several engine
// processes see the same closed contact, one moves on and the others get
// false.
func (s *Store) NextUrgentNumber(ctx context.Context, target, fromContact int64, payload string, msg *NewMessage, now time.Time) (int64, bool, error) {
	var cid int64
	var moved bool
	err := s.InTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE urgent_targets SET tried = tried + 1, contact_id = 0, updated_at = ?
			WHERE id = ? AND contact_id = ? AND state = ?`), ms(now), target, fromContact, UrgentCalling)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		var u struct {
			Numbers  string `db:"numbers"`
			Tried    int    `db:"tried"`
			Campaign int64  `db:"campaign_id"`
			Node     string `db:"node"`
		}
		if err := t.tx.GetContext(ctx, &u, s.rebind(`SELECT t.numbers, t.tried, m.campaign_id, t.node FROM urgent_targets t
			JOIN urgent_moves m ON m.id = t.move_id WHERE t.id = ?`), target); err != nil {
			return err
		}
		var ns []string
		if err := json.Unmarshal([]byte(u.Numbers), &ns); err != nil {
			return err
		}
		if u.Tried >= len(ns) {
			return fmt.Errorf("booking has no number %d", u.Tried+1)
		}
		var seq int
		if err := t.tx.GetContext(ctx, &seq, s.rebind(`SELECT COALESCE(MAX(seq), 0) FROM contacts WHERE campaign_id = ?`), u.Campaign); err != nil {
			return err
		}
		if cid, err = t.insertContact(ctx, u.Campaign, seq+1, ns[u.Tried], payload, u.Node, now); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE urgent_targets SET contact_id = ? WHERE id = ?`), cid, target); err != nil {
			return err
		}
		if msg != nil {
			if msg.Phone != ns[u.Tried] {
				return fmt.Errorf("the SMS is for another number than the next one")
			}
			ids, err := t.InsertMessages(ctx, []NewMessage{*msg}, now)
			if err != nil {
				return err
			}
			if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE urgent_targets SET message_id = ? WHERE id = ?`), ids[msg.Phone], target); err != nil {
				return err
			}
		}
		moved = true
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: next urgent number: %w", err)
	}
	return cid, moved, nil
}

// SettleUrgentTarget records a booking's outcome (state reached with the
// patient's choice and the number that reached them, or no_number) and,
// when w is not nil, the work item it leaves for people, in one
// conditional write: only while the booking is still being called through
// fromContact. It says whether it settled it.
func (s *Store) SettleUrgentTarget(ctx context.Context, target, fromContact int64, state, choice, reached string, w *NewWorkItem, now time.Time) (bool, error) {
	var done bool
	err := s.InTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE urgent_targets SET state = ?, choice = ?, reached_phone = ?, updated_at = ?
			WHERE id = ? AND contact_id = ? AND state = ?`), state, choice, reached, ms(now), target, fromContact, UrgentCalling)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		done = true
		if w == nil {
			return nil
		}
		item := *w
		item.Kind, item.RefID = WorkUrgent, target
		wid, _, err := t.AddWorkItem(ctx, item)
		if err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, s.rebind(`UPDATE urgent_targets SET work_item_id = ? WHERE id = ?`), wid, target)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: settle urgent target: %w", err)
	}
	return done, nil
}
