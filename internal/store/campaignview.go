package store

import (
	"context"
	"fmt"
	"time"
)

// What the console's campaign pages read: when each campaign's next calls
// fall due, how its closed contacts ended, and its contacts with their
// attempts. A closed contact's outcome is its last call's result when the
// script gave one (confirmed, cancelled, …), else how the call ended.
//
// Each takes a CUP node: a CUP manager reads only the contacts of its
// node (those of no node, such as the survey's, are the Region's); ""
// reads every contact.

// contactOfNode and attemptOfNode are the node conditions on a contact c
// and on an attempt; each takes the node twice.
const (
	contactOfNode = `(? = '' OR c.node = ?)`
	attemptOfNode = `(? = '' OR contact_id IN (SELECT n.id FROM contacts n WHERE n.node = ?))`
)

// CampaignDue is when a campaign's waiting contacts are due.
type CampaignDue struct {
	CampaignID int64 `db:"campaign_id"`
	// Due counts the contacts due at the time asked; NextDue is the
	// soonest of the others (0 when none).
	Due     int   `db:"due"`
	NextDue int64 `db:"next_due"`
}

// CampaignsDue lists, per campaign with waiting contacts, how many are due
// at now and when the next of the others is.
func (s *Store) CampaignsDue(ctx context.Context, now time.Time, node string) ([]CampaignDue, error) {
	var out []CampaignDue
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT c.campaign_id,
		SUM(CASE WHEN c.next_attempt_at <= ? THEN 1 ELSE 0 END) AS due,
		COALESCE(MIN(CASE WHEN c.next_attempt_at > ? THEN c.next_attempt_at END), 0) AS next_due
		FROM contacts c WHERE c.status = 'pending' AND `+contactOfNode+` GROUP BY c.campaign_id ORDER BY c.campaign_id`), ms(now), ms(now), node, node)
	if err != nil {
		return nil, fmt.Errorf("store: campaigns due: %w", err)
	}
	return out, nil
}

// CallsInProgress counts the contacts being called now, over every
// campaign: the channels they take are shared.
func (s *Store) CallsInProgress(ctx context.Context, node string) (int, error) {
	var n int
	if err := s.rd.GetContext(ctx, &n, s.rebind(`SELECT COUNT(*) FROM contacts c WHERE c.status = 'in_progress' AND `+contactOfNode), node, node); err != nil {
		return 0, fmt.Errorf("store: calls in progress: %w", err)
	}
	return n, nil
}

// contactOutcome is a closed contact's outcome, as the comment above says.
const contactOutcome = `COALESCE(NULLIF((SELECT a.result FROM attempts a WHERE a.contact_id = c.id ORDER BY a.id DESC LIMIT 1), ''), c.outcome)`

// OutcomeCount is how many closed contacts ended one way.
type OutcomeCount struct {
	Outcome  string `db:"outcome"`
	Contacts int    `db:"n"`
}

// CampaignClosures counts a campaign's closed contacts by outcome, most
// frequent first.
func (s *Store) CampaignClosures(ctx context.Context, campaign int64, node string) ([]OutcomeCount, error) {
	var out []OutcomeCount
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT outcome, COUNT(*) AS n FROM (SELECT `+contactOutcome+` AS outcome
		FROM contacts c WHERE c.campaign_id = ? AND c.status = 'final' AND `+contactOfNode+`) x GROUP BY outcome ORDER BY n DESC, outcome`), campaign, node, node)
	if err != nil {
		return nil, fmt.Errorf("store: campaign closures: %w", err)
	}
	return out, nil
}

// CampaignContact is one contact of a campaign, as its page lists it.
type CampaignContact struct {
	ID            int64  `db:"id" json:"id"`
	Seq           int    `db:"seq" json:"seq"`
	Phone         string `db:"phone" json:"phone"`
	Status        string `db:"status" json:"status"`
	Outcome       string `db:"outcome" json:"outcome"`
	Attempts      int    `db:"attempts" json:"attempts"`
	NextAttemptAt int64  `db:"next_attempt_at" json:"next_attempt_at"`
	FinalAt       int64  `db:"final_at" json:"final_at"`
}

// ContactFilter chooses a campaign's contacts: Status "pending",
// "in_progress" or "final" ("" all), and for closed ones an Outcome.
type ContactFilter struct {
	Campaign        int64
	Node            string // a CUP node's contacts only; "" every one
	Status, Outcome string
	// AfterSeq continues after the last contact of the previous page.
	AfterSeq int
	Limit    int
}

// CampaignContacts lists a campaign's contacts in load order.
func (s *Store) CampaignContacts(ctx context.Context, f ContactFilter) ([]CampaignContact, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	var out []CampaignContact
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT * FROM (SELECT c.id, c.seq, c.phone, c.status,
		CASE WHEN c.status = 'final' THEN `+contactOutcome+` ELSE c.outcome END AS outcome,
		c.attempts, c.next_attempt_at, c.final_at
		FROM contacts c WHERE c.campaign_id = ? AND (? = '' OR c.status = ?) AND c.seq > ? AND `+contactOfNode+`) x
		WHERE (? = '' OR x.outcome = ?) ORDER BY x.seq LIMIT ?`),
		f.Campaign, f.Status, f.Status, f.AfterSeq, f.Node, f.Node, f.Outcome, f.Outcome, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: campaign contacts: %w", err)
	}
	return out, nil
}
