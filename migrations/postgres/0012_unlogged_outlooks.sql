-- The stored outlooks are a cache of what the rollups give (the next read recomputes a
-- missing one), so they need not survive a crash: unlogged, PostgreSQL writes no WAL for
-- them and a store is one statement that waits for no disk. After a crash the table
-- starts empty; a standby holds no rows of it.
ALTER TABLE outlooks SET UNLOGGED;
