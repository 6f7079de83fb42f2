-- The PostgreSQL twin of the SQLite schema as migrations/0001..0026 leave it: a new database
-- starts here, inside one transaction, and later migrations/postgres/NNNN_*.sql follow their
-- SQLite twins. tests/db_schema_parity.rs compares the two schemas.
--
-- The same SQL runs on both engines, so the shapes stay SQLite's: INTEGER is BIGINT (booleans
-- stay 0/1), REAL is DOUBLE PRECISION, BLOB is BYTEA, and ids and RFC 3339 timestamps are TEXT.
-- Every TEXT column is COLLATE "C": SQLite compares text byte by byte (BINARY), and so does
-- "C", whatever locale the database was made with, so ORDER BY, range cursors and lower() (ASCII
-- only, as SQLite's) answer the same on both. A rowid-aliased INTEGER PRIMARY KEY is an
-- identity column; the tables whose queries read SQLite's hidden `rowid` (agents,
-- tool_favorites) get a `rowid` identity column of the same name. SQLite triggers are row
-- triggers calling the plpgsql functions below, with the same names and effects.
-- SQLite functions the schema and the queries use are made here under their SQLite names
-- (json_valid, instr). Nothing is set for the session; the version is kept in
-- `librechat_schema`.

CREATE TABLE librechat_schema (
    version BIGINT NOT NULL
);
INSERT INTO librechat_schema (version) VALUES (26);

-- SQLite's json_valid(text) for the CHECKs that use it: NULL for NULL (so the CHECK passes), true
-- for well-formed JSON text, false otherwise.
CREATE FUNCTION json_valid(doc text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    PERFORM doc::json;
    RETURN true;
EXCEPTION WHEN invalid_text_representation OR untranslatable_character
    OR program_limit_exceeded OR statement_too_complex THEN
    RETURN false;
END;
$$;

-- SQLite's instr(haystack, needle), which queries use: the 1-based position of the first
-- needle, 0 when there is none, NULL when either is NULL.
CREATE FUNCTION instr(haystack text, needle text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT strpos(haystack, needle) $$;

-- 0001
CREATE TABLE meta (
    key        TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    value      TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);

-- 0002, 0026
CREATE TABLE users (
    id                   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    email                TEXT COLLATE "C" NOT NULL UNIQUE,
    name                 TEXT COLLATE "C" NOT NULL DEFAULT '',
    username             TEXT COLLATE "C" NOT NULL DEFAULT '',
    avatar               TEXT COLLATE "C",
    role                 TEXT COLLATE "C" NOT NULL DEFAULT 'USER',
    provider             TEXT COLLATE "C" NOT NULL DEFAULT 'local',
    password             TEXT COLLATE "C",
    email_verified       BIGINT NOT NULL DEFAULT 0,
    two_factor_enabled   BIGINT NOT NULL DEFAULT 0,
    totp_secret          TEXT COLLATE "C",
    pending_totp_secret  TEXT COLLATE "C",
    backup_codes         TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    pending_backup_codes TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    totp_last_step       BIGINT NOT NULL DEFAULT 0,
    terms_accepted       BIGINT NOT NULL DEFAULT 0,
    plugins              TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    personalization      TEXT COLLATE "C" NOT NULL DEFAULT '{"memories":true}',
    favorites            TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    google_id            TEXT COLLATE "C",
    facebook_id          TEXT COLLATE "C",
    openid_id            TEXT COLLATE "C",
    openid_issuer        TEXT COLLATE "C",
    saml_id              TEXT COLLATE "C",
    ldap_id              TEXT COLLATE "C",
    github_id            TEXT COLLATE "C",
    discord_id           TEXT COLLATE "C",
    apple_id             TEXT COLLATE "C",
    created_at           TEXT COLLATE "C" NOT NULL,
    updated_at           TEXT COLLATE "C" NOT NULL,
    terms_accepted_at    TEXT COLLATE "C"
);
CREATE INDEX users_created_at ON users (created_at);

CREATE TABLE sessions (
    id                 TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id            TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_token_hash TEXT COLLATE "C" NOT NULL,
    expires_at         TEXT COLLATE "C" NOT NULL,
    created_at         TEXT COLLATE "C" NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE tokens (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id    TEXT COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT COLLATE "C",
    kind       TEXT COLLATE "C" NOT NULL,
    token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    expires_at TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX tokens_user_kind ON tokens (user_id, kind);

CREATE TABLE roles (
    name        TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    permissions TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE bans (
    subject         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    kind            TEXT COLLATE "C" NOT NULL,
    violation_count BIGINT NOT NULL,
    expires_at      TEXT COLLATE "C" NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL
);

-- 0015 (before conversations, which reference it)
CREATE TABLE chat_projects (
    id                   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id              TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                 TEXT COLLATE "C" NOT NULL,
    description          TEXT COLLATE "C" NOT NULL DEFAULT '',
    conversation_count   BIGINT NOT NULL DEFAULT 0,
    last_conversation_at TEXT COLLATE "C",
    last_conversation_id TEXT COLLATE "C",
    created_at           TEXT COLLATE "C" NOT NULL,
    updated_at           TEXT COLLATE "C" NOT NULL
);
CREATE INDEX chat_projects_by_activity
    ON chat_projects (user_id, coalesce(last_conversation_at, '0' || created_at), id);
CREATE INDEX chat_projects_by_created ON chat_projects (user_id, created_at, id);
CREATE INDEX chat_projects_by_name ON chat_projects (user_id, name, id);

-- 0003, 0011, 0015
CREATE TABLE conversations (
    conversation_id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title           TEXT COLLATE "C" NOT NULL DEFAULT 'New Chat',
    endpoint        TEXT COLLATE "C",
    endpoint_type   TEXT COLLATE "C",
    model           TEXT COLLATE "C",
    is_archived     BIGINT NOT NULL DEFAULT 0,
    pinned          BIGINT NOT NULL DEFAULT 0,
    is_temporary    BIGINT NOT NULL DEFAULT 0,
    expired_at      TEXT COLLATE "C",
    settings        TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    created_at      TEXT COLLATE "C" NOT NULL,
    updated_at      TEXT COLLATE "C" NOT NULL,
    archived_at     TEXT COLLATE "C",
    project_id      TEXT COLLATE "C" REFERENCES chat_projects (id) ON DELETE SET NULL
);
CREATE INDEX conversations_list
    ON conversations (user_id, is_archived, updated_at, conversation_id);
CREATE INDEX conversations_expiry ON conversations (expired_at) WHERE expired_at IS NOT NULL;
CREATE INDEX conversations_by_project
    ON conversations (project_id, is_archived, updated_at, conversation_id)
    WHERE project_id IS NOT NULL;

CREATE TABLE messages (
    message_id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    conversation_id    TEXT COLLATE "C" NOT NULL
        REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    user_id            TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    parent_message_id  TEXT COLLATE "C" NOT NULL
        DEFAULT '00000000-0000-0000-0000-000000000000',
    sender             TEXT COLLATE "C" NOT NULL DEFAULT 'User',
    is_created_by_user BIGINT NOT NULL DEFAULT 0,
    text               TEXT COLLATE "C" NOT NULL DEFAULT '',
    content            TEXT COLLATE "C",
    model              TEXT COLLATE "C",
    endpoint           TEXT COLLATE "C",
    token_count        BIGINT,
    error              BIGINT NOT NULL DEFAULT 0,
    unfinished         BIGINT NOT NULL DEFAULT 0,
    feedback           TEXT COLLATE "C",
    extra              TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    created_at         TEXT COLLATE "C" NOT NULL,
    updated_at         TEXT COLLATE "C" NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, created_at, message_id);
CREATE INDEX messages_by_parent ON messages (conversation_id, parent_message_id);
CREATE INDEX messages_by_user ON messages (user_id, created_at);

-- 0004, 0011
CREATE TABLE presets (
    preset_id      TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id        TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title          TEXT COLLATE "C" NOT NULL DEFAULT 'New Preset',
    default_preset BIGINT NOT NULL DEFAULT 0,
    position       BIGINT,
    settings       TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    created_at     TEXT COLLATE "C" NOT NULL,
    updated_at     TEXT COLLATE "C" NOT NULL
);
CREATE INDEX presets_by_user ON presets (user_id, updated_at);

CREATE TABLE tags (
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tag         TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL DEFAULT '',
    position    BIGINT NOT NULL DEFAULT 0,
    created_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, tag)
);
CREATE UNIQUE INDEX tags_by_id ON tags (id);

CREATE TABLE conversation_tags (
    conversation_id TEXT COLLATE "C" NOT NULL
        REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    user_id         TEXT COLLATE "C" NOT NULL,
    tag             TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (conversation_id, tag),
    FOREIGN KEY (user_id, tag) REFERENCES tags (user_id, tag) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX conversation_tags_by_tag ON conversation_tags (user_id, tag);

-- 0005
CREATE TABLE shared_links (
    share_id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id           TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id   TEXT COLLATE "C" NOT NULL UNIQUE
        REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    title             TEXT COLLATE "C" NOT NULL,
    target_message_id TEXT COLLATE "C",
    snapshot          TEXT COLLATE "C" NOT NULL,
    created_at        TEXT COLLATE "C" NOT NULL,
    updated_at        TEXT COLLATE "C" NOT NULL
);
CREATE INDEX shared_links_by_user ON shared_links (user_id, created_at);

-- 0006: the search outbox (its triggers are at the end, with the others).
CREATE TABLE search_outbox (
    seq     BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    kind    TEXT COLLATE "C" NOT NULL,
    item_id TEXT COLLATE "C" NOT NULL
);

-- 0007
CREATE TABLE user_keys (
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT COLLATE "C" NOT NULL,
    value      TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, name)
);

-- 0008
CREATE TABLE balances (
    user_id               TEXT COLLATE "C" PRIMARY KEY NOT NULL
        REFERENCES users (id) ON DELETE CASCADE,
    token_credits         BIGINT NOT NULL DEFAULT 0,
    auto_refill_enabled   BIGINT NOT NULL DEFAULT 0,
    refill_interval_value BIGINT NOT NULL DEFAULT 30,
    refill_interval_unit  TEXT COLLATE "C" NOT NULL DEFAULT 'days',
    last_refill           TEXT COLLATE "C",
    refill_amount         BIGINT NOT NULL DEFAULT 0,
    updated_at            TEXT COLLATE "C" NOT NULL
);

CREATE TABLE transactions (
    id              TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id TEXT COLLATE "C",
    message_id      TEXT COLLATE "C",
    token_type      TEXT COLLATE "C" NOT NULL,
    model           TEXT COLLATE "C",
    context         TEXT COLLATE "C" NOT NULL,
    value_key       TEXT COLLATE "C",
    rate            DOUBLE PRECISION,
    raw_amount      BIGINT NOT NULL,
    token_value     BIGINT NOT NULL,
    input_tokens    BIGINT,
    write_tokens    BIGINT,
    read_tokens     BIGINT,
    created_at      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX transactions_by_user ON transactions (user_id, created_at);

-- 0009: `slot` is always 1; an identity like the rowid it aliases in SQLite.
CREATE TABLE banner (
    slot         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY CHECK (slot = 1),
    banner_id    TEXT COLLATE "C" NOT NULL,
    message      TEXT COLLATE "C" NOT NULL,
    display_from TEXT COLLATE "C" NOT NULL,
    display_to   TEXT COLLATE "C",
    type         TEXT COLLATE "C" NOT NULL DEFAULT 'banner' CHECK (type IN ('banner', 'popup')),
    is_public    BIGINT NOT NULL DEFAULT 0 CHECK (is_public IN (0, 1)),
    persistable  BIGINT NOT NULL DEFAULT 0 CHECK (persistable IN (0, 1)),
    created_at   TEXT COLLATE "C" NOT NULL,
    updated_at   TEXT COLLATE "C" NOT NULL
);

-- 0010
CREATE TABLE used_sign_in_proofs (
    key        TEXT COLLATE "C" PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- 0012, 0017 (files are after agents, which `agent_id` references)

-- 0013, 0016
CREATE TABLE groups (
    id               TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name             TEXT COLLATE "C" NOT NULL,
    description      TEXT COLLATE "C" NOT NULL DEFAULT '',
    email            TEXT COLLATE "C",
    avatar           TEXT COLLATE "C",
    source           TEXT COLLATE "C" NOT NULL DEFAULT 'local',
    id_on_the_source TEXT COLLATE "C",
    created_at       TEXT COLLATE "C" NOT NULL,
    updated_at       TEXT COLLATE "C" NOT NULL
);
-- SQLite's `name COLLATE NOCASE`: lower() of a "C" column folds ASCII letters only, as NOCASE.
CREATE UNIQUE INDEX groups_by_name ON groups (lower(name)) WHERE source = 'local';
CREATE UNIQUE INDEX groups_by_source_id ON groups (source, id_on_the_source)
    WHERE id_on_the_source IS NOT NULL;

CREATE TABLE group_members (
    group_id TEXT COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members (user_id, group_id);

CREATE TABLE acl_entries (
    id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    resource_type  TEXT COLLATE "C" NOT NULL,
    resource_id    TEXT COLLATE "C" NOT NULL,
    principal_type TEXT COLLATE "C" NOT NULL
        CHECK (principal_type IN ('user', 'group', 'role', 'public')),
    principal_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
    role_id        TEXT COLLATE "C" NOT NULL,
    perm_bits      BIGINT NOT NULL CHECK (perm_bits BETWEEN 0 AND 15),
    granted_by     TEXT COLLATE "C",
    granted_at     TEXT COLLATE "C" NOT NULL,
    UNIQUE (resource_type, resource_id, principal_type, principal_id)
);
CREATE INDEX acl_by_principal
    ON acl_entries (principal_type, principal_id, resource_type, resource_id, perm_bits);

CREATE TABLE prompt_groups (
    id                    TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name                  TEXT COLLATE "C" NOT NULL,
    oneliner              TEXT COLLATE "C" NOT NULL DEFAULT '',
    category              TEXT COLLATE "C" NOT NULL DEFAULT '',
    command               TEXT COLLATE "C",
    production_id         TEXT COLLATE "C",
    author                TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_name           TEXT COLLATE "C" NOT NULL DEFAULT '',
    number_of_generations BIGINT NOT NULL DEFAULT 0,
    created_at            TEXT COLLATE "C" NOT NULL,
    updated_at            TEXT COLLATE "C" NOT NULL
);
CREATE INDEX prompt_groups_by_use
    ON prompt_groups (number_of_generations DESC, updated_at DESC, id);
CREATE INDEX prompt_groups_by_author ON prompt_groups (author);
CREATE INDEX prompt_groups_by_command ON prompt_groups (command) WHERE command IS NOT NULL;

CREATE TABLE prompts (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    group_id   TEXT COLLATE "C" NOT NULL REFERENCES prompt_groups (id) ON DELETE CASCADE,
    author     TEXT COLLATE "C" NOT NULL,
    prompt     TEXT COLLATE "C" NOT NULL,
    type       TEXT COLLATE "C" NOT NULL CHECK (type IN ('text', 'chat')),
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX prompts_by_group ON prompts (group_id, created_at);

-- 0014
CREATE TABLE memories (
    id          TEXT COLLATE "C" NOT NULL UNIQUE,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    agent_id    TEXT COLLATE "C" NOT NULL DEFAULT '',
    key         TEXT COLLATE "C" NOT NULL,
    value       TEXT COLLATE "C" NOT NULL,
    token_count BIGINT NOT NULL DEFAULT 0,
    updated_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, agent_id, key)
);

-- 0017. `rowid`: SQLite's hidden row number, which agent_lists.rs reads.
CREATE TABLE agents (
    object_id               TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    id                      TEXT COLLATE "C" NOT NULL UNIQUE,
    name                    TEXT COLLATE "C",
    description             TEXT COLLATE "C",
    instructions            TEXT COLLATE "C",
    provider                TEXT COLLATE "C" NOT NULL,
    model                   TEXT COLLATE "C" NOT NULL,
    model_parameters        TEXT COLLATE "C" NOT NULL DEFAULT '{}'
        CHECK (json_valid(model_parameters)),
    artifacts               TEXT COLLATE "C",
    recursion_limit         BIGINT,
    tools                   TEXT COLLATE "C" NOT NULL DEFAULT '[]' CHECK (json_valid(tools)),
    actions                 TEXT COLLATE "C" CHECK (json_valid(actions)),
    tool_resources          TEXT COLLATE "C" NOT NULL DEFAULT '{}'
        CHECK (json_valid(tool_resources)),
    conversation_starters   TEXT COLLATE "C" NOT NULL DEFAULT '[]'
        CHECK (json_valid(conversation_starters)),
    agent_ids               TEXT COLLATE "C" CHECK (json_valid(agent_ids)),
    edges                   TEXT COLLATE "C" NOT NULL DEFAULT '[]' CHECK (json_valid(edges)),
    hide_sequential_outputs BIGINT,
    end_after_tools         BIGINT,
    avatar                  TEXT COLLATE "C" CHECK (json_valid(avatar)),
    support_contact         TEXT COLLATE "C" CHECK (json_valid(support_contact)),
    category                TEXT COLLATE "C" NOT NULL DEFAULT 'general',
    is_promoted             BIGINT NOT NULL DEFAULT 0,
    extra                   TEXT COLLATE "C" NOT NULL DEFAULT '{}' CHECK (json_valid(extra)),
    author                  TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version_count           BIGINT NOT NULL DEFAULT 0,
    created_at              TEXT COLLATE "C" NOT NULL,
    updated_at              TEXT COLLATE "C" NOT NULL,
    rowid                   BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL UNIQUE
);
CREATE INDEX agents_by_update ON agents (updated_at DESC, object_id);
CREATE INDEX agents_by_author ON agents (author);
CREATE INDEX agents_by_category ON agents (category);
-- SQLite's `WHERE is_promoted` (an integer is no condition here).
CREATE INDEX agents_promoted ON agents (object_id) WHERE is_promoted <> 0;

CREATE TABLE agent_versions (
    agent_id   TEXT COLLATE "C" NOT NULL REFERENCES agents (object_id) ON DELETE CASCADE,
    idx        BIGINT NOT NULL,
    definition TEXT COLLATE "C" NOT NULL CHECK (json_valid(definition)),
    updated_by TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (agent_id, idx)
);

CREATE TABLE agent_categories (
    value       TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    label       TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL DEFAULT '',
    sort_order  BIGINT NOT NULL DEFAULT 0,
    is_active   BIGINT NOT NULL DEFAULT 1,
    custom      BIGINT NOT NULL DEFAULT 0
);
INSERT INTO agent_categories (value, label, description, sort_order) VALUES
    ('general', 'com_agents_category_general', 'com_agents_category_general_description', 0),
    ('hr', 'com_agents_category_hr', 'com_agents_category_hr_description', 1),
    ('rd', 'com_agents_category_rd', 'com_agents_category_rd_description', 2),
    ('finance', 'com_agents_category_finance', 'com_agents_category_finance_description', 3),
    ('it', 'com_agents_category_it', 'com_agents_category_it_description', 4),
    ('sales', 'com_agents_category_sales', 'com_agents_category_sales_description', 5),
    ('aftersales', 'com_agents_category_aftersales',
        'com_agents_category_aftersales_description', 6);

-- 0012, 0017, 0022, 0023
CREATE TABLE files (
    file_id         TEXT COLLATE "C" PRIMARY KEY,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    temp_file_id    TEXT COLLATE "C",
    filename        TEXT COLLATE "C" NOT NULL,
    filepath        TEXT COLLATE "C" NOT NULL,
    storage_key     TEXT COLLATE "C" NOT NULL UNIQUE,
    bytes           BIGINT NOT NULL,
    type            TEXT COLLATE "C" NOT NULL,
    width           BIGINT,
    height          BIGINT,
    source          TEXT COLLATE "C" NOT NULL DEFAULT 'local',
    context         TEXT COLLATE "C",
    usage           BIGINT NOT NULL DEFAULT 0,
    conversation_id TEXT COLLATE "C",
    message_id      TEXT COLLATE "C",
    text            TEXT COLLATE "C",
    embedded        BIGINT NOT NULL DEFAULT 0,
    created_at      TEXT COLLATE "C" NOT NULL,
    updated_at      TEXT COLLATE "C" NOT NULL,
    agent_id        TEXT COLLATE "C" REFERENCES agents (object_id) ON DELETE SET NULL
);
CREATE INDEX files_by_user ON files (user_id, updated_at);
CREATE INDEX files_by_conversation ON files (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX files_unattached ON files (created_at) WHERE message_id IS NULL;
CREATE INDEX files_by_agent ON files (agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX files_searched_in_conversation ON files (conversation_id, user_id)
    WHERE embedded = 1;
CREATE INDEX files_for_file_search ON files (created_at, file_id) WHERE embedded = 1;

-- 0018
CREATE TABLE tool_calls (
    id              TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id TEXT COLLATE "C" NOT NULL,
    message_id      TEXT COLLATE "C" NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
    tool_id         TEXT COLLATE "C" NOT NULL,
    call_id         TEXT COLLATE "C" NOT NULL,
    result          TEXT COLLATE "C",
    part_index      BIGINT NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL,
    updated_at      TEXT COLLATE "C" NOT NULL,
    UNIQUE (message_id, part_index)
);
CREATE INDEX tool_calls_by_conversation ON tool_calls (user_id, conversation_id, created_at);

-- 0019
CREATE TABLE plugin_auth (
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    plugin_key TEXT COLLATE "C" NOT NULL,
    auth_field TEXT COLLATE "C" NOT NULL,
    value      TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, plugin_key, auth_field)
);
CREATE INDEX plugin_auth_by_field ON plugin_auth (user_id, auth_field, updated_at);

-- 0020
CREATE TABLE actions (
    object_id           TEXT COLLATE "C" NOT NULL UNIQUE,
    action_id           TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    agent_id            TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id             TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    metadata            TEXT COLLATE "C" NOT NULL CHECK (json_valid(metadata)),
    api_key             TEXT COLLATE "C",
    oauth_client_id     TEXT COLLATE "C",
    oauth_client_secret TEXT COLLATE "C",
    created_at          TEXT COLLATE "C" NOT NULL,
    updated_at          TEXT COLLATE "C" NOT NULL
);
CREATE INDEX actions_by_agent ON actions (agent_id);
CREATE INDEX actions_by_user ON actions (user_id);

CREATE TABLE action_tokens (
    user_id       TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    action_id     TEXT COLLATE "C" NOT NULL REFERENCES actions (action_id) ON DELETE CASCADE,
    access_token  TEXT COLLATE "C" NOT NULL,
    refresh_token TEXT COLLATE "C",
    expires_at    TEXT COLLATE "C" NOT NULL,
    updated_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, action_id)
);
CREATE INDEX action_tokens_by_action ON action_tokens (action_id);

-- 0021. `rowid`: SQLite's hidden row number, which tool_favorites.rs orders by.
CREATE TABLE tool_favorites (
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_type  TEXT COLLATE "C" NOT NULL
        CHECK (item_type IN ('builtin', 'tool', 'mcp', 'skill')),
    item_id    TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    rowid      BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL,
    PRIMARY KEY (user_id, item_type, item_id)
);

-- 0023
CREATE TABLE chunk_vectors (
    file_id TEXT COLLATE "C" NOT NULL REFERENCES files (file_id) ON DELETE CASCADE,
    chunk   BIGINT NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    model   TEXT COLLATE "C" NOT NULL,
    dims    BIGINT NOT NULL,
    page    BIGINT,
    text    TEXT COLLATE "C" NOT NULL,
    vector  BYTEA NOT NULL,
    PRIMARY KEY (file_id, chunk)
);

CREATE TABLE file_vectors (
    id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    file_id TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES files (file_id) ON DELETE CASCADE,
    model   TEXT COLLATE "C" NOT NULL,
    chunks  BIGINT NOT NULL
);

-- 0024
CREATE TABLE mcp_servers (
    id                     TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    server_name            TEXT COLLATE "C" NOT NULL UNIQUE,
    normalized_server_name TEXT COLLATE "C" NOT NULL UNIQUE,
    config                 TEXT COLLATE "C" NOT NULL CHECK (json_valid(config)),
    author                 TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at             TEXT COLLATE "C" NOT NULL,
    updated_at             TEXT COLLATE "C" NOT NULL
);
CREATE INDEX mcp_servers_by_author ON mcp_servers (author);

-- 0025
CREATE TABLE mcp_oauth (
    user_id       TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    server        TEXT COLLATE "C" NOT NULL,
    access_token  TEXT COLLATE "C" NOT NULL,
    refresh_token TEXT COLLATE "C",
    expires_at    TEXT COLLATE "C" NOT NULL,
    client        TEXT COLLATE "C" NOT NULL,
    updated_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, server)
);

-- Triggers. SQLite's `IS NOT` is `IS DISTINCT FROM`; a WHEN with a subquery (not allowed on a
-- PostgreSQL trigger) is tested in the function instead.

-- 0006, 0022: what the search index has not seen yet. The kind is the trigger's argument.
CREATE FUNCTION search_outbox_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (kind, item_id)
    VALUES ('m', CASE TG_OP WHEN 'DELETE' THEN OLD.message_id ELSE NEW.message_id END);
    RETURN NULL;
END;
$$;
CREATE FUNCTION search_outbox_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (kind, item_id)
    VALUES (TG_ARGV[0],
            CASE TG_OP WHEN 'DELETE' THEN OLD.conversation_id ELSE NEW.conversation_id END);
    RETURN NULL;
END;
$$;
CREATE FUNCTION search_outbox_file() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (kind, item_id)
    VALUES ('f', CASE TG_OP WHEN 'DELETE' THEN OLD.file_id ELSE NEW.file_id END);
    RETURN NULL;
END;
$$;

CREATE TRIGGER search_message_inserted AFTER INSERT ON messages
FOR EACH ROW EXECUTE FUNCTION search_outbox_message();
CREATE TRIGGER search_message_changed AFTER UPDATE OF text, content ON messages
FOR EACH ROW WHEN (OLD.text IS DISTINCT FROM NEW.text OR OLD.content IS DISTINCT FROM NEW.content)
EXECUTE FUNCTION search_outbox_message();
CREATE TRIGGER search_message_deleted AFTER DELETE ON messages
FOR EACH ROW EXECUTE FUNCTION search_outbox_message();

CREATE TRIGGER search_conversation_inserted AFTER INSERT ON conversations
FOR EACH ROW EXECUTE FUNCTION search_outbox_conversation('c');
CREATE TRIGGER search_conversation_renamed AFTER UPDATE OF title ON conversations
FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title)
EXECUTE FUNCTION search_outbox_conversation('c');
CREATE TRIGGER search_conversation_temporary AFTER UPDATE OF is_temporary ON conversations
FOR EACH ROW WHEN (OLD.is_temporary IS DISTINCT FROM NEW.is_temporary)
EXECUTE FUNCTION search_outbox_conversation('C');
CREATE TRIGGER search_conversation_deleted AFTER DELETE ON conversations
FOR EACH ROW EXECUTE FUNCTION search_outbox_conversation('c');

CREATE TRIGGER search_file_inserted AFTER INSERT ON files
FOR EACH ROW WHEN (NEW.embedded = 1) EXECUTE FUNCTION search_outbox_file();
CREATE TRIGGER search_file_changed AFTER UPDATE OF text, embedded ON files
FOR EACH ROW WHEN ((OLD.embedded = 1 OR NEW.embedded = 1)
    AND (OLD.text IS DISTINCT FROM NEW.text OR OLD.embedded IS DISTINCT FROM NEW.embedded))
EXECUTE FUNCTION search_outbox_file();
CREATE TRIGGER search_file_deleted AFTER DELETE ON files
FOR EACH ROW WHEN (OLD.embedded = 1) EXECUTE FUNCTION search_outbox_file();

-- 0013, 0017, 0024: a principal or a resource that goes takes its access entries with it.
CREATE FUNCTION acl_user_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM acl_entries WHERE principal_type = 'user' AND principal_id = OLD.id;
    RETURN NULL;
END;
$$;
CREATE FUNCTION acl_group_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM acl_entries WHERE principal_type = 'group' AND principal_id = OLD.id;
    RETURN NULL;
END;
$$;
CREATE FUNCTION acl_prompt_group_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM acl_entries WHERE resource_type = 'promptGroup' AND resource_id = OLD.id;
    RETURN NULL;
END;
$$;
CREATE FUNCTION acl_agent_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM acl_entries WHERE resource_type IN ('agent', 'remoteAgent')
        AND resource_id = OLD.object_id;
    RETURN NULL;
END;
$$;
CREATE FUNCTION acl_mcp_server_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM acl_entries WHERE resource_type = 'mcpServer' AND resource_id = OLD.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER acl_user_deleted AFTER DELETE ON users
FOR EACH ROW EXECUTE FUNCTION acl_user_deleted();
CREATE TRIGGER acl_group_deleted AFTER DELETE ON groups
FOR EACH ROW EXECUTE FUNCTION acl_group_deleted();
CREATE TRIGGER acl_prompt_group_deleted AFTER DELETE ON prompt_groups
FOR EACH ROW EXECUTE FUNCTION acl_prompt_group_deleted();
CREATE TRIGGER acl_agent_deleted AFTER DELETE ON agents
FOR EACH ROW EXECUTE FUNCTION acl_agent_deleted();
CREATE TRIGGER acl_mcp_server_deleted AFTER DELETE ON mcp_servers
FOR EACH ROW EXECUTE FUNCTION acl_mcp_server_deleted();

-- 0015: a conversation only ever joins a project of its own user's (SQLite's RAISE(ABORT)
-- with the same message), and the projects' statistics are recounted on every change.
CREATE FUNCTION conversations_project_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM chat_projects p
                   WHERE p.id = NEW.project_id AND p.user_id = NEW.user_id) THEN
        RAISE EXCEPTION 'a conversation can only join a project of its own user'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER conversations_project_owner_insert BEFORE INSERT ON conversations
FOR EACH ROW WHEN (NEW.project_id IS NOT NULL)
EXECUTE FUNCTION conversations_project_owner();
CREATE TRIGGER conversations_project_owner_update BEFORE UPDATE OF project_id, user_id
ON conversations
FOR EACH ROW WHEN (NEW.project_id IS NOT NULL)
EXECUTE FUNCTION conversations_project_owner();

CREATE FUNCTION chat_projects_recount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chat_projects SET
        conversation_count = (SELECT count(*) FROM conversations c
            WHERE c.project_id = chat_projects.id AND c.is_archived = 0 AND c.expired_at IS NULL),
        (last_conversation_at, last_conversation_id) = (SELECT c.updated_at, c.conversation_id
            FROM conversations c
            WHERE c.project_id = chat_projects.id AND c.is_archived = 0 AND c.expired_at IS NULL
            ORDER BY c.updated_at DESC, c.conversation_id DESC LIMIT 1)
    WHERE id IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.project_id END,
                 CASE WHEN TG_OP <> 'DELETE' THEN NEW.project_id END);
    RETURN NULL;
END;
$$;
CREATE TRIGGER chat_projects_count_insert AFTER INSERT ON conversations
FOR EACH ROW WHEN (NEW.project_id IS NOT NULL)
EXECUTE FUNCTION chat_projects_recount();
CREATE TRIGGER chat_projects_count_update
AFTER UPDATE OF project_id, is_archived, expired_at, updated_at ON conversations
FOR EACH ROW WHEN ((OLD.project_id IS NOT NULL OR NEW.project_id IS NOT NULL)
    AND (OLD.project_id IS DISTINCT FROM NEW.project_id
         OR OLD.is_archived IS DISTINCT FROM NEW.is_archived
         OR OLD.expired_at IS DISTINCT FROM NEW.expired_at
         OR OLD.updated_at IS DISTINCT FROM NEW.updated_at))
EXECUTE FUNCTION chat_projects_recount();
CREATE TRIGGER chat_projects_count_delete AFTER DELETE ON conversations
FOR EACH ROW WHEN (OLD.project_id IS NOT NULL)
EXECUTE FUNCTION chat_projects_recount();

-- 0023: a document whose text changes (or that is no longer searched) loses its vectors.
CREATE FUNCTION chunk_vectors_file_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM chunk_vectors WHERE file_id = NEW.file_id;
    DELETE FROM file_vectors WHERE file_id = NEW.file_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER chunk_vectors_file_changed AFTER UPDATE OF text, embedded ON files
FOR EACH ROW WHEN (OLD.text IS DISTINCT FROM NEW.text OR OLD.embedded IS DISTINCT FROM NEW.embedded)
EXECUTE FUNCTION chunk_vectors_file_changed();

-- SQLite's functions the store's queries use, defined for PostgreSQL with SQLite's meaning,
-- so each query is written once. JSON documents are TEXT columns in both engines.

-- A SQLite JSON path ('$', '$.a.b', '$.a[0]', '$[2]') as a jsonb path array.
CREATE FUNCTION librechat_json_path(path text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(coalesce(m[1], m[2]) ORDER BY n), '{}')
    FROM regexp_matches(path, '(?:\.([^.\[]+)|\[(\d+)\])', 'g') WITH ORDINALITY AS r(m, n)
$$;

-- json(doc): the document as JSON (so it is embedded, not quoted, by json_group_array).
CREATE FUNCTION json(doc text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT doc::jsonb $$;

-- json_extract(doc, path): a string as its text, anything else as JSON text.
CREATE FUNCTION json_extract(doc text, path text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(v) WHEN 'string' THEN v #>> '{}' WHEN 'null' THEN NULL
                ELSE v::text END
    FROM (SELECT doc::jsonb #> librechat_json_path(path) AS v) x
$$;

-- json_type(doc[, path]): SQLite's names (object, array, text, integer, real, true, false, null).
CREATE FUNCTION json_type(doc text, path text DEFAULT '$') RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(v)
        WHEN 'string' THEN 'text'
        WHEN 'number' THEN CASE WHEN v::text ~ '^-?\d+$' THEN 'integer' ELSE 'real' END
        WHEN 'boolean' THEN v::text
        ELSE jsonb_typeof(v) END
    FROM (SELECT doc::jsonb #> librechat_json_path(path) AS v) x
$$;

-- json_each(doc): the elements of an array (or the members of an object), each with its key
-- and its value (a string as its text, anything else as JSON text), as SQLite's json_each.
CREATE FUNCTION json_each(doc text)
    RETURNS TABLE (key text, value text, type text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT e.key, CASE jsonb_typeof(e.v) WHEN 'string' THEN e.v #>> '{}'
                                         WHEN 'null' THEN NULL ELSE e.v::text END,
           json_type(e.v::text)
    FROM (
        SELECT (a.n - 1)::text AS key, a.v FROM jsonb_array_elements(
            CASE jsonb_typeof(doc::jsonb) WHEN 'array' THEN doc::jsonb ELSE '[]' END)
            WITH ORDINALITY AS a(v, n)
        UNION ALL
        SELECT o.key, o.value FROM jsonb_each(
            CASE jsonb_typeof(doc::jsonb) WHEN 'object' THEN doc::jsonb ELSE '{}' END) AS o
    ) e
$$;

-- json_group_array(value): the values as a JSON array (text), in aggregation order.
CREATE FUNCTION librechat_json_group_step(state jsonb, v anyelement) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT state || jsonb_build_array(v) $$;
CREATE FUNCTION librechat_json_group_final(state jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT state::text $$;
CREATE AGGREGATE json_group_array(anyelement) (
    SFUNC = librechat_json_group_step, STYPE = jsonb,
    FINALFUNC = librechat_json_group_final, INITCOND = '[]'
);

-- json_each(doc, path): the elements (or members) of the part of `doc` at `path`.
CREATE FUNCTION json_each(doc text, path text)
    RETURNS TABLE (key text, value text, type text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT * FROM json_each((doc::jsonb #> librechat_json_path(path))::text)
$$;
