-- The console's overview counts the messages handed to the provider in the
-- last hours (sending_at): without an index that read every message of
-- the outbox, a quarter of a second of CPU on a million, at each refresh
-- of each operator's page. A message is planned with sending_at 0, so an
-- import adds its messages at one end of the index.
CREATE INDEX messages_sending_at ON messages (sending_at);
