-- Urgent moves look for every number a patient was reached on: their other
-- bookings are found by codice fiscale when the extract gives it, else by
-- surname, name and birth date. Both are '' when unknown; birth_date is
-- 'YYYY-MM-DD'.
ALTER TABLE bookings ADD COLUMN fiscal_code TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN birth_date TEXT NOT NULL DEFAULT '';
CREATE INDEX bookings_fiscal_code ON bookings (fiscal_code) WHERE fiscal_code <> '';
CREATE INDEX bookings_birth_date ON bookings (birth_date) WHERE birth_date <> '';

-- A number's history: the replies that came from it.
CREATE INDEX replies_phone ON replies (phone, received_at);

-- A campaign's place in the dialer's queue: contacts of a higher priority
-- are called first, within the same channels and window (an urgent move
-- goes ahead of routine recalls). 0 for every routine campaign.
ALTER TABLE campaigns ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;

-- An urgent move: a CUP manager's request to reach the patients of some
-- bookings of their node. new_at is the date the facility offers (0: the
-- patients will be called to rebook); by_at is when it must be done.
CREATE TABLE urgent_moves (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id BIGINT  NOT NULL,
    node        TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    new_at      BIGINT  NOT NULL DEFAULT 0,
    by_at       BIGINT  NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

-- One booking of an urgent move. numbers are the patient's callable
-- numbers, best first (JSON array); tried is the index of the one being
-- called through contact_id. state: calling, reached (the patient chose:
-- choice accepted or operator), no_number (none left that works: a work
-- item, work_item_id, asks the back office to find one).
CREATE TABLE urgent_targets (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    move_id       BIGINT  NOT NULL,
    node          TEXT    NOT NULL,
    code          TEXT    NOT NULL,
    booking_at    BIGINT  NOT NULL,
    numbers       TEXT    NOT NULL,
    tried         INTEGER NOT NULL DEFAULT 0,
    contact_id    BIGINT  NOT NULL DEFAULT 0,
    message_id    BIGINT  NOT NULL DEFAULT 0,
    state         TEXT    NOT NULL DEFAULT 'calling',
    choice        TEXT    NOT NULL DEFAULT '',
    reached_phone TEXT    NOT NULL DEFAULT '',
    work_item_id  BIGINT  NOT NULL DEFAULT 0,
    updated_at    BIGINT  NOT NULL,
    UNIQUE (move_id, node, code)
);
CREATE INDEX urgent_targets_contact ON urgent_targets (contact_id);
CREATE INDEX urgent_targets_state ON urgent_targets (state, move_id);

-- Sports-medicine visits an athlete was told of by SMS: one message per
-- athlete and visit time, however often the list is sent.
CREATE TABLE group_notices (
    fiscal_code TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
    message_id  BIGINT  NOT NULL DEFAULT 0,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (fiscal_code, at)
);
