-- The tool calls of answers (LibreChat's `toolCall`): what each call returned, listed by
-- `GET /api/agents/tools/calls?conversationId=`. A call belongs to the answer whose content
-- holds it (at `part_index`), and goes with it.
CREATE TABLE tool_calls (
    -- An ObjectId-shaped id, answered as `_id`.
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    message_id      TEXT NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
    -- The tool's name (`calculator`, `web_search`, ...).
    tool_id         TEXT NOT NULL,
    -- The provider's id for the call.
    call_id         TEXT NOT NULL,
    -- What it returned, as JSON.
    result          TEXT,
    -- Its part's index in the answer's `content`.
    part_index      INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (message_id, part_index)
) STRICT;

CREATE INDEX tool_calls_by_conversation ON tool_calls (user_id, conversation_id, created_at);
