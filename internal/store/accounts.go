package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Console accounts and their signed-in browsers.

// ErrExists is returned when a row with the same unique name already exists.
var ErrExists = errors.New("store: already exists")

// User is a console account.
type User struct {
	ID   int64  `db:"id" json:"id"`
	Name string `db:"name" json:"name"`
	Role string `db:"role" json:"role"`
	Node string `db:"node" json:"node,omitempty"`
	// OperatorCode is the code the operator announces on inbound calls,
	// as the call log gives it; "" for an account that is no operator.
	OperatorCode string `db:"operator_code" json:"operator_code,omitempty"`
	PasswordHash string `db:"password_hash" json:"-"`
	Disabled     bool   `db:"disabled" json:"disabled"`
	CreatedAt    int64  `db:"created_at" json:"-"`
	UpdatedAt    int64  `db:"updated_at" json:"-"`
}

// userRow scans the flag as an integer: SQLite and PostgreSQL agree on
// BIGINT, not on booleans.
type userRow struct {
	ID           int64  `db:"id"`
	Name         string `db:"name"`
	Role         string `db:"role"`
	Node         string `db:"node"`
	OperatorCode string `db:"operator_code"`
	PasswordHash string `db:"password_hash"`
	Disabled     int64  `db:"disabled"`
	CreatedAt    int64  `db:"created_at"`
	UpdatedAt    int64  `db:"updated_at"`
}

func (r userRow) user() User {
	return User{ID: r.ID, Name: r.Name, Role: r.Role, Node: r.Node, OperatorCode: r.OperatorCode, PasswordHash: r.PasswordHash,
		Disabled: r.Disabled != 0, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

const userCols = `id, name, role, node, operator_code, password_hash, disabled, created_at, updated_at`

// CreateUser adds an account; a name already taken gives ErrExists.
func (s *Store) CreateUser(ctx context.Context, u User, now time.Time) (int64, error) {
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, s.rebind(`INSERT INTO users (name, role, node, operator_code, password_hash, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id`), u.Name, u.Role, u.Node, u.OperatorCode, u.PasswordHash, ms(now), ms(now))
	if err != nil {
		return 0, fmt.Errorf("store: create user: %w", err)
	}
	if len(ids) == 0 {
		return 0, fmt.Errorf("store: user %q: %w", u.Name, ErrExists)
	}
	return ids[0], nil
}

// UserByName looks an account up by its exact name.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	var r userRow
	if err := s.rd.GetContext(ctx, &r, s.rebind(`SELECT `+userCols+` FROM users WHERE name = ?`), name); err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", name, notFound(err))
	}
	return r.user(), nil
}

// UserByID looks an account up by id.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	var r userRow
	if err := s.rd.GetContext(ctx, &r, s.rebind(`SELECT `+userCols+` FROM users WHERE id = ?`), id); err != nil {
		return User{}, fmt.Errorf("store: user %d: %w", id, notFound(err))
	}
	return r.user(), nil
}

// Users lists every account by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	var rows []userRow
	if err := s.rd.SelectContext(ctx, &rows, `SELECT `+userCols+` FROM users ORDER BY name`); err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, nil
}

// SetUserOperatorCode sets the operator's code of an account ("" clears
// it).
func (s *Store) SetUserOperatorCode(ctx context.Context, id int64, code string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE users SET operator_code = ?, updated_at = ? WHERE id = ?`), code, ms(now), id)
	if err != nil {
		return fmt.Errorf("store: set operator code: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: user %d: %w", id, ErrNotFound)
	}
	return nil
}

// SetUserDisabled disables or re-enables an account. Disabling also ends its
// web sessions, so that it is locked out at once and not at their expiry.
func (s *Store) SetUserDisabled(ctx context.Context, id int64, disabled bool, now time.Time) error {
	flag := 0
	if disabled {
		flag = 1
	}
	return s.InTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?`), flag, ms(now), id)
		if err != nil {
			return fmt.Errorf("store: disable user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: user %d: %w", id, ErrNotFound)
		}
		if disabled {
			if _, err := t.tx.ExecContext(ctx, s.rebind(`DELETE FROM web_sessions WHERE user_id = ?`), id); err != nil {
				return fmt.Errorf("store: end sessions: %w", err)
			}
		}
		return nil
	})
}

// WebSession is a signed-in browser. TokenHash is a hash of the cookie's
// value, never the value itself.
type WebSession struct {
	TokenHash string `db:"token_hash"`
	UserID    int64  `db:"user_id"`
	CSRF      string `db:"csrf"`
	CreatedAt int64  `db:"created_at"`
	SeenAt    int64  `db:"seen_at"`
	ExpiresAt int64  `db:"expires_at"`
	Remote    string `db:"remote"`
}

// CreateWebSession records a new sign-in.
func (s *Store) CreateWebSession(ctx context.Context, ws WebSession) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO web_sessions (token_hash, user_id, csrf, created_at, seen_at, expires_at, remote) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		ws.TokenHash, ws.UserID, ws.CSRF, ws.CreatedAt, ws.SeenAt, ws.ExpiresAt, ws.Remote)
	if err != nil {
		return fmt.Errorf("store: create web session: %w", err)
	}
	return nil
}

// WebSessionUser returns a live session and its account: not expired at now,
// and the account not disabled. Anything else is ErrNotFound.
func (s *Store) WebSessionUser(ctx context.Context, tokenHash string, now time.Time) (WebSession, User, error) {
	var row struct {
		WebSession
		User userRow `db:"u"`
	}
	err := s.rd.GetContext(ctx, &row, s.rebind(`SELECT ws.token_hash, ws.user_id, ws.csrf, ws.created_at, ws.seen_at, ws.expires_at, ws.remote,
		u.id AS "u.id", u.name AS "u.name", u.role AS "u.role", u.node AS "u.node", u.password_hash AS "u.password_hash",
		u.disabled AS "u.disabled", u.created_at AS "u.created_at", u.updated_at AS "u.updated_at"
		FROM web_sessions ws JOIN users u ON u.id = ws.user_id
		WHERE ws.token_hash = ? AND ws.expires_at > ? AND u.disabled = 0`), tokenHash, ms(now))
	if err != nil {
		return WebSession{}, User{}, fmt.Errorf("store: web session: %w", notFound(err))
	}
	return row.WebSession, row.User.user(), nil
}

// ExtendWebSession moves a session's idle expiry forward.
func (s *Store) ExtendWebSession(ctx context.Context, tokenHash string, seen, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`UPDATE web_sessions SET seen_at = ?, expires_at = ? WHERE token_hash = ?`), ms(seen), ms(expires), tokenHash)
	if err != nil {
		return fmt.Errorf("store: extend web session: %w", err)
	}
	return nil
}

// DeleteWebSession signs a browser out.
func (s *Store) DeleteWebSession(ctx context.Context, tokenHash string) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM web_sessions WHERE token_hash = ?`), tokenHash); err != nil {
		return fmt.Errorf("store: delete web session: %w", err)
	}
	return nil
}

// DeleteExpiredWebSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredWebSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM web_sessions WHERE expires_at <= ?`), ms(now))
	if err != nil {
		return 0, fmt.Errorf("store: expire web sessions: %w", err)
	}
	return res.RowsAffected()
}
