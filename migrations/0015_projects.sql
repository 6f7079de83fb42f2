-- Chat projects (LibreChat's `ChatProject`): a user's named folders of conversations.
--
-- A project's statistics (how many conversations it shows, and which was active last) are
-- stored, so the sidebar's list sorted by `lastConversationAt` is one index range. They are
-- kept by the triggers below rather than by each code path that touches a conversation:
-- creating, moving, archiving, deleting, importing, forking, expiring a temporary chat or
-- deleting a user all change conversations, and every one of them is then counted right.
-- "Shows" means what the project's list shows: not archived, not a temporary chat.

CREATE TABLE chat_projects (
    id                   TEXT PRIMARY KEY NOT NULL,
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    conversation_count   INTEGER NOT NULL DEFAULT 0,
    -- The `updated_at` and id of its most recently active conversation; NULL when it has none.
    last_conversation_at TEXT,
    last_conversation_id TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
) STRICT;

-- The three orders the list offers, each with the id breaking ties (the cursor's order). A
-- project without conversations sorts by its creation time behind a '0', so after every
-- activity time (newest first), the newest of them first.
CREATE INDEX chat_projects_by_activity
    ON chat_projects (user_id, coalesce(last_conversation_at, '0' || created_at), id);
CREATE INDEX chat_projects_by_created ON chat_projects (user_id, created_at, id);
CREATE INDEX chat_projects_by_name ON chat_projects (user_id, name, id);

-- The conversation's project. Deleting a project leaves its conversations, unassigned.
ALTER TABLE conversations ADD COLUMN project_id TEXT
    REFERENCES chat_projects (id) ON DELETE SET NULL;

-- A project's conversations, as its list and its statistics read them.
CREATE INDEX conversations_by_project
    ON conversations (project_id, is_archived, updated_at, conversation_id)
    WHERE project_id IS NOT NULL;

-- A conversation only ever joins a project of its own user's, whatever path writes it.
CREATE TRIGGER conversations_project_owner_insert BEFORE INSERT ON conversations
WHEN NEW.project_id IS NOT NULL AND NOT EXISTS
    (SELECT 1 FROM chat_projects p WHERE p.id = NEW.project_id AND p.user_id = NEW.user_id)
BEGIN
    SELECT RAISE(ABORT, 'a conversation can only join a project of its own user');
END;

CREATE TRIGGER conversations_project_owner_update BEFORE UPDATE OF project_id, user_id
ON conversations
WHEN NEW.project_id IS NOT NULL AND NOT EXISTS
    (SELECT 1 FROM chat_projects p WHERE p.id = NEW.project_id AND p.user_id = NEW.user_id)
BEGIN
    SELECT RAISE(ABORT, 'a conversation can only join a project of its own user');
END;

-- The statistics, recounted for the project(s) a change touches. A recount is a range of
-- `conversations_by_project`; recounting (not adding and subtracting) cannot drift.
CREATE TRIGGER chat_projects_count_insert AFTER INSERT ON conversations
WHEN NEW.project_id IS NOT NULL
BEGIN
    UPDATE chat_projects SET
        conversation_count = (SELECT count(*) FROM conversations c
            WHERE c.project_id = chat_projects.id AND c.is_archived = 0 AND c.expired_at IS NULL),
        (last_conversation_at, last_conversation_id) = (SELECT c.updated_at, c.conversation_id
            FROM conversations c
            WHERE c.project_id = chat_projects.id AND c.is_archived = 0 AND c.expired_at IS NULL
            ORDER BY c.updated_at DESC, c.conversation_id DESC LIMIT 1)
    WHERE id = NEW.project_id;
END;

CREATE TRIGGER chat_projects_count_update
AFTER UPDATE OF project_id, is_archived, expired_at, updated_at ON conversations
WHEN (OLD.project_id IS NOT NULL OR NEW.project_id IS NOT NULL)
    AND (OLD.project_id IS NOT NEW.project_id OR OLD.is_archived IS NOT NEW.is_archived
         OR OLD.expired_at IS NOT NEW.expired_at OR OLD.updated_at IS NOT NEW.updated_at)
BEGIN
    UPDATE chat_projects SET
        conversation_count = (SELECT count(*) FROM conversations c
            WHERE c.project_id = chat_projects.id AND c.is_archived = 0 AND c.expired_at IS NULL),
        (last_conversation_at, last_conversation_id) = (SELECT c.updated_at, c.conversation_id
            FROM conversations c
            WHERE c.project_id = chat_projects.id AND c.is_archived = 0 AND c.expired_at IS NULL
            ORDER BY c.updated_at DESC, c.conversation_id DESC LIMIT 1)
    WHERE id IN (OLD.project_id, NEW.project_id);
END;

CREATE TRIGGER chat_projects_count_delete AFTER DELETE ON conversations
WHEN OLD.project_id IS NOT NULL
BEGIN
    UPDATE chat_projects SET
        conversation_count = (SELECT count(*) FROM conversations c
            WHERE c.project_id = chat_projects.id AND c.is_archived = 0 AND c.expired_at IS NULL),
        (last_conversation_at, last_conversation_id) = (SELECT c.updated_at, c.conversation_id
            FROM conversations c
            WHERE c.project_id = chat_projects.id AND c.is_archived = 0 AND c.expired_at IS NULL
            ORDER BY c.updated_at DESC, c.conversation_id DESC LIMIT 1)
    WHERE id = OLD.project_id;
END;
