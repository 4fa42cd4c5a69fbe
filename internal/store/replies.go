package store

import (
	"context"
	"fmt"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
)

// Reply statuses.
const (
	ReplyHandled = "handled" // understood and acted on
	ReplyAsked   = "asked"   // ambiguous: a question went back to the patient
	ReplyInbox   = "inbox"   // waiting for an operator
	ReplyClosed  = "closed"  // an operator dealt with it
)

// Reply is a patient's message.
type Reply struct {
	ID         int64  `db:"id" json:"id"`
	ProviderID string `db:"provider_id" json:"provider_id"`
	Phone      string `db:"phone" json:"phone"`
	Body       string `db:"body" json:"body"`
	Kind       string `db:"kind" json:"kind"`
	Status     string `db:"status" json:"status"`
	Answer     string `db:"answer" json:"answer,omitempty"`
	ReceivedAt int64  `db:"received_at" json:"-"`
}

// InsertReply records a reply once per provider id; a webhook retried by the
// provider returns (0, false). A reply recorded for the inbox is in the
// worklist at once, so that a failure before its outcome is known leaves it
// in front of a person, not lost.
func (s *Store) InsertReply(ctx context.Context, r Reply) (int64, bool, error) {
	var id int64
	err := s.InTx(ctx, func(t *Tx) error {
		var ids []int64
		err := t.tx.SelectContext(ctx, &ids, s.rebind(`INSERT INTO replies (provider_id, phone, body, kind, status, answer, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (provider_id) DO NOTHING RETURNING id`), r.ProviderID, r.Phone, r.Body, r.Kind, r.Status, r.Answer, r.ReceivedAt)
		if err != nil {
			return fmt.Errorf("store: insert reply: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		id = ids[0]
		if r.Status == ReplyInbox {
			return t.replyToWorklist(ctx, id)
		}
		return nil
	})
	return id, id != 0, err
}

// replyToWorklist adds the work item of an inbox reply.
func (t *Tx) replyToWorklist(ctx context.Context, replyID int64) error {
	_, err := t.tx.ExecContext(ctx, t.s.rebind(`INSERT INTO work_items (kind, ref_id, phone, body, arrived_at, due_at, status)
		SELECT 'reply', id, phone, body, received_at, received_at, 'open' FROM replies WHERE id = ?
		ON CONFLICT (kind, ref_id) WHERE ref_id <> 0 DO NOTHING`), replyID)
	if err != nil {
		return fmt.Errorf("store: reply to worklist: %w", err)
	}
	return nil
}

// SetReplyOutcome records what was made of a reply: a reply for the inbox
// is in the worklist, one handled otherwise is not.
func (s *Store) SetReplyOutcome(ctx context.Context, id int64, status, answer string) error {
	return s.InTx(ctx, func(t *Tx) error {
		if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE replies SET status = ?, answer = ? WHERE id = ?`), status, answer, id); err != nil {
			return fmt.Errorf("store: reply outcome: %w", err)
		}
		if status == ReplyInbox {
			return t.replyToWorklist(ctx, id)
		}
		// Only the item made when the reply arrived, which nobody has
		// taken in the moment since.
		if _, err := t.tx.ExecContext(ctx, s.rebind(`DELETE FROM work_items WHERE kind = 'reply' AND ref_id = ? AND status = 'open' AND claimed_by = ''`), id); err != nil {
			return fmt.Errorf("store: reply outcome: %w", err)
		}
		return nil
	})
}

// Inbox lists replies waiting for an operator, oldest first.
func (s *Store) Inbox(ctx context.Context, limit int) ([]Reply, error) {
	var out []Reply
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT id, provider_id, phone, body, kind, status, answer, received_at FROM replies
		WHERE status = 'inbox' ORDER BY received_at, id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: inbox: %w", err)
	}
	return out, nil
}

// CloseReply marks an inbox reply as dealt with by an operator, and closes
// its work item, whoever holds it.
func (s *Store) CloseReply(ctx context.Context, id int64, by string, now time.Time) error {
	return s.InTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE replies SET status = 'closed', closed_by = ?, closed_at = ? WHERE id = ? AND status = 'inbox'`), by, ms(now), id)
		if err != nil {
			return fmt.Errorf("store: close reply: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE work_items SET status = 'closed', closed_by = ?, closed_at = ?, outcome = 'done', due_for = ''
			WHERE kind = 'reply' AND ref_id = ? AND status = 'open'`), by, ms(now), id); err != nil {
			return fmt.Errorf("store: close reply: %w", err)
		}
		return nil
	})
}

// OptOut stops every future message to phone and withdraws the planned
// ones. It returns how many were withdrawn.
func (s *Store) OptOut(ctx context.Context, phone, source string, now time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(t *Tx) error {
		if _, err := t.tx.ExecContext(ctx, s.rebind(`INSERT INTO opt_outs (phone, at, source) VALUES (?, ?, ?) ON CONFLICT (phone) DO NOTHING`), phone, ms(now), source); err != nil {
			return fmt.Errorf("store: opt out: %w", err)
		}
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE messages SET status = 'withdrawn', error = 'opted out', final_at = ?, updated_at = ? WHERE phone = ? AND status IN ('planned', 'claimed')`),
			ms(now), ms(now), phone)
		if err != nil {
			return fmt.Errorf("store: withdraw opted out: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// IsOptedOut says whether a number asked for no more messages.
func (s *Store) IsOptedOut(ctx context.Context, phone string) (bool, error) {
	var n int
	err := s.rd.GetContext(ctx, &n, s.rebind(`SELECT COUNT(*) FROM opt_outs WHERE phone = ?`), phone)
	return n > 0, err
}

// RemindedBooking is an upcoming booking a phone was reminded of.
type RemindedBooking struct {
	cup.Booking
	MessageID int64
}

// RemindedUpcoming returns the bookings, still ahead of now, that a phone
// has been sent a reminder for, most recent message first. A patient's reply
// can only be about these.
func (s *Store) RemindedUpcoming(ctx context.Context, phone string, now time.Time) ([]RemindedBooking, error) {
	var rows []struct {
		bookingRow
		MessageID int64 `db:"message_id"`
	}
	err := s.rd.SelectContext(ctx, &rows, s.rebind(`SELECT DISTINCT b.node, b.code, b.phone, b.at, b.agenda, b.service_code, b.service, b.service_type, b.facility, b.address, b.priority, b.surname, b.name, m.id AS message_id
		FROM messages m JOIN reminders r ON r.message_id = m.id AND r.status = 'planned'
		JOIN bookings b ON b.node = r.node AND b.code = r.code AND b.at = r.at
		WHERE m.phone = ? AND m.status IN ('sent', 'delivered', 'undelivered') AND b.at > ?
		ORDER BY m.id DESC, b.at`), phone, ms(now))
	if err != nil {
		return nil, fmt.Errorf("store: reminded upcoming: %w", err)
	}
	seen := map[string]bool{}
	var out []RemindedBooking
	for _, r := range rows {
		b := r.booking()
		if seen[b.Key()] {
			continue
		}
		seen[b.Key()] = true
		out = append(out, RemindedBooking{Booking: b, MessageID: r.MessageID})
	}
	return out, nil
}

// Response kinds on a booking.
const (
	ResponseConfirm = "confirm"
	ResponseCancel  = "cancel"
)

// RecordResponse records a confirmation or a cancellation request for a
// booking; repeating it is harmless. A cancellation request goes to the
// worklist, for an operator to carry out in the CUP.
func (s *Store) RecordResponse(ctx context.Context, b cup.Booking, kind string, replyID int64, now time.Time) error {
	status := "recorded"
	if kind == ResponseCancel {
		status = "open" // the CUP has to carry it out
	}
	return s.InTx(ctx, func(t *Tx) error {
		var ids []int64
		err := t.tx.SelectContext(ctx, &ids, s.rebind(`INSERT INTO booking_responses (node, code, at, kind, reply_id, created_at, status) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (node, code, at, kind) DO NOTHING RETURNING id`), b.Node, b.Code, ms(b.At), kind, replyID, ms(now), status)
		if err != nil {
			return fmt.Errorf("store: record response: %w", err)
		}
		if len(ids) == 0 || kind != ResponseCancel {
			return nil
		}
		_, err = t.tx.ExecContext(ctx, s.rebind(`INSERT INTO work_items (kind, ref_id, phone, body, node, code, booking_at, arrived_at, due_at, status)
			SELECT 'cancel', b.id, COALESCE(r.phone, ''), COALESCE(r.body, ''), b.node, b.code, b.at, b.created_at, b.created_at, 'open'
			FROM booking_responses b LEFT JOIN replies r ON r.id = b.reply_id WHERE b.id = ?
			ON CONFLICT (kind, ref_id) WHERE ref_id <> 0 DO NOTHING`), ids[0])
		if err != nil {
			return fmt.Errorf("store: cancellation to worklist: %w", err)
		}
		return nil
	})
}

// Response is a patient's answer about a booking.
type Response struct {
	Node      string `db:"node" json:"node"`
	Code      string `db:"code" json:"code"`
	At        int64  `db:"at" json:"-"`
	Kind      string `db:"kind" json:"kind"`
	Status    string `db:"status" json:"status"`
	CreatedAt int64  `db:"created_at" json:"-"`
}

// Responses lists confirmations and cancellation requests of a kind ("" for all).
func (s *Store) Responses(ctx context.Context, kind string) ([]Response, error) {
	var out []Response
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT node, code, at, kind, status, created_at FROM booking_responses WHERE (? = '' OR kind = ?) ORDER BY created_at, id`), kind, kind)
	if err != nil {
		return nil, fmt.Errorf("store: responses: %w", err)
	}
	return out, nil
}
