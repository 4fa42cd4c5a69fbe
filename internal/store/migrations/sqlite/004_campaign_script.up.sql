-- A campaign keeps the call script it was loaded with, so that running it
-- needs only its name, and every engine process runs the same script.
ALTER TABLE campaigns ADD COLUMN script TEXT NOT NULL DEFAULT '';
