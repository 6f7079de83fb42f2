-- Several replicas, one change log: each replica keeps its own search index and its own place
-- in `search_outbox`; a row is deleted once every live replica is past it, no longer by
-- whoever applied it first.
--
-- `tx` is the writing transaction in PostgreSQL (its triggers fill it in; see
-- migrations/postgres/0027_search_cursors.sql) and 0 in SQLite. Readers take rows in
-- (tx, seq) order, and in PostgreSQL only rows of transactions older than every one still
-- running: `seq` is drawn when a row is written, not when it commits, so a later commit can
-- carry a smaller number, but never a smaller transaction id than one that had already ended
-- when a reader looked.
ALTER TABLE search_outbox ADD COLUMN tx INTEGER NOT NULL DEFAULT 0;
CREATE INDEX search_outbox_order ON search_outbox (tx, seq);

-- Where each replica's index stands: every change up to (tx, seq) is in it. `seen_at` (Unix
-- milliseconds) is when the replica last said so; replicas not seen for a while no longer
-- hold the log back (they rebuild when they return, finding it pruned past them).
CREATE TABLE search_cursors (
    replica TEXT PRIMARY KEY,
    tx      INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
) STRICT;
