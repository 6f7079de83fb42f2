-- What the assistant keeps about a person (LibreChat's `MemoryEntry`): key/value pairs, each with
-- its value's token count (o200k_base, as LibreChat counts it) and when it was last written.
-- The person's opt-out stays where LibreChat keeps it: `users.personalization.memories`.
CREATE TABLE memories (
    -- An ObjectId-shaped id, answered as `_id`.
    id          TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- LibreChat's agent partition; '' is the person's shared pool (the only one used until
    -- agents exist here).
    agent_id    TEXT NOT NULL DEFAULT '',
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    token_count INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, agent_id, key)
) STRICT, WITHOUT ROWID;
