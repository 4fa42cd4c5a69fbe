-- The call contact of an offer made by call (0: none, an SMS offer or one
-- handed to an operator). When the offer ends (the slot taken, declined,
-- expired) its contact still waiting is withdrawn in the same
-- transaction, so that nobody is called about a slot that is gone.
ALTER TABLE offers ADD COLUMN contact_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX offers_contact ON offers (contact_id) WHERE contact_id <> 0;

-- When the slot of a cancellation request (an ANNULLA reply) done in the
-- CUP was announced to the offers: once, whether the engine did the
-- cancellation or an operator by hand (0: not yet). The requests done
-- before this column were announced when they were done.
ALTER TABLE booking_responses ADD COLUMN slot_freed_at BIGINT NOT NULL DEFAULT 0;
UPDATE booking_responses SET slot_freed_at = 1 WHERE status = 'done';
