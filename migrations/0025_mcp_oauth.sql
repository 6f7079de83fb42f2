-- Each person's sign-in to an MCP server that needs one (LibreChat keeps these in `tokens`,
-- types `mcp_oauth`, `mcp_oauth_refresh` and `mcp_oauth_client`, identifier `mcp:<server>`):
-- the tokens, and the OAuth client used to get them (registered for this person, or the
-- configured one), so a refresh needs no new discovery. Servers are librechat.yaml's, named.
CREATE TABLE mcp_oauth (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    server        TEXT NOT NULL,
    -- Encrypted with CREDS_KEY.
    access_token  TEXT NOT NULL,
    refresh_token TEXT,
    -- RFC 3339; the access token is refreshed before it.
    expires_at    TEXT NOT NULL,
    -- Encrypted JSON: client id and secret, token endpoint, resource.
    client        TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (user_id, server)
) STRICT, WITHOUT ROWID;
