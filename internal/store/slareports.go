package store

import (
	"context"
	"fmt"
	"time"

	"github.com/richiamo/richiamo/internal/sla"
)

// SLAAttempt is the stored attempt as the raw attempt log shows it: times
// to the second in Europe/Rome, as `richiamo export attempts` writes them.
// The engine's own reports read attempts through it, so that a report and
// its export can only disagree if the export is wrong.
func (a ExportedAttempt) SLAAttempt(loc *time.Location) sla.Attempt {
	t := func(v int64) time.Time { return FromMillis(v).Truncate(time.Second).In(loc) }
	return sla.Attempt{Campaign: a.Campaign, Contact: fmt.Sprint(a.ContactID), Seq: a.Seq, LoadedAt: t(a.LoadedAt),
		Attempt: a.Attempt, StartedAt: t(a.StartedAt), EndedAt: t(a.EndedAt), Outcome: a.Outcome, Final: a.Final, Positive: a.Positive}
}

// WrittenContact is a patient's SMS that needed a person: it went to the
// inbox, and is closed when an operator dealt with it.
type WrittenContact struct {
	ID         int64  `db:"id"`
	Phone      string `db:"phone"`
	Kind       string `db:"kind"`
	ReceivedAt int64  `db:"received_at"`
	ClosedAt   int64  `db:"closed_at"`
	ClosedBy   string `db:"closed_by"`
	Closure    string `db:"closure"`
}

// WrittenContacts lists the written contacts received in [from, to).
func (s *Store) WrittenContacts(ctx context.Context, from, to time.Time) ([]WrittenContact, error) {
	var out []WrittenContact
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT id, phone, kind, received_at, closed_at, closed_by, closure
		FROM replies WHERE status IN ('inbox', 'closed') AND received_at >= ? AND received_at < ?
		ORDER BY received_at, id`), ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: written contacts: %w", err)
	}
	return out, nil
}

// WrittenContactsByID lists the written contacts with these ids.
func (s *Store) WrittenContactsByID(ctx context.Context, ids []int64) ([]WrittenContact, error) {
	out := []WrittenContact{}
	for len(ids) > 0 {
		part := ids[:min(len(ids), 500)]
		ids = ids[len(part):]
		q, args := inList(`SELECT id, phone, kind, received_at, closed_at, closed_by, closure FROM replies WHERE id IN (%s) ORDER BY received_at, id`, part)
		var rows []WrittenContact
		if err := s.rd.SelectContext(ctx, &rows, s.rebind(q), args...); err != nil {
			return nil, fmt.Errorf("store: written contacts: %w", err)
		}
		out = append(out, rows...)
	}
	return out, nil
}

func inList(q string, ids []int64) (string, []any) {
	marks := make([]byte, 0, 2*len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			marks = append(marks, ',')
		}
		marks = append(marks, '?')
		args[i] = id
	}
	return fmt.Sprintf(q, marks), args
}

// AttemptedContact is an attempt with its contact, for the lists behind a
// report's figures.
type AttemptedContact struct {
	AttemptID int64  `db:"attempt_id"`
	ContactID int64  `db:"contact_id"`
	Campaign  string `db:"campaign"`
	Seq       int    `db:"seq"`
	Phone     string `db:"phone"`
	Attempt   int    `db:"attempt"`
	StartedAt int64  `db:"started_at"`
	EndedAt   int64  `db:"ended_at"`
	SIPCode   int    `db:"sip_code"`
	Outcome   string `db:"outcome"`
	Result    string `db:"result"`
	Final     bool   `db:"final"`
	Positive  bool   `db:"positive"`
}

// AttemptFilter picks attempts: those started in [From, To), of Campaign
// when set, of contacts with Seq in [SeqFrom, SeqTo] when SeqTo > 0, and
// the last attempt of each such contact only when LastOnly (a package's
// contacts, attempted in any period).
type AttemptFilter struct {
	From, To       time.Time
	Campaign       string
	SeqFrom, SeqTo int
	LastOnly       bool
	CountedOnly    bool
}

// AttemptedContacts lists the attempts a filter picks, by start.
func (s *Store) AttemptedContacts(ctx context.Context, f AttemptFilter) ([]AttemptedContact, error) {
	q := `SELECT a.id AS attempt_id, a.contact_id, k.name AS campaign, c.seq, c.phone, a.attempt, a.started_at, a.ended_at,
			a.sip_code, a.outcome, a.result, a.final, a.positive
		FROM attempts a JOIN contacts c ON c.id = a.contact_id JOIN campaigns k ON k.id = a.campaign_id WHERE 1 = 1`
	var args []any
	if !f.From.IsZero() {
		q += ` AND a.started_at >= ?`
		args = append(args, ms(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND a.started_at < ?`
		args = append(args, ms(f.To))
	}
	if f.CountedOnly {
		q += ` AND a.counted = ?`
		args = append(args, true)
	}
	if f.Campaign != "" {
		q += ` AND k.name = ?`
		args = append(args, f.Campaign)
	}
	if f.SeqTo > 0 {
		q += ` AND c.seq >= ? AND c.seq <= ?`
		args = append(args, f.SeqFrom, f.SeqTo)
	}
	if f.LastOnly {
		q += ` AND a.id = (SELECT MAX(b.id) FROM attempts b WHERE b.contact_id = a.contact_id AND b.counted = ?)`
		args = append(args, true)
	}
	q += ` ORDER BY a.started_at, a.id`
	var out []AttemptedContact
	if err := s.rd.SelectContext(ctx, &out, s.rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: attempted contacts: %w", err)
	}
	return out, nil
}

// SLAReport is a kept service-level report: its figures as computed (JSON).
type SLAReport struct {
	ID         int64  `db:"id" json:"id"`
	Kind       string `db:"kind" json:"kind"`
	PeriodFrom string `db:"period_from" json:"period_from"`
	PeriodTo   string `db:"period_to" json:"period_to"`
	Profile    string `db:"profile" json:"profile"`
	CreatedAt  int64  `db:"created_at" json:"-"`
	CreatedBy  string `db:"created_by" json:"created_by"`
	Data       string `db:"data" json:"-"`
}

// KeepSLAReport stores a report unless one of its kind and period is kept
// already; kept says whether this one was. Several engine processes making
// the same report keep one.
func (s *Store) KeepSLAReport(ctx context.Context, r SLAReport) (id int64, kept bool, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`INSERT INTO sla_reports (kind, period_from, period_to, profile, created_at, created_by, data)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, period_from) DO NOTHING RETURNING id`),
		r.Kind, r.PeriodFrom, r.PeriodTo, r.Profile, r.CreatedAt, r.CreatedBy, r.Data)
	if err != nil {
		return 0, false, fmt.Errorf("store: keep report: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return 0, false, fmt.Errorf("store: keep report: %w", err)
		}
		kept = true
	}
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("store: keep report: %w", err)
	}
	if !kept {
		err = s.rd.GetContext(ctx, &id, s.rebind(`SELECT id FROM sla_reports WHERE kind = ? AND period_from = ?`), r.Kind, r.PeriodFrom)
		if err != nil {
			return 0, false, fmt.Errorf("store: keep report: %w", err)
		}
	}
	return id, kept, nil
}

// SLAReports lists the kept reports, newest period first, without their
// data.
func (s *Store) SLAReports(ctx context.Context) ([]SLAReport, error) {
	out := []SLAReport{}
	err := s.rd.SelectContext(ctx, &out, `SELECT id, kind, period_from, period_to, profile, created_at, created_by, '' AS data
		FROM sla_reports ORDER BY period_from DESC, kind`)
	if err != nil {
		return nil, fmt.Errorf("store: reports: %w", err)
	}
	return out, nil
}

// SLAReportByID is one kept report with its data.
func (s *Store) SLAReportByID(ctx context.Context, id int64) (SLAReport, error) {
	var r SLAReport
	err := s.rd.GetContext(ctx, &r, s.rebind(`SELECT id, kind, period_from, period_to, profile, created_at, created_by, data
		FROM sla_reports WHERE id = ?`), id)
	if err != nil {
		return r, fmt.Errorf("store: report %d: %w", id, notFound(err))
	}
	return r, nil
}

// FirstRecord is the instant of the engine's first record: its first
// extract import, message, contact loaded into a campaign, call attempt or
// continuity probe. It is the zero time on a store with none of them; a
// period that ends before it has nothing of the engine's to report.
func (s *Store) FirstRecord(ctx context.Context) (time.Time, error) {
	var at int64
	err := s.rd.GetContext(ctx, &at, `SELECT COALESCE(MIN(m), 0) FROM (
		SELECT MIN(started_at) AS m FROM imports
		UNION ALL SELECT MIN(created_at) FROM messages
		UNION ALL SELECT MIN(loaded_at) FROM contacts
		UNION ALL SELECT MIN(started_at) FROM attempts
		UNION ALL SELECT MIN(at) FROM probes) AS firsts`)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: first record: %w", err)
	}
	return FromMillis(at), nil
}
