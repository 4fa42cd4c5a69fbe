package store

import (
	"context"
	"fmt"
	"time"
)

// OutMsg is a message as the sender sees it.
type OutMsg struct {
	ID        int64  `db:"id"`
	Phone     string `db:"phone"`
	Body      string `db:"body"`
	Attempts  int    `db:"attempts"`
	SendingAt int64  `db:"sending_at"`
	CreatedAt int64  `db:"created_at"`
}

// Claim leases up to limit due messages to owner. A claimed message has not
// been sent: if the owner dies, the lease expires and the message returns to
// planned untouched.
func (s *Store) Claim(ctx context.Context, owner string, now, until time.Time, limit int) ([]OutMsg, error) {
	sub := `SELECT id FROM messages WHERE status = 'planned' AND not_before <= ? AND next_attempt_at <= ? AND expires_at > ?
		AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = messages.phone)
		ORDER BY not_before, id LIMIT ?`
	q := `UPDATE messages SET status = 'claimed', lease_owner = ?, lease_until = ?, updated_at = ?
		WHERE id IN (` + sub + `) AND ` + s.noIndex("status") + ` = 'planned' RETURNING id, phone, body, attempts, sending_at, created_at`
	args := []any{owner, ms(until), ms(now), ms(now), ms(now), ms(now), limit}
	if s.dialect == Postgres {
		// The pick runs once, as a CTE: as a subquery of IN, PostgreSQL may
		// run it again for rows of the UPDATE, each run skipping the rows
		// already locked and picking others, past the limit.
		q = `WITH picked AS MATERIALIZED (` + sub + ` FOR UPDATE SKIP LOCKED)
		UPDATE messages SET status = 'claimed', lease_owner = ?, lease_until = ?, updated_at = ?
		WHERE id IN (SELECT id FROM picked) AND status = 'planned' RETURNING id, phone, body, attempts, sending_at, created_at`
		args = []any{ms(now), ms(now), ms(now), limit, owner, ms(until), ms(now)}
	}
	var out []OutMsg
	if err := s.db.SelectContext(ctx, &out, s.rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	return out, nil
}

// MarkSending commits, before the gateway is called, that this message may
// reach the provider. It reports false if the lease was lost.
func (s *Store) MarkSending(ctx context.Context, id int64, owner string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE messages SET status = 'sending', attempts = attempts + 1, sending_at = ?, updated_at = ?
		WHERE id = ? AND status = 'claimed' AND lease_owner = ?`), ms(now), ms(now), id, owner)
	if err != nil {
		return false, fmt.Errorf("store: mark sending: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// MarkSent records the provider's acceptance and applies any delivery
// report that overtook it.
func (s *Store) MarkSent(ctx context.Context, id int64, providerID, providerStatus string, now time.Time) error {
	return s.InTx(ctx, func(t *Tx) error {
		if err := t.lockProviderID(ctx, providerID); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE messages SET status = 'sent', provider_id = ?, provider_status = ?, sent_at = ?, lease_owner = '', updated_at = ?
			WHERE id = ? AND status IN ('sending', 'unknown')`), providerID, providerStatus, ms(now), ms(now), id); err != nil {
			return fmt.Errorf("store: mark sent: %w", err)
		}
		var p []struct {
			Status string `db:"status"`
			Code   int    `db:"error_code"`
			At     int64  `db:"at"`
		}
		if err := t.tx.SelectContext(ctx, &p, s.rebind(`SELECT status, error_code, at FROM pending_statuses WHERE provider_id = ?`), providerID); err != nil {
			return err
		}
		for _, ps := range p {
			if _, err := t.applyStatus(ctx, providerID, ps.Status, ps.Code, FromMillis(ps.At)); err != nil {
				return err
			}
			if _, err := t.tx.ExecContext(ctx, s.rebind(`DELETE FROM pending_statuses WHERE provider_id = ?`), providerID); err != nil {
				return err
			}
		}
		return nil
	})
}

// MarkRetry puts a message back for a later attempt after a failure that
// certainly did not reach the provider.
func (s *Store) MarkRetry(ctx context.Context, id int64, next time.Time, code int, reason string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`UPDATE messages SET status = 'planned', next_attempt_at = ?, error_code = ?, error = ?, lease_owner = '', updated_at = ?
		WHERE id = ? AND status IN ('sending', 'claimed', 'unknown')`), ms(next), code, reason, ms(now), id)
	if err != nil {
		return fmt.Errorf("store: mark retry: %w", err)
	}
	return nil
}

// Release returns a claimed message, never attempted, to planned.
func (s *Store) Release(ctx context.Context, id int64, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`UPDATE messages SET status = 'planned', lease_owner = '', updated_at = ? WHERE id = ? AND status = 'claimed'`), ms(now), id)
	return err
}

// MarkFailed records a permanent failure; the message is never retried.
func (s *Store) MarkFailed(ctx context.Context, id int64, code int, reason string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`UPDATE messages SET status = 'failed', error_code = ?, error = ?, lease_owner = '', final_at = ?, updated_at = ?
		WHERE id = ? AND status IN ('sending', 'unknown', 'claimed')`), code, reason, ms(now), ms(now), id)
	if err != nil {
		return fmt.Errorf("store: mark failed: %w", err)
	}
	return nil
}

// MarkUnknown records that a send may or may not have reached the provider;
// it is reconciled with the provider before anything else happens to it.
func (s *Store) MarkUnknown(ctx context.Context, id int64, reason string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`UPDATE messages SET status = 'unknown', error = ?, lease_owner = '', updated_at = ? WHERE id = ? AND status = 'sending'`),
		reason, ms(now), id)
	if err != nil {
		return fmt.Errorf("store: mark unknown: %w", err)
	}
	return nil
}

// ReleaseExpiredClaims returns to planned the claimed messages whose owner
// let the lease lapse (it died before attempting them).
func (s *Store) ReleaseExpiredClaims(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE messages SET status = 'planned', lease_owner = '', updated_at = ? WHERE status = 'claimed' AND lease_until < ?`), ms(now), ms(now))
	if err != nil {
		return 0, fmt.Errorf("store: release claims: %w", err)
	}
	return res.RowsAffected()
}

// ToReconcile returns the messages whose send outcome is unknown: marked
// unknown at least quiet ago, or left 'sending' by an owner whose lease
// lapsed (a crash between the call and its answer).
func (s *Store) ToReconcile(ctx context.Context, now time.Time, quiet time.Duration, limit int) ([]OutMsg, error) {
	var out []OutMsg
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT id, phone, body, attempts, sending_at, created_at FROM messages
		WHERE (status = 'unknown' AND updated_at <= ?) OR (status = 'sending' AND lease_until < ?)
		ORDER BY id LIMIT ?`), ms(now.Add(-quiet)), ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: to reconcile: %w", err)
	}
	return out, nil
}

// ExpirePlanned gives up on planned messages whose appointment is too close
// for a reminder to make sense. It looks only at the messages due (their
// sending hours have come), through the index the claim uses: every
// sender runs it every second, under the write lock, and going through
// every planned message took 300 ms once a million were waiting. A
// message that expires before its sending hours open is never claimed
// (Claim asks for expires_at after now) and is marked expired when they
// open.
func (s *Store) ExpirePlanned(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE messages SET status = 'expired', final_at = ?, updated_at = ?
		WHERE status = 'planned' AND not_before <= ? AND expires_at <= ?`), ms(now), ms(now), ms(now), ms(now))
	if err != nil {
		return 0, fmt.Errorf("store: expire: %w", err)
	}
	return res.RowsAffected()
}

// Waiting counts planned messages that are not due yet (their sending
// hours have not come) and the earliest time one is.
func (s *Store) Waiting(ctx context.Context, now time.Time) (n int, from time.Time, err error) {
	var row struct {
		N    int   `db:"n"`
		From int64 `db:"first"`
	}
	err = s.rd.GetContext(ctx, &row, s.rebind(`SELECT COUNT(*) AS n, COALESCE(MIN(not_before), 0) AS first FROM messages
		WHERE status = 'planned' AND not_before > ? AND expires_at > not_before`), ms(now))
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: waiting messages: %w", err)
	}
	if row.N > 0 {
		from = FromMillis(row.From)
	}
	return row.N, from, nil
}

// PendingCount counts messages not yet settled with the provider: planned
// and due, or in flight.
func (s *Store) PendingCount(ctx context.Context, now time.Time) (due, inflight int, err error) {
	err = s.rd.GetContext(ctx, &due, s.rebind(`SELECT COUNT(*) FROM messages WHERE status = 'planned' AND not_before <= ? AND expires_at > ?`), ms(now), ms(now))
	if err != nil {
		return 0, 0, err
	}
	err = s.rd.GetContext(ctx, &inflight, `SELECT COUNT(*) FROM messages WHERE status IN ('claimed', 'sending', 'unknown')`)
	return due, inflight, err
}

// lockProviderID serialises the recording of a send and of its delivery
// reports. Without it, on PostgreSQL, a report arriving while the send is
// being committed finds no message, parks itself as pending, and the send's
// look for pending reports misses it: the message would stay 'sent' for
// good. SQLite has one connection and needs no lock.
func (t *Tx) lockProviderID(ctx context.Context, providerID string) error {
	if t.s.dialect != Postgres {
		return nil
	}
	_, err := t.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(72471, hashtext($1))`, providerID)
	if err != nil {
		return fmt.Errorf("store: lock provider id: %w", err)
	}
	return nil
}

var statusRank = map[string]int{
	"queued": 1, "accepted": 1, "sending": 2, "sent": 3,
	"delivered": 4, "undelivered": 4, "failed": 4, "read": 5,
}

// ReportOutcome is what became of a provider delivery report.
type ReportOutcome string

const (
	// ReportApplied: the message now has the report's status.
	ReportApplied ReportOutcome = "applied"
	// ReportEarly: the send is not recorded yet; the report is kept for it.
	ReportEarly ReportOutcome = "early"
	// ReportStale: the message is further on (a "sent" after "delivered").
	ReportStale ReportOutcome = "stale"
	// ReportContradicts: the message already has another final status
	// (an "undelivered" after "delivered"), which stays.
	ReportContradicts ReportOutcome = "contradicts"
)

// StatusReport says what ApplyStatus did with a report.
type StatusReport struct {
	Outcome ReportOutcome
	// Kept is the provider status that stays when the report contradicts it.
	Kept string
}

// ourStatus maps a provider status to the message's, and says whether it
// is final: delivered, undelivered and failed never change once recorded.
func ourStatus(providerStatus string) (string, bool) {
	switch providerStatus {
	case "delivered", "read":
		return StatusDelivered, true
	case "undelivered":
		return StatusUndelivered, true
	case "failed":
		return StatusFailed, true
	}
	return StatusSent, false
}

// ApplyStatus records a provider delivery report. Reports can arrive out of
// order and before the send is recorded; a report never moves a message
// backwards, an early one is kept until the send is recorded, and a final
// status once recorded stays: a later report that contradicts it (a
// message delivered, then undelivered) is not applied, and the outcome says
// so for the caller to log.
func (s *Store) ApplyStatus(ctx context.Context, providerID, status string, errorCode int, now time.Time) (StatusReport, error) {
	var out StatusReport
	err := s.InTx(ctx, func(t *Tx) error {
		if err := t.lockProviderID(ctx, providerID); err != nil {
			return err
		}
		var err error
		if out, err = t.applyStatus(ctx, providerID, status, errorCode, now); err != nil || out.Outcome != ReportEarly {
			return err
		}
		// A final status parked for the send stays too.
		res, err := t.tx.ExecContext(ctx, s.rebind(`INSERT INTO pending_statuses (provider_id, status, error_code, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (provider_id) DO UPDATE SET status = excluded.status, error_code = excluded.error_code, at = excluded.at
			WHERE pending_statuses.status NOT IN ('delivered', 'undelivered', 'failed', 'read')
				OR (pending_statuses.status = 'delivered' AND excluded.status = 'read')`),
			providerID, status, errorCode, ms(now))
		if err != nil {
			return fmt.Errorf("store: keep early status: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var kept string
		if err := t.tx.GetContext(ctx, &kept, s.rebind(`SELECT status FROM pending_statuses WHERE provider_id = ?`), providerID); err != nil {
			return fmt.Errorf("store: early status: %w", err)
		}
		out = StatusReport{Outcome: ReportStale}
		if ours, final := ourStatus(status); final {
			if was, _ := ourStatus(kept); was != ours {
				out = StatusReport{Outcome: ReportContradicts, Kept: kept}
			}
		}
		return nil
	})
	return out, err
}

func (t *Tx) applyStatus(ctx context.Context, providerID, status string, errorCode int, now time.Time) (StatusReport, error) {
	var cur struct {
		ID     int64  `db:"id"`
		Status string `db:"provider_status"`
	}
	err := t.tx.GetContext(ctx, &cur, t.s.rebind(`SELECT id, provider_status FROM messages WHERE provider_id = ?`), providerID)
	if err != nil {
		if notFound(err) == ErrNotFound {
			return StatusReport{Outcome: ReportEarly}, nil
		}
		return StatusReport{}, err
	}
	if statusRank[status] < statusRank[cur.Status] {
		return StatusReport{Outcome: ReportStale}, nil
	}
	ours, isFinal := ourStatus(status)
	final := int64(0)
	if isFinal {
		final = ms(now)
	}
	// The condition, not the read above, decides: a message already final
	// takes only a report that agrees with it ("read" after "delivered").
	res, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE messages SET provider_status = ?, status = ?, error_code = CASE WHEN ? <> 0 THEN ? ELSE error_code END,
		final_at = CASE WHEN CAST(? AS BIGINT) <> 0 THEN CAST(? AS BIGINT) ELSE final_at END, updated_at = ?
		WHERE id = ? AND (status NOT IN ('delivered', 'undelivered', 'failed') OR status = ?)`),
		status, ours, errorCode, errorCode, final, final, ms(now), cur.ID, ours)
	if err != nil {
		return StatusReport{}, fmt.Errorf("store: apply status: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return StatusReport{}, fmt.Errorf("store: apply status: %w", err)
	}
	if n == 0 {
		return StatusReport{Outcome: ReportContradicts, Kept: cur.Status}, nil
	}
	return StatusReport{Outcome: ReportApplied}, nil
}
