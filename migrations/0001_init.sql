-- Facts about this installation, as key/value pairs.
-- `instance_id`: generated once, reported to the client as `instanceProjectId`.
-- `created_at`: when the database was created (RFC 3339, UTC).
CREATE TABLE meta (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
