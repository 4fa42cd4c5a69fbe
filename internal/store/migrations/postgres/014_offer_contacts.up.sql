-- The call contact of an offer made by call (0: none, an SMS offer or one
-- handed to an operator). When the offer ends (the slot taken, declined,
-- expired) its contact still waiting is withdrawn in the same
-- transaction, so that nobody is called about a slot that is gone.
ALTER TABLE offers ADD COLUMN contact_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX offers_contact ON offers (contact_id) WHERE contact_id <> 0;
