package store

import (
	"context"
	"fmt"
	"time"
)

// The live overview's and the metrics' read model: SMS activity in a
// window, the gateway's recent record, the inbox backlog and the latest
// import.

// Activity counts SMS events in a time window: sent when the provider took
// them, delivered or not when it said so.
type Activity struct {
	Sent        int `db:"sent" json:"sent"`
	Delivered   int `db:"delivered" json:"delivered"`
	Failed      int `db:"failed" json:"failed"`
	Undelivered int `db:"undelivered" json:"undelivered"`
}

// SMSActivity counts messages of every kind sent, delivered and failed in
// [from, to), for one node or all ("").
func (s *Store) SMSActivity(ctx context.Context, from, to time.Time, node string) (Activity, error) {
	var a Activity
	f, t := ms(from), ms(to)
	err := s.rd.GetContext(ctx, &a, s.rebind(`SELECT
		COALESCE(SUM(CASE WHEN m.sent_at >= ? AND m.sent_at < ? THEN 1 ELSE 0 END), 0) AS sent,
		COALESCE(SUM(CASE WHEN m.status = 'delivered' AND m.final_at >= ? AND m.final_at < ? THEN 1 ELSE 0 END), 0) AS delivered,
		COALESCE(SUM(CASE WHEN m.status = 'failed' AND m.final_at >= ? AND m.final_at < ? THEN 1 ELSE 0 END), 0) AS failed,
		COALESCE(SUM(CASE WHEN m.status = 'undelivered' AND m.final_at >= ? AND m.final_at < ? THEN 1 ELSE 0 END), 0) AS undelivered
		FROM messages m WHERE ((m.sent_at >= ? AND m.sent_at < ?) OR (m.final_at >= ? AND m.final_at < ?)) AND `+nodeFilter),
		f, t, f, t, f, t, f, t, f, t, f, t, node, node)
	if err != nil {
		return Activity{}, fmt.Errorf("store: sms activity: %w", err)
	}
	return a, nil
}

// GatewayStats describe how sending has gone lately.
type GatewayStats struct {
	LastSentAt int64 `db:"last_sent_at" json:"last_sent_at"`
	// Attempted messages went to the gateway in the window; Errors of them
	// ended failed or carry a provider error (retried, or not delivered).
	Attempted int `db:"attempted" json:"attempted"`
	Errors    int `db:"errors" json:"errors"`
	// Unknown are sends whose outcome awaits reconciliation; Due are planned
	// messages whose time has come; InFlight are claimed or being sent.
	Unknown  int `db:"unknown" json:"unknown"`
	Due      int `db:"due" json:"due"`
	InFlight int `db:"in_flight" json:"in_flight"`
	// OldestDue is the not-before time of the longest-waiting due message.
	OldestDue int64 `db:"oldest_due" json:"oldest_due"`
	// Unconfirmed were sent more than ConfirmAfter ago (and within
	// ConfirmWithin) and still have no delivery report.
	Unconfirmed int `db:"unconfirmed" json:"unconfirmed"`
}

// GatewayHealth reads the gateway's recent record from the outbox.
func (s *Store) GatewayHealth(ctx context.Context, now time.Time, window time.Duration) (GatewayStats, error) {
	var g GatewayStats
	since := ms(now.Add(-window))
	err := s.rd.GetContext(ctx, &g, s.rebind(`SELECT
		(SELECT COALESCE(MAX(sent_at), 0) FROM messages) AS last_sent_at,
		(SELECT COUNT(*) FROM messages WHERE sending_at >= ?) AS attempted,
		(SELECT COUNT(*) FROM messages WHERE sending_at >= ? AND (status IN ('failed', 'undelivered', 'unknown') OR error_code <> 0)) AS errors,
		(SELECT COUNT(*) FROM messages WHERE status = 'unknown') AS unknown,
		(SELECT COUNT(*) FROM messages WHERE status = 'planned' AND not_before <= ? AND expires_at > ?) AS due,
		(SELECT COUNT(*) FROM messages WHERE status IN ('claimed', 'sending')) AS in_flight,
		(SELECT COALESCE(MIN(not_before), 0) FROM messages WHERE status = 'planned' AND not_before <= ? AND expires_at > ?) AS oldest_due,
		(SELECT COUNT(*) FROM messages WHERE status = 'sent' AND sent_at BETWEEN ? AND ?) AS unconfirmed`),
		since, since, ms(now), ms(now), ms(now), ms(now), ms(now.Add(-ConfirmWithin)), ms(now.Add(-ConfirmAfter)))
	if err != nil {
		return GatewayStats{}, fmt.Errorf("store: gateway health: %w", err)
	}
	return g, nil
}

// KnownNodes lists the CUP nodes any import has covered.
func (s *Store) KnownNodes(ctx context.Context) ([]string, error) {
	var out []string
	if err := s.rd.SelectContext(ctx, &out, `SELECT DISTINCT node FROM import_coverage ORDER BY node`); err != nil {
		return nil, fmt.Errorf("store: nodes: %w", err)
	}
	return out, nil
}

// StatusTotal is the number of messages in a status, of every kind.
type StatusTotal struct {
	Status   string `db:"status"`
	Messages int    `db:"messages"`
}

// StatusTotals counts every message by status; it reads only the status
// index, so that a metrics scrape stays cheap on a large outbox.
func (s *Store) StatusTotals(ctx context.Context) ([]StatusTotal, error) {
	var out []StatusTotal
	if err := s.rd.SelectContext(ctx, &out, `SELECT status, COUNT(*) AS messages FROM messages GROUP BY status ORDER BY status`); err != nil {
		return nil, fmt.Errorf("store: status totals: %w", err)
	}
	return out, nil
}

// InboxBacklog is what waits in the operators' inbox.
type InboxBacklog struct {
	Replies       int   `db:"replies"`
	Cancellations int   `db:"cancellations"`
	OldestReply   int64 `db:"oldest_reply"`
	OldestCancel  int64 `db:"oldest_cancel"`
}

// InboxBacklog counts the open inbox items and finds the oldest.
func (s *Store) InboxBacklog(ctx context.Context) (InboxBacklog, error) {
	var b InboxBacklog
	err := s.rd.GetContext(ctx, &b, `SELECT
		(SELECT COUNT(*) FROM replies WHERE status = 'inbox') AS replies,
		(SELECT COUNT(*) FROM booking_responses WHERE kind = 'cancel' AND status = 'open') AS cancellations,
		(SELECT COALESCE(MIN(received_at), 0) FROM replies WHERE status = 'inbox') AS oldest_reply,
		(SELECT COALESCE(MIN(created_at), 0) FROM booking_responses WHERE kind = 'cancel' AND status = 'open') AS oldest_cancel`)
	if err != nil {
		return InboxBacklog{}, fmt.Errorf("store: inbox backlog: %w", err)
	}
	return b, nil
}

// LastRun returns the latest finished import, or ErrNotFound.
func (s *Store) LastRun(ctx context.Context) (Run, error) {
	var r Run
	if err := s.rd.GetContext(ctx, &r, `SELECT `+runCols+` FROM imports WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1`); err != nil {
		return Run{}, fmt.Errorf("store: last run: %w", notFound(err))
	}
	return r, nil
}
