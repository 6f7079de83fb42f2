-- What the search index has not seen yet.
--
-- Triggers record every change to a message's text or a conversation's title here, whoever
-- makes it (an API call, an import, the temporary-chat sweeper, `librechat user delete` while
-- the server is stopped, a cascade from a deleted account). The server's indexer reads these
-- rows in batches, re-reads the current state of each item, updates the tantivy index, commits
-- it, and then deletes the rows it applied. Applying a row twice does no harm, so a crash at
-- any point only means some work is repeated; nothing is ever left out of the index.
CREATE TABLE search_outbox (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 'm': a message; 'c': a conversation's title; 'C': every message of a conversation (its
    -- temporary flag changed, which decides whether its messages are searchable).
    kind    TEXT NOT NULL,
    item_id TEXT NOT NULL
) STRICT;

CREATE TRIGGER search_message_inserted AFTER INSERT ON messages
BEGIN
    INSERT INTO search_outbox (kind, item_id) VALUES ('m', NEW.message_id);
END;

CREATE TRIGGER search_message_changed AFTER UPDATE OF text, content ON messages
WHEN OLD.text IS NOT NEW.text OR OLD.content IS NOT NEW.content
BEGIN
    INSERT INTO search_outbox (kind, item_id) VALUES ('m', NEW.message_id);
END;

CREATE TRIGGER search_message_deleted AFTER DELETE ON messages
BEGIN
    INSERT INTO search_outbox (kind, item_id) VALUES ('m', OLD.message_id);
END;

CREATE TRIGGER search_conversation_inserted AFTER INSERT ON conversations
BEGIN
    INSERT INTO search_outbox (kind, item_id) VALUES ('c', NEW.conversation_id);
END;

CREATE TRIGGER search_conversation_renamed AFTER UPDATE OF title ON conversations
WHEN OLD.title IS NOT NEW.title
BEGIN
    INSERT INTO search_outbox (kind, item_id) VALUES ('c', NEW.conversation_id);
END;

CREATE TRIGGER search_conversation_temporary AFTER UPDATE OF is_temporary ON conversations
WHEN OLD.is_temporary IS NOT NEW.is_temporary
BEGIN
    INSERT INTO search_outbox (kind, item_id) VALUES ('C', NEW.conversation_id);
END;

CREATE TRIGGER search_conversation_deleted AFTER DELETE ON conversations
BEGIN
    INSERT INTO search_outbox (kind, item_id) VALUES ('c', OLD.conversation_id);
END;
