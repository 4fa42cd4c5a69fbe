package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// The web console's queries: accounts, web sessions, the audit log, the
// reminders desk, the operators' inbox and the live overview.

// ErrExists is returned when a row with the same unique name already exists.
var ErrExists = errors.New("store: already exists")

// ErrTaken is returned when an inbox item is held by another operator.
var ErrTaken = errors.New("store: taken by another operator")

// User is a console account.
type User struct {
	ID           int64  `db:"id" json:"id"`
	Name         string `db:"name" json:"name"`
	Role         string `db:"role" json:"role"`
	Node         string `db:"node" json:"node,omitempty"`
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
	PasswordHash string `db:"password_hash"`
	Disabled     int64  `db:"disabled"`
	CreatedAt    int64  `db:"created_at"`
	UpdatedAt    int64  `db:"updated_at"`
}

func (r userRow) user() User {
	return User{ID: r.ID, Name: r.Name, Role: r.Role, Node: r.Node, PasswordHash: r.PasswordHash,
		Disabled: r.Disabled != 0, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

const userCols = `id, name, role, node, password_hash, disabled, created_at, updated_at`

// CreateUser adds an account; a name already taken gives ErrExists.
func (s *Store) CreateUser(ctx context.Context, u User, now time.Time) (int64, error) {
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, s.rebind(`INSERT INTO users (name, role, node, password_hash, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, 0, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id`), u.Name, u.Role, u.Node, u.PasswordHash, ms(now), ms(now))
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
	if err := s.db.GetContext(ctx, &r, s.rebind(`SELECT `+userCols+` FROM users WHERE name = ?`), name); err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", name, notFound(err))
	}
	return r.user(), nil
}

// UserByID looks an account up by id.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	var r userRow
	if err := s.db.GetContext(ctx, &r, s.rebind(`SELECT `+userCols+` FROM users WHERE id = ?`), id); err != nil {
		return User{}, fmt.Errorf("store: user %d: %w", id, notFound(err))
	}
	return r.user(), nil
}

// Users lists every account by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	var rows []userRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+userCols+` FROM users ORDER BY name`); err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, nil
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
	err := s.db.GetContext(ctx, &row, s.rebind(`SELECT ws.token_hash, ws.user_id, ws.csrf, ws.created_at, ws.seen_at, ws.expires_at, ws.remote,
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
	err := s.db.SelectContext(ctx, &out, s.rebind(`SELECT id, at, actor, role, action, target, detail, remote FROM audit_log
		WHERE (? = '' OR action = ?) AND (? = '' OR actor = ?) AND (CAST(? AS BIGINT) = 0 OR id < CAST(? AS BIGINT))
		ORDER BY id DESC LIMIT ?`), f.Action, f.Action, f.Actor, f.Actor, f.BeforeID, f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return out, nil
}

// MessageTally counts messages by how they ended. Sent counts every message
// that reached the provider, whatever happened next; the others split the
// messages by their current status, with withdrawals for an opt-out counted
// apart.
type MessageTally struct {
	Messages    int `json:"messages"`
	Segments    int `json:"segments"`
	Pending     int `json:"pending"` // planned or being sent
	Sent        int `json:"sent"`
	Delivered   int `json:"delivered"`
	Undelivered int `json:"undelivered"`
	Failed      int `json:"failed"`
	Withdrawn   int `json:"withdrawn"`
	OptedOut    int `json:"opted_out"`
	Expired     int `json:"expired"`
}

// tallyRow is one GROUP BY line folded into a MessageTally.
type tallyRow struct {
	Status   string `db:"status"`
	OptedOut int64  `db:"opted_out"`
	Reached  int64  `db:"reached"`
	Messages int    `db:"messages"`
	Segments int    `db:"segments"`
}

// tallySelect groups messages m by status; optedOut separates withdrawals
// caused by a STOP, reached those that went to the provider.
const tallySelect = `m.status AS status,
	CASE WHEN m.status = 'withdrawn' AND m.error = 'opted out' THEN 1 ELSE 0 END AS opted_out,
	CASE WHEN m.sent_at <> 0 THEN 1 ELSE 0 END AS reached,
	COUNT(*) AS messages, COALESCE(SUM(m.segments), 0) AS segments`

const tallyGroup = `m.status, CASE WHEN m.status = 'withdrawn' AND m.error = 'opted out' THEN 1 ELSE 0 END, CASE WHEN m.sent_at <> 0 THEN 1 ELSE 0 END`

func (t *MessageTally) add(r tallyRow) {
	t.Messages += r.Messages
	t.Segments += r.Segments
	if r.Reached != 0 {
		t.Sent += r.Messages
	}
	switch r.Status {
	case StatusPlanned, StatusClaimed, StatusSending, StatusUnknown:
		t.Pending += r.Messages
	case StatusDelivered:
		t.Delivered += r.Messages
	case StatusUndelivered:
		t.Undelivered += r.Messages
	case StatusFailed:
		t.Failed += r.Messages
	case StatusWithdrawn:
		if r.OptedOut != 0 {
			t.OptedOut += r.Messages
		} else {
			t.Withdrawn += r.Messages
		}
	case StatusExpired:
		t.Expired += r.Messages
	}
}

// nodeFilter restricts messages m to those reminding of a booking of node;
// an empty node matches every message. It takes the node twice.
const nodeFilter = `(? = '' OR EXISTS (SELECT 1 FROM reminders rn WHERE rn.message_id = m.id AND rn.node = ?))`

// Run is one import of extracts and what became of its messages.
type Run struct {
	ID         int64  `db:"id" json:"id"`
	Source     string `db:"source" json:"source"`
	StartedAt  int64  `db:"started_at" json:"started_at"`
	FinishedAt int64  `db:"finished_at" json:"finished_at"`
	Rows       int    `db:"rows_read" json:"rows"`
	Valid      int    `db:"valid" json:"valid"`
	Duplicates int    `db:"duplicates" json:"duplicates"`
	Rejected   int    `db:"rejected" json:"rejected"`
	Tally      MessageTally
}

const runCols = `id, source, started_at, COALESCE(finished_at, 0) AS finished_at, rows_read, valid, duplicates, rejected`

// Runs lists finished imports, newest first, with their reminder messages
// tallied. With a node, only the imports that covered it are listed and only
// its messages counted; the row counts stay those of the whole run.
func (s *Store) Runs(ctx context.Context, node string, limit int) ([]Run, error) {
	var runs []Run
	err := s.db.SelectContext(ctx, &runs, s.rebind(`SELECT `+runCols+` FROM imports
		WHERE finished_at IS NOT NULL AND (? = '' OR EXISTS (SELECT 1 FROM import_coverage c WHERE c.import_id = imports.id AND c.node = ?))
		ORDER BY id DESC LIMIT ?`), node, node, limit)
	if err != nil {
		return nil, fmt.Errorf("store: runs: %w", err)
	}
	if len(runs) == 0 {
		return runs, nil
	}
	ids := make([]any, len(runs))
	byID := map[int64]*Run{}
	for i := range runs {
		ids[i] = runs[i].ID
		byID[runs[i].ID] = &runs[i]
	}
	var rows []struct {
		ImportID int64 `db:"import_id"`
		tallyRow
	}
	args := append(append([]any{}, ids...), node, node)
	err = s.db.SelectContext(ctx, &rows, s.rebind(`SELECT m.import_id AS import_id, `+tallySelect+` FROM messages m
		WHERE m.kind = 'reminder' AND m.import_id IN (?`+strings.Repeat(",?", len(ids)-1)+`) AND `+nodeFilter+`
		GROUP BY m.import_id, `+tallyGroup), args...)
	if err != nil {
		return nil, fmt.Errorf("store: run tallies: %w", err)
	}
	for _, r := range rows {
		byID[r.ImportID].Tally.add(r.tallyRow)
	}
	return runs, nil
}

// RunByID returns one import, finished or not, with its messages tallied.
func (s *Store) RunByID(ctx context.Context, id int64, node string) (Run, error) {
	var r Run
	if err := s.db.GetContext(ctx, &r, s.rebind(`SELECT `+runCols+` FROM imports WHERE id = ?`), id); err != nil {
		return Run{}, fmt.Errorf("store: run %d: %w", id, notFound(err))
	}
	var rows []tallyRow
	err := s.db.SelectContext(ctx, &rows, s.rebind(`SELECT `+tallySelect+` FROM messages m
		WHERE m.kind = 'reminder' AND m.import_id = ? AND `+nodeFilter+` GROUP BY `+tallyGroup), id, node, node)
	if err != nil {
		return Run{}, fmt.Errorf("store: run %d tally: %w", id, err)
	}
	for _, row := range rows {
		r.Tally.add(row)
	}
	return r, nil
}

// RunCoversNode says whether an import covered any day of node.
func (s *Store) RunCoversNode(ctx context.Context, id int64, node string) (bool, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, s.rebind(`SELECT COUNT(*) FROM import_coverage WHERE import_id = ? AND node = ?`), id, node); err != nil {
		return false, fmt.Errorf("store: run coverage: %w", err)
	}
	return n > 0, nil
}

// NodeRun is one CUP node's share of an import: the appointment days the
// extract covered for it, the bookings reminded and their messages. A
// message reminding of bookings of two nodes counts for both.
type NodeRun struct {
	Node      string   `json:"node"`
	Days      []string `json:"days"`
	Bookings  int      `json:"bookings"`
	Reminders int      `json:"reminders"`
	Tally     MessageTally
}

// RunNodes splits an import by CUP node; node, when set, keeps only that one.
func (s *Store) RunNodes(ctx context.Context, id int64, node string) ([]NodeRun, error) {
	byNode := map[string]*NodeRun{}
	get := func(n string) *NodeRun {
		if byNode[n] == nil {
			byNode[n] = &NodeRun{Node: n}
		}
		return byNode[n]
	}
	var cov []NodeDay
	if err := s.db.SelectContext(ctx, &cov, s.rebind(`SELECT node AS "node", day AS "day" FROM import_coverage WHERE import_id = ? AND (? = '' OR node = ?) ORDER BY node, day`), id, node, node); err != nil {
		return nil, fmt.Errorf("store: run coverage: %w", err)
	}
	for _, c := range cov {
		nr := get(c.Node)
		nr.Days = append(nr.Days, c.Day)
	}
	var bk []struct {
		Node string `db:"node"`
		N    int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &bk, s.rebind(`SELECT node, COUNT(*) AS n FROM bookings WHERE import_id = ? AND (? = '' OR node = ?) GROUP BY node`), id, node, node); err != nil {
		return nil, fmt.Errorf("store: run bookings: %w", err)
	}
	for _, b := range bk {
		get(b.Node).Bookings = b.N
	}
	var rows []struct {
		Node      string `db:"node"`
		Reminders int    `db:"reminders"`
		tallyRow
	}
	// One line per (node, message) first, so that a message with several
	// bookings of a node counts once for it.
	err := s.db.SelectContext(ctx, &rows, s.rebind(`SELECT x.node AS node, CAST(SUM(x.reminders) AS BIGINT) AS reminders, x.status AS status, x.opted_out AS opted_out, x.reached AS reached,
		COUNT(*) AS messages, COALESCE(SUM(x.segments), 0) AS segments
		FROM (SELECT r.node AS node, m.id AS id, COUNT(*) AS reminders, m.status AS status, m.segments AS segments,
				CASE WHEN m.status = 'withdrawn' AND m.error = 'opted out' THEN 1 ELSE 0 END AS opted_out,
				CASE WHEN m.sent_at <> 0 THEN 1 ELSE 0 END AS reached
			FROM reminders r JOIN messages m ON m.id = r.message_id
			WHERE m.import_id = ? AND (? = '' OR r.node = ?)
			GROUP BY r.node, m.id, m.status, m.segments, m.error, m.sent_at) x
		GROUP BY x.node, x.status, x.opted_out, x.reached`), id, node, node)
	if err != nil {
		return nil, fmt.Errorf("store: run nodes: %w", err)
	}
	for _, r := range rows {
		nr := get(r.Node)
		nr.Reminders += r.Reminders
		nr.Tally.add(r.tallyRow)
	}
	out := make([]NodeRun, 0, len(byNode))
	for _, nr := range byNode {
		out = append(out, *nr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// DayTally is the reminder messages of one appointment day.
type DayTally struct {
	Day   string `json:"day"`
	Tally MessageTally
}

// DayTallies tallies reminder messages by appointment day in [fromDay,
// toDay], latest day first, for one node or all ("").
func (s *Store) DayTallies(ctx context.Context, fromDay, toDay, node string) ([]DayTally, error) {
	var rows []struct {
		Day string `db:"day"`
		tallyRow
	}
	err := s.db.SelectContext(ctx, &rows, s.rebind(`SELECT m.day AS day, `+tallySelect+` FROM messages m
		WHERE m.kind = 'reminder' AND m.day >= ? AND m.day <= ? AND `+nodeFilter+`
		GROUP BY m.day, `+tallyGroup), fromDay, toDay, node, node)
	if err != nil {
		return nil, fmt.Errorf("store: day tallies: %w", err)
	}
	byDay := map[string]*DayTally{}
	var out []DayTally
	for _, r := range rows {
		if byDay[r.Day] == nil {
			byDay[r.Day] = &DayTally{Day: r.Day}
		}
		byDay[r.Day].Tally.add(r.tallyRow)
	}
	for _, d := range byDay {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day > out[j].Day })
	return out, nil
}

// ReasonCount is how many rows of an import were rejected for a reason.
type ReasonCount struct {
	Reason string `db:"reason" json:"reason"`
	Rows   int    `db:"n" json:"rows"`
}

// RejectionReasons counts an import's rejected rows by reason, most
// frequent first.
func (s *Store) RejectionReasons(ctx context.Context, importID int64) ([]ReasonCount, error) {
	var out []ReasonCount
	if err := s.db.SelectContext(ctx, &out, s.rebind(`SELECT reason, COUNT(*) AS n FROM rejections WHERE import_id = ? GROUP BY reason ORDER BY n DESC, reason`), importID); err != nil {
		return nil, fmt.Errorf("store: rejection reasons: %w", err)
	}
	return out, nil
}

// RejectionsByReason lists an import's rejected rows of one reason in file
// and line order.
func (s *Store) RejectionsByReason(ctx context.Context, importID int64, reason string, limit int) ([]RejectionRow, error) {
	var out []RejectionRow
	if err := s.db.SelectContext(ctx, &out, s.rebind(`SELECT file, line, reason, detail FROM rejections WHERE import_id = ? AND reason = ? ORDER BY file, line LIMIT ?`),
		importID, reason, limit); err != nil {
		return nil, fmt.Errorf("store: rejections: %w", err)
	}
	return out, nil
}

// DeliveryFailure is a message that did not reach its patient, with the
// CUP nodes of the bookings it reminded of.
type DeliveryFailure struct {
	ID        int64    `json:"id"`
	Phone     string   `json:"phone"`
	Day       string   `json:"day"`
	Kind      string   `json:"kind"`
	Status    string   `json:"status"`
	ErrorCode int      `json:"error_code"`
	Error     string   `json:"error"`
	FinalAt   int64    `json:"final_at"`
	Nodes     []string `json:"nodes"`
}

// FailureFilter chooses delivery failures; an empty node means all.
type FailureFilter struct {
	FromDay, ToDay string
	Node           string
	Limit          int
}

// DeliveryFailures lists failed and undelivered messages of appointment
// days in the filter's range, newest first.
func (s *Store) DeliveryFailures(ctx context.Context, f FailureFilter) ([]DeliveryFailure, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	var rows []struct {
		ID        int64  `db:"id"`
		Phone     string `db:"phone"`
		Day       string `db:"day"`
		Kind      string `db:"kind"`
		Status    string `db:"status"`
		ErrorCode int    `db:"error_code"`
		Error     string `db:"error"`
		FinalAt   int64  `db:"final_at"`
	}
	err := s.db.SelectContext(ctx, &rows, s.rebind(`SELECT m.id, m.phone, m.day, m.kind, m.status, m.error_code, m.error, m.final_at FROM messages m
		WHERE m.status IN ('failed', 'undelivered') AND m.day >= ? AND m.day <= ? AND `+nodeFilter+`
		ORDER BY m.id DESC LIMIT ?`), f.FromDay, f.ToDay, f.Node, f.Node, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: delivery failures: %w", err)
	}
	out := make([]DeliveryFailure, len(rows))
	idx := map[int64]int{}
	ids := make([]any, len(rows))
	for i, r := range rows {
		out[i] = DeliveryFailure{ID: r.ID, Phone: r.Phone, Day: r.Day, Kind: r.Kind, Status: r.Status, ErrorCode: r.ErrorCode, Error: r.Error, FinalAt: r.FinalAt, Nodes: []string{}}
		idx[r.ID] = i
		ids[i] = r.ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	var nodes []struct {
		ID   int64  `db:"message_id"`
		Node string `db:"node"`
	}
	args := append(ids, f.Node, f.Node)
	if err := s.db.SelectContext(ctx, &nodes, s.rebind(`SELECT DISTINCT message_id, node FROM reminders WHERE message_id IN (?`+strings.Repeat(",?", len(ids)-1)+`)
		AND (? = '' OR node = ?) ORDER BY message_id, node`), args...); err != nil {
		return nil, fmt.Errorf("store: failure nodes: %w", err)
	}
	for _, n := range nodes {
		i := idx[n.ID]
		out[i].Nodes = append(out[i].Nodes, n.Node)
	}
	return out, nil
}

// BookingReminder is one reminder of a booking and the state of its message.
type BookingReminder struct {
	At             int64  `db:"at" json:"at"`
	Offset         int    `db:"offset_days" json:"offset_days"`
	Day            string `db:"day" json:"day"`
	Status         string `db:"status" json:"status"`
	MessageID      int64  `db:"message_id" json:"message_id"`
	MessageStatus  string `db:"message_status" json:"message_status"`
	ProviderStatus string `db:"provider_status" json:"provider_status"`
	ErrorCode      int    `db:"error_code" json:"error_code"`
	Error          string `db:"error" json:"error"`
	Attempts       int    `db:"attempts" json:"attempts"`
	SentAt         int64  `db:"sent_at" json:"sent_at"`
	FinalAt        int64  `db:"final_at" json:"final_at"`
}

// BookingFound is a booking as the console shows it: its latest state from
// the extracts, its reminders and what the patient said about it.
type BookingFound struct {
	Node        string `db:"node" json:"node"`
	Code        string `db:"code" json:"code"`
	Phone       string `db:"phone" json:"phone"`
	At          int64  `db:"at" json:"at"`
	Agenda      string `db:"agenda" json:"agenda"`
	Service     string `db:"service" json:"service"`
	ServiceType string `db:"service_type" json:"service_type"`
	Facility    string `db:"facility" json:"facility"`
	Address     string `db:"address" json:"address"`
	Priority    string `db:"priority" json:"priority"`
	Surname     string `db:"surname" json:"surname"`
	Name        string `db:"name" json:"name"`
	ImportID    int64  `db:"import_id" json:"import_id"`
	UpdatedAt   int64  `db:"updated_at" json:"updated_at"`

	Reminders []BookingReminder `db:"-" json:"reminders"`
	Responses []Response        `db:"-" json:"responses"`
}

// FindBookings looks a booking code up in every node, or in one.
func (s *Store) FindBookings(ctx context.Context, code, node string) ([]BookingFound, error) {
	var out []BookingFound
	err := s.db.SelectContext(ctx, &out, s.rebind(`SELECT node, code, phone, at, agenda, service, service_type, facility, address, priority, surname, name, import_id, updated_at
		FROM bookings WHERE code = ? AND (? = '' OR node = ?) ORDER BY node`), code, node, node)
	if err != nil {
		return nil, fmt.Errorf("store: find booking: %w", err)
	}
	for i := range out {
		b := &out[i]
		if err := s.db.SelectContext(ctx, &b.Reminders, s.rebind(`SELECT r.at, r.offset_days, r.day, r.status, r.message_id,
			COALESCE(m.status, '') AS message_status, COALESCE(m.provider_status, '') AS provider_status,
			COALESCE(m.error_code, 0) AS error_code, COALESCE(m.error, '') AS error, COALESCE(m.attempts, 0) AS attempts,
			COALESCE(m.sent_at, 0) AS sent_at, COALESCE(m.final_at, 0) AS final_at
			FROM reminders r LEFT JOIN messages m ON m.id = r.message_id
			WHERE r.node = ? AND r.code = ? ORDER BY r.at, r.offset_days DESC`), b.Node, b.Code); err != nil {
			return nil, fmt.Errorf("store: booking reminders: %w", err)
		}
		if err := s.db.SelectContext(ctx, &b.Responses, s.rebind(`SELECT node, code, at, kind, status, created_at FROM booking_responses
			WHERE node = ? AND code = ? ORDER BY created_at, id`), b.Node, b.Code); err != nil {
			return nil, fmt.Errorf("store: booking responses: %w", err)
		}
	}
	return out, nil
}

// Inbox item kinds: a patient's reply that the engine could not act on, and
// a cancellation request to carry out in the CUP.
const (
	InboxReply  = "reply"
	InboxCancel = "cancel"
)

// Inbox closures.
const (
	ClosureAnswered = "answered" // an SMS answer was queued
	ClosureDone     = "done"     // dealt with otherwise
)

// InboxItem is one piece of work in the operators' inbox.
type InboxItem struct {
	Kind      string `db:"kind" json:"kind"`
	ID        int64  `db:"id" json:"id"`
	Phone     string `db:"phone" json:"phone"`
	Body      string `db:"body" json:"body"`
	ArrivedAt int64  `db:"arrived_at" json:"arrived_at"`
	ClaimedBy string `db:"claimed_by" json:"claimed_by"`
	ClaimedAt int64  `db:"claimed_at" json:"claimed_at"`
	ClosedBy  string `db:"closed_by" json:"closed_by,omitempty"`
	ClosedAt  int64  `db:"closed_at" json:"closed_at,omitempty"`
	Closure   string `db:"closure" json:"closure,omitempty"`
	Answer    string `db:"answer" json:"answer,omitempty"`
	Node      string `db:"node" json:"node,omitempty"`
	Code      string `db:"code" json:"code,omitempty"`
	BookingAt int64  `db:"booking_at" json:"booking_at,omitempty"`
	Open      bool   `db:"-" json:"open"`
}

// Waited is the time from arrival to closure, or to now while open.
func (it InboxItem) Waited(now time.Time) time.Duration {
	end := ms(now)
	if it.ClosedAt != 0 {
		end = it.ClosedAt
	}
	return time.Duration(end-it.ArrivedAt) * time.Millisecond
}

const (
	replyItemSelect = `SELECT 'reply' AS kind, r.id, r.phone, r.body, r.received_at AS arrived_at, r.claimed_by, r.claimed_at,
		r.closed_by, r.closed_at, r.closure, r.answer, '' AS node, '' AS code, 0 AS booking_at, r.status AS open_status
		FROM replies r`
	cancelItemSelect = `SELECT 'cancel' AS kind, b.id, COALESCE(r.phone, '') AS phone, COALESCE(r.body, '') AS body, b.created_at AS arrived_at,
		b.claimed_by, b.claimed_at, b.closed_by, b.closed_at, b.closure, b.answer, b.node, b.code, b.at AS booking_at, b.status AS open_status
		FROM booking_responses b LEFT JOIN replies r ON r.id = b.reply_id`
)

type inboxRow struct {
	InboxItem
	OpenStatus string `db:"open_status"`
}

func (r inboxRow) item() InboxItem {
	it := r.InboxItem
	it.Open = (it.Kind == InboxReply && r.OpenStatus == ReplyInbox) || (it.Kind == InboxCancel && r.OpenStatus == "open")
	return it
}

// InboxFilter chooses inbox items. Node, when set, keeps only cancellation
// requests of that node: replies carry no node.
type InboxFilter struct {
	Node  string
	Limit int
}

// InboxItems lists the open items, oldest first.
func (s *Store) InboxItems(ctx context.Context, f InboxFilter) ([]InboxItem, error) {
	return s.inboxItems(ctx, f, `r.status = 'inbox'`, `b.kind = 'cancel' AND b.status = 'open'`, "arrived_at, id", false)
}

// ClosedInboxItems lists the items closed from the console, latest first,
// with who closed them and when.
func (s *Store) ClosedInboxItems(ctx context.Context, f InboxFilter) ([]InboxItem, error) {
	return s.inboxItems(ctx, f, `r.closure <> ''`, `b.kind = 'cancel' AND b.closure <> ''`, "closed_at DESC, id DESC", true)
}

func (s *Store) inboxItems(ctx context.Context, f InboxFilter, replyWhere, cancelWhere, order string, desc bool) ([]InboxItem, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	var out []InboxItem
	if f.Node == "" {
		var rows []inboxRow
		q := replyItemSelect + ` WHERE ` + replyWhere + ` ORDER BY ` + strings.ReplaceAll(order, "arrived_at", "received_at") + ` LIMIT ?`
		if err := s.db.SelectContext(ctx, &rows, s.rebind(q), f.Limit); err != nil {
			return nil, fmt.Errorf("store: inbox replies: %w", err)
		}
		for _, r := range rows {
			out = append(out, r.item())
		}
	}
	var rows []inboxRow
	q := cancelItemSelect + ` WHERE ` + cancelWhere + ` AND (? = '' OR b.node = ?) ORDER BY ` + prefixed("b.", strings.ReplaceAll(order, "arrived_at", "created_at")) + ` LIMIT ?`
	if err := s.db.SelectContext(ctx, &rows, s.rebind(q), f.Node, f.Node, f.Limit); err != nil {
		return nil, fmt.Errorf("store: inbox cancellations: %w", err)
	}
	for _, r := range rows {
		out = append(out, r.item())
	}
	slices.SortStableFunc(out, func(a, b InboxItem) int {
		x, y := a.ArrivedAt, b.ArrivedAt
		if desc {
			x, y = b.ClosedAt, a.ClosedAt
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// prefixed qualifies the column names of an ORDER BY list.
func prefixed(p, order string) string {
	parts := strings.Split(order, ",")
	for i, s := range parts {
		parts[i] = p + strings.TrimSpace(s)
	}
	return strings.Join(parts, ", ")
}

// InboxItemByID returns one item, open or closed.
func (s *Store) InboxItemByID(ctx context.Context, kind string, id int64) (InboxItem, error) {
	var r inboxRow
	var q string
	switch kind {
	case InboxReply:
		q = replyItemSelect + ` WHERE r.id = ?`
	case InboxCancel:
		q = cancelItemSelect + ` WHERE b.id = ? AND b.kind = 'cancel'`
	default:
		return InboxItem{}, fmt.Errorf("store: inbox kind %q: %w", kind, ErrNotFound)
	}
	if err := s.db.GetContext(ctx, &r, s.rebind(q), id); err != nil {
		return InboxItem{}, fmt.Errorf("store: inbox item %s %d: %w", kind, id, notFound(err))
	}
	return r.item(), nil
}

// inboxTable names the table and open status of an item kind.
func inboxTable(kind string) (table, open string, err error) {
	switch kind {
	case InboxReply:
		return "replies", ReplyInbox, nil
	case InboxCancel:
		return "booking_responses", "open", nil
	}
	return "", "", fmt.Errorf("store: inbox kind %q: %w", kind, ErrNotFound)
}

// takeErr explains why a conditional update on an open item changed
// nothing: the item is gone or closed (ErrNotFound), or another operator
// holds it (ErrTaken).
func (t *Tx) takeErr(ctx context.Context, kind string, id int64) error {
	it, err := t.s.inboxItem(ctx, t, kind, id)
	if err != nil {
		return err
	}
	if !it.Open {
		return fmt.Errorf("store: inbox item %s %d is closed: %w", kind, id, ErrNotFound)
	}
	return fmt.Errorf("store: inbox item %s %d held by %s: %w", kind, id, it.ClaimedBy, ErrTaken)
}

func (s *Store) inboxItem(ctx context.Context, t *Tx, kind string, id int64) (InboxItem, error) {
	var r inboxRow
	q := replyItemSelect + ` WHERE r.id = ?`
	if kind == InboxCancel {
		q = cancelItemSelect + ` WHERE b.id = ?`
	}
	if err := t.tx.GetContext(ctx, &r, s.rebind(q), id); err != nil {
		return InboxItem{}, fmt.Errorf("store: inbox item %s %d: %w", kind, id, notFound(err))
	}
	return r.item(), nil
}

// ClaimInboxItem gives an open item to one operator; it is ErrTaken while
// another holds it. Claiming an item one already holds is harmless.
func (s *Store) ClaimInboxItem(ctx context.Context, kind string, id int64, by string, now time.Time) error {
	table, open, err := inboxTable(kind)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE `+table+` SET claimed_by = ?, claimed_at = CASE WHEN claimed_by = ? THEN claimed_at ELSE ? END
			WHERE id = ? AND status = ? AND (claimed_by = '' OR claimed_by = ?)`), by, by, ms(now), id, open, by)
		if err != nil {
			return fmt.Errorf("store: claim: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return t.takeErr(ctx, kind, id)
		}
		return nil
	})
}

// ReleaseInboxItem gives back an item one holds, for another operator.
func (s *Store) ReleaseInboxItem(ctx context.Context, kind string, id int64, by string) error {
	table, open, err := inboxTable(kind)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE `+table+` SET claimed_by = '', claimed_at = 0 WHERE id = ? AND status = ? AND claimed_by = ?`), id, open, by)
		if err != nil {
			return fmt.Errorf("store: release: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return t.takeErr(ctx, kind, id)
		}
		return nil
	})
}

// CloseInboxItem marks an item dealt with by by, at now. The item must be
// unclaimed or held by by.
func (s *Store) CloseInboxItem(ctx context.Context, kind string, id int64, by string, now time.Time) error {
	return s.InTx(ctx, func(t *Tx) error {
		return t.closeInboxItem(ctx, kind, id, by, ClosureDone, "", 0, now)
	})
}

func (t *Tx) closeInboxItem(ctx context.Context, kind string, id int64, by, closure, answer string, messageID int64, now time.Time) error {
	table, open, err := inboxTable(kind)
	if err != nil {
		return err
	}
	done := ReplyClosed
	if kind == InboxCancel {
		done = "done"
	}
	// An operator's answer replaces nothing the engine said: inbox replies
	// were not answered automatically.
	res, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE `+table+` SET status = ?, closed_by = ?, closed_at = ?, closure = ?,
		answer = CASE WHEN ? <> '' THEN ? ELSE answer END, answer_message_id = ?,
		claimed_by = ?, claimed_at = CASE WHEN claimed_at = 0 THEN ? ELSE claimed_at END
		WHERE id = ? AND status = ? AND (claimed_by = '' OR claimed_by = ?)`),
		done, by, ms(now), closure, answer, answer, messageID, by, ms(now), id, open, by)
	if err != nil {
		return fmt.Errorf("store: close inbox item: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return t.takeErr(ctx, kind, id)
	}
	return nil
}

// AnswerInboxItem queues msg (kind "answer") in the outbox and closes the
// item as answered, in one transaction: the running sender sends it like any
// planned message.
func (s *Store) AnswerInboxItem(ctx context.Context, kind string, id int64, by string, msg NewMessage, now time.Time) (int64, error) {
	var msgID int64
	err := s.InTx(ctx, func(t *Tx) error {
		it, err := s.inboxItem(ctx, t, kind, id)
		if err != nil {
			return err
		}
		if !it.Open {
			return fmt.Errorf("store: inbox item %s %d is closed: %w", kind, id, ErrNotFound)
		}
		if it.ClaimedBy != "" && it.ClaimedBy != by {
			return fmt.Errorf("store: inbox item %s %d held by %s: %w", kind, id, it.ClaimedBy, ErrTaken)
		}
		ids, err := t.InsertMessages(ctx, []NewMessage{msg}, now)
		if err != nil {
			return err
		}
		msgID = ids[msg.Phone]
		return t.closeInboxItem(ctx, kind, id, by, ClosureAnswered, msg.Body, msgID, now)
	})
	return msgID, err
}

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
	err := s.db.GetContext(ctx, &a, s.rebind(`SELECT
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
}

// GatewayHealth reads the gateway's recent record from the outbox.
func (s *Store) GatewayHealth(ctx context.Context, now time.Time, window time.Duration) (GatewayStats, error) {
	var g GatewayStats
	since := ms(now.Add(-window))
	err := s.db.GetContext(ctx, &g, s.rebind(`SELECT
		(SELECT COALESCE(MAX(sent_at), 0) FROM messages) AS last_sent_at,
		(SELECT COUNT(*) FROM messages WHERE sending_at >= ?) AS attempted,
		(SELECT COUNT(*) FROM messages WHERE sending_at >= ? AND (status IN ('failed', 'undelivered', 'unknown') OR error_code <> 0)) AS errors,
		(SELECT COUNT(*) FROM messages WHERE status = 'unknown') AS unknown,
		(SELECT COUNT(*) FROM messages WHERE status = 'planned' AND not_before <= ? AND expires_at > ?) AS due,
		(SELECT COUNT(*) FROM messages WHERE status IN ('claimed', 'sending')) AS in_flight,
		(SELECT COALESCE(MIN(not_before), 0) FROM messages WHERE status = 'planned' AND not_before <= ? AND expires_at > ?) AS oldest_due`),
		since, since, ms(now), ms(now), ms(now), ms(now))
	if err != nil {
		return GatewayStats{}, fmt.Errorf("store: gateway health: %w", err)
	}
	return g, nil
}

// KnownNodes lists the CUP nodes any import has covered.
func (s *Store) KnownNodes(ctx context.Context) ([]string, error) {
	var out []string
	if err := s.db.SelectContext(ctx, &out, `SELECT DISTINCT node FROM import_coverage ORDER BY node`); err != nil {
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
	if err := s.db.SelectContext(ctx, &out, `SELECT status, COUNT(*) AS messages FROM messages GROUP BY status ORDER BY status`); err != nil {
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
	err := s.db.GetContext(ctx, &b, `SELECT
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
	if err := s.db.GetContext(ctx, &r, `SELECT `+runCols+` FROM imports WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1`); err != nil {
		return Run{}, fmt.Errorf("store: last run: %w", notFound(err))
	}
	return r, nil
}

// SchemaCurrent reports an error unless every embedded migration has been
// applied: a process must not serve on a schema older than its code.
func (s *Store) SchemaCurrent(ctx context.Context) error {
	list, err := s.migrationList()
	if err != nil {
		return err
	}
	var applied []int
	if err := s.db.SelectContext(ctx, &applied, `SELECT version FROM schema_migrations`); err != nil {
		return fmt.Errorf("store: schema version: %w", err)
	}
	have := map[int]bool{}
	for _, v := range applied {
		have[v] = true
	}
	for _, m := range list {
		if !have[m.Version] {
			return fmt.Errorf("store: migration %03d_%s not applied", m.Version, m.Name)
		}
	}
	return nil
}
