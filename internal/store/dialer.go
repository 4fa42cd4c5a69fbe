package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/jmoiron/sqlx"
)

// Campaign is a list of contacts to call for one purpose.
type Campaign struct {
	ID        int64  `db:"id"`
	Name      string `db:"name"`
	Kind      string `db:"kind"`
	CreatedAt int64  `db:"created_at"`
	// Script is the call script (YAML) the campaign was loaded with.
	Script string `db:"script"`
	// State is CampaignActive while serve dials the campaign, else
	// CampaignPaused (a new campaign's state).
	State string `db:"state"`
}

// Campaign states: serve dials the active campaigns only.
const (
	CampaignPaused = "paused"
	CampaignActive = "active"
)

// AnyActive, as ClaimContacts' campaign, claims from every active campaign.
const AnyActive int64 = -1

// NewContact is a contact as a campaign is loaded with it.
type NewContact struct {
	Phone   string // E.164
	Payload string // JSON for the call script; empty is {}
	// Node is the CUP node of the bookings the contact calls about, so
	// that the node's CUP manager sees its calls; "" (stored NULL) when
	// it names none, or bookings of several nodes.
	Node string
}

// nodeValue stores "" as NULL: a contact of no node, seen only by the
// Region's roles.
func nodeValue(node string) any {
	if node == "" {
		return nil
	}
	return node
}

// Contact is a contact as the dialer claims it.
type Contact struct {
	ID             int64  `db:"id"`
	CampaignID     int64  `db:"campaign_id"`
	Seq            int    `db:"seq"`
	Phone          string `db:"phone"`
	Payload        string `db:"payload"`
	LoadedAt       int64  `db:"loaded_at"`
	Attempts       int    `db:"attempts"`
	FirstAttemptAt int64  `db:"first_attempt_at"`
}

// AttemptRecord is one call attempt and the state it leaves its contact in.
type AttemptRecord struct {
	ContactID int64
	Owner     string // the lease holder recording it
	// Counted says the attempt uses up one of the contact's attempts; a
	// congestion is recorded but does not.
	Counted                                   bool
	StartedAt, RingingAt, AnsweredAt, EndedAt time.Time
	SIPCode                                   int
	Outcome                                   string
	Digits                                    string
	Result                                    string // the script's result
	// Answers are what the call's script collected, question by
	// question; none when it asked nothing.
	Answers []Answer
	// Final closes the contact with this attempt; otherwise it is due
	// again at NextAttemptAt.
	Final         bool
	Positive      bool
	NextAttemptAt time.Time
}

// Answer is one thing a call's script asked and what the patient said.
type Answer struct {
	// Question is the script's name for what it asked.
	Question string `json:"question"`
	// Value is what the answer means to the job: a menu result such as
	// "confermato", or a rating such as "4".
	Value string `json:"value"`
	// Keys are the keys pressed for it, wrong ones included.
	Keys string `json:"keys,omitempty"`
}

// AttemptResult is an attempt as its job reads it back: how the call went
// and what it collected.
type AttemptResult struct {
	ContactID int64    `db:"contact_id"`
	Attempt   int      `db:"attempt"`
	StartedAt int64    `db:"started_at"`
	Outcome   string   `db:"outcome"`
	Result    string   `db:"result"`
	Final     bool     `db:"final"`
	Positive  bool     `db:"positive"`
	Answers   []Answer `db:"-"`
}

// AttemptResults lists a campaign's attempts, by contact and attempt, with
// their answers: what a follow-up job reads of the job before it.
func (s *Store) AttemptResults(ctx context.Context, campaign int64) ([]AttemptResult, error) {
	rows, err := s.rd.QueryxContext(ctx, s.rebind(`SELECT a.contact_id, a.attempt, a.started_at, a.outcome, a.result, a.final, a.positive, a.answers
		FROM attempts a WHERE a.campaign_id = ? ORDER BY a.contact_id, a.attempt, a.id`), campaign)
	if err != nil {
		return nil, fmt.Errorf("store: attempt results: %w", err)
	}
	defer rows.Close()
	var out []AttemptResult
	for rows.Next() {
		var (
			a   AttemptResult
			raw string
		)
		if err := rows.Scan(&a.ContactID, &a.Attempt, &a.StartedAt, &a.Outcome, &a.Result, &a.Final, &a.Positive, &raw); err != nil {
			return nil, fmt.Errorf("store: attempt results: %w", err)
		}
		if raw != "" {
			if err := json.Unmarshal([]byte(raw), &a.Answers); err != nil {
				return nil, fmt.Errorf("store: attempt %d of contact %d: answers: %w", a.Attempt, a.ContactID, err)
			}
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: attempt results: %w", err)
	}
	return out, nil
}

// CampaignLoad is a campaign as it is created or added to: its kind, its
// call script and the contacts to append.
type CampaignLoad struct {
	Name, Kind, Script string
	Contacts           []NewContact
}

// LoadCampaign creates campaign l.Name, or adds to the one of that name
// (whose kind must be l.Kind), stores its script and appends its contacts,
// in one transaction: when any part fails the store is left as it was. It
// says whether it created the campaign.
func (s *Store) LoadCampaign(ctx context.Context, l CampaignLoad, now time.Time) (id int64, created bool, err error) {
	err = s.InTx(ctx, func(t *Tx) error {
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR UPDATE"
		}
		var k struct {
			ID   int64  `db:"id"`
			Kind string `db:"kind"`
		}
		err := t.tx.GetContext(ctx, &k, s.rebind(`SELECT id, kind FROM campaigns WHERE name = ?`+lock), l.Name)
		switch {
		case err == nil && k.Kind != l.Kind:
			return fmt.Errorf("campaign %q is a %s campaign, not %s", l.Name, k.Kind, l.Kind)
		case err == nil:
			id = k.ID
		case errors.Is(notFound(err), ErrNotFound):
			if err := t.tx.GetContext(ctx, &id, s.rebind(`INSERT INTO campaigns (name, kind, created_at) VALUES (?, ?, ?) RETURNING id`),
				l.Name, l.Kind, ms(now)); err != nil {
				return err
			}
			created = true
		default:
			return err
		}
		if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE campaigns SET script = ? WHERE id = ?`), l.Script, id); err != nil {
			return err
		}
		return s.loadContacts(ctx, t, id, l.Contacts, now)
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: load campaign %q: %w", l.Name, err)
	}
	return id, created, nil
}

// AddCampaign creates a campaign.
func (s *Store) AddCampaign(ctx context.Context, name, kind string, now time.Time) (int64, error) {
	var id int64
	err := s.db.GetContext(ctx, &id, s.rebind(`INSERT INTO campaigns (name, kind, created_at) VALUES (?, ?, ?) RETURNING id`), name, kind, ms(now))
	if err != nil {
		return 0, fmt.Errorf("store: add campaign %q: %w", name, err)
	}
	return id, nil
}

// CampaignByName looks a campaign up.
func (s *Store) CampaignByName(ctx context.Context, name string) (Campaign, error) {
	var c Campaign
	err := s.rd.GetContext(ctx, &c, s.rebind(`SELECT id, name, kind, created_at, script, state FROM campaigns WHERE name = ?`), name)
	if err != nil {
		return c, fmt.Errorf("store: campaign %q: %w", name, notFound(err))
	}
	return c, nil
}

// OpenContacts counts the contacts of a campaign not yet closed.
func (s *Store) OpenContacts(ctx context.Context, campaign int64) (int, error) {
	var n int
	err := s.rd.GetContext(ctx, &n, s.rebind(`SELECT COUNT(*) FROM contacts WHERE campaign_id = ? AND status <> 'final'`), campaign)
	if err != nil {
		return 0, fmt.Errorf("store: count open contacts: %w", err)
	}
	return n, nil
}

// CampaignByID looks a campaign up by its id.
func (s *Store) CampaignByID(ctx context.Context, id int64) (Campaign, error) {
	var c Campaign
	err := s.rd.GetContext(ctx, &c, s.rebind(`SELECT id, name, kind, created_at, script, state FROM campaigns WHERE id = ?`), id)
	if err != nil {
		return c, fmt.Errorf("store: campaign %d: %w", id, notFound(err))
	}
	return c, nil
}

// SetCampaignState makes a campaign active or paused. It says whether the
// state changed.
func (s *Store) SetCampaignState(ctx context.Context, id int64, state string) (bool, error) {
	if state != CampaignActive && state != CampaignPaused {
		return false, fmt.Errorf("store: campaign state %q is not %s or %s", state, CampaignActive, CampaignPaused)
	}
	var old string
	err := s.InTx(ctx, func(t *Tx) error {
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR UPDATE"
		}
		if err := t.tx.GetContext(ctx, &old, s.rebind(`SELECT state FROM campaigns WHERE id = ?`+lock), id); err != nil {
			return notFound(err)
		}
		_, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE campaigns SET state = ? WHERE id = ?`), state, id)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: campaign %d state: %w", id, err)
	}
	return old != state, nil
}

// CampaignStats is a campaign with where its contacts stand.
type CampaignStats struct {
	Campaign
	Pending    int `db:"pending"`     // waiting for a call or a retry
	InProgress int `db:"in_progress"` // being called (leased)
	Final      int `db:"final"`       // closed
	Positive   int `db:"positive"`    // closed with a positive outcome
	Attempts   int `db:"attempts"`    // counted attempts: calls to patients
}

// CampaignStats lists every campaign, by name, with its contacts' counts.
func (s *Store) CampaignStats(ctx context.Context) ([]CampaignStats, error) {
	return s.NodeCampaignStats(ctx, "")
}

// NodeCampaignStats is CampaignStats counting only the contacts of a CUP
// node, and listing only the campaigns that have some ("" is every
// campaign and contact).
func (s *Store) NodeCampaignStats(ctx context.Context, node string) ([]CampaignStats, error) {
	var out []CampaignStats
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT k.id, k.name, k.kind, k.created_at, '' AS script, k.state,
		COALESCE(c.pending, 0) AS pending, COALESCE(c.in_progress, 0) AS in_progress, COALESCE(c.final, 0) AS final,
		COALESCE(c.positive, 0) AS positive,
		(SELECT COUNT(*) FROM attempts a WHERE a.campaign_id = k.id AND a.counted = ? AND `+attemptOfNode+`) AS attempts
		FROM campaigns k LEFT JOIN (SELECT c.campaign_id,
			SUM(CASE WHEN c.status = 'pending' THEN 1 ELSE 0 END) AS pending,
			SUM(CASE WHEN c.status = 'in_progress' THEN 1 ELSE 0 END) AS in_progress,
			SUM(CASE WHEN c.status = 'final' THEN 1 ELSE 0 END) AS final,
			SUM(CASE WHEN c.status = 'final' AND c.positive = ? THEN 1 ELSE 0 END) AS positive
			FROM contacts c WHERE `+contactOfNode+` GROUP BY c.campaign_id) c ON c.campaign_id = k.id
		WHERE ? = '' OR c.campaign_id IS NOT NULL
		ORDER BY k.name`), true, node, node, true, node, node, node)
	if err != nil {
		return nil, fmt.Errorf("store: campaign stats: %w", err)
	}
	return out, nil
}

// SetCampaignScript records the call script a campaign runs with.
func (s *Store) SetCampaignScript(ctx context.Context, id int64, script string) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE campaigns SET script = ? WHERE id = ?`), script, id)
	if err != nil {
		return fmt.Errorf("store: campaign script: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: campaign %d: %w", id, ErrNotFound)
	}
	return nil
}

// LoadContacts appends contacts to a campaign, numbering them after the
// ones already loaded, in the order given; they are due at once.
func (s *Store) LoadContacts(ctx context.Context, campaignID int64, cs []NewContact, now time.Time) error {
	return s.InTx(ctx, func(t *Tx) error { return s.loadContacts(ctx, t, campaignID, cs, now) })
}

func (s *Store) loadContacts(ctx context.Context, t *Tx, campaignID int64, cs []NewContact, now time.Time) error {
	var seq int
	// MAX under the campaign's row lock on PostgreSQL, so that two loads
	// into one campaign do not number the same.
	if s.dialect == Postgres {
		if _, err := t.tx.ExecContext(ctx, `SELECT id FROM campaigns WHERE id = $1 FOR UPDATE`, campaignID); err != nil {
			return err
		}
	}
	if err := t.tx.GetContext(ctx, &seq, s.rebind(`SELECT COALESCE(MAX(seq), 0) FROM contacts WHERE campaign_id = ?`), campaignID); err != nil {
		return fmt.Errorf("store: load contacts: %w", err)
	}
	for _, c := range cs {
		seq++
		payload := c.Payload
		if payload == "" {
			payload = "{}"
		}
		if err := t.execBatch(ctx, `INSERT INTO contacts (campaign_id, seq, phone, payload, loaded_at, next_attempt_at, node) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			campaignID, seq, c.Phone, payload, ms(now), ms(now), nodeValue(c.Node)); err != nil {
			return fmt.Errorf("store: load contact %d: %w", seq, err)
		}
	}
	return nil
}

// AddDNC puts a number on the do-not-call list.
func (s *Store) AddDNC(ctx context.Context, phone string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO dnc (phone, added_at) VALUES (?, ?) ON CONFLICT (phone) DO NOTHING`), phone, ms(now))
	if err != nil {
		return fmt.Errorf("store: add dnc: %w", err)
	}
	return nil
}

// claimLock serialises claims on PostgreSQL: the rule "one call per number"
// spans rows, which row locks alone cannot enforce between two claimers.
const claimLock = 7247110003

// ClaimContacts leases up to limit due contacts to owner until until. It
// never hands out a number that is already being called (by any contact,
// any owner) or two contacts with the same number at once, nor a number on
// the do-not-call list. Contacts of the campaigns of highest priority come
// first (an urgent move before routine recalls), then in due and load
// order; campaign limits the claim to one campaign (0: any; AnyActive: the
// active ones), so that a campaign being run is not starved by another's
// due contacts.
func (s *Store) ClaimContacts(ctx context.Context, owner string, campaign int64, now, until time.Time, limit int) ([]Contact, error) {
	return s.ClaimContactsWithin(ctx, owner, campaign, now, until, limit, 0)
}

// ClaimContactsWithin is ClaimContacts under a channel limit shared by
// every dialer on the store: it never leaves more than channels contacts
// in progress in all, whoever holds them (0: no shared limit). Several
// engine processes on one PostgreSQL store thus stay within the trunk's
// channels together, not each.
func (s *Store) ClaimContactsWithin(ctx context.Context, owner string, campaign int64, now, until time.Time, limit, channels int) ([]Contact, error) {
	which := `(CAST(? AS BIGINT) = 0 OR c.campaign_id = ?)`
	args := []any{campaign, campaign}
	if campaign == AnyActive {
		which = `c.campaign_id IN (SELECT k.id FROM campaigns k WHERE k.state = ?)`
		args = []any{CampaignActive}
	}
	// A contact of an urgent move whose deadline has passed is never
	// claimed: ExpireUrgentContacts closes it.
	sub := `SELECT c.id FROM contacts c WHERE c.status = 'pending' AND c.next_attempt_at <= ? AND ` + which + `
		AND NOT EXISTS (SELECT 1 FROM dnc d WHERE d.phone = c.phone)
		AND NOT EXISTS (SELECT 1 FROM contacts b WHERE b.phone = c.phone AND b.status = 'in_progress')
		AND NOT EXISTS (SELECT 1 FROM urgent_moves u WHERE u.campaign_id = c.campaign_id AND u.by_at <= ?)
		AND c.id = (SELECT o.id FROM contacts o JOIN campaigns p ON p.id = o.campaign_id
			WHERE o.phone = c.phone AND o.status = 'pending' AND o.next_attempt_at <= ?
			AND NOT EXISTS (SELECT 1 FROM urgent_moves v WHERE v.campaign_id = o.campaign_id AND v.by_at <= ?)
			ORDER BY p.priority DESC, o.id LIMIT 1)
		ORDER BY (SELECT k.priority FROM campaigns k WHERE k.id = c.campaign_id) DESC, c.next_attempt_at, c.campaign_id, c.seq LIMIT ?`
	q := `UPDATE contacts SET status = 'in_progress', lease_owner = ?, lease_until = ?
		WHERE id IN (` + sub + `) AND ` + s.noIndex("status") + ` = 'pending'
		RETURNING id, campaign_id, seq, phone, payload, loaded_at, attempts, first_attempt_at`
	if s.dialect == Postgres {
		// The pick is a CTE, run once: as a subquery of IN, PostgreSQL
		// may run it again for each row (as it chooses, by the table's
		// size), and each run skips the rows the UPDATE already locked and
		// picks others, claiming more than the limit.
		q = `WITH picked AS MATERIALIZED (` + sub + ` FOR UPDATE SKIP LOCKED)
		UPDATE contacts SET status = 'in_progress', lease_owner = ?, lease_until = ?
		WHERE id IN (SELECT id FROM picked) AND status = 'pending'
		RETURNING id, campaign_id, seq, phone, payload, loaded_at, attempts, first_attempt_at`
	}
	q = s.rebind(q)
	var out []Contact
	err := s.InTx(ctx, func(t *Tx) error {
		if s.dialect == Postgres {
			if _, err := t.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(claimLock)); err != nil {
				return err
			}
		}
		n := limit
		if channels > 0 {
			var busy int
			if err := t.tx.GetContext(ctx, &busy, `SELECT COUNT(*) FROM contacts WHERE status = 'in_progress'`); err != nil {
				return err
			}
			n = min(n, channels-busy)
		}
		if n <= 0 {
			return nil
		}
		pick := append(append([]any{ms(now)}, args...), ms(now), ms(now), ms(now), n)
		if s.dialect == Postgres {
			return t.tx.SelectContext(ctx, &out, q, append(pick, owner, ms(until))...)
		}
		return t.tx.SelectContext(ctx, &out, q, append([]any{owner, ms(until)}, pick...)...)
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim contacts: %w", err)
	}
	return out, nil
}

// ReleaseContact returns a claimed contact, not called, to pending, due at next.
func (s *Store) ReleaseContact(ctx context.Context, id int64, owner string, next time.Time) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`UPDATE contacts SET status = 'pending', lease_owner = '', lease_until = 0, next_attempt_at = ?
		WHERE id = ? AND status = 'in_progress' AND lease_owner = ?`), ms(next), id, owner)
	if err != nil {
		return fmt.Errorf("store: release contact: %w", err)
	}
	return nil
}

// RenewLeases extends to until the leases owner holds on the contacts ids
// (those still in progress under owner), and returns the ids it renewed: an
// id left out is no longer owner's. A dialer renews the contacts it is
// calling while their calls last, so that a lease lapses only when its
// dialer stopped renewing it.
func (s *Store) RenewLeases(ctx context.Context, owner string, ids []int64, until time.Time) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := sqlx.In(`UPDATE contacts SET lease_until = ? WHERE status = 'in_progress' AND lease_owner = ? AND id IN (?) RETURNING id`,
		ms(until), owner, ids)
	if err != nil {
		return nil, fmt.Errorf("store: renew leases: %w", err)
	}
	var held []int64
	if err := s.db.SelectContext(ctx, &held, s.rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: renew leases: %w", err)
	}
	return held, nil
}

// RecordAttempt stores an attempt and its contact's new state together.
//
// The attempt is stored even when owner no longer holds the contact (its
// lease lapsed while the call went on): the call to the patient happened,
// and the service levels count it. The contact then counts the attempt,
// but takes the attempt's state (closed, or due again) only if it is
// waiting: nobody else is calling it, and this call, just ended, is the
// latest word on it. A contact another dialer is calling keeps that call's
// lease, and its state is that call's to record; a closed contact stays
// closed, by the call that closed it.
func (s *Store) RecordAttempt(ctx context.Context, a AttemptRecord) error {
	return s.InTx(ctx, func(t *Tx) error {
		var c struct {
			CampaignID int64  `db:"campaign_id"`
			Attempts   int    `db:"attempts"`
			Status     string `db:"status"`
			Owner      string `db:"lease_owner"`
		}
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR UPDATE"
		}
		err := t.tx.GetContext(ctx, &c, s.rebind(`SELECT campaign_id, attempts, status, lease_owner FROM contacts WHERE id = ?`+lock), a.ContactID)
		if err != nil {
			return fmt.Errorf("store: record attempt on contact %d: %w", a.ContactID, notFound(err))
		}
		n := c.Attempts + 1
		answers := ""
		if len(a.Answers) > 0 {
			b, err := json.Marshal(a.Answers)
			if err != nil {
				return fmt.Errorf("store: record attempt: answers: %w", err)
			}
			answers = string(b)
		}
		if _, err := t.tx.ExecContext(ctx, s.rebind(`INSERT INTO attempts (contact_id, campaign_id, attempt, counted, started_at, ringing_at, answered_at, ended_at,
			sip_code, outcome, digits, result, answers, final, positive) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			a.ContactID, c.CampaignID, n, a.Counted, ms(a.StartedAt), ms(a.RingingAt), ms(a.AnsweredAt), ms(a.EndedAt),
			a.SIPCode, a.Outcome, a.Digits, a.Result, answers, a.Final, a.Positive); err != nil {
			return fmt.Errorf("store: record attempt: %w", err)
		}
		counted := 0
		if a.Counted {
			counted = 1
		}
		held := c.Status == "in_progress" && c.Owner == a.Owner
		if !held && c.Status != "pending" {
			_, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE contacts SET attempts = attempts + ?,
				first_attempt_at = CASE WHEN first_attempt_at = 0 AND ? = 1 THEN ? ELSE first_attempt_at END WHERE id = ?`),
				counted, counted, ms(a.StartedAt), a.ContactID)
			if err != nil {
				return fmt.Errorf("store: record attempt: %w", err)
			}
			return nil
		}
		status, finalAt := "pending", int64(0)
		if a.Final {
			status, finalAt = "final", ms(a.EndedAt)
		}
		if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE contacts SET status = ?, outcome = ?, positive = ?, attempts = attempts + ?,
			first_attempt_at = CASE WHEN first_attempt_at = 0 AND ? = 1 THEN ? ELSE first_attempt_at END,
			next_attempt_at = ?, final_at = ?, lease_owner = '', lease_until = 0 WHERE id = ?`),
			status, a.Outcome, a.Positive, counted, counted, ms(a.StartedAt), ms(a.NextAttemptAt), finalAt, a.ContactID); err != nil {
			return fmt.Errorf("store: record attempt: %w", err)
		}
		return nil
	})
}

// ReleaseExpired returns to pending the contacts whose lease lapsed: their
// dialer stopped renewing it (it died, hung or lost the store). No attempt
// is recorded for them here; one that was in fact placed is recorded when
// its dialer comes back (see RecordAttempt).
func (s *Store) ReleaseExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE contacts SET status = 'pending', lease_owner = '', lease_until = 0
		WHERE status = 'in_progress' AND lease_until < ?`), ms(now))
	if err != nil {
		return 0, fmt.Errorf("store: release expired contacts: %w", err)
	}
	return res.RowsAffected()
}

// ExportedAttempt is one row of the raw attempt log.
type ExportedAttempt struct {
	Campaign  string `db:"campaign"`
	ContactID int64  `db:"contact_id"`
	Seq       int    `db:"seq"`
	LoadedAt  int64  `db:"loaded_at"`
	Attempt   int    `db:"attempt"`
	StartedAt int64  `db:"started_at"`
	EndedAt   int64  `db:"ended_at"`
	Outcome   string `db:"outcome"`
	Final     bool   `db:"final"`
	Positive  bool   `db:"positive"`
}

// Attempts yields the counted attempts started in [from, to), of one
// campaign when campaign is not empty, by contact and attempt, reading the
// rows as they come rather than all at once. Congestion attempts are left
// out: they are not calls to the patient.
func (s *Store) Attempts(ctx context.Context, from, to time.Time, campaign string) iter.Seq2[ExportedAttempt, error] {
	return func(yield func(ExportedAttempt, error) bool) {
		q := `SELECT k.name AS campaign, a.contact_id, c.seq, c.loaded_at, a.attempt, a.started_at, a.ended_at, a.outcome, a.final, a.positive
			FROM attempts a JOIN contacts c ON c.id = a.contact_id JOIN campaigns k ON k.id = a.campaign_id
			WHERE a.counted = ? AND a.started_at >= ? AND a.started_at < ?`
		args := []any{true, ms(from), ms(to)}
		if campaign != "" {
			q += ` AND k.name = ?`
			args = append(args, campaign)
		}
		q += ` ORDER BY k.name, c.seq, a.attempt, a.id`
		rows, err := s.rd.QueryxContext(ctx, s.rebind(q), args...)
		if err != nil {
			yield(ExportedAttempt{}, fmt.Errorf("store: attempts: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var a ExportedAttempt
			if err := rows.StructScan(&a); err != nil {
				yield(a, fmt.Errorf("store: attempts: %w", err))
				return
			}
			if !yield(a, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(ExportedAttempt{}, fmt.Errorf("store: attempts: %w", err))
		}
	}
}
