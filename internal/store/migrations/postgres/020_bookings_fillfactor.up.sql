-- Each import gives every booking it repeats unchanged the import's id and
-- time (columns no index holds). PostgreSQL writes an updated row as a new
-- version: with room left on its page, the new version stays there and no
-- index is touched (a heap-only update); on a full page, each of the
-- table's seven indexes gets a new entry for every booking, every day,
-- until vacuum. A fifth of each page is left for them. Pages written
-- before this keep no room until they are rewritten.
ALTER TABLE bookings SET (fillfactor = 80);
