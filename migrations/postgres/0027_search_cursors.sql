-- Twin of migrations/0027_search_cursors.sql: every change records its transaction, so that
-- readers on several replicas never pass a change whose transaction has yet to commit.
ALTER TABLE search_outbox ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
CREATE INDEX search_outbox_order ON search_outbox (tx, seq);

CREATE TABLE search_cursors (
    replica TEXT COLLATE "C" PRIMARY KEY,
    tx      BIGINT NOT NULL,
    seq     BIGINT NOT NULL,
    seen_at BIGINT NOT NULL
);

-- The triggers' functions (0026_baseline.sql) with the transaction recorded.
CREATE OR REPLACE FUNCTION search_outbox_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (kind, item_id, tx)
    VALUES ('m', CASE TG_OP WHEN 'DELETE' THEN OLD.message_id ELSE NEW.message_id END,
            CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT));
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION search_outbox_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (kind, item_id, tx)
    VALUES (TG_ARGV[0],
            CASE TG_OP WHEN 'DELETE' THEN OLD.conversation_id ELSE NEW.conversation_id END,
            CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT));
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION search_outbox_file() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (kind, item_id, tx)
    VALUES ('f', CASE TG_OP WHEN 'DELETE' THEN OLD.file_id ELSE NEW.file_id END,
            CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT));
    RETURN NULL;
END;
$$;
