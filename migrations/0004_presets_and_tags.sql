-- Presets and bookmarks (conversation tags).

CREATE TABLE presets (
    -- Chosen by the client (a UUID) or made by the server; unique across users, and every
    -- query also filters by user_id.
    preset_id      TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title          TEXT NOT NULL DEFAULT 'New Preset',
    default_preset INTEGER NOT NULL DEFAULT 0,
    position       INTEGER,
    -- The conversation settings the preset applies (endpoint, model, parameters, ...).
    settings       TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
) STRICT;

CREATE INDEX presets_by_user ON presets (user_id, updated_at);

-- A user's bookmarks. Counts are not stored: they are counted from conversation_tags, so
-- they can never drift.
CREATE TABLE tags (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, tag)
) STRICT;

CREATE TABLE conversation_tags (
    conversation_id TEXT NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    tag             TEXT NOT NULL,
    PRIMARY KEY (conversation_id, tag),
    FOREIGN KEY (user_id, tag) REFERENCES tags (user_id, tag) ON DELETE CASCADE ON UPDATE CASCADE
) STRICT;

CREATE INDEX conversation_tags_by_tag ON conversation_tags (user_id, tag);
