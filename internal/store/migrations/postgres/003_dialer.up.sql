-- The dialer: campaigns of contacts to call, every call attempt, and the
-- numbers that must never be called. Instants are BIGINT milliseconds since
-- the Unix epoch, 0 for none.

CREATE TABLE campaigns (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

-- status: pending (due at next_attempt_at), in_progress (leased to a dialer
-- until lease_until), final. seq is the load order in the campaign, from 1:
-- the service levels cut packages of 100 by it.
CREATE TABLE contacts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id     BIGINT  NOT NULL REFERENCES campaigns(id),
    seq             INTEGER NOT NULL,
    phone           TEXT    NOT NULL,
    payload         TEXT    NOT NULL DEFAULT '{}',
    loaded_at       BIGINT  NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending',
    outcome         TEXT    NOT NULL DEFAULT '',
    positive        BOOLEAN NOT NULL DEFAULT FALSE,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     BIGINT  NOT NULL DEFAULT 0,
    final_at        BIGINT  NOT NULL DEFAULT 0,
    -- the start of the first counted attempt: the rule of two distinct days
    first_attempt_at BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (campaign_id, seq)
);
CREATE INDEX contacts_due ON contacts (status, next_attempt_at);
CREATE INDEX contacts_phone ON contacts (phone, status);

-- counted is false for an attempt that failed on the trunk's side
-- (congestion): it is kept for the record but is not a call to the patient.
CREATE TABLE attempts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id  BIGINT  NOT NULL REFERENCES contacts(id),
    campaign_id BIGINT  NOT NULL REFERENCES campaigns(id),
    attempt     INTEGER NOT NULL,
    counted     BOOLEAN NOT NULL,
    started_at  BIGINT  NOT NULL,
    ringing_at  BIGINT  NOT NULL DEFAULT 0,
    answered_at BIGINT  NOT NULL DEFAULT 0,
    ended_at    BIGINT  NOT NULL,
    sip_code    BIGINT  NOT NULL DEFAULT 0,
    outcome     TEXT    NOT NULL,
    digits      TEXT    NOT NULL DEFAULT '',
    result      TEXT    NOT NULL DEFAULT '',
    final       BOOLEAN NOT NULL,
    positive    BOOLEAN NOT NULL
);
CREATE INDEX attempts_started ON attempts (started_at);
CREATE INDEX attempts_contact ON attempts (contact_id);

CREATE TABLE dnc (
    phone    TEXT    NOT NULL PRIMARY KEY,
    added_at BIGINT  NOT NULL
);
