-- Accounts: users, their sessions, single-use tokens, roles and bans.
--
-- Every table holding a user's data references users(id) ON DELETE CASCADE, so deleting the
-- user row removes everything the user owns in one statement. Later tables join the cascade by
-- declaring the same foreign key.

CREATE TABLE users (
    id                  TEXT PRIMARY KEY NOT NULL,
    -- Stored lowercased and trimmed; unique.
    email               TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL DEFAULT '',
    username            TEXT NOT NULL DEFAULT '',
    avatar              TEXT,
    role                TEXT NOT NULL DEFAULT 'USER',
    -- 'local', 'google', 'github', 'discord', 'facebook', 'apple', 'openid', 'saml', 'ldap'
    provider            TEXT NOT NULL DEFAULT 'local',
    -- argon2id PHC string, or a bcrypt hash imported from LibreChat (rehashed at next login).
    password            TEXT,
    email_verified      INTEGER NOT NULL DEFAULT 0,
    two_factor_enabled  INTEGER NOT NULL DEFAULT 0,
    -- TOTP secrets, encrypted with CREDS_KEY.
    totp_secret         TEXT,
    pending_totp_secret TEXT,
    -- JSON [{codeHash, used, usedAt}]; the pending set waits for 2FA to be confirmed.
    backup_codes        TEXT NOT NULL DEFAULT '[]',
    pending_backup_codes TEXT NOT NULL DEFAULT '[]',
    -- The last TOTP time step accepted: a code is good once (RFC 6238, 5.2).
    totp_last_step      INTEGER NOT NULL DEFAULT 0,
    terms_accepted      INTEGER NOT NULL DEFAULT 0,
    -- JSON values the client reads as they are.
    plugins             TEXT NOT NULL DEFAULT '[]',
    personalization     TEXT NOT NULL DEFAULT '{"memories":true}',
    favorites           TEXT NOT NULL DEFAULT '[]',
    -- Identity provider subjects.
    google_id           TEXT,
    facebook_id         TEXT,
    openid_id           TEXT,
    openid_issuer       TEXT,
    saml_id             TEXT,
    ldap_id             TEXT,
    github_id           TEXT,
    discord_id          TEXT,
    apple_id            TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
) STRICT;

CREATE INDEX users_created_at ON users (created_at);

-- One row per signed-in device. Only a SHA-256 of the refresh token is kept.
CREATE TABLE sessions (
    id                 TEXT PRIMARY KEY NOT NULL,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_token_hash TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    created_at         TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);

-- Single-use tokens: email verification, password reset, invites. Only a hash is kept.
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT,
    kind       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX tokens_user_kind ON tokens (user_id, kind);

-- Role permissions: JSON {PERMISSION_TYPE: {PERMISSION: bool}}.
CREATE TABLE roles (
    name        TEXT PRIMARY KEY NOT NULL,
    permissions TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

-- Active bans, by 'user:<id>' or 'ip:<address>'. Expired rows are ignored and pruned.
CREATE TABLE bans (
    subject         TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    violation_count INTEGER NOT NULL,
    expires_at      TEXT NOT NULL,
    created_at      TEXT NOT NULL
) STRICT;
