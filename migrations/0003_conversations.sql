-- Conversations and their messages.
--
-- Messages are rows, never one JSON document per conversation: a conversation of thousands of
-- messages loads with one indexed query and a new message is one insert. They form a tree by
-- parent_message_id (the root's parent is the all-zero UUID). Fields the server filters or
-- sorts on are columns; the rest of LibreChat's shapes (model parameters, content parts,
-- attachments) are JSON the server passes through.

CREATE TABLE conversations (
    -- Chosen by LibreChat (a UUID), unique across users; every query also filters by user_id.
    conversation_id TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title           TEXT NOT NULL DEFAULT 'New Chat',
    endpoint        TEXT,
    endpoint_type   TEXT,
    model           TEXT,
    is_archived     INTEGER NOT NULL DEFAULT 0,
    pinned          INTEGER NOT NULL DEFAULT 0,
    is_temporary    INTEGER NOT NULL DEFAULT 0,
    -- When a temporary chat is deleted.
    expired_at      TEXT,
    -- Every other TConversation field (model, parameters, agent_id, spec, ...), as sent.
    settings        TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;

-- The sidebar: a user's conversations, newest first, archived or not.
CREATE INDEX conversations_list ON conversations (user_id, is_archived, updated_at, conversation_id);
CREATE INDEX conversations_expiry ON conversations (expired_at) WHERE expired_at IS NOT NULL;

CREATE TABLE messages (
    message_id        TEXT PRIMARY KEY NOT NULL,
    conversation_id   TEXT NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    parent_message_id TEXT NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
    sender            TEXT NOT NULL DEFAULT 'User',
    is_created_by_user INTEGER NOT NULL DEFAULT 0,
    text              TEXT NOT NULL DEFAULT '',
    -- JSON array of content parts, or NULL for plain-text messages.
    content           TEXT,
    model             TEXT,
    endpoint          TEXT,
    token_count       INTEGER,
    error             INTEGER NOT NULL DEFAULT 0,
    unfinished        INTEGER NOT NULL DEFAULT 0,
    -- JSON {rating, tag, text} or NULL.
    feedback          TEXT,
    -- Every other TMessage field (files, attachments, finish_reason, iconURL, ...), as sent.
    extra             TEXT NOT NULL DEFAULT '{}',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;

-- A whole conversation in order, in one range scan.
CREATE INDEX messages_by_conversation ON messages (conversation_id, created_at, message_id);
CREATE INDEX messages_by_parent ON messages (conversation_id, parent_message_id);
CREATE INDEX messages_by_user ON messages (user_id, created_at);
