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
