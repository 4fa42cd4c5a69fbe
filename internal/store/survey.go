package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// InboundCall is a call the phone system reported, as the survey keeps it.
type InboundCall struct {
	CallID     string `db:"call_id"`
	Caller     string `db:"caller"`
	StartedAt  int64  `db:"started_at"`
	AnsweredAt int64  `db:"answered_at"`
	EndedAt    int64  `db:"ended_at"`
	Operator   string `db:"operator"`
	Queue      string `db:"queue"`
	Outcome    string `db:"outcome"`
	// Day is EndedAt's date (YYYY-MM-DD) in Europe/Rome.
	Day string `db:"day"`
}

// RecordInboundCalls keeps calls the phone system reported, each once by
// its call id (a file read again, or a call both in a file and posted,
// adds nothing); it returns how many were new.
func (s *Store) RecordInboundCalls(ctx context.Context, calls []InboundCall, now time.Time) (int, error) {
	added := 0
	err := s.InTx(ctx, func(t *Tx) error {
		added = 0
		for _, c := range calls {
			res, err := t.tx.ExecContext(ctx, s.rebind(`INSERT INTO inbound_calls (call_id, caller, started_at, answered_at, ended_at, operator, queue, outcome, day, received_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO NOTHING`),
				c.CallID, c.Caller, c.StartedAt, c.AnsweredAt, c.EndedAt, c.Operator, c.Queue, c.Outcome, c.Day, ms(now))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			added += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: record inbound calls: %w", err)
	}
	return added, nil
}

// InboundCallsOfDay are the day's calls in order of end, ties by call id.
func (s *Store) InboundCallsOfDay(ctx context.Context, day string) ([]InboundCall, error) {
	var out []InboundCall
	if err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT call_id, caller, started_at, answered_at, ended_at, operator, queue, outcome, day
		FROM inbound_calls WHERE day = ? ORDER BY ended_at, call_id`), day); err != nil {
		return nil, fmt.Errorf("store: inbound calls of %s: %w", day, err)
	}
	return out, nil
}

// SurveyHistory is what decides whether a number may be surveyed: the
// do-not-call list, the refusals, and when numbers were last surveyed.
type SurveyHistory struct {
	DoNotCall map[string]bool
	Refusals  map[string]bool
	// Last is the latest end time (ms) of a sampled call per number.
	Last map[string]int64
}

// SurveyHistoryBetween loads what was known before until: the do-not-call
// list and the refusals added before it, and the numbers sampled from
// calls that ended in [since, until). A day's draw reads it up to the
// day's start, so that what happens during the day (a sample, a refusal)
// does not move the numbering of the day's calls.
func (s *Store) SurveyHistoryBetween(ctx context.Context, since, until time.Time) (SurveyHistory, error) {
	h := SurveyHistory{DoNotCall: map[string]bool{}, Refusals: map[string]bool{}, Last: map[string]int64{}}
	var phones []string
	if err := s.rd.SelectContext(ctx, &phones, s.rebind(`SELECT phone FROM dnc WHERE added_at < ?`), ms(until)); err != nil {
		return h, fmt.Errorf("store: survey history: %w", err)
	}
	for _, p := range phones {
		h.DoNotCall[p] = true
	}
	phones = nil
	if err := s.rd.SelectContext(ctx, &phones, s.rebind(`SELECT phone FROM survey_refusals WHERE refused_at < ?`), ms(until)); err != nil {
		return h, fmt.Errorf("store: survey history: %w", err)
	}
	for _, p := range phones {
		h.Refusals[p] = true
	}
	var last []struct {
		Phone string `db:"phone"`
		At    int64  `db:"at"`
	}
	if err := s.rd.SelectContext(ctx, &last, s.rebind(`SELECT phone, MAX(ended_at) AS at FROM survey_samples WHERE ended_at >= ? AND ended_at < ? GROUP BY phone`),
		ms(since), ms(until)); err != nil {
		return h, fmt.Errorf("store: survey history: %w", err)
	}
	for _, l := range last {
		h.Last[l.Phone] = l.At
	}
	return h, nil
}

// NewSurveySample is a call drawn for the survey, with its contact.
type NewSurveySample struct {
	CallID, Day, Operator, Phone string
	EndedAt, DueAt, NotAfter     time.Time
	// Payload is the contact's payload for the interview.
	Payload string
}

// AddSurveySamples keeps the calls drawn and gives each a contact of the
// survey campaign, due at its DueAt, in one transaction. A call already
// drawn is left as it is, so a draw repeated while the day goes on adds
// only the new calls; it returns how many were added.
func (s *Store) AddSurveySamples(ctx context.Context, campaignID int64, samples []NewSurveySample, now time.Time) (int, error) {
	added := 0
	err := s.InTx(ctx, func(t *Tx) error {
		added = 0
		if s.dialect == Postgres {
			// Numbering the contacts under the campaign's row lock, as
			// loadContacts does.
			if _, err := t.tx.ExecContext(ctx, `SELECT id FROM campaigns WHERE id = $1 FOR UPDATE`, campaignID); err != nil {
				return err
			}
		}
		var seq int
		if err := t.tx.GetContext(ctx, &seq, s.rebind(`SELECT COALESCE(MAX(seq), 0) FROM contacts WHERE campaign_id = ?`), campaignID); err != nil {
			return err
		}
		for _, sm := range samples {
			var n int
			if err := t.tx.GetContext(ctx, &n, s.rebind(`SELECT COUNT(*) FROM survey_samples WHERE call_id = ?`), sm.CallID); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			seq++
			var contact int64
			if err := t.tx.GetContext(ctx, &contact, s.rebind(`INSERT INTO contacts (campaign_id, seq, phone, payload, loaded_at, next_attempt_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), campaignID, seq, sm.Phone, sm.Payload, ms(now), ms(sm.DueAt)); err != nil {
				return err
			}
			// The primary key keeps a call drawn once even when two
			// draws race: the second transaction fails and leaves
			// nothing.
			if _, err := t.tx.ExecContext(ctx, s.rebind(`INSERT INTO survey_samples (call_id, day, operator, phone, ended_at, not_after, contact_id)
				VALUES (?, ?, ?, ?, ?, ?, ?)`), sm.CallID, sm.Day, sm.Operator, sm.Phone, ms(sm.EndedAt), ms(sm.NotAfter), contact); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: add survey samples: %w", err)
	}
	return added, nil
}

// SurveyExpired is the outcome of a survey contact that could not be
// called in time.
const SurveyExpired = "expired"

// ExpireSurveySamples closes the survey contacts still waiting for a call
// whose time ran out (not_after at or before now), as expired. A contact
// being called at that moment is left to its call: one conditional write
// decides, so a contact is never both called and expired. It returns how
// many expired.
func (s *Store) ExpireSurveySamples(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.InTx(ctx, func(t *Tx) error {
		var ids []int64
		if err := t.tx.SelectContext(ctx, &ids, s.rebind(`UPDATE contacts SET status = 'final', outcome = ?, final_at = ?
			WHERE status = 'pending' AND id IN (SELECT contact_id FROM survey_samples WHERE not_after <= ? AND expired_at = 0)
			RETURNING id`), SurveyExpired, ms(now), ms(now)); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE survey_samples SET expired_at = ? WHERE contact_id = ?`), ms(now), id); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: expire survey samples: %w", err)
	}
	return n, nil
}

// RefuseSurveys records that phone refused surveys.
func (s *Store) RefuseSurveys(ctx context.Context, phone string, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO survey_refusals (phone, refused_at) VALUES (?, ?) ON CONFLICT (phone) DO NOTHING`),
		phone, ms(now)); err != nil {
		return fmt.Errorf("store: refuse surveys: %w", err)
	}
	return nil
}

// SurveyInterview is a sampled call whose survey contact was closed by an
// answered call: the call it is about and what the patient answered.
type SurveyInterview struct {
	CallID     string `db:"call_id"`
	Day        string `db:"day"`
	Operator   string `db:"operator"`
	Phone      string `db:"phone"`
	EndedAt    int64  `db:"ended_at"`
	Queue      string `db:"queue"`
	ContactID  int64  `db:"contact_id"`
	AttemptAt  int64  `db:"started_at"`
	Result     string `db:"result"`
	RawAnswers string `db:"answers"`
	FollowUp   int64  `db:"follow_up_item"`
	Answers    []Answer
}

// SurveyInterviews are the interviews of the calls that ended in
// [from, to), in order of the call's end: for each sampled call, its
// answered attempt with the most answers (the last one on a tie).
func (s *Store) SurveyInterviews(ctx context.Context, from, to time.Time) ([]SurveyInterview, error) {
	var out []SurveyInterview
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT sm.call_id, sm.day, sm.operator, sm.phone, sm.ended_at, COALESCE(ic.queue, '') AS queue,
			sm.contact_id, a.started_at, a.result, a.answers, sm.follow_up_item
		FROM survey_samples sm
		JOIN attempts a ON a.contact_id = sm.contact_id AND a.outcome = 'answered'
		LEFT JOIN inbound_calls ic ON ic.call_id = sm.call_id
		WHERE sm.ended_at >= ? AND sm.ended_at < ?
		ORDER BY sm.ended_at, sm.call_id, a.attempt`), ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: survey interviews: %w", err)
	}
	// One interview per call: the attempt that got the most answers.
	var kept []SurveyInterview
	for _, iv := range out {
		if iv.RawAnswers != "" {
			if err := json.Unmarshal([]byte(iv.RawAnswers), &iv.Answers); err != nil {
				return nil, fmt.Errorf("store: survey interview %s: answers: %w", iv.CallID, err)
			}
		}
		if n := len(kept); n > 0 && kept[n-1].CallID == iv.CallID {
			if len(iv.Answers) >= len(kept[n-1].Answers) {
				kept[n-1] = iv
			}
			continue
		}
		kept = append(kept, iv)
	}
	return kept, nil
}

// SetSurveyFollowUp records the work item a sampled call's low rating
// opened.
func (s *Store) SetSurveyFollowUp(ctx context.Context, callID string, item int64) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`UPDATE survey_samples SET follow_up_item = ? WHERE call_id = ? AND follow_up_item = 0`), item, callID); err != nil {
		return fmt.Errorf("store: survey follow-up: %w", err)
	}
	return nil
}

// SurveyDayCounts are one operator's figures of one day as the store
// holds them.
type SurveyDayCounts struct {
	Day      string `db:"day"`
	Operator string `db:"operator"`
	Sampled  int    `db:"sampled"`
	Called   int    `db:"called"`
	Expired  int    `db:"expired"`
	// FollowUps opened, and those closed by an operator.
	FollowUps       int `db:"follow_ups"`
	FollowUpsClosed int `db:"follow_ups_closed"`
}

// SurveyCounts are the sampled, called and expired calls and the
// follow-ups per day and operator, for the calls that ended in [from, to).
func (s *Store) SurveyCounts(ctx context.Context, from, to time.Time) ([]SurveyDayCounts, error) {
	var out []SurveyDayCounts
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT sm.day, sm.operator, COUNT(*) AS sampled,
			SUM(CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.contact_id = sm.contact_id AND a.counted = ?) THEN 1 ELSE 0 END) AS called,
			SUM(CASE WHEN sm.expired_at <> 0 THEN 1 ELSE 0 END) AS expired,
			SUM(CASE WHEN sm.follow_up_item <> 0 THEN 1 ELSE 0 END) AS follow_ups,
			SUM(CASE WHEN w.status = 'closed' THEN 1 ELSE 0 END) AS follow_ups_closed
		FROM survey_samples sm LEFT JOIN work_items w ON w.id = sm.follow_up_item
		WHERE sm.ended_at >= ? AND sm.ended_at < ?
		GROUP BY sm.day, sm.operator ORDER BY sm.day, sm.operator`), true, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: survey counts: %w", err)
	}
	return out, nil
}

// InboundCallsBetween are the calls that ended in [from, to), in order of
// end.
func (s *Store) InboundCallsBetween(ctx context.Context, from, to time.Time) ([]InboundCall, error) {
	var out []InboundCall
	if err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT call_id, caller, started_at, answered_at, ended_at, operator, queue, outcome, day
		FROM inbound_calls WHERE ended_at >= ? AND ended_at < ? ORDER BY ended_at, call_id`), ms(from), ms(to)); err != nil {
		return nil, fmt.Errorf("store: inbound calls: %w", err)
	}
	return out, nil
}
