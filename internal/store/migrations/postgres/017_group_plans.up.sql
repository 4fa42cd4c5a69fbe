-- Sports-medicine bookings of clubs. Each list a team leader uploads is
-- planned into a plan: a draft until it is confirmed. A changed list is
-- planned against the current plan (previous_id) and, once confirmed,
-- replaces it; the athletes who kept their slot keep their booking.
CREATE TABLE group_plans (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    previous_id  BIGINT  NOT NULL DEFAULT 0,
    club         TEXT    NOT NULL,
    node         TEXT    NOT NULL DEFAULT '',
    agenda       TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL,
    days         BIGINT  NOT NULL DEFAULT 0,
    -- The rows of the uploaded files that could not be read, as JSON.
    rejected     TEXT    NOT NULL DEFAULT '[]',
    created_by   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    confirmed_by TEXT    NOT NULL DEFAULT '',
    confirmed_at BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX group_plans_created ON group_plans (created_at);
-- At most one plan replaces another.
CREATE UNIQUE INDEX group_plans_replacing ON group_plans (previous_id) WHERE previous_id <> 0 AND state <> 'draft';

-- The slots the facility agreed for the plan's clubs.
CREATE TABLE group_slots (
    plan_id    BIGINT  NOT NULL,
    at         BIGINT  NOT NULL,
    visit_type TEXT    NOT NULL,
    places     BIGINT  NOT NULL,
    place      TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (plan_id, at, visit_type)
);

-- Every athlete of the plan's list: placed (at <> 0) or not, with the
-- reason; booked_at is when the booking was made in the CUP, claimed_at
-- when a console began booking it through the node's write-back, so that
-- two clicks never book one athlete twice.
CREATE TABLE group_assignments (
    plan_id     BIGINT  NOT NULL,
    position    BIGINT  NOT NULL,
    fiscal_code TEXT    NOT NULL,
    surname     TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    birth_day   TEXT    NOT NULL,
    phone       TEXT    NOT NULL DEFAULT '',
    visit_type  TEXT    NOT NULL,
    club        TEXT    NOT NULL,
    at          BIGINT  NOT NULL DEFAULT 0,
    place       TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL DEFAULT '',
    booked_by   TEXT    NOT NULL DEFAULT '',
    booked_at   BIGINT  NOT NULL DEFAULT 0,
    claimed_at  BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (plan_id, fiscal_code)
);
