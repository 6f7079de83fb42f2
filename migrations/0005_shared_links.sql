-- Shared links: a read-only snapshot of part of a conversation, reachable by its share id.
-- The snapshot is taken when the link is made (later messages and edits are not shared) and
-- holds anonymized ids only, never the owner's id or email.
CREATE TABLE shared_links (
    share_id          TEXT PRIMARY KEY NOT NULL,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id   TEXT NOT NULL UNIQUE REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    title             TEXT NOT NULL,
    target_message_id TEXT,
    -- The anonymized conversation id and the messages, as the public page shows them.
    snapshot          TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;

CREATE INDEX shared_links_by_user ON shared_links (user_id, created_at);
