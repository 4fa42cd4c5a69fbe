-- The dialer: campaigns of contacts to call, every call attempt, and the
-- numbers that must never be called. Instants are INTEGER milliseconds since
-- the Unix epoch, 0 for none.

CREATE TABLE campaigns (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- status: pending (due at next_attempt_at), in_progress (leased to a dialer
-- until lease_until), final. seq is the load order in the campaign, from 1:
-- the service levels cut packages of 100 by it.
CREATE TABLE contacts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id),
    seq             INTEGER NOT NULL,
    phone           TEXT    NOT NULL,
    payload         TEXT    NOT NULL DEFAULT '{}',
    loaded_at       INTEGER NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending',
    outcome         TEXT    NOT NULL DEFAULT '',
    positive        INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0,
    final_at        INTEGER NOT NULL DEFAULT 0,
    -- the start of the first counted attempt: the rule of two distinct days
    first_attempt_at INTEGER NOT NULL DEFAULT 0,
    UNIQUE (campaign_id, seq)
);
CREATE INDEX contacts_due ON contacts (status, next_attempt_at);
CREATE INDEX contacts_phone ON contacts (phone, status);

-- counted is false for an attempt that failed on the trunk's side
-- (congestion): it is kept for the record but is not a call to the patient.
CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    attempt     INTEGER NOT NULL,
    counted     INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    ringing_at  INTEGER NOT NULL DEFAULT 0,
    answered_at INTEGER NOT NULL DEFAULT 0,
    ended_at    INTEGER NOT NULL,
    sip_code    INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT    NOT NULL,
    digits      TEXT    NOT NULL DEFAULT '',
    result      TEXT    NOT NULL DEFAULT '',
    final       INTEGER NOT NULL,
    positive    INTEGER NOT NULL
);
CREATE INDEX attempts_started ON attempts (started_at);
CREATE INDEX attempts_contact ON attempts (contact_id);

CREATE TABLE dnc (
    phone    TEXT    NOT NULL PRIMARY KEY,
    added_at INTEGER NOT NULL
);
