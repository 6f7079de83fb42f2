-- Sign-ins in flight to MCP servers and to actions' OAuth providers, kept where every replica
-- sees them: the browser binding (`POST .../oauth/bind`), the provider's callback, the flow's
-- status route and the call waiting for the sign-in may each reach a different replica.
-- Rows live minutes; expired ones are refused and dropped as new ones are written.

-- One sign-in: `mcp:<userId>:<server>` (LibreChat's flow id) or `action:<state>`.
CREATE TABLE oauth_flows (
    id         TEXT PRIMARY KEY,
    -- `mcp` or `action`.
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    -- The MCP server's name or the action's id.
    target     TEXT NOT NULL,
    -- The random `state` the provider sends back.
    state      TEXT NOT NULL UNIQUE,
    -- PENDING, CLAIMED (its callback is trading the code), COMPLETED or FAILED.
    status     TEXT NOT NULL,
    error      TEXT,
    -- Encrypted with CREDS_KEY (an MCP sign-in's PKCE verifier, client and link); never the code.
    secret     TEXT,
    -- Unix milliseconds.
    started_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX oauth_flows_expiry ON oauth_flows (expires_at);

-- A browser bound to a person's coming sign-in (LibreChat's CSRF cookie): the SHA-256 of the
-- cookie's value, spent by the callback that brings it.
CREATE TABLE oauth_binds (
    user_id    TEXT NOT NULL,
    -- `mcp:<server>` or `action:<actionId>`.
    target     TEXT NOT NULL,
    digest     TEXT NOT NULL,
    -- Unix milliseconds.
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, target)
) STRICT, WITHOUT ROWID;
CREATE INDEX oauth_binds_expiry ON oauth_binds (expires_at);
