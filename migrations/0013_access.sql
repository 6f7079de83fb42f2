-- Sharing with people and groups (LibreChat's `Group` and `AclEntry` collections), and the
-- prompts library (its `PromptGroup` and `Prompt`).

-- Groups of users, made by administrators (`librechat group ...`). `source` is LibreChat's
-- ('local'; 'entra' for groups it reads from Microsoft Entra).
CREATE TABLE groups (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    email            TEXT,
    avatar           TEXT,
    source           TEXT NOT NULL DEFAULT 'local',
    id_on_the_source TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;
-- Names are how administrators address groups on the command line.
CREATE UNIQUE INDEX groups_by_name ON groups (name COLLATE NOCASE);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
) STRICT, WITHOUT ROWID;
-- "Which groups is this user in": asked by every permission check.
CREATE INDEX group_members_by_user ON group_members (user_id, group_id);

-- Who may do what with one resource. `principal_id` is a user's or a group's id, a role's
-- name, or '' for everyone (`public`). `role_id` is the access role granted
-- (`promptGroup_viewer`, ...) and `perm_bits` its bits (VIEW 1, EDIT 2, DELETE 4, SHARE 8), kept
-- with the entry as LibreChat keeps them.
CREATE TABLE acl_entries (
    id             TEXT PRIMARY KEY NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    principal_type TEXT NOT NULL CHECK (principal_type IN ('user', 'group', 'role', 'public')),
    principal_id   TEXT NOT NULL DEFAULT '',
    role_id        TEXT NOT NULL,
    perm_bits      INTEGER NOT NULL CHECK (perm_bits BETWEEN 0 AND 15),
    granted_by     TEXT,
    granted_at     TEXT NOT NULL,
    UNIQUE (resource_type, resource_id, principal_type, principal_id)
) STRICT;
-- The permission filter starts from the caller's principals and walks to their resources.
CREATE INDEX acl_by_principal
    ON acl_entries (principal_type, principal_id, resource_type, resource_id, perm_bits);

-- A principal that goes takes its access with it, at once.
CREATE TRIGGER acl_user_deleted AFTER DELETE ON users BEGIN
    DELETE FROM acl_entries WHERE principal_type = 'user' AND principal_id = OLD.id;
END;
CREATE TRIGGER acl_group_deleted AFTER DELETE ON groups BEGIN
    DELETE FROM acl_entries WHERE principal_type = 'group' AND principal_id = OLD.id;
END;

-- A prompt group: the named, shareable unit of the prompts library. Its versions are `prompts`;
-- `production_id` is the one in use.
CREATE TABLE prompt_groups (
    id                    TEXT PRIMARY KEY NOT NULL,
    name                  TEXT NOT NULL,
    oneliner              TEXT NOT NULL DEFAULT '',
    category              TEXT NOT NULL DEFAULT '',
    -- The `/` shortcut: lowercase letters, digits and hyphens.
    command               TEXT,
    production_id         TEXT,
    author                TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_name           TEXT NOT NULL DEFAULT '',
    number_of_generations INTEGER NOT NULL DEFAULT 0,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
) STRICT;
-- LibreChat's order: most used, then most recently changed.
CREATE INDEX prompt_groups_by_use ON prompt_groups (number_of_generations DESC, updated_at DESC, id);
CREATE INDEX prompt_groups_by_author ON prompt_groups (author);
CREATE INDEX prompt_groups_by_command ON prompt_groups (command) WHERE command IS NOT NULL;

CREATE TABLE prompts (
    id         TEXT PRIMARY KEY NOT NULL,
    group_id   TEXT NOT NULL REFERENCES prompt_groups (id) ON DELETE CASCADE,
    -- Who wrote this version (an editor may not be the group's author).
    author     TEXT NOT NULL,
    prompt     TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('text', 'chat')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX prompts_by_group ON prompts (group_id, created_at);

-- A resource that goes takes its access entries with it.
CREATE TRIGGER acl_prompt_group_deleted AFTER DELETE ON prompt_groups BEGIN
    DELETE FROM acl_entries WHERE resource_type = 'promptGroup' AND resource_id = OLD.id;
END;
