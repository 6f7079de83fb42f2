-- Agents (LibreChat's `Agent` collection), their versions, and the marketplace's categories
-- (its `AgentCategory`). Running agents (the tool loop) is not here: this is what is stored.

-- An agent as its people wrote it. The arrays and objects LibreChat keeps on the document
-- (tools, tool_resources, edges, ...) are JSON text: nothing queries inside them.
CREATE TABLE agents (
    -- LibreChat's `_id`: access entries (`acl_entries.resource_id`), the share dialog and
    -- `/api/permissions/agent/...` name an agent by it.
    object_id               TEXT PRIMARY KEY NOT NULL,
    -- `agent_` and a nanoid: how the routes, conversations and other agents' edges name it.
    id                      TEXT NOT NULL UNIQUE,
    name                    TEXT,
    description             TEXT,
    instructions            TEXT,
    provider                TEXT NOT NULL,
    model                   TEXT NOT NULL,
    model_parameters        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(model_parameters)),
    artifacts               TEXT,
    recursion_limit         INTEGER,
    tools                   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tools)),
    -- The agent's actions (`domain` + delimiter + action id), when it has any.
    actions                 TEXT CHECK (json_valid(actions)),
    tool_resources          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(tool_resources)),
    conversation_starters   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(conversation_starters)),
    -- LibreChat's deprecated chain (`agent_ids`) and its handoff graph (`edges`), as given.
    agent_ids               TEXT CHECK (json_valid(agent_ids)),
    edges                   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(edges)),
    hide_sequential_outputs INTEGER,
    end_after_tools         INTEGER,
    -- `{filepath, source}` of its picture.
    avatar                  TEXT CHECK (json_valid(avatar)),
    -- `{name, email}` shown in the marketplace.
    support_contact         TEXT CHECK (json_valid(support_contact)),
    category                TEXT NOT NULL DEFAULT 'general',
    -- Set by administrators (`librechat agents promote`), never by the API.
    is_promoted             INTEGER NOT NULL DEFAULT 0,
    -- LibreChat's fields for features not built here (skills, subagents, tool options, ...),
    -- kept as given so they are not lost.
    extra                   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(extra)),
    author                  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- How many versions `agent_versions` holds (LibreChat's `version`), kept here so a read
    -- does not count them.
    version_count           INTEGER NOT NULL DEFAULT 0,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
) STRICT;
-- The marketplace's order (newest change first, `_id` breaking ties) is its cursor's order.
CREATE INDEX agents_by_update ON agents (updated_at DESC, object_id);
CREATE INDEX agents_by_author ON agents (author);
CREATE INDEX agents_by_category ON agents (category);
CREATE INDEX agents_promoted ON agents (object_id) WHERE is_promoted;

-- Every change of an agent, as LibreChat keeps `versions` on the document: each row is the
-- agent's definition after one change, in order (`idx` 0 is the agent as created), which
-- `POST /api/agents/:id/revert` restores by index. A table of its own rather than a column:
-- reading or listing an agent (every chat turn, every marketplace page) never carries its
-- history, a change appends a row instead of rewriting a growing document, and
-- `GET /api/agents/:id/versions` reads it only when the editor asks.
CREATE TABLE agent_versions (
    agent_id   TEXT NOT NULL REFERENCES agents (object_id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    -- The definition: LibreChat's fields of the agent (name, instructions, tools, ...), JSON.
    definition TEXT NOT NULL CHECK (json_valid(definition)),
    updated_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (agent_id, idx)
) STRICT, WITHOUT ROWID;

-- The marketplace's categories, seeded with LibreChat's (labels are its client's translation
-- keys). An administrator may add rows (`custom` = 1) or hide one (`is_active` = 0).
CREATE TABLE agent_categories (
    value       TEXT PRIMARY KEY NOT NULL,
    label       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    sort_order  INTEGER NOT NULL DEFAULT 0,
    is_active   INTEGER NOT NULL DEFAULT 1,
    custom      INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO agent_categories (value, label, description, sort_order) VALUES
    ('general', 'com_agents_category_general', 'com_agents_category_general_description', 0),
    ('hr', 'com_agents_category_hr', 'com_agents_category_hr_description', 1),
    ('rd', 'com_agents_category_rd', 'com_agents_category_rd_description', 2),
    ('finance', 'com_agents_category_finance', 'com_agents_category_finance_description', 3),
    ('it', 'com_agents_category_it', 'com_agents_category_it_description', 4),
    ('sales', 'com_agents_category_sales', 'com_agents_category_sales_description', 5),
    ('aftersales', 'com_agents_category_aftersales', 'com_agents_category_aftersales_description', 6);

-- An agent's pictures: the avatar files uploaded for it (`files.context` = 'agent_avatar')
-- name it, so they load for whoever may see it, and go when it goes (the sweeper removes
-- a picture whose agent is gone). Every one is kept while the agent is: its versions may
-- name any of them, and a revert brings one back.
ALTER TABLE files ADD COLUMN agent_id TEXT REFERENCES agents (object_id) ON DELETE SET NULL;
CREATE INDEX files_by_agent ON files (agent_id) WHERE agent_id IS NOT NULL;

-- An agent that goes takes its access entries with it (as the agent and as its remote-agent
-- twin, which LibreChat grants alongside).
CREATE TRIGGER acl_agent_deleted AFTER DELETE ON agents BEGIN
    DELETE FROM acl_entries WHERE resource_type IN ('agent', 'remoteAgent')
        AND resource_id = OLD.object_id;
END;
