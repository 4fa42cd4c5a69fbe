package store

import (
	"context"
	"fmt"
)

// A patient's file: what an operator needs on one screen to act on a work
// item about a number, its bookings, its calls and its messages both ways.

// PhoneBookings lists the bookings kept for a number, soonest first; node
// keeps one CUP node's ("" all).
func (s *Store) PhoneBookings(ctx context.Context, phone, node string, limit int) ([]BookingFound, error) {
	var out []BookingFound
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT node, code, phone, at, agenda, service, service_type, facility, address, priority, surname, name, import_id, updated_at
		FROM bookings WHERE phone = ? AND (? = '' OR node = ?) ORDER BY at, node, code LIMIT ?`), phone, node, node, limit)
	if err != nil {
		return nil, fmt.Errorf("store: bookings of a number: %w", err)
	}
	return out, nil
}

// PhoneCall is one call attempt to a number.
type PhoneCall struct {
	ID           int64  `db:"id" json:"id"`
	Campaign     string `db:"campaign" json:"campaign"`
	CampaignKind string `db:"campaign_kind" json:"campaign_kind"`
	StartedAt    int64  `db:"started_at" json:"started_at"`
	EndedAt      int64  `db:"ended_at" json:"ended_at"`
	SIPCode      int    `db:"sip_code" json:"sip_code"`
	Outcome      string `db:"outcome" json:"outcome"`
	Result       string `db:"result" json:"result"`
	Answers      string `db:"answers" json:"answers,omitempty"`
}

// PhoneCalls lists the call attempts to a number, latest first.
func (s *Store) PhoneCalls(ctx context.Context, phone string, limit int) ([]PhoneCall, error) {
	var out []PhoneCall
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT a.id, k.name AS campaign, k.kind AS campaign_kind, a.started_at, a.ended_at,
		a.sip_code, a.outcome, a.result, a.answers
		FROM contacts c JOIN attempts a ON a.contact_id = c.id JOIN campaigns k ON k.id = a.campaign_id
		WHERE c.phone = ? ORDER BY a.started_at DESC, a.id DESC LIMIT ?`), phone, limit)
	if err != nil {
		return nil, fmt.Errorf("store: calls of a number: %w", err)
	}
	return out, nil
}

// PhoneReply is a message a number sent us.
type PhoneReply struct {
	ID         int64  `db:"id" json:"id"`
	Body       string `db:"body" json:"body"`
	Kind       string `db:"kind" json:"kind"`
	ReceivedAt int64  `db:"received_at" json:"received_at"`
	Answer     string `db:"answer" json:"answer,omitempty"`
}

// PhoneReplies lists what a number wrote, latest first.
func (s *Store) PhoneReplies(ctx context.Context, phone string, limit int) ([]PhoneReply, error) {
	var out []PhoneReply
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT id, body, kind, received_at, answer FROM replies
		WHERE phone = ? ORDER BY received_at DESC, id DESC LIMIT ?`), phone, limit)
	if err != nil {
		return nil, fmt.Errorf("store: messages from a number: %w", err)
	}
	return out, nil
}

// ContactCampaign is the campaign a contact belongs to: a call job's work
// item is about one contact (its RefID), and the campaign's script holds
// the operator's text.
func (s *Store) ContactCampaign(ctx context.Context, contactID int64) (Campaign, error) {
	var c Campaign
	err := s.rd.GetContext(ctx, &c, s.rebind(`SELECT k.id, k.name, k.kind, k.created_at, k.script, k.state
		FROM contacts c JOIN campaigns k ON k.id = c.campaign_id WHERE c.id = ?`), contactID)
	if err != nil {
		return Campaign{}, fmt.Errorf("store: campaign of contact %d: %w", contactID, notFound(err))
	}
	return c, nil
}

// WorkItemCampaign is the call campaign a call job's work item came from.
// Each job keys its items by its own records: a survey's by the contact,
// a monitored agenda's recall by the booking asked about, an urgent move's
// by its target; an offer's item has no campaign (ErrNotFound).
func (s *Store) WorkItemCampaign(ctx context.Context, kind string, ref int64) (Campaign, error) {
	const cols = `k.id, k.name, k.kind, k.created_at, k.script, k.state`
	var q string
	switch kind {
	case "survey":
		q = `SELECT ` + cols + ` FROM contacts c JOIN campaigns k ON k.id = c.campaign_id WHERE c.id = ?`
	case "recall":
		q = `SELECT ` + cols + ` FROM recall_bookings b JOIN campaigns k ON k.id = b.campaign_id WHERE b.id = ?`
	case WorkUrgent:
		q = `SELECT ` + cols + ` FROM urgent_targets t JOIN urgent_moves m ON m.id = t.move_id JOIN campaigns k ON k.id = m.campaign_id WHERE t.id = ?`
	default:
		return Campaign{}, fmt.Errorf("store: campaign of a %s work item: %w", kind, ErrNotFound)
	}
	var c Campaign
	if err := s.rd.GetContext(ctx, &c, s.rebind(q), ref); err != nil {
		return Campaign{}, fmt.Errorf("store: campaign of %s work item %d: %w", kind, ref, notFound(err))
	}
	return c, nil
}
