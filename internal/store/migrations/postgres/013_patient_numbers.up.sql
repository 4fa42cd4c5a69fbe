-- Urgent moves look for every number a patient was reached on: their other
-- bookings are found by codice fiscale when the extract gives it, else by
-- surname, name and birth date. Both are '' when unknown; birth_date is
-- 'YYYY-MM-DD'.
ALTER TABLE bookings ADD COLUMN fiscal_code TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN birth_date TEXT NOT NULL DEFAULT '';
CREATE INDEX bookings_fiscal_code ON bookings (fiscal_code) WHERE fiscal_code <> '';
CREATE INDEX bookings_birth_date ON bookings (birth_date) WHERE birth_date <> '';

-- A number's history: the replies that came from it.
CREATE INDEX replies_phone ON replies (phone, received_at);
