-- Agents' actions (LibreChat's `Action` collection): an OpenAPI document attached to an agent,
-- whose operations become the agent's tools, with how to authenticate to its API.
CREATE TABLE actions (
    -- An ObjectId-shaped id, answered as `_id`.
    object_id           TEXT NOT NULL UNIQUE,
    -- LibreChat's nanoid: how the agent's `actions` (domain + `_action_` + id), the routes and
    -- the OAuth callback name it. One agent's only: a request naming it for another is refused.
    action_id           TEXT PRIMARY KEY NOT NULL,
    agent_id            TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    -- The agent's author when it was made (LibreChat's `user`).
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- `{domain, raw_spec, auth, privacy_policy_url}`: everything but the secrets.
    metadata            TEXT NOT NULL CHECK (json_valid(metadata)),
    -- The secrets, each encrypted with CREDS_KEY (`v3:` AES-256-GCM), never answered.
    api_key             TEXT,
    oauth_client_id     TEXT,
    oauth_client_secret TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
) STRICT;
CREATE INDEX actions_by_agent ON actions (agent_id);
CREATE INDEX actions_by_user ON actions (user_id);

-- What each person's sign-in to an action's OAuth provider gave (LibreChat keeps them in
-- `tokens`, type `oauth` and `oauth_refresh`, identifier `<user>:<action>`): per person, so
-- one agent shared with many calls each one's API as that one.
CREATE TABLE action_tokens (
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    action_id          TEXT NOT NULL REFERENCES actions (action_id) ON DELETE CASCADE,
    -- Encrypted with CREDS_KEY.
    access_token       TEXT NOT NULL,
    refresh_token      TEXT,
    -- RFC 3339; the access token is not used after it.
    expires_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    PRIMARY KEY (user_id, action_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX action_tokens_by_action ON action_tokens (action_id);
