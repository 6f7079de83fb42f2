-- Credentials people store for tools (LibreChat's `pluginauths`): the value of one of a tool's
-- variables (`WOLFRAM_APP_ID`) for one person, encrypted with CREDS_KEY (AES-GCM) and never
-- sent back. A variable is looked up by name for the person, whichever tool stored it (as
-- LibreChat looks it up), the newest first.
CREATE TABLE plugin_auth (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The tool it was stored for (`wolfram`).
    plugin_key TEXT NOT NULL,
    -- The variable's name.
    auth_field TEXT NOT NULL,
    value      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, plugin_key, auth_field)
) STRICT;

CREATE INDEX plugin_auth_by_field ON plugin_auth (user_id, auth_field, updated_at);
