-- Instants are BIGINT  milliseconds since the Unix epoch (UTC); calendar days
-- are TEXT 'YYYY-MM-DD' in Europe/Rome. Both dialects use the same encoding so
-- that one set of queries serves both.

CREATE TABLE imports (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      TEXT    NOT NULL,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT,
    rows_read   BIGINT  NOT NULL DEFAULT 0,
    valid       BIGINT  NOT NULL DEFAULT 0,
    duplicates  BIGINT  NOT NULL DEFAULT 0,
    rejected    BIGINT  NOT NULL DEFAULT 0
);

-- The latest known state of each booking; import_id is the last import that
-- contained it.
CREATE TABLE bookings (
    node         TEXT    NOT NULL,
    code         TEXT    NOT NULL,
    phone        TEXT    NOT NULL,
    at           BIGINT  NOT NULL,
    day          TEXT    NOT NULL,
    agenda       TEXT    NOT NULL DEFAULT '',
    service_code TEXT    NOT NULL DEFAULT '',
    service      TEXT    NOT NULL DEFAULT '',
    service_type TEXT    NOT NULL DEFAULT '',
    facility     TEXT    NOT NULL DEFAULT '',
    address      TEXT    NOT NULL DEFAULT '',
    priority     TEXT    NOT NULL DEFAULT '',
    booked_on    TEXT    NOT NULL DEFAULT '',
    surname      TEXT    NOT NULL DEFAULT '',
    name         TEXT    NOT NULL DEFAULT '',
    import_id    BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (node, code)
);

-- Which (node, day) pairs an import covered: a planned reminder whose booking
-- is absent from a later import covering its day is withdrawn.
CREATE TABLE import_coverage (
    import_id BIGINT  NOT NULL,
    node      TEXT    NOT NULL,
    day       TEXT    NOT NULL,
    PRIMARY KEY (import_id, node, day)
);

CREATE TABLE rejections (
    import_id BIGINT  NOT NULL,
    file      TEXT    NOT NULL,
    line      BIGINT  NOT NULL,
    reason    TEXT    NOT NULL,
    detail    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX rejections_import ON rejections (import_id);

-- The outbox. A row exists before its send is attempted; status 'sending'
-- is committed before the gateway is called, so a crash leaves evidence that
-- must be reconciled with the provider before any retry.
CREATE TABLE messages (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT    NOT NULL,
    phone           TEXT    NOT NULL,
    day             TEXT    NOT NULL,
    offset_days     BIGINT  NOT NULL,
    body            TEXT    NOT NULL,
    encoding        TEXT    NOT NULL,
    segments        BIGINT  NOT NULL,
    status          TEXT    NOT NULL,
    not_before      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    next_attempt_at BIGINT  NOT NULL DEFAULT 0,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     BIGINT  NOT NULL DEFAULT 0,
    sending_at      BIGINT  NOT NULL DEFAULT 0,
    provider_id     TEXT,
    provider_status TEXT    NOT NULL DEFAULT '',
    error_code      BIGINT  NOT NULL DEFAULT 0,
    error           TEXT    NOT NULL DEFAULT '',
    import_id       BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT  NOT NULL DEFAULT 0,
    final_at        BIGINT  NOT NULL DEFAULT 0,
    updated_at      BIGINT  NOT NULL
);
CREATE UNIQUE INDEX messages_provider_id ON messages (provider_id);
CREATE INDEX messages_due ON messages (status, not_before);
CREATE INDEX messages_group ON messages (day, offset_days, phone);
CREATE INDEX messages_phone ON messages (phone);

-- One reminder per (node, booking code, appointment time, offset), ever.
CREATE TABLE reminders (
    node        TEXT    NOT NULL,
    code        TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
    offset_days BIGINT  NOT NULL,
    day         TEXT    NOT NULL,
    message_id  BIGINT  NOT NULL,
    status      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (node, code, at, offset_days)
);
CREATE INDEX reminders_message ON reminders (message_id);

-- Delivery reports that arrived before the send was recorded.
CREATE TABLE pending_statuses (
    provider_id TEXT    NOT NULL PRIMARY KEY,
    status      TEXT    NOT NULL,
    error_code  BIGINT  NOT NULL DEFAULT 0,
    at          BIGINT  NOT NULL
);

CREATE TABLE opt_outs (
    phone  TEXT    NOT NULL PRIMARY KEY,
    at     BIGINT  NOT NULL,
    source TEXT    NOT NULL
);

-- Patients' replies. status: handled (understood and acted on), asked
-- (ambiguous, a question was sent back), inbox (for an operator), closed
-- (an operator dealt with it).
CREATE TABLE replies (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id TEXT    NOT NULL,
    phone       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    answer      TEXT    NOT NULL DEFAULT '',
    received_at BIGINT  NOT NULL,
    closed_at   BIGINT  NOT NULL DEFAULT 0,
    closed_by   TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX replies_provider_id ON replies (provider_id);
CREATE INDEX replies_status ON replies (status, received_at);

-- What patients said about a booking: confirmations, and cancellation
-- requests that the CUP must carry out.
CREATE TABLE booking_responses (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node        TEXT    NOT NULL,
    code        TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,
    reply_id    BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    status      TEXT    NOT NULL,
    UNIQUE (node, code, at, kind)
);

-- Leader leases, so that N engine processes fire each schedule once.
CREATE TABLE leases (
    name  TEXT    NOT NULL PRIMARY KEY,
    owner TEXT    NOT NULL,
    until BIGINT  NOT NULL
);
