package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The targets of the continuity probe.
const (
	ProbeUA    = "ua"    // the engine's own SIP user agent
	ProbeTrunk = "trunk" // the contact centre's SIP trunk
)

// Probe is one SIP OPTIONS sent to a target and what came back.
type Probe struct {
	At     time.Time
	Target string // ProbeUA or ProbeTrunk
	Up     bool
	// SIPCode is the final response, 0 when none came.
	SIPCode int
	RTT     time.Duration
	// Detail says what went wrong (a timeout, a refusal); empty when up.
	Detail string
}

type probeRow struct {
	At      int64  `db:"at"`
	Target  string `db:"target"`
	Up      bool   `db:"up"`
	SIPCode int    `db:"sip_code"`
	RTTMS   int64  `db:"rtt_ms"`
	Detail  string `db:"detail"`
}

// RecordProbe stores one probe of one target.
func (s *Store) RecordProbe(ctx context.Context, p Probe) error {
	if p.At.IsZero() || p.Target == "" {
		return errors.New("store: a probe needs its time and its target")
	}
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO probes (at, target, up, sip_code, rtt_ms, detail) VALUES (?, ?, ?, ?, ?, ?)`),
		ms(p.At), p.Target, p.Up, p.SIPCode, p.RTT.Milliseconds(), p.Detail)
	if err != nil {
		return fmt.Errorf("store: record probe: %w", err)
	}
	return nil
}

// Probes lists the probes made in [from, to), oldest first.
func (s *Store) Probes(ctx context.Context, from, to time.Time) ([]Probe, error) {
	var rows []probeRow
	err := s.rd.SelectContext(ctx, &rows, s.rebind(`SELECT at, target, up, sip_code, rtt_ms, detail FROM probes
		WHERE at >= ? AND at < ? ORDER BY at, id`), ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: probes: %w", err)
	}
	out := make([]Probe, len(rows))
	for i, r := range rows {
		out[i] = Probe{At: FromMillis(r.At), Target: r.Target, Up: r.Up, SIPCode: r.SIPCode,
			RTT: time.Duration(r.RTTMS) * time.Millisecond, Detail: r.Detail}
	}
	return out, nil
}

// FirstProbe is when the first probe ever was made: the start of the
// service the continuity level measures. It is the zero time when there
// has been none.
func (s *Store) FirstProbe(ctx context.Context) (time.Time, error) {
	var at int64
	if err := s.rd.GetContext(ctx, &at, `SELECT COALESCE(MIN(at), 0) FROM probes`); err != nil {
		return time.Time{}, fmt.Errorf("store: first probe: %w", err)
	}
	return FromMillis(at), nil
}

// Maintenance is a declared maintenance window [From, To), excluded from the
// continuity level.
type Maintenance struct {
	ID         int64     `json:"id"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Reason     string    `json:"reason"`
	DeclaredBy string    `json:"declared_by"`
	DeclaredAt time.Time `json:"declared_at"`
}

type maintenanceRow struct {
	ID         int64  `db:"id"`
	From       int64  `db:"from_at"`
	To         int64  `db:"to_at"`
	Reason     string `db:"reason"`
	DeclaredBy string `db:"declared_by"`
	DeclaredAt int64  `db:"declared_at"`
}

// ErrBadWindow is returned for a maintenance window that does not end after
// it starts.
var ErrBadWindow = errors.New("store: a maintenance window must end after it starts")

// AddMaintenance declares a maintenance window and returns its id; ID is
// ignored.
func (s *Store) AddMaintenance(ctx context.Context, m Maintenance) (int64, error) {
	if m.From.IsZero() || !m.To.After(m.From) {
		return 0, ErrBadWindow
	}
	if m.Reason == "" || m.DeclaredBy == "" {
		return 0, errors.New("store: a maintenance window needs a reason and who declared it")
	}
	var id int64
	err := s.db.GetContext(ctx, &id, s.rebind(`INSERT INTO maintenance (from_at, to_at, reason, declared_by, declared_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`), ms(m.From), ms(m.To), m.Reason, m.DeclaredBy, ms(m.DeclaredAt))
	if err != nil {
		return 0, fmt.Errorf("store: add maintenance: %w", err)
	}
	return id, nil
}

// MaintenanceWindows lists the windows that overlap [from, to), by start; a
// zero from or to leaves that side open.
func (s *Store) MaintenanceWindows(ctx context.Context, from, to time.Time) ([]Maintenance, error) {
	q := `SELECT id, from_at, to_at, reason, declared_by, declared_at FROM maintenance WHERE 1 = 1`
	var args []any
	if !from.IsZero() {
		q += ` AND to_at > ?`
		args = append(args, ms(from))
	}
	if !to.IsZero() {
		q += ` AND from_at < ?`
		args = append(args, ms(to))
	}
	var rows []maintenanceRow
	if err := s.rd.SelectContext(ctx, &rows, s.rebind(q+` ORDER BY from_at, id`), args...); err != nil {
		return nil, fmt.Errorf("store: maintenance: %w", err)
	}
	out := make([]Maintenance, len(rows))
	for i, r := range rows {
		out[i] = Maintenance{ID: r.ID, From: FromMillis(r.From), To: FromMillis(r.To), Reason: r.Reason,
			DeclaredBy: r.DeclaredBy, DeclaredAt: FromMillis(r.DeclaredAt)}
	}
	return out, nil
}

// RemoveMaintenance deletes a maintenance window; ErrNotFound when there is
// none with that id.
func (s *Store) RemoveMaintenance(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM maintenance WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: remove maintenance: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: maintenance %d: %w", id, ErrNotFound)
	}
	return nil
}

// LatestProbes is the latest probe of each target that has one, user agent
// first. Each is read backwards along the time index, so it costs the
// same with a year of probes as with a day.
func (s *Store) LatestProbes(ctx context.Context) ([]Probe, error) {
	var out []Probe
	for _, target := range []string{ProbeUA, ProbeTrunk} {
		var rows []probeRow
		err := s.rd.SelectContext(ctx, &rows, s.rebind(`SELECT at, target, up, sip_code, rtt_ms, detail FROM probes
			WHERE target = ? ORDER BY at DESC, id DESC LIMIT 1`), target)
		if err != nil {
			return nil, fmt.Errorf("store: latest probes: %w", err)
		}
		for _, r := range rows {
			out = append(out, Probe{At: FromMillis(r.At), Target: r.Target, Up: r.Up, SIPCode: r.SIPCode,
				RTT: time.Duration(r.RTTMS) * time.Millisecond, Detail: r.Detail})
		}
	}
	return out, nil
}

// CallActivity counts the calls to patients started in [from, to) and how
// many were answered (congestion on the trunk's side is not a call); node
// limits them to the contacts of one CUP node ("" every call).
func (s *Store) CallActivity(ctx context.Context, from, to time.Time, node string) (made, answered int, err error) {
	var r struct {
		Made     int `db:"made"`
		Answered int `db:"answered"`
	}
	err = s.rd.GetContext(ctx, &r, s.rebind(`SELECT COUNT(*) AS made, COALESCE(SUM(CASE WHEN outcome = 'answered' THEN 1 ELSE 0 END), 0) AS answered
		FROM attempts WHERE counted = ? AND started_at >= ? AND started_at < ? AND `+attemptOfNode),
		true, ms(from), ms(to), node, node)
	if err != nil {
		return 0, 0, fmt.Errorf("store: call activity: %w", err)
	}
	return r.Made, r.Answered, nil
}
