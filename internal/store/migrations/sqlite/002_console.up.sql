-- The web console: accounts, their server-side sessions, the audit log, and
-- who took charge of and closed each item of the operators' inbox.
--
-- Instants are INTEGER milliseconds since the Unix epoch (UTC), as in 001.
-- Flags are INTEGER 0/1 in both dialects so that one set of queries serves
-- both.

-- role: operator, cup_manager, auditor, admin. node is the CUP node a
-- cup_manager is limited to ('' for the other roles).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    node          TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_name ON users (name);

-- A signed-in browser. Only a hash of the cookie's token is kept, so that a
-- copy of the database does not let anyone in; csrf is the synchronizer
-- token every form of the session carries.
CREATE TABLE web_sessions (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    remote     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

-- Who did what and when: sign-ins, exports, inbox work, account changes.
-- actor is the account name as typed, also for failed sign-ins.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    role    TEXT    NOT NULL DEFAULT '',
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL DEFAULT '',
    detail  TEXT    NOT NULL DEFAULT '',
    remote  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action, at);

-- Inbox work on replies: one operator at a time holds an item (claimed_by),
-- and closure says how it ended ('answered' with an SMS, or 'done').
-- received_at and closed_at are both kept to the millisecond because the
-- time between them is a contract service level.
ALTER TABLE replies ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE replies ADD COLUMN claimed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE replies ADD COLUMN closure TEXT NOT NULL DEFAULT '';
ALTER TABLE replies ADD COLUMN answer_message_id INTEGER NOT NULL DEFAULT 0;

-- The same for cancellation requests; status goes from 'open' to 'done'.
ALTER TABLE booking_responses ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE booking_responses ADD COLUMN claimed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE booking_responses ADD COLUMN closed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE booking_responses ADD COLUMN closed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE booking_responses ADD COLUMN closure TEXT NOT NULL DEFAULT '';
ALTER TABLE booking_responses ADD COLUMN answer TEXT NOT NULL DEFAULT '';
ALTER TABLE booking_responses ADD COLUMN answer_message_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX booking_responses_open ON booking_responses (kind, status, created_at);

-- The console's counts by send and settle time, and its search by code.
CREATE INDEX messages_sent_at ON messages (sent_at);
CREATE INDEX messages_final_at ON messages (final_at);
CREATE INDEX messages_import ON messages (import_id);
CREATE INDEX bookings_code ON bookings (code);
