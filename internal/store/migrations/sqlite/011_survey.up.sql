-- The satisfaction survey: the phone system's inbound calls, the calls
-- drawn for the survey with the contact that calls each back, and the
-- numbers that refused surveys. Instants are INTEGER milliseconds since the
-- Unix epoch, 0 for none.

-- A call the phone system reported (file or endpoint), once per call_id.
-- caller is as the phone system wrote it; day is ended_at's date in
-- Europe/Rome, the day whose sample the call belongs to.
CREATE TABLE inbound_calls (
    call_id     TEXT    NOT NULL PRIMARY KEY,
    caller      TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL,
    answered_at INTEGER NOT NULL DEFAULT 0,
    ended_at    INTEGER NOT NULL,
    operator    TEXT    NOT NULL DEFAULT '',
    queue       TEXT    NOT NULL DEFAULT '',
    outcome     TEXT    NOT NULL DEFAULT '',
    day         TEXT    NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX inbound_calls_day ON inbound_calls (day, ended_at, call_id);

-- A call drawn for the survey, once: phone is the caller's E.164 number,
-- not_after the latest the survey call may be made, contact_id the survey
-- campaign's contact that calls it. expired_at is set when no call could
-- be made in time; follow_up_item is the work item a low rating opened.
CREATE TABLE survey_samples (
    call_id        TEXT    NOT NULL PRIMARY KEY,
    day            TEXT    NOT NULL,
    operator       TEXT    NOT NULL,
    phone          TEXT    NOT NULL,
    ended_at       INTEGER NOT NULL,
    not_after      INTEGER NOT NULL,
    contact_id     INTEGER NOT NULL,
    expired_at     INTEGER NOT NULL DEFAULT 0,
    follow_up_item INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX survey_samples_phone ON survey_samples (phone, ended_at);
CREATE INDEX survey_samples_day ON survey_samples (day, operator);
CREATE INDEX survey_samples_contact ON survey_samples (contact_id);

CREATE TABLE survey_refusals (
    phone      TEXT    NOT NULL PRIMARY KEY,
    refused_at INTEGER NOT NULL
);
