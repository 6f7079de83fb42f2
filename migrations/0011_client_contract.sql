-- What LibreChat's web client reads and this schema lacked.

-- Bookmarks get an id of their own, as LibreChat's do (`_id`): its client keys them by it, and
-- a rename keeps it. Existing bookmarks get a random one of the same shape (24 hex digits).
ALTER TABLE tags ADD COLUMN id TEXT NOT NULL DEFAULT '';
UPDATE tags SET id = lower(hex(randomblob(12)));
CREATE UNIQUE INDEX tags_by_id ON tags (id);

-- When a conversation was archived (`archivedAt`), for the archive's "newest first". Chats
-- archived before this was recorded have none, as in LibreChat.
ALTER TABLE conversations ADD COLUMN archived_at TEXT;
