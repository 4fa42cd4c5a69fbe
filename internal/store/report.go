package store

import (
	"context"
	"fmt"
	"time"
)

// AcquireLease takes or renews the named lease for owner until the given
// time; it reports false while another owner holds it. Periodic jobs run
// under a lease so that several engine processes fire each schedule once.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO leases (name, owner, until) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
		WHERE leases.owner = excluded.owner OR leases.until < ?`), name, owner, ms(until), ms(now))
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseLease gives a lease up.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM leases WHERE name = ? AND owner = ?`), name, owner)
	return err
}

// StatusCount is a number of messages in a status.
type StatusCount struct {
	Status   string `db:"status" json:"status"`
	Messages int    `db:"messages" json:"messages"`
	Segments int    `db:"segments" json:"segments"`
}

// MessageCounts counts reminder messages by status for appointment days in
// [fromDay, toDay].
func (s *Store) MessageCounts(ctx context.Context, fromDay, toDay string) ([]StatusCount, error) {
	var out []StatusCount
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT status, COUNT(*) AS messages, COALESCE(SUM(segments), 0) AS segments FROM messages
		WHERE day >= ? AND day <= ? GROUP BY status ORDER BY status`), fromDay, toDay)
	if err != nil {
		return nil, fmt.Errorf("store: message counts: %w", err)
	}
	return out, nil
}

// Failure is a message that did not reach its patient.
type Failure struct {
	ID        int64  `db:"id" json:"id"`
	Phone     string `db:"phone" json:"phone"`
	Day       string `db:"day" json:"day"`
	Status    string `db:"status" json:"status"`
	ErrorCode int    `db:"error_code" json:"error_code"`
	Error     string `db:"error" json:"error"`
	// Reason explains ErrorCode to a person; filled by the caller.
	Reason string `db:"-" json:"reason,omitempty"`
}

// Failures lists failed and undelivered messages for appointment days in
// [fromDay, toDay].
func (s *Store) Failures(ctx context.Context, fromDay, toDay string, limit int) ([]Failure, error) {
	var out []Failure
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT id, phone, day, status, error_code, error FROM messages
		WHERE day >= ? AND day <= ? AND status IN ('failed', 'undelivered') ORDER BY id LIMIT ?`), fromDay, toDay, limit)
	if err != nil {
		return nil, fmt.Errorf("store: failures: %w", err)
	}
	return out, nil
}

// ImportSummary describes one import run.
type ImportSummary struct {
	ID         int64  `db:"id" json:"id"`
	Source     string `db:"source" json:"source"`
	StartedAt  int64  `db:"started_at" json:"-"`
	Rows       int    `db:"rows_read" json:"rows"`
	Valid      int    `db:"valid" json:"valid"`
	Duplicates int    `db:"duplicates" json:"duplicates"`
	Rejected   int    `db:"rejected" json:"rejected"`
}

// LastImports lists the most recent imports, newest first.
func (s *Store) LastImports(ctx context.Context, limit int) ([]ImportSummary, error) {
	var out []ImportSummary
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT id, source, started_at, rows_read, valid, duplicates, rejected FROM imports
		WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: imports: %w", err)
	}
	return out, nil
}

// RejectionRow is a stored rejection.
type RejectionRow struct {
	File   string `db:"file" json:"file"`
	Line   int    `db:"line" json:"line"`
	Reason string `db:"reason" json:"reason"`
	Detail string `db:"detail" json:"detail,omitempty"`
}

// Rejections lists an import's unusable rows.
func (s *Store) Rejections(ctx context.Context, importID int64, limit int) ([]RejectionRow, error) {
	var out []RejectionRow
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT file, line, reason, detail FROM rejections WHERE import_id = ? ORDER BY file, line LIMIT ?`), importID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: rejections: %w", err)
	}
	return out, nil
}

// MessageByID is for tests and operators' look-ups.
type MessageRow struct {
	ID         int64  `db:"id" json:"id"`
	Phone      string `db:"phone" json:"phone"`
	Day        string `db:"day" json:"day"`
	Body       string `db:"body" json:"body"`
	Status     string `db:"status" json:"status"`
	Attempts   int    `db:"attempts" json:"attempts"`
	ProviderID string `db:"provider_id" json:"provider_id"`
	ErrorCode  int    `db:"error_code" json:"error_code"`
	Segments   int    `db:"segments" json:"segments"`
	Encoding   string `db:"encoding" json:"encoding"`
}

// Messages lists messages of a phone ("" for all), newest first.
func (s *Store) Messages(ctx context.Context, phone string, limit int) ([]MessageRow, error) {
	var out []MessageRow
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT id, phone, day, body, status, attempts, COALESCE(provider_id, '') AS provider_id, error_code, segments, encoding
		FROM messages WHERE (? = '' OR phone = ?) ORDER BY id DESC LIMIT ?`), phone, phone, limit)
	if err != nil {
		return nil, fmt.Errorf("store: messages: %w", err)
	}
	return out, nil
}
