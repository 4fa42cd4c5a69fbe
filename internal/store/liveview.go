package store

import (
	"context"
	"fmt"
	"time"
)

// The Region's live view: the hour-by-hour calls of a day, who is signed
// in to the console and what each holds, and the signs that something has
// stopped (delivery reports not arriving, no call placed while contacts
// are due).

// HourCalls is the calls started in one hour from a day's start.
type HourCalls struct {
	Hour     int `db:"h"` // hours since the start asked
	Made     int `db:"made"`
	Answered int `db:"answered"`
}

// HourlyCalls counts the counted attempts started in [from, to) by hour
// since from, with those answered; node limits them to the contacts of
// one CUP node ("" every call).
func (s *Store) HourlyCalls(ctx context.Context, from, to time.Time, node string) ([]HourCalls, error) {
	var out []HourCalls
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT h, COUNT(*) AS made, SUM(answered) AS answered FROM (
		SELECT (started_at - ?) / 3600000 AS h, CASE WHEN outcome = 'answered' THEN 1 ELSE 0 END AS answered
		FROM attempts WHERE counted = ? AND started_at >= ? AND started_at < ? AND `+attemptOfNode+`) x GROUP BY h ORDER BY h`),
		ms(from), true, ms(from), ms(to), node, node)
	if err != nil {
		return nil, fmt.Errorf("store: hourly calls: %w", err)
	}
	return out, nil
}

// SignedInUser is an account with a session seen recently.
type SignedInUser struct {
	Name   string `db:"name"`
	Role   string `db:"role"`
	SeenAt int64  `db:"seen_at"`
}

// SignedIn lists the accounts with a session not expired at now and seen
// since since, latest first.
func (s *Store) SignedIn(ctx context.Context, now, since time.Time) ([]SignedInUser, error) {
	var out []SignedInUser
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT u.name, u.role, MAX(w.seen_at) AS seen_at
		FROM web_sessions w JOIN users u ON u.id = w.user_id
		WHERE w.expires_at > ? AND w.seen_at >= ? GROUP BY u.name, u.role ORDER BY seen_at DESC, u.name`), ms(now), ms(since))
	if err != nil {
		return nil, fmt.Errorf("store: signed in: %w", err)
	}
	return out, nil
}

// HeldWorkItems lists every open item someone holds.
func (s *Store) HeldWorkItems(ctx context.Context) ([]WorkItem, error) {
	var out []WorkItem
	err := s.rd.SelectContext(ctx, &out, `SELECT `+workCols+` FROM work_items WHERE status = 'open' AND claimed_by <> '' ORDER BY claimed_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: held work items: %w", err)
	}
	return out, nil
}

// AwaitingReports counts the messages the provider accepted before
// before whose delivery report has not come.
func (s *Store) AwaitingReports(ctx context.Context, before time.Time) (int, error) {
	var n int
	if err := s.rd.GetContext(ctx, &n, s.rebind(`SELECT COUNT(*) FROM messages WHERE status = 'sent' AND sent_at > 0 AND sent_at < ?`), ms(before)); err != nil {
		return 0, fmt.Errorf("store: awaiting reports: %w", err)
	}
	return n, nil
}

// LastAttemptAt is when the latest call attempt started (zero for none).
func (s *Store) LastAttemptAt(ctx context.Context) (time.Time, error) {
	var at int64
	if err := s.rd.GetContext(ctx, &at, `SELECT COALESCE(MAX(started_at), 0) FROM attempts`); err != nil {
		return time.Time{}, fmt.Errorf("store: last attempt: %w", err)
	}
	return FromMillis(at), nil
}
