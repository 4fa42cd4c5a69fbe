package store

import (
	"context"
	"fmt"
)

// The audit log: who did what from the console.

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID     int64  `db:"id" json:"id"`
	At     int64  `db:"at" json:"at"`
	Actor  string `db:"actor" json:"actor"`
	Role   string `db:"role" json:"role,omitempty"`
	Action string `db:"action" json:"action"`
	Target string `db:"target" json:"target,omitempty"`
	Detail string `db:"detail" json:"detail,omitempty"`
	Remote string `db:"remote" json:"remote,omitempty"`
}

// AddAudit appends to the audit log.
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO audit_log (at, actor, role, action, target, detail, remote) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		e.At, e.Actor, e.Role, e.Action, e.Target, e.Detail, e.Remote)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// AuditFilter narrows the audit log; empty fields match everything.
type AuditFilter struct {
	Action   string
	Actor    string
	BeforeID int64 // entries older than this id, for paging; 0 for the newest
	Limit    int
}

// AuditEntries lists the audit log, newest first.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []AuditEntry
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT id, at, actor, role, action, target, detail, remote FROM audit_log
		WHERE (? = '' OR action = ?) AND (? = '' OR actor = ?) AND (CAST(? AS BIGINT) = 0 OR id < CAST(? AS BIGINT))
		ORDER BY id DESC LIMIT ?`), f.Action, f.Action, f.Actor, f.Actor, f.BeforeID, f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return out, nil
}
