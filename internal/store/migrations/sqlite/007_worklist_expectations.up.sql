-- One worklist for people, and what the engine expects back by SMS.
--
-- Instants are INTEGER milliseconds since the Unix epoch (UTC), as in 001.

-- A piece of work for an operator. kind says what it is: reply (a
-- patient's message the engine could not handle), cancel (a cancellation
-- request to carry out in the CUP), and the later jobs' recall, offer,
-- survey, urgent. ref_id is the row it is about in its kind's own table
-- (replies.id for reply, booking_responses.id for cancel), 0 for none.
--
-- status goes from 'open' to 'closed'. One operator at a time holds an open
-- item (claimed_by). due_at is when it shows in the list: its arrival, or
-- the time an operator asked it back at ("call back at"); due_for is the
-- operator it comes back to ('' for anyone). outcome says how it ended
-- ('answered' with an SMS, 'done', or a kind's own outcome) and note what
-- the operator wrote.
CREATE TABLE work_items (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT    NOT NULL,
    ref_id            INTEGER NOT NULL DEFAULT 0,
    phone             TEXT    NOT NULL DEFAULT '',
    body              TEXT    NOT NULL DEFAULT '',
    node              TEXT    NOT NULL DEFAULT '',
    code              TEXT    NOT NULL DEFAULT '',
    booking_at        INTEGER NOT NULL DEFAULT 0,
    arrived_at        INTEGER NOT NULL,
    due_at            INTEGER NOT NULL,
    due_for           TEXT    NOT NULL DEFAULT '',
    status            TEXT    NOT NULL DEFAULT 'open',
    claimed_by        TEXT    NOT NULL DEFAULT '',
    claimed_at        INTEGER NOT NULL DEFAULT 0,
    closed_by         TEXT    NOT NULL DEFAULT '',
    closed_at         INTEGER NOT NULL DEFAULT 0,
    outcome           TEXT    NOT NULL DEFAULT '',
    note              TEXT    NOT NULL DEFAULT '',
    answer            TEXT    NOT NULL DEFAULT '',
    answer_message_id INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX work_items_ref ON work_items (kind, ref_id) WHERE ref_id <> 0;
CREATE INDEX work_items_open ON work_items (status, arrived_at, id);
CREATE INDEX work_items_open_kind ON work_items (status, kind, arrived_at, id);
CREATE INDEX work_items_closed ON work_items (status, closed_at, id);

-- The inbox so far: replies waiting for an operator or closed by one, and
-- cancellation requests, with who holds or closed them.
INSERT INTO work_items (kind, ref_id, phone, body, arrived_at, due_at, status, claimed_by, claimed_at, closed_by, closed_at, outcome, answer, answer_message_id)
SELECT 'reply', r.id, r.phone, r.body, r.received_at, r.received_at,
       CASE WHEN r.status = 'inbox' THEN 'open' ELSE 'closed' END,
       r.claimed_by, r.claimed_at, r.closed_by, r.closed_at,
       CASE WHEN r.status = 'closed' AND r.closure = '' THEN 'done' ELSE r.closure END,
       CASE WHEN r.status = 'closed' THEN r.answer ELSE '' END, r.answer_message_id
FROM replies r WHERE r.status IN ('inbox', 'closed');

INSERT INTO work_items (kind, ref_id, phone, body, node, code, booking_at, arrived_at, due_at, status, claimed_by, claimed_at, closed_by, closed_at, outcome, answer, answer_message_id)
SELECT 'cancel', b.id, COALESCE(r.phone, ''), COALESCE(r.body, ''), b.node, b.code, b.at, b.created_at, b.created_at,
       CASE WHEN b.status = 'open' THEN 'open' ELSE 'closed' END,
       b.claimed_by, b.claimed_at, b.closed_by, b.closed_at, b.closure, b.answer, b.answer_message_id
FROM booking_responses b LEFT JOIN replies r ON r.id = b.reply_id WHERE b.kind = 'cancel';

-- What a job waits to hear back from a number: a reminder's confirmation
-- or cancellation, a slot offer's acceptance, an operator's conversation.
-- job names the handler, ref_id its row (the reminder message, the offer,
-- the work item). An inbound SMS goes to the open ones of its number; a
-- closed or expired one takes nothing.
CREATE TABLE expectations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    phone      TEXT    NOT NULL,
    job        TEXT    NOT NULL,
    ref_id     INTEGER NOT NULL,
    opened_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    closed_at  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (job, ref_id)
);
CREATE INDEX expectations_phone ON expectations (phone, closed_at, expires_at);

-- Reminders already sent wait for an answer until their latest booking.
INSERT INTO expectations (phone, job, ref_id, opened_at, expires_at)
SELECT m.phone, 'reminder', m.id, m.sent_at, MAX(b.at)
FROM messages m JOIN reminders r ON r.message_id = m.id
JOIN bookings b ON b.node = r.node AND b.code = r.code AND b.at = r.at
WHERE m.kind = 'reminder' AND m.status IN ('sent', 'delivered', 'undelivered')
GROUP BY m.id, m.phone, m.sent_at;
