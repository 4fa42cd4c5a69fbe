-- The recall of monitored agendas.
--
-- Instants are INTEGER milliseconds since the Unix epoch (UTC), as in 001.

-- One run of a monitored agenda's recall per Europe/Rome day: the row is
-- claimed by one conditional INSERT, so that several engine processes
-- build the day's campaign once. campaign_id is 0 until it is built.
CREATE TABLE recall_runs (
    agenda      TEXT    NOT NULL,
    day         TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    campaign_id INTEGER NOT NULL DEFAULT 0,
    started_at  INTEGER NOT NULL,
    bookings    INTEGER NOT NULL DEFAULT 0,
    contacts    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (agenda, day)
);

-- Each booking a recall campaign asks about, with its outcome: '' until
-- decided, then confirmed, cancelled, not_reached, wrong_number or
-- operator. The outcome is set once, by a conditional UPDATE, and only the
-- process that set it acts on it. cancel follows a cancelled booking into
-- the CUP: '' (nothing to do), done (the node's write-back ran), failed
-- (it was refused: a work item), back_office (no write-back: a work item).
CREATE TABLE recall_bookings (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    agenda       TEXT    NOT NULL,
    node         TEXT    NOT NULL,
    code         TEXT    NOT NULL,
    phone        TEXT    NOT NULL,
    booking_at   INTEGER NOT NULL,
    agenda_code  TEXT    NOT NULL DEFAULT '',
    service_type TEXT    NOT NULL DEFAULT '',
    facility     TEXT    NOT NULL DEFAULT '',
    outcome      TEXT    NOT NULL DEFAULT '',
    decided_at   INTEGER NOT NULL DEFAULT 0,
    cancel       TEXT    NOT NULL DEFAULT '',
    cancel_note  TEXT    NOT NULL DEFAULT '',
    UNIQUE (campaign_id, node, code)
);
CREATE INDEX recall_bookings_open ON recall_bookings (outcome, campaign_id);
