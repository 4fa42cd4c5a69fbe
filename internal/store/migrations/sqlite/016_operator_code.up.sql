-- The code an operator announces at the start of an inbound call, as the
-- phone system's call log gives it: it ties a console account to that
-- operator's survey figures. '' for an account that is no operator.
ALTER TABLE users ADD COLUMN operator_code TEXT NOT NULL DEFAULT '';
