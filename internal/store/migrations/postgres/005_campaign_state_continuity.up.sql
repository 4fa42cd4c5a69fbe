-- serve dials a campaign only while it is active. A campaign is paused until
-- `campaign start`, and so are those created before this step: loading
-- contacts or upgrading the engine never starts calls by itself.
ALTER TABLE campaigns ADD COLUMN state TEXT NOT NULL DEFAULT 'paused' CHECK (state IN ('paused', 'active'));

-- The continuity service level: serve sends a SIP OPTIONS to each target
-- (target 'ua', the engine's own SIP user agent; 'trunk', the contact
-- centre's trunk) every probe interval and keeps one row per target per
-- probe. at is BIGINT milliseconds since the Unix epoch; sip_code is 0 when
-- no answer came, and detail says what went wrong.
CREATE TABLE probes (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       BIGINT  NOT NULL,
    target   TEXT    NOT NULL,
    up       BOOLEAN NOT NULL,
    sip_code BIGINT  NOT NULL DEFAULT 0,
    rtt_ms   BIGINT  NOT NULL DEFAULT 0,
    detail   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX probes_at ON probes (at);

-- Declared maintenance windows [from_at, to_at), excluded from the
-- continuity level.
CREATE TABLE maintenance (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_at     BIGINT NOT NULL,
    to_at       BIGINT NOT NULL,
    reason      TEXT   NOT NULL,
    declared_by TEXT   NOT NULL,
    declared_at BIGINT NOT NULL,
    CHECK (to_at > from_at)
);
CREATE INDEX maintenance_from ON maintenance (from_at);
