-- Freed slots and the offers that refill them.
--
-- Instants are INTEGER milliseconds since the Unix epoch (UTC), as in 001.

-- Ranking a slot's candidates walks this index in offer order (priority
-- class U, B, D, P, then none; the earliest booking date, a missing one
-- last; the appointment furthest away; the code) and stops at the first
-- few that qualify, so it costs the same among a thousand bookings or a
-- million. The ORDER BY of the ranking query repeats these expressions
-- exactly, or the planner would sort.
CREATE INDEX bookings_offer_rank ON bookings (node, agenda,
    (CASE priority WHEN 'U' THEN 0 WHEN 'B' THEN 1 WHEN 'D' THEN 2 WHEN 'P' THEN 3 ELSE 4 END),
    (CASE WHEN booked_on = '' THEN '9999-12-31' ELSE booked_on END),
    at DESC, code);

-- A (node, agenda, time) given up by a cancelled booking (source 'cancel',
-- from_code the booking), declared by hand ('manual') or left by a patient
-- who moved up into another slot ('cascade').
--
-- status: open (offered in waves until cutoff_at), taken (an acceptance
-- won: taken_offer; the move is asked of the CUP), moved (the CUP moved
-- the booking), lost (the CUP had given it away meanwhile), expired
-- (nobody took it before the cutoff). Only one acceptance can turn open
-- into taken: it is one conditional UPDATE.
--
-- A wave is claimed with a lease (lease_owner, lease_until) so that
-- several engine processes send each wave once; next_wave_at is when the
-- next is due.
CREATE TABLE freed_slots (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    node         TEXT    NOT NULL,
    agenda       TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    service_type TEXT    NOT NULL DEFAULT '',
    service      TEXT    NOT NULL DEFAULT '',
    facility     TEXT    NOT NULL DEFAULT '',
    address      TEXT    NOT NULL DEFAULT '',
    source       TEXT    NOT NULL,
    from_code    TEXT    NOT NULL DEFAULT '',
    freed_at     INTEGER NOT NULL,
    cutoff_at    INTEGER NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'open',
    waves        INTEGER NOT NULL DEFAULT 0,
    next_wave_at INTEGER NOT NULL DEFAULT 0,
    lease_owner  TEXT    NOT NULL DEFAULT '',
    lease_until  INTEGER NOT NULL DEFAULT 0,
    taken_offer  INTEGER NOT NULL DEFAULT 0,
    taken_at     INTEGER NOT NULL DEFAULT 0,
    closed_at    INTEGER NOT NULL DEFAULT 0,
    note         TEXT    NOT NULL DEFAULT ''
);
-- The same slot freed twice by the same booking (a hook called again) is
-- one slot.
CREATE UNIQUE INDEX freed_slots_once ON freed_slots (node, agenda, at, from_code) WHERE status IN ('open', 'taken');
CREATE INDEX freed_slots_due ON freed_slots (status, next_wave_at);
CREATE INDEX freed_slots_freed ON freed_slots (agenda, freed_at);

-- One offer of a slot to one booking's number. channel: sms or call.
-- status: sent (standing until expires_at), accepted (won the slot; the
-- move is pending), moved, declined, expired (silence), late (accepted
-- after another took the slot or the offer ended), superseded (the slot
-- went to another while this stood), failed (the CUP refused the move).
-- A number holds at most one standing offer (sent or accepted): a partial
-- unique index, so two slots offered at once cannot both pick it.
CREATE TABLE offers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slot_id     INTEGER NOT NULL REFERENCES freed_slots(id),
    wave        INTEGER NOT NULL,
    node        TEXT    NOT NULL,
    code        TEXT    NOT NULL,
    phone       TEXT    NOT NULL,
    booking_at  INTEGER NOT NULL,
    channel     TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'sent',
    offered_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    answered_at INTEGER NOT NULL DEFAULT 0,
    answered_by TEXT    NOT NULL DEFAULT '',
    message_id  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (slot_id, phone)
);
CREATE UNIQUE INDEX offers_standing ON offers (phone) WHERE status IN ('sent', 'accepted');
CREATE INDEX offers_slot ON offers (slot_id, status);
CREATE INDEX offers_expiry ON offers (status, expires_at);
