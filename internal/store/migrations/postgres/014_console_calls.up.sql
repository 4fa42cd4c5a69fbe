-- A call placed from the console ("Chiama") is an attempt like the IVR's,
-- made by the operator whose account is recorded here; '' for the IVR.
ALTER TABLE attempts ADD COLUMN operator TEXT NOT NULL DEFAULT '';
