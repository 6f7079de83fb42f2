-- File search (issue 19): a document uploaded for file search (`embedded` = 1: LibreChat's
-- flag for a file its RAG API holds) is cut into chunks and indexed in the search index. The
-- same outbox as messages feeds it (migration 0006): 'f' names a file, whose chunks the
-- indexer replaces with what the file holds now (none once it is gone or no longer searched).
-- A deleted account's files go by cascade, which fires these triggers too.
CREATE TRIGGER search_file_inserted AFTER INSERT ON files
WHEN NEW.embedded = 1
BEGIN
    INSERT INTO search_outbox (kind, item_id) VALUES ('f', NEW.file_id);
END;

CREATE TRIGGER search_file_changed AFTER UPDATE OF text, embedded ON files
WHEN (OLD.embedded = 1 OR NEW.embedded = 1)
    AND (OLD.text IS NOT NEW.text OR OLD.embedded IS NOT NEW.embedded)
BEGIN
    INSERT INTO search_outbox (kind, item_id) VALUES ('f', NEW.file_id);
END;

CREATE TRIGGER search_file_deleted AFTER DELETE ON files
WHEN OLD.embedded = 1
BEGIN
    INSERT INTO search_outbox (kind, item_id) VALUES ('f', OLD.file_id);
END;

-- The file search tool's question for a conversation: its files uploaded for file search.
CREATE INDEX files_searched_in_conversation ON files (conversation_id, user_id)
    WHERE embedded = 1;
