//! The statements `librechat migrate-from-librechat` writes with (see `src/from_librechat`).
//!
//! Each inserts one row "unless present": a row whose key is already there is left as it is
//! (`ON CONFLICT DO NOTHING`), which is what makes running the migration twice harmless.
//! [`insert`] says whether the row went in; the caller tells "already imported" from "taken by
//! someone else" with the lookups below.

use rusqlite::{Connection, OptionalExtension, ToSql, params};

/// Runs one of the statements below; `true` when the row was inserted.
pub fn insert(conn: &Connection, sql: &str, values: &[&dyn ToSql]) -> rusqlite::Result<bool> {
    Ok(conn.prepare_cached(sql)?.execute(values)? == 1)
}

pub const ROLE: &str = "INSERT INTO roles (name, permissions, updated_at) VALUES (?1, ?2, ?3)
    ON CONFLICT DO NOTHING";

pub const USER: &str = "INSERT INTO users (id, email, name, username, avatar, role, provider,
        password, email_verified, two_factor_enabled, totp_secret, backup_codes, terms_accepted,
        plugins, personalization, favorites, google_id, facebook_id, openid_id, openid_issuer,
        saml_id, ldap_id, github_id, discord_id, apple_id, created_at, updated_at,
        terms_accepted_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
        ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)
    ON CONFLICT DO NOTHING";

pub const BALANCE: &str = "INSERT INTO balances (user_id, token_credits, auto_refill_enabled,
        refill_interval_value, refill_interval_unit, last_refill, refill_amount, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING";

pub const TRANSACTION: &str = "INSERT INTO transactions (id, user_id, conversation_id,
        message_id, token_type, model, context, value_key, rate, raw_amount, token_value,
        input_tokens, write_tokens, read_tokens, created_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
    ON CONFLICT DO NOTHING";

pub const USER_KEY: &str = "INSERT INTO user_keys (user_id, name, value, expires_at, created_at,
        updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT DO NOTHING";

pub const PLUGIN_AUTH: &str = "INSERT INTO plugin_auth (user_id, plugin_key, auth_field, value,
        created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING";

pub const PROJECT: &str = "INSERT INTO chat_projects (id, user_id, name, description, created_at,
        updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING";

pub const TAG: &str = "INSERT INTO tags (id, user_id, tag, description, position, created_at,
        updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING";

/// A tag a conversation names but the tags collection lacks (LibreChat lets them drift).
pub const TAG_NAMED: &str = "INSERT INTO tags (id, user_id, tag, position, created_at, updated_at)
    SELECT ?1, ?2, ?3, coalesce(max(position), 0) + 1, ?4, ?4 FROM tags WHERE user_id = ?2
    ON CONFLICT DO NOTHING";

pub const CONVERSATION_TAG: &str = "INSERT INTO conversation_tags (conversation_id, user_id, tag)
    VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";

pub const CONVERSATION: &str = "INSERT INTO conversations (conversation_id, user_id, title,
        endpoint, endpoint_type, model, is_archived, archived_at, pinned, is_temporary,
        expired_at, settings, project_id, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
    ON CONFLICT DO NOTHING";

/// A message. Written in bulk ([`BulkMessages`]): the caller has checked that its
/// conversation is there and belongs to the same person.
pub const MESSAGE: &str = "INSERT INTO messages (message_id, conversation_id, user_id,
        parent_message_id, sender, is_created_by_user, text, content, model, endpoint,
        token_count, error, unfinished, feedback, extra, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
    ON CONFLICT DO NOTHING";

/// The trigger that feeds the search outbox one row per new message.
const SEARCH_TRIGGER: &str = "search_message_inserted";

/// Messages written in bulk, as the import of a large history needs: without the three lookups
/// per row the server's own writes make (the foreign keys to the conversation and the user, and
/// the search outbox's trigger). Measured on 1,000,000 messages: see `benches/migrate.rs`.
///
/// What stays sound: the caller checks each message's conversation and owner itself (once per
/// conversation, [`conversation_owner`]); the trigger is dropped and made again *inside* each
/// transaction ([`BulkMessages::begin`], [`BulkMessages::commit`]), so a crash at any point
/// leaves it in place; and the caller marks the search index for a rebuild, which reads every
/// message from the database.
pub struct BulkMessages {
    /// The trigger's own `CREATE TRIGGER` text, as the schema holds it.
    trigger: Option<String>,
}

impl BulkMessages {
    /// Turns this connection's foreign-key checks off until [`BulkMessages::finish`]. Outside
    /// a transaction (SQLite ignores the pragma inside one).
    pub fn start(conn: &Connection) -> rusqlite::Result<Self> {
        conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        let trigger = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?1",
                [SEARCH_TRIGGER],
                |r| r.get(0),
            )
            .optional()?;
        Ok(Self { trigger })
    }

    pub fn begin(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch("BEGIN")?;
        if self.trigger.is_some() {
            conn.execute_batch(&format!("DROP TRIGGER {SEARCH_TRIGGER}"))?;
        }
        Ok(())
    }

    pub fn commit(&self, conn: &Connection) -> rusqlite::Result<()> {
        if let Some(sql) = &self.trigger {
            conn.execute_batch(sql)?;
        }
        conn.execute_batch("COMMIT")
    }

    pub fn finish(self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch("PRAGMA foreign_keys = ON")
    }
}

pub const SHARED_LINK: &str = "INSERT INTO shared_links (share_id, user_id, conversation_id,
        title, target_message_id, snapshot, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING";

pub const PRESET: &str = "INSERT INTO presets (preset_id, user_id, title, default_preset,
        position, settings, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING";

pub const PROMPT_GROUP: &str = "INSERT INTO prompt_groups (id, name, oneliner, category, command,
        production_id, author, author_name, number_of_generations, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING";

pub const PROMPT: &str = "INSERT INTO prompts (id, group_id, author, prompt, type, created_at,
        updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING";

pub const MEMORY: &str = "INSERT INTO memories (id, user_id, agent_id, key, value, token_count,
        updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING";

pub const TOOL_FAVORITE: &str = "INSERT INTO tool_favorites (user_id, item_type, item_id,
        created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";

/// The one banner slot: a later-starting banner replaces an earlier one.
pub const BANNER: &str = "INSERT INTO banner (slot, banner_id, message, display_from, display_to,
        type, is_public, persistable, created_at, updated_at)
    VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
    ON CONFLICT (slot) DO UPDATE SET banner_id = excluded.banner_id, message = excluded.message,
        display_from = excluded.display_from, display_to = excluded.display_to,
        type = excluded.type, is_public = excluded.is_public,
        persistable = excluded.persistable, created_at = excluded.created_at,
        updated_at = excluded.updated_at
    WHERE excluded.display_from > banner.display_from";

pub const AGENT_CATEGORY: &str = "INSERT INTO agent_categories (value, label, description,
        sort_order, is_active, custom) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING";

pub const AGENT: &str = "INSERT INTO agents (object_id, id, name, description, instructions,
        provider, model, model_parameters, artifacts, recursion_limit, tools, actions,
        tool_resources, conversation_starters, agent_ids, edges, hide_sequential_outputs,
        end_after_tools, avatar, support_contact, category, is_promoted, extra, author,
        version_count, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
        ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)
    ON CONFLICT DO NOTHING";

pub const AGENT_VERSION: &str = "INSERT INTO agent_versions (agent_id, idx, definition,
        updated_by, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT DO NOTHING";

pub const ACTION: &str = "INSERT INTO actions (object_id, action_id, agent_id, user_id, metadata,
        api_key, oauth_client_id, oauth_client_secret, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING";

pub const MCP_SERVER: &str = "INSERT INTO mcp_servers (id, server_name, normalized_server_name,
        config, author, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
    ON CONFLICT DO NOTHING";

pub const GROUP: &str = "INSERT INTO groups (id, name, description, email, avatar, source,
        id_on_the_source, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
    ON CONFLICT DO NOTHING";

pub const GROUP_MEMBER: &str = "INSERT INTO group_members (group_id, user_id, added_at)
    VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";

pub const ACL_ENTRY: &str = "INSERT INTO acl_entries (id, resource_type, resource_id,
        principal_type, principal_id, role_id, perm_bits, granted_by, granted_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING";

/// A tool call, only of a message of the same owner.
pub const TOOL_CALL: &str = "INSERT INTO tool_calls (id, user_id, conversation_id, message_id,
        tool_id, call_id, result, part_index, created_at, updated_at)
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10
    WHERE EXISTS (SELECT 1 FROM messages WHERE message_id = ?4 AND user_id = ?2)
    ON CONFLICT DO NOTHING";

/// Does the account exist?
pub fn user_exists(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
        .exists([id])
}

/// Whether the row keyed `key` in `table` is there with `column = owner` (`Some(true)`), there
/// with another owner (`Some(false)`), or not there (`None`). Only for the tables below.
pub fn owned_by(
    conn: &Connection,
    table: Owned,
    key: &str,
    owner: &str,
) -> rusqlite::Result<Option<bool>> {
    let sql = match table {
        Owned::User => "SELECT id = ?1 FROM users WHERE id = ?1 OR email = ?2",
        Owned::Conversation => "SELECT user_id = ?2 FROM conversations WHERE conversation_id = ?1",
        Owned::Message => "SELECT user_id = ?2 FROM messages WHERE message_id = ?1",
        Owned::Preset => "SELECT user_id = ?2 FROM presets WHERE preset_id = ?1",
        Owned::SharedLink => "SELECT user_id = ?2 FROM shared_links WHERE share_id = ?1",
        Owned::Project => "SELECT user_id = ?2 FROM chat_projects WHERE id = ?1",
        Owned::PromptGroup => "SELECT author = ?2 FROM prompt_groups WHERE id = ?1",
        Owned::Prompt => "SELECT author = ?2 FROM prompts WHERE id = ?1",
        Owned::Agent => "SELECT author = ?2 FROM agents WHERE object_id = ?1",
        Owned::Action => "SELECT user_id = ?2 FROM actions WHERE action_id = ?1",
        Owned::McpServer => "SELECT author = ?2 FROM mcp_servers WHERE id = ?1",
        Owned::ToolCall => "SELECT user_id = ?2 FROM tool_calls WHERE id = ?1",
        Owned::Group => "SELECT name = ?2 FROM groups WHERE id = ?1",
        Owned::AclEntry => "SELECT resource_id = ?2 FROM acl_entries WHERE id = ?1",
    };
    conn.prepare_cached(sql)?
        .query_row(params![key, owner], |r| r.get(0))
        .optional()
}

/// The tables [`owned_by`] knows.
#[derive(Clone, Copy)]
pub enum Owned {
    /// Keyed by id, "owned" by matching the email too (`owner` is the email).
    User,
    Conversation,
    Message,
    Preset,
    SharedLink,
    Project,
    PromptGroup,
    Prompt,
    /// Keyed by `_id` (`object_id`), owned by its author.
    Agent,
    /// Keyed by `action_id`.
    Action,
    McpServer,
    ToolCall,
    /// "Owned" by its name.
    Group,
    /// "Owned" by its resource.
    AclEntry,
}

/// The owner of a conversation, if it exists.
pub fn conversation_owner(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT user_id FROM conversations WHERE conversation_id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()
}

/// Does the role exist?
pub fn role_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM roles WHERE name = ?1")?
        .exists([name])
}

/// Does the person's project exist?
pub fn project_of(conn: &Connection, id: &str, user: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM chat_projects WHERE id = ?1 AND user_id = ?2")?
        .exists([id, user])
}

/// Does the prompt group exist?
pub fn prompt_group_exists(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM prompt_groups WHERE id = ?1")?
        .exists([id])
}

/// The banner shown now, if any.
pub fn banner_id(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT banner_id FROM banner WHERE slot = 1")?
        .query_row([], |r| r.get(0))
        .optional()
}

/// A file's record; its bytes were stored first (under `storage_key`).
pub const FILE: &str = "INSERT INTO files (file_id, user_id, temp_file_id, filename, filepath,
        storage_key, bytes, type, width, height, source, context, usage, conversation_id,
        message_id, text, embedded, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
    ON CONFLICT DO NOTHING";

/// A file already here: whether `owner` owns it, its `filepath`, and whether it is attached to
/// no message.
pub fn file_here(
    conn: &Connection,
    file_id: &str,
    owner: &str,
) -> rusqlite::Result<Option<(bool, String, bool)>> {
    conn.prepare_cached(
        "SELECT user_id = ?2, filepath, message_id IS NULL FROM files WHERE file_id = ?1",
    )?
    .query_row(params![file_id, owner], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .optional()
}

/// What a message's `files` entry shows of a file: name, type, size, source, width, height.
pub type FileCard = (String, String, i64, String, Option<i64>, Option<i64>);

pub fn file_card(conn: &Connection, file_id: &str) -> rusqlite::Result<Option<FileCard>> {
    conn.prepare_cached(
        "SELECT filename, type, bytes, source, width, height FROM files WHERE file_id = ?1",
    )?
    .query_row([file_id], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .optional()
}

/// Attaches the owner's file to a message that carries it, unless it is attached already.
pub fn attach_file(
    conn: &Connection,
    file_id: &str,
    owner: &str,
    message_id: &str,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE files SET message_id = ?3
              WHERE file_id = ?1 AND user_id = ?2 AND message_id IS NULL",
        )?
        .execute(params![file_id, owner, message_id])?
        == 1)
}

/// Takes a file attached to no message out of the sweeper's reach (which removes uploads
/// for messages never sent): it becomes a plain upload with no context, as LibreChat's older
/// files are.
pub fn keep_unattached(conn: &Connection, file_id: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE files SET context = NULL
              WHERE file_id = ?1 AND message_id IS NULL AND context = 'message_attachment'",
        )?
        .execute([file_id])?
        == 1)
}

/// Accounts whose picture is a LibreChat upload (`/images/<user>/avatar-<time>.<ext>`) that
/// no avatar file here shows: `(user, avatar)`.
pub fn librechat_avatars(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT u.id, u.avatar FROM users u WHERE u.avatar LIKE '/images/%/avatar-%'
            AND NOT EXISTS (SELECT 1 FROM files f WHERE f.user_id = u.id
                 AND f.context = 'avatar' AND instr(u.avatar, f.filepath) = 1)
          ORDER BY u.id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Shows `url` as the account's picture, if it still shows `was`.
pub fn set_avatar(conn: &Connection, user: &str, was: &str, url: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE users SET avatar = ?3 WHERE id = ?1 AND avatar = ?2",
        params![user, was, url],
    )? == 1)
}

/// An agent whose picture is not one of its pictures here (a LibreChat path or a link).
pub struct AgentAvatar {
    pub object_id: String,
    /// Its `agent_...` id, which its pictures' addresses name.
    pub id: String,
    pub author: String,
    pub filepath: String,
    pub source: Option<String>,
}

/// Agents whose `avatar.filepath` is not an address of this server's agent pictures.
pub fn librechat_agent_avatars(conn: &Connection) -> rusqlite::Result<Vec<AgentAvatar>> {
    let mut stmt = conn.prepare(
        "SELECT object_id, id, author, avatar ->> '$.filepath', avatar ->> '$.source'
           FROM agents WHERE json_type(avatar, '$.filepath') = 'text'
            AND avatar ->> '$.filepath' NOT IN ('', '/images/agents')
            AND avatar ->> '$.filepath' NOT LIKE '/images/agents/%'
          ORDER BY object_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(AgentAvatar {
            object_id: r.get(0)?,
            id: r.get(1)?,
            author: r.get(2)?,
            filepath: r.get(3)?,
            source: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// Makes the file `file_id` a picture of the agent `object_id`, and points the agent's
/// avatar, and those of its versions that name `was`, at `now` (a local file).
pub fn set_agent_picture(
    conn: &Connection,
    object_id: &str,
    file_id: &str,
    was: &str,
    now: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE files SET agent_id = ?2 WHERE file_id = ?1",
        params![file_id, object_id],
    )?;
    conn.execute(
        "UPDATE agents SET avatar = json_set(avatar, '$.filepath', ?3, '$.source', 'local')
          WHERE object_id = ?1 AND avatar ->> '$.filepath' = ?2",
        params![object_id, was, now],
    )?;
    conn.execute(
        "UPDATE agent_versions
            SET definition = json_set(definition, '$.avatar.filepath', ?3,
                                      '$.avatar.source', 'local')
          WHERE agent_id = ?1 AND definition ->> '$.avatar.filepath' = ?2",
        params![object_id, was, now],
    )?;
    Ok(())
}

/// Does the agent `agent_...` exist?
pub fn agent_exists(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM agents WHERE id = ?1")?
        .exists([id])
}

/// Does the group exist?
pub fn group_exists(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM groups WHERE id = ?1")?
        .exists([id])
}

/// Does the resource an access entry names exist? `None` for a type nothing is imported for.
pub fn resource_exists(
    conn: &Connection,
    rt: crate::db::acl::ResourceType,
    id: &str,
) -> rusqlite::Result<Option<bool>> {
    use crate::db::acl::ResourceType as T;
    let sql = match rt {
        T::Agent | T::RemoteAgent => "SELECT 1 FROM agents WHERE object_id = ?1",
        T::PromptGroup => "SELECT 1 FROM prompt_groups WHERE id = ?1",
        T::McpServer => "SELECT 1 FROM mcp_servers WHERE id = ?1",
        T::Skill | T::SharedLink => return Ok(None),
    };
    conn.prepare_cached(sql)?.exists([id]).map(Some)
}

/// The `content` of the person's message (`Some(None)` when it has none), if it exists.
pub fn message_content(
    conn: &Connection,
    message_id: &str,
    user: &str,
) -> rusqlite::Result<Option<Option<String>>> {
    conn.prepare_cached("SELECT content FROM messages WHERE message_id = ?1 AND user_id = ?2")?
        .query_row([message_id, user], |r| r.get(0))
        .optional()
}

/// Gives each author of a prompt group, agent or MCP server owner access where no entry says
/// so: what this server grants whoever makes one, and what LibreChat granted too, except in
/// versions from before its access entries. `owner` names the owner role of a type (its id and
/// bits). The number of entries added.
pub fn grant_missing_owners(
    conn: &Connection,
    owner: impl Fn(crate::db::acl::ResourceType) -> (&'static str, u8),
) -> rusqlite::Result<usize> {
    use crate::db::acl::ResourceType as T;
    let mut added = 0;
    for (rt, table, id, author) in [
        (T::PromptGroup, "prompt_groups", "id", "author"),
        (T::Agent, "agents", "object_id", "author"),
        (T::McpServer, "mcp_servers", "id", "author"),
    ] {
        let (role, bits) = owner(rt);
        added += conn.execute(
            &format!(
                "INSERT INTO acl_entries (id, resource_type, resource_id, principal_type,
                     principal_id, role_id, perm_bits, granted_by, granted_at)
                 SELECT lower(hex(randomblob(12))), ?1, r.{id}, 'user', r.{author}, ?2,
                        ?3, r.{author}, r.created_at
                   FROM {table} r
                  WHERE NOT EXISTS (SELECT 1 FROM acl_entries a WHERE a.resource_type = ?1
                        AND a.resource_id = r.{id} AND a.principal_type = 'user'
                        AND a.principal_id = r.{author})
                 ON CONFLICT DO NOTHING"
            ),
            params![rt.as_str(), role, bits],
        )?;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triggers(conn: &Connection) -> i64 {
        conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name = ?1",
            [SEARCH_TRIGGER],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[test]
    fn the_search_trigger_is_only_ever_gone_inside_a_bulk_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("librechat.db");
        drop(crate::db::Db::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let bulk = BulkMessages::start(&conn).unwrap();
        bulk.begin(&conn).unwrap();
        assert_eq!(triggers(&conn), 0);
        // A crash (or a failure) rolls the batch back, and the trigger with it.
        conn.execute_batch("ROLLBACK").unwrap();
        assert_eq!(triggers(&conn), 1);
        bulk.begin(&conn).unwrap();
        bulk.commit(&conn).unwrap();
        assert_eq!(triggers(&conn), 1);
        bulk.finish(&conn).unwrap();
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }
}
