-- The console's worklist: an operator takes the next item due (by due
-- time, not by arrival, so that a call back comes back at its hour), the
-- item they hold, and every item about a number or a booking code.
CREATE INDEX work_items_due ON work_items (status, claimed_by, due_at, id);
CREATE INDEX work_items_held ON work_items (claimed_by, status);
CREATE INDEX work_items_phone ON work_items (phone);
CREATE INDEX work_items_code ON work_items (code);
-- A patient's file on the item's page: bookings and messages by number.
CREATE INDEX bookings_by_phone ON bookings (phone, at);
CREATE INDEX replies_by_phone ON replies (phone, received_at);

-- The CUP node a rejected row names, so that a CUP manager sees the rows
-- of its own node to correct ('' for rows kept before, or naming none).
ALTER TABLE rejections ADD COLUMN node TEXT NOT NULL DEFAULT '';
CREATE INDEX rejections_import_node ON rejections (import_id, node, reason);

-- A CUP manager's request to clean up an agenda of its node over a range
-- of appointment days; the back office accepts it (making a clean-up
-- campaign of those bookings) or refuses it, once, with a note.
CREATE TABLE cleanup_requests (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node          TEXT    NOT NULL,
    agenda        TEXT    NOT NULL,
    from_day      TEXT    NOT NULL,
    to_day        TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'requested',
    requested_by  TEXT    NOT NULL,
    requested_at  BIGINT  NOT NULL,
    decided_by    TEXT    NOT NULL DEFAULT '',
    decided_at    BIGINT  NOT NULL DEFAULT 0,
    decision_note TEXT    NOT NULL DEFAULT '',
    campaign_id   BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX cleanup_requests_node ON cleanup_requests (node, requested_at);
CREATE INDEX bookings_agenda_console ON bookings (node, agenda, at);
