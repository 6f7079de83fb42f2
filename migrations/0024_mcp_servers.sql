-- MCP servers people add themselves (LibreChat's `MCPServer` collection): reached over HTTP,
-- SSE or a websocket, never a command; shared through access entries (resource type
-- `mcpServer`, by `id`).
CREATE TABLE mcp_servers (
    -- An ObjectId-shaped id, answered as `dbId`: the access entries' `resource_id`.
    id                     TEXT PRIMARY KEY NOT NULL,
    -- The name its tools carry (`<tool>_mcp_<name>`), chosen from its title.
    server_name            TEXT NOT NULL UNIQUE,
    -- LibreChat's `normalizeServerName` of it: two names that read the same in tool keys
    -- cannot both exist.
    normalized_server_name TEXT NOT NULL UNIQUE,
    -- The configuration as checked and stored (`{type, url, headers, title, ...}`).
    config                 TEXT NOT NULL CHECK (json_valid(config)),
    author                 TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
) STRICT;
CREATE INDEX mcp_servers_by_author ON mcp_servers (author);

-- A server that goes takes its access entries with it.
CREATE TRIGGER acl_mcp_server_deleted AFTER DELETE ON mcp_servers BEGIN
    DELETE FROM acl_entries WHERE resource_type = 'mcpServer' AND resource_id = OLD.id;
END;
