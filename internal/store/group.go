package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sports-medicine visits of clubs: the plans a team leader uploads and
// confirms, the bookings made in the CUP for them, and the SMS that tell
// each athlete their visit, once. Package group plans; this file keeps.

// Group plan states.
const (
	GroupDraft     = "draft"
	GroupConfirmed = "confirmed"
	GroupReplaced  = "replaced"
)

// ErrGroupState is a change a plan's state no longer allows: confirming a
// plan already confirmed, or one planned against a plan that another
// changed list has meanwhile replaced.
var ErrGroupState = errors.New("store: the group plan's state does not allow this")

// GroupPlan is one plan of a club's list.
type GroupPlan struct {
	ID          int64  `db:"id"`
	PreviousID  int64  `db:"previous_id"`
	Club        string `db:"club"`
	Node        string `db:"node"`
	Agenda      string `db:"agenda"`
	State       string `db:"state"`
	Days        int    `db:"days"`
	Rejected    string `db:"rejected"` // JSON
	CreatedBy   string `db:"created_by"`
	CreatedAt   int64  `db:"created_at"`
	ConfirmedBy string `db:"confirmed_by"`
	ConfirmedAt int64  `db:"confirmed_at"`
	// Athletes, Placed and ToBook count the plan's list, those with a
	// slot, and those with a slot not yet booked in the CUP.
	Athletes int `db:"athletes"`
	Placed   int `db:"placed"`
	ToBook   int `db:"to_book"`
}

// GroupSlot is a slot agreed for the plan.
type GroupSlot struct {
	At        int64  `db:"at"`
	VisitType string `db:"visit_type"`
	Places    int    `db:"places"`
	Place     string `db:"place"`
}

// GroupAssignment is an athlete of the plan's list and their slot (At 0:
// not placed, Reason says why).
type GroupAssignment struct {
	Position   int    `db:"position"`
	FiscalCode string `db:"fiscal_code"`
	Surname    string `db:"surname"`
	Name       string `db:"name"`
	BirthDay   string `db:"birth_day"`
	Phone      string `db:"phone"`
	VisitType  string `db:"visit_type"`
	Club       string `db:"club"`
	At         int64  `db:"at"`
	Place      string `db:"place"`
	Reason     string `db:"reason"`
	BookedBy   string `db:"booked_by"`
	BookedAt   int64  `db:"booked_at"`
}

// MaxGroupAthletes bounds a plan's list.
const MaxGroupAthletes = 5000

// CreateGroupPlan stores a draft plan with its slots and athletes.
func (s *Store) CreateGroupPlan(ctx context.Context, p GroupPlan, slots []GroupSlot, as []GroupAssignment, now time.Time) (int64, error) {
	if len(as) > MaxGroupAthletes {
		return 0, fmt.Errorf("store: group plan: %d athletes, at most %d", len(as), MaxGroupAthletes)
	}
	if p.Rejected == "" {
		p.Rejected = "[]"
	}
	var id int64
	err := s.InTx(ctx, func(t *Tx) error {
		if err := t.tx.QueryRowxContext(ctx, s.rebind(`INSERT INTO group_plans (previous_id, club, node, agenda, state, days, rejected, created_by, created_at)
			VALUES (?, ?, ?, ?, 'draft', ?, ?, ?, ?) RETURNING id`), p.PreviousID, p.Club, p.Node, p.Agenda, p.Days, p.Rejected, p.CreatedBy, ms(now)).Scan(&id); err != nil {
			return err
		}
		for _, sl := range slots {
			if _, err := t.tx.ExecContext(ctx, s.rebind(`INSERT INTO group_slots (plan_id, at, visit_type, places, place) VALUES (?, ?, ?, ?, ?)`),
				id, sl.At, sl.VisitType, sl.Places, sl.Place); err != nil {
				return err
			}
		}
		for i, a := range as {
			if _, err := t.tx.ExecContext(ctx, s.rebind(`INSERT INTO group_assignments (plan_id, position, fiscal_code, surname, name, birth_day, phone, visit_type, club, at, place, reason)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), id, i, a.FiscalCode, a.Surname, a.Name, a.BirthDay, a.Phone, a.VisitType, a.Club, a.At, a.Place, a.Reason); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: create group plan: %w", err)
	}
	return id, nil
}

const groupPlanCols = `p.id, p.previous_id, p.club, p.node, p.agenda, p.state, p.days, p.rejected, p.created_by, p.created_at, p.confirmed_by, p.confirmed_at,
	(SELECT COUNT(*) FROM group_assignments a WHERE a.plan_id = p.id) AS athletes,
	(SELECT COUNT(*) FROM group_assignments a WHERE a.plan_id = p.id AND a.at <> 0) AS placed,
	(SELECT COUNT(*) FROM group_assignments a WHERE a.plan_id = p.id AND a.at <> 0 AND a.booked_at = 0) AS to_book`

// GroupPlans lists the plans, newest first; drafts only when drafts is set.
func (s *Store) GroupPlans(ctx context.Context, drafts bool, limit int) ([]GroupPlan, error) {
	var out []GroupPlan
	err := s.db.SelectContext(ctx, &out, s.rebind(`SELECT `+groupPlanCols+` FROM group_plans p
		WHERE (? OR p.state <> 'draft') ORDER BY p.created_at DESC, p.id DESC LIMIT ?`), drafts, limit)
	if err != nil {
		return nil, fmt.Errorf("store: group plans: %w", err)
	}
	return out, nil
}

// GroupPlanByID returns a plan, or ErrNotFound.
func (s *Store) GroupPlanByID(ctx context.Context, id int64) (GroupPlan, error) {
	var p GroupPlan
	err := s.db.GetContext(ctx, &p, s.rebind(`SELECT `+groupPlanCols+` FROM group_plans p WHERE p.id = ?`), id)
	if err != nil {
		return GroupPlan{}, fmt.Errorf("store: group plan %d: %w", id, notFound(err))
	}
	return p, nil
}

// GroupSlots returns a plan's slots by time.
func (s *Store) GroupSlots(ctx context.Context, id int64) ([]GroupSlot, error) {
	var out []GroupSlot
	err := s.db.SelectContext(ctx, &out, s.rebind(`SELECT at, visit_type, places, place FROM group_slots WHERE plan_id = ? ORDER BY at, visit_type`), id)
	if err != nil {
		return nil, fmt.Errorf("store: group slots: %w", err)
	}
	return out, nil
}

// GroupAssignments returns a plan's athletes in the order of the list.
func (s *Store) GroupAssignments(ctx context.Context, id int64) ([]GroupAssignment, error) {
	var out []GroupAssignment
	err := s.db.SelectContext(ctx, &out, s.rebind(`SELECT position, fiscal_code, surname, name, birth_day, phone, visit_type, club, at, place, reason, booked_by, booked_at
		FROM group_assignments WHERE plan_id = ? ORDER BY position`), id)
	if err != nil {
		return nil, fmt.Errorf("store: group assignments: %w", err)
	}
	return out, nil
}

// ConfirmGroupPlan confirms a draft, by one conditional write. A plan made
// against a previous one replaces it, if that is still the current plan,
// and its athletes who kept their slot keep the booking made for it.
func (s *Store) ConfirmGroupPlan(ctx context.Context, id int64, by string, now time.Time) error {
	err := s.InTx(ctx, func(t *Tx) error {
		var prev []int64
		if err := t.tx.SelectContext(ctx, &prev, s.rebind(`SELECT previous_id FROM group_plans WHERE id = ?`), id); err != nil {
			return err
		}
		if len(prev) == 0 {
			return ErrNotFound
		}
		// The plan replaced first: of two changed lists planned against the
		// same plan, the second to be confirmed finds it replaced.
		if prev[0] != 0 {
			res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE group_plans SET state = 'replaced' WHERE id = ? AND state = 'confirmed'`), prev[0])
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return cmpErr(err, ErrGroupState)
			}
		}
		res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE group_plans SET state = 'confirmed', confirmed_by = ?, confirmed_at = ?
			WHERE id = ? AND state = 'draft'`), by, ms(now), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return cmpErr(err, ErrGroupState)
		}
		if prev[0] == 0 {
			return nil
		}
		_, err = t.tx.ExecContext(ctx, s.rebind(`UPDATE group_assignments SET
			booked_at = (SELECT o.booked_at FROM group_assignments o WHERE o.plan_id = ? AND o.fiscal_code = group_assignments.fiscal_code),
			booked_by = (SELECT o.booked_by FROM group_assignments o WHERE o.plan_id = ? AND o.fiscal_code = group_assignments.fiscal_code)
			WHERE plan_id = ? AND at <> 0 AND EXISTS (SELECT 1 FROM group_assignments o WHERE o.plan_id = ? AND o.fiscal_code = group_assignments.fiscal_code
				AND o.at = group_assignments.at AND o.visit_type = group_assignments.visit_type AND o.booked_at <> 0)`), prev[0], prev[0], id, prev[0])
		return err
	})
	if err != nil {
		return fmt.Errorf("store: confirm group plan %d: %w", id, err)
	}
	return nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// GroupBooked is a booking made in the CUP for an athlete of a plan, and
// the SMS that tells them.
type GroupBooked struct {
	FiscalCode string
	// Notice is the athlete's SMS; nil for an athlete without a mobile.
	Notice *GroupNotice
}

// BookGroupAssignments records the bookings made in the CUP for athletes
// of a confirmed plan and, in the same transaction, puts in the outbox
// the SMS of each athlete whose booking this call recorded. An athlete
// already booked is left as is, so two people (or two processes) saying
// the same bookings are made send each SMS once. It says how many
// bookings it recorded and how many SMS it queued.
func (s *Store) BookGroupAssignments(ctx context.Context, id int64, bs []GroupBooked, by string, now time.Time) (booked, queued int, err error) {
	err = s.InTx(ctx, func(t *Tx) error {
		var state []string
		if err := t.tx.SelectContext(ctx, &state, s.rebind(`SELECT state FROM group_plans WHERE id = ?`), id); err != nil {
			return err
		}
		if len(state) == 0 {
			return ErrNotFound
		}
		if state[0] != GroupConfirmed {
			return ErrGroupState
		}
		var ns []GroupNotice
		for _, b := range bs {
			res, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE group_assignments SET booked_at = ?, booked_by = ?
				WHERE plan_id = ? AND fiscal_code = ? AND at <> 0 AND booked_at = 0
				AND EXISTS (SELECT 1 FROM group_plans WHERE id = ? AND state = 'confirmed')`), ms(now), by, id, b.FiscalCode, id)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				continue
			}
			booked++
			if b.Notice != nil {
				ns = append(ns, *b.Notice)
			}
		}
		q, _, err := s.queueGroupNotices(ctx, t, ns, now)
		queued = q
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: book group plan %d: %w", id, err)
	}
	return booked, queued, nil
}

// ClaimGroupBookings claims, by one conditional write each, the athletes
// of a confirmed plan that the caller is about to book in the CUP through
// the node's write-back: those not booked and not claimed by someone else
// within lease. It returns the codici fiscali it claimed; a booking that
// the CUP refused is released with ReleaseGroupBookings.
func (s *Store) ClaimGroupBookings(ctx context.Context, id int64, fiscalCodes []string, now time.Time, lease time.Duration) ([]string, error) {
	var out []string
	err := s.InTx(ctx, func(t *Tx) error {
		for _, cf := range fiscalCodes {
			var got []string
			if err := t.tx.SelectContext(ctx, &got, s.rebind(`UPDATE group_assignments SET claimed_at = ?
				WHERE plan_id = ? AND fiscal_code = ? AND at <> 0 AND booked_at = 0 AND claimed_at < ?
				AND EXISTS (SELECT 1 FROM group_plans WHERE id = ? AND state = 'confirmed') RETURNING fiscal_code`),
				ms(now), id, cf, ms(now.Add(-lease)), id); err != nil {
				return err
			}
			out = append(out, got...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim group bookings of plan %d: %w", id, err)
	}
	return out, nil
}

// ReleaseGroupBookings gives back claims whose booking was not made.
func (s *Store) ReleaseGroupBookings(ctx context.Context, id int64, fiscalCodes []string) error {
	err := s.InTx(ctx, func(t *Tx) error {
		for _, cf := range fiscalCodes {
			if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE group_assignments SET claimed_at = 0 WHERE plan_id = ? AND fiscal_code = ? AND booked_at = 0`), id, cf); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: release group bookings of plan %d: %w", id, err)
	}
	return nil
}

// GroupNotice is the SMS telling an athlete (by codice fiscale) of their
// visit at At.
type GroupNotice struct {
	FiscalCode string
	At         time.Time
	Message    NewMessage
}

// QueueGroupNotices puts each notice's SMS in the outbox unless the athlete
// was already told of a visit at that time, in one transaction; it says how
// many it queued and how many were already there.
func (s *Store) QueueGroupNotices(ctx context.Context, ns []GroupNotice, now time.Time) (queued, already int, err error) {
	err = s.InTx(ctx, func(t *Tx) error {
		queued, already, err = s.queueGroupNotices(ctx, t, ns, now)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: group notices: %w", err)
	}
	return queued, already, nil
}

// queueGroupNotices is QueueGroupNotices inside t: the key (codice fiscale,
// time) is claimed by one conditional insert, and only its winner queues
// the SMS.
func (s *Store) queueGroupNotices(ctx context.Context, t *Tx, ns []GroupNotice, now time.Time) (queued, already int, err error) {
	for _, n := range ns {
		var got []string
		if err := t.tx.SelectContext(ctx, &got, s.rebind(`INSERT INTO group_notices (fiscal_code, at, created_at) VALUES (?, ?, ?)
			ON CONFLICT (fiscal_code, at) DO NOTHING RETURNING fiscal_code`), n.FiscalCode, ms(n.At), ms(now)); err != nil {
			return 0, 0, err
		}
		if len(got) == 0 {
			already++
			continue
		}
		ids, err := t.InsertMessages(ctx, []NewMessage{n.Message}, now)
		if err != nil {
			return 0, 0, err
		}
		if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE group_notices SET message_id = ? WHERE fiscal_code = ? AND at = ?`),
			ids[n.Message.Phone], n.FiscalCode, ms(n.At)); err != nil {
			return 0, 0, err
		}
		queued++
	}
	return queued, already, nil
}
