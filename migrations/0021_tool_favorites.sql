-- The tools a person starred in the Tool Library (LibreChat's `toolfavorites`): a built-in tool,
-- a tool, an MCP server's tool or a skill, by its id; listed in the order they were starred.
CREATE TABLE tool_favorites (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- LibreChat's `itemType`: builtin, tool, mcp or skill.
    item_type  TEXT NOT NULL CHECK (item_type IN ('builtin', 'tool', 'mcp', 'skill')),
    item_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, item_type, item_id)
) STRICT;
