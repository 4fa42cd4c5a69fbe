package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
)

// Freed slots and their offers: a slot given up in an agenda is offered in
// waves to the numbers of bookings of the same agenda much later, and the
// first valid acceptance takes it by one conditional UPDATE.

// Slot statuses.
const (
	SlotOpen    = "open"
	SlotTaken   = "taken"
	SlotMoved   = "moved"
	SlotLost    = "lost"
	SlotExpired = "expired"
)

// Offer statuses.
const (
	OfferSent       = "sent"
	OfferAccepted   = "accepted"
	OfferMoved      = "moved"
	OfferDeclined   = "declined"
	OfferExpired    = "expired"
	OfferLate       = "late"
	OfferSuperseded = "superseded"
	OfferFailed     = "failed"
)

// JobOffer names the expectations of offers sent by SMS.
const JobOffer = "offer"

// FreedSlot is a slot to refill. Instants are Unix milliseconds.
type FreedSlot struct {
	ID          int64  `db:"id"`
	Node        string `db:"node"`
	Agenda      string `db:"agenda"`
	At          int64  `db:"at"`
	ServiceType string `db:"service_type"`
	Service     string `db:"service"`
	Facility    string `db:"facility"`
	Address     string `db:"address"`
	Source      string `db:"source"`
	FromCode    string `db:"from_code"`
	FreedAt     int64  `db:"freed_at"`
	CutoffAt    int64  `db:"cutoff_at"`
	Status      string `db:"status"`
	Waves       int    `db:"waves"`
	NextWaveAt  int64  `db:"next_wave_at"`
	TakenOffer  int64  `db:"taken_offer"`
	TakenAt     int64  `db:"taken_at"`
	ClosedAt    int64  `db:"closed_at"`
	Note        string `db:"note"`
}

// Time is the slot's date and time.
func (s FreedSlot) Time() time.Time { return time.UnixMilli(s.At).In(cup.Rome) }

const slotCols = `id, node, agenda, at, service_type, service, facility, address, source, from_code, freed_at,
	cutoff_at, status, waves, next_wave_at, taken_offer, taken_at, closed_at, note`

// NewSlot is a slot to record; its FreedAt is also its first wave's time.
type NewSlot struct {
	Node, Agenda                            string
	At                                      time.Time
	ServiceType, Service, Facility, Address string
	Source, FromCode                        string
	FreedAt, CutoffAt                       time.Time
}

// AddFreedSlot records a freed slot, due for its first wave at once. The
// same slot freed again by the same booking while it is still open or
// taken is the one already recorded: added is false.
func (s *Store) AddFreedSlot(ctx context.Context, n NewSlot) (FreedSlot, bool, error) {
	var id int64
	err := s.db.GetContext(ctx, &id, s.rebind(`INSERT INTO freed_slots (node, agenda, at, service_type, service, facility, address,
		source, from_code, freed_at, cutoff_at, next_wave_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`),
		n.Node, n.Agenda, ms(n.At), n.ServiceType, n.Service, n.Facility, n.Address, n.Source, n.FromCode,
		ms(n.FreedAt), ms(n.CutoffAt), ms(n.FreedAt))
	added := true
	if errors.Is(err, sql.ErrNoRows) {
		added = false
		err = s.rd.GetContext(ctx, &id, s.rebind(`SELECT id FROM freed_slots WHERE node = ? AND agenda = ? AND at = ? AND from_code = ?
			AND status IN ('open', 'taken')`), n.Node, n.Agenda, ms(n.At), n.FromCode)
	}
	if err != nil {
		return FreedSlot{}, false, fmt.Errorf("store: add freed slot: %w", notFound(err))
	}
	sl, err := s.FreedSlot(ctx, id)
	return sl, added, err
}

// FreedSlot returns one slot.
func (s *Store) FreedSlot(ctx context.Context, id int64) (FreedSlot, error) {
	var sl FreedSlot
	if err := s.rd.GetContext(ctx, &sl, s.rebind(`SELECT `+slotCols+` FROM freed_slots WHERE id = ?`), id); err != nil {
		return FreedSlot{}, fmt.Errorf("store: freed slot %d: %w", id, notFound(err))
	}
	return sl, nil
}

// FreedSlots lists the slots freed in [from, to), the latest first, at
// most limit.
func (s *Store) FreedSlots(ctx context.Context, from, to time.Time, limit int) ([]FreedSlot, error) {
	var out []FreedSlot
	if err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT `+slotCols+` FROM freed_slots WHERE freed_at >= ? AND freed_at < ?
		ORDER BY freed_at DESC, id DESC LIMIT ?`), ms(from), ms(to), limit); err != nil {
		return nil, fmt.Errorf("store: freed slots: %w", err)
	}
	return out, nil
}

// AgendaProfile is what an agenda's bookings say of its slots.
type AgendaProfile struct {
	ServiceType string `db:"service_type"`
	Service     string `db:"service"`
	Facility    string `db:"facility"`
	Address     string `db:"address"`
}

// AgendaProfile returns the service type, service and facility of an
// agenda's bookings (one of them, preferring one that names its type);
// ErrNotFound when the store has no booking of the agenda.
func (s *Store) AgendaProfile(ctx context.Context, node, agenda string) (AgendaProfile, error) {
	var p AgendaProfile
	// Two queries rather than one that sorts: each stops at its first row.
	q := `SELECT service_type, service, facility, address FROM bookings WHERE node = ? AND agenda = ?`
	err := s.rd.GetContext(ctx, &p, s.rebind(q+` AND service_type <> '' LIMIT 1`), node, agenda)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.rd.GetContext(ctx, &p, s.rebind(q+` LIMIT 1`), node, agenda)
	}
	if err != nil {
		return AgendaProfile{}, fmt.Errorf("store: agenda %s: %w", agenda, notFound(err))
	}
	return p, nil
}

// Booking returns the stored booking (node, code).
func (s *Store) Booking(ctx context.Context, node, code string) (cup.Booking, error) {
	var r bookingRow
	err := s.rd.GetContext(ctx, &r, s.rebind(`SELECT node, code, phone, at, agenda, service_code, service, service_type,
		facility, address, priority, surname, name FROM bookings WHERE node = ? AND code = ?`), node, code)
	if err != nil {
		return cup.Booking{}, fmt.Errorf("store: booking: %w", notFound(err))
	}
	return r.booking(), nil
}

// CandidateQuery says which bookings may be offered a slot.
type CandidateQuery struct {
	Node, Agenda string
	// From: the earliest appointment a candidate may have (the slot's time
	// and the minimum wait both applied).
	From time.Time
	// SlotID leaves out the numbers already offered this slot; 0 for a
	// slot not recorded.
	SlotID int64
	Limit  int
}

// CandidateRow is one booking in offer order, with what decides its
// channel.
type CandidateRow struct {
	Node      string `db:"node"`
	Code      string `db:"code"`
	Phone     string `db:"phone"`
	At        int64  `db:"at"`
	Priority  string `db:"priority"`
	BookedOn  string `db:"booked_on"`
	OptedOut  bool   `db:"opted_out"`
	DoNotCall bool   `db:"dnc"`
}

// The ORDER BY must repeat bookings_offer_rank's expressions exactly.
const candidateQuery = `SELECT b.node, b.code, b.phone, b.at, b.priority, b.booked_on,
	CASE WHEN EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = b.phone) THEN 1 ELSE 0 END AS opted_out,
	CASE WHEN EXISTS (SELECT 1 FROM dnc d WHERE d.phone = b.phone) THEN 1 ELSE 0 END AS dnc
	FROM bookings b
	WHERE b.node = ? AND b.agenda = ? AND b.at >= ?
	AND NOT EXISTS (SELECT 1 FROM offers f WHERE f.phone = b.phone AND f.status IN ('sent', 'accepted'))
	AND NOT EXISTS (SELECT 1 FROM offers f WHERE f.phone = b.phone AND f.slot_id = ?)
	ORDER BY (CASE priority WHEN 'U' THEN 0 WHEN 'B' THEN 1 WHEN 'D' THEN 2 WHEN 'P' THEN 3 ELSE 4 END),
	(CASE WHEN booked_on = '' THEN '9999-12-31' ELSE booked_on END), b.at DESC, b.code
	LIMIT ?`

// Candidates lists the bookings of the agenda from q.From on, in offer
// order, leaving out the numbers that hold a standing offer or were
// offered this slot already. A number with several bookings appears once
// per booking: the caller keeps its first.
func (s *Store) Candidates(ctx context.Context, q CandidateQuery) ([]CandidateRow, error) {
	var out []CandidateRow
	if err := s.rd.SelectContext(ctx, &out, s.rebind(candidateQuery), q.Node, q.Agenda, ms(q.From), q.SlotID, q.Limit); err != nil {
		return nil, fmt.Errorf("store: candidates: %w", err)
	}
	return out, nil
}

// ClaimDueSlots leases to owner up to limit open slots whose next wave is
// due at now, so that one process sends each wave.
func (s *Store) ClaimDueSlots(ctx context.Context, owner string, now, until time.Time, limit int) ([]FreedSlot, error) {
	sub := `SELECT id FROM freed_slots WHERE status = 'open' AND next_wave_at <= ? AND lease_until <= ? ORDER BY next_wave_at, id LIMIT ?`
	if s.dialect == Postgres {
		sub += ` FOR UPDATE SKIP LOCKED`
	}
	var out []FreedSlot
	err := s.db.SelectContext(ctx, &out, s.rebind(`UPDATE freed_slots SET lease_owner = ?, lease_until = ?
		WHERE id IN (`+sub+`) AND `+s.noIndex("status")+` = 'open' RETURNING `+slotCols), owner, ms(until), ms(now), ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim due slots: %w", err)
	}
	return out, nil
}

// WaveDone records a wave sent (or put off) by owner and when the next is
// due, and releases the lease.
func (s *Store) WaveDone(ctx context.Context, slotID int64, owner string, sent bool, next time.Time) error {
	add := 0
	if sent {
		add = 1
	}
	_, err := s.db.ExecContext(ctx, s.rebind(`UPDATE freed_slots SET waves = waves + ?, next_wave_at = ?, lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ?`), add, ms(next), slotID, owner)
	if err != nil {
		return fmt.Errorf("store: wave done: %w", err)
	}
	return nil
}

// Offer is one offer of a slot to one number.
type Offer struct {
	ID         int64  `db:"id"`
	SlotID     int64  `db:"slot_id"`
	Wave       int    `db:"wave"`
	Node       string `db:"node"`
	Code       string `db:"code"`
	Phone      string `db:"phone"`
	BookingAt  int64  `db:"booking_at"`
	Channel    string `db:"channel"`
	Status     string `db:"status"`
	OfferedAt  int64  `db:"offered_at"`
	ExpiresAt  int64  `db:"expires_at"`
	AnsweredAt int64  `db:"answered_at"`
	AnsweredBy string `db:"answered_by"`
	MessageID  int64  `db:"message_id"`
	ContactID  int64  `db:"contact_id"`
}

// BookingTime is the date and time of the booking the offer would move.
func (o Offer) BookingTime() time.Time { return time.UnixMilli(o.BookingAt).In(cup.Rome) }

const offerCols = `id, slot_id, wave, node, code, phone, booking_at, channel, status, offered_at, expires_at,
	answered_at, answered_by, message_id, contact_id`

// NewOffer is an offer to record.
type NewOffer struct {
	SlotID    int64
	Wave      int
	Node      string
	Code      string
	Phone     string
	BookingAt time.Time
	Channel   string
	ExpiresAt time.Time
}

// AddOffer records an offer inside the transaction; a number that holds a
// standing offer or was offered this slot already gets none: (0, false).
func (t *Tx) AddOffer(ctx context.Context, o NewOffer, now time.Time) (int64, bool, error) {
	var id int64
	err := t.tx.GetContext(ctx, &id, t.s.rebind(`INSERT INTO offers (slot_id, wave, node, code, phone, booking_at, channel, offered_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
		o.SlotID, o.Wave, o.Node, o.Code, o.Phone, ms(o.BookingAt), o.Channel, ms(now), ms(o.ExpiresAt))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: add offer: %w", err)
	}
	return id, true, nil
}

// SetOfferMessage ties an SMS offer to its outbox message.
func (t *Tx) SetOfferMessage(ctx context.Context, offerID, messageID int64) error {
	if _, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE offers SET message_id = ? WHERE id = ?`), messageID, offerID); err != nil {
		return fmt.Errorf("store: offer message: %w", err)
	}
	return nil
}

// OfferByID returns one offer.
func (s *Store) OfferByID(ctx context.Context, id int64) (Offer, error) {
	var o Offer
	if err := s.rd.GetContext(ctx, &o, s.rebind(`SELECT `+offerCols+` FROM offers WHERE id = ?`), id); err != nil {
		return Offer{}, fmt.Errorf("store: offer %d: %w", id, notFound(err))
	}
	return o, nil
}

// SlotOffers lists a slot's offers in the order they were made.
func (s *Store) SlotOffers(ctx context.Context, slotID int64) ([]Offer, error) {
	var out []Offer
	if err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT `+offerCols+` FROM offers WHERE slot_id = ? ORDER BY id`), slotID); err != nil {
		return nil, fmt.Errorf("store: slot offers: %w", err)
	}
	return out, nil
}

// TakeResult is what an acceptance came to.
type TakeResult struct {
	// Won: this acceptance took the slot; the move is to be asked of the
	// CUP.
	Won   bool
	Offer Offer // as it stands after the acceptance
	Slot  FreedSlot
}

// TakeSlot accepts offer offerID for by ("sms", "call", "operator:luca")
// at now. Exactly one acceptance of a slot wins, on any number of
// processes: the slot turns from open to taken in one conditional UPDATE,
// which the offer's own standing is part of. Every other acceptance is
// recorded as late and gets Won false; the offer's status then says why
// (late, expired, declined, or accepted: this same offer won before).
func (s *Store) TakeSlot(ctx context.Context, offerID int64, by string, now time.Time) (TakeResult, error) {
	var res TakeResult
	err := s.InTx(ctx, func(t *Tx) error {
		// The slot's row first: concurrent acceptances queue on it, and
		// the winner then touches the other offers' rows, which nobody
		// else holds, so no two transactions wait on each other.
		r, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE freed_slots SET status = 'taken', taken_offer = ?, taken_at = ?
			WHERE id = (SELECT slot_id FROM offers WHERE id = ?) AND status = 'open' AND cutoff_at > ?
			AND EXISTS (SELECT 1 FROM offers WHERE id = ? AND status = 'sent' AND expires_at > ?)`),
			offerID, ms(now), offerID, ms(now), offerID, ms(now))
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			res.Won = true
			if _, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE offers SET status = 'accepted', answered_at = ?, answered_by = ? WHERE id = ?`),
				ms(now), by, offerID); err != nil {
				return err
			}
			if _, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE offers SET status = 'superseded'
				WHERE slot_id = (SELECT slot_id FROM offers WHERE id = ?) AND status = 'sent' AND id <> ?`), offerID, offerID); err != nil {
				return err
			}
			// The slot is gone: no call of its offers, this one's
			// included (it may have been taken by SMS or an operator).
			if err := t.withdrawOfferCalls(ctx, now, `SELECT id FROM offers WHERE slot_id = (SELECT slot_id FROM offers WHERE id = ?)`, offerID); err != nil {
				return err
			}
		} else {
			// Too late: the offer ended, or the slot went to another.
			// An offer that won before or was declined keeps its status.
			if _, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE offers SET status = CASE WHEN status = 'expired' OR (status = 'sent' AND expires_at <= ?) THEN 'expired' ELSE 'late' END,
				answered_at = ?, answered_by = ? WHERE id = ? AND status IN ('sent', 'superseded', 'expired')`),
				ms(now), ms(now), by, offerID); err != nil {
				return err
			}
			if err := t.withdrawOfferCalls(ctx, now, `?`, offerID); err != nil {
				return err
			}
		}
		if err := t.tx.GetContext(ctx, &res.Offer, t.s.rebind(`SELECT `+offerCols+` FROM offers WHERE id = ?`), offerID); err != nil {
			return notFound(err)
		}
		return t.tx.GetContext(ctx, &res.Slot, t.s.rebind(`SELECT `+slotCols+` FROM freed_slots WHERE id = ?`), res.Offer.SlotID)
	})
	if err != nil {
		return TakeResult{}, fmt.Errorf("store: take slot: %w", err)
	}
	return res, nil
}

// DeclineOffer records that the number said no; false when the offer was
// no longer standing.
func (s *Store) DeclineOffer(ctx context.Context, offerID int64, by string, now time.Time) (bool, error) {
	var n int64
	err := s.InTx(ctx, func(t *Tx) error {
		r, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE offers SET status = 'declined', answered_at = ?, answered_by = ?
			WHERE id = ? AND status IN ('sent', 'superseded')`), ms(now), by, offerID)
		if err != nil {
			return err
		}
		if n, err = r.RowsAffected(); err != nil {
			return err
		}
		return t.withdrawOfferCalls(ctx, now, `?`, offerID)
	})
	if err != nil {
		return false, fmt.Errorf("store: decline offer: %w", err)
	}
	return n == 1, nil
}

// FinishMove records what the CUP did with a taken slot's move: moved
// (the booking now has the slot's time, in the store too) or lost (the
// CUP had given the slot away). Only a taken slot changes; false
// otherwise.
func (s *Store) FinishMove(ctx context.Context, slotID int64, moved bool, note string, now time.Time) (bool, error) {
	slotStatus, offerStatus := SlotLost, OfferFailed
	if moved {
		slotStatus, offerStatus = SlotMoved, OfferMoved
	}
	var done bool
	err := s.InTx(ctx, func(t *Tx) error {
		r, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE freed_slots SET status = ?, closed_at = ?, note = ? WHERE id = ? AND status = 'taken'`),
			slotStatus, ms(now), note, slotID)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil || n == 0 {
			return err
		}
		done = true
		var o Offer
		if err := t.tx.GetContext(ctx, &o, t.s.rebind(`SELECT `+offerCols+` FROM offers
			WHERE id = (SELECT taken_offer FROM freed_slots WHERE id = ?)`), slotID); err != nil {
			return notFound(err)
		}
		if _, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE offers SET status = ? WHERE id = ?`), offerStatus, o.ID); err != nil {
			return err
		}
		if !moved {
			return nil
		}
		var at int64
		if err := t.tx.GetContext(ctx, &at, t.s.rebind(`SELECT at FROM freed_slots WHERE id = ?`), slotID); err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, t.s.rebind(`UPDATE bookings SET at = ?, day = ?, updated_at = ? WHERE node = ? AND code = ? AND at = ?`),
			at, time.UnixMilli(at).In(cup.Rome).Format(DayLayout), ms(now), o.Node, o.Code, o.BookingAt)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: finish move: %w", err)
	}
	return done, nil
}

// ExpireOffers records the silence of the offers that ended at now
// unanswered; it returns how many.
func (s *Store) ExpireOffers(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(t *Tx) error {
		if err := t.withdrawOfferCalls(ctx, now, `SELECT id FROM offers WHERE status = 'sent' AND expires_at <= ?`, ms(now)); err != nil {
			return err
		}
		r, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE offers SET status = 'expired' WHERE status = 'sent' AND expires_at <= ?`), ms(now))
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: expire offers: %w", err)
	}
	return n, nil
}

// ExpireSlots closes the open slots whose cutoff has come, and their
// standing offers; it returns how many slots.
func (s *Store) ExpireSlots(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(t *Tx) error {
		if err := t.withdrawOfferCalls(ctx, now, `SELECT id FROM offers WHERE status = 'sent'
			AND slot_id IN (SELECT id FROM freed_slots WHERE status = 'open' AND cutoff_at <= ?)`, ms(now)); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE offers SET status = 'expired' WHERE status = 'sent'
			AND slot_id IN (SELECT id FROM freed_slots WHERE status = 'open' AND cutoff_at <= ?)`), ms(now)); err != nil {
			return err
		}
		r, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE freed_slots SET status = 'expired', closed_at = ? WHERE status = 'open' AND cutoff_at <= ?`),
			ms(now), ms(now))
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: expire slots: %w", err)
	}
	return n, nil
}

// OfferFigures are one agenda's refills over a period.
type OfferFigures struct {
	Node    string `db:"node"`
	Agenda  string `db:"agenda"`
	Freed   int    `db:"freed"`
	Offered int    `db:"offered"`
	Taken   int    `db:"taken"`
	Moved   int    `db:"moved"`
	Expired int    `db:"expired"`
	// RefillMillis sums, over the moved slots, the time from freeing to
	// the acceptance that refilled them.
	RefillMillis int64 `db:"refill_ms"`
}

// OfferFigures counts the slots freed in [from, to) per agenda, with what
// became of them.
func (s *Store) OfferFigures(ctx context.Context, from, to time.Time) ([]OfferFigures, error) {
	var out []OfferFigures
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT node, agenda, COUNT(*) AS freed,
		SUM(CASE WHEN waves > 0 THEN 1 ELSE 0 END) AS offered,
		SUM(CASE WHEN taken_offer <> 0 THEN 1 ELSE 0 END) AS taken,
		SUM(CASE WHEN status = 'moved' THEN 1 ELSE 0 END) AS moved,
		SUM(CASE WHEN status = 'expired' THEN 1 ELSE 0 END) AS expired,
		CAST(COALESCE(SUM(CASE WHEN status = 'moved' THEN taken_at - freed_at ELSE 0 END), 0) AS BIGINT) AS refill_ms
		FROM freed_slots WHERE freed_at >= ? AND freed_at < ? GROUP BY node, agenda ORDER BY node, agenda`), ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: offer figures: %w", err)
	}
	return out, nil
}
