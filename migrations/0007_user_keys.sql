-- API keys people bring for endpoints configured with `user_provided` (LibreChat's `Key`
-- collection). The value is encrypted with CREDS_KEY (AES-GCM) and never sent back.
CREATE TABLE user_keys (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The endpoint's name: openAI, or a custom endpoint's.
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    -- NULL: never expires.
    expires_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
) STRICT;
