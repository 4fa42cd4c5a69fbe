-- PostgreSQL leaves room on the bookings' pages for the updates of each
-- import (see its 020). SQLite rewrites a row in place, and needs nothing:
-- this keeps the two stores' migrations in step.
SELECT 1;
