//! The `agents` and `agent_versions` tables: agents as stored, shared through access entries
//! (`acl_entries`, resource type `agent`, keyed by the agent's `_id`, here `object_id`).
//!
//! Every function takes the [`Viewer`] and checks their bits on the agent in the same
//! statement or transaction as the work: an agent the viewer cannot see is not found, one they
//! see but may not change is forbidden. Changes and versions are in [`super::agent_changes`],
//! lists and categories in [`super::agent_lists`], what an agent refers to (other agents, files)
//! in [`super::agent_refs`], its pictures in [`super::agent_pictures`].

use crate::db::sql::{Connection, OptionalExtension, Row};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::acl::{self, ResourceType, Viewer};
use super::agent_refs::{check_edges, prune_file_ids, replace_edge_source};
use super::files::{self, File};
use super::{DbError, new_object_id, now};

/// Permission bits (LibreChat's `PermissionBits`).
pub const VIEW: u8 = 1;
pub const EDIT: u8 = 2;
pub const DELETE: u8 = 4;

pub(super) const RT: ResourceType = ResourceType::Agent;

/// Why a request about an agent was refused; nothing of it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No such agent, or one the viewer may not see.
    NotFound,
    /// The viewer sees it, but lacks the permission the request needs.
    Forbidden,
    /// Agents its `edges` name that do not exist.
    EdgesMissing(Vec<String>),
    /// Agents its `edges` name that the viewer may not see.
    EdgesForbidden(Vec<String>),
    /// `avatar` names a picture that is not one uploaded for this agent.
    ForeignAvatar,
    /// No version at this index.
    NoVersion(i64),
}

/// What a person writes of an agent, and what each of its versions keeps: LibreChat's
/// `Agent` fields, with its names. Values are checked before they get here
/// (`crate::agents::definition`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    pub provider: String,
    pub model: String,
    #[serde(default)]
    pub model_parameters: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recursion_limit: Option<i64>,
    #[serde(default)]
    pub tools: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<String>>,
    #[serde(default)]
    pub tool_resources: Map<String, Value>,
    #[serde(default)]
    pub conversation_starters: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_ids: Option<Vec<String>>,
    #[serde(default)]
    pub edges: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_sequential_outputs: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_after_tools: Option<bool>,
    /// `{filepath, source}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<Value>,
    /// `{name?, email?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_contact: Option<Value>,
    #[serde(default = "general")]
    pub category: String,
    /// LibreChat's fields for features not built here (skills, subagents, ...), as given, and
    /// `memory_scope` ([`Definition::memory_scope`]).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Definition {
    /// LibreChat's `memory_scope`: `agent` keeps the agent's memories apart (per person),
    /// `user` (or none) uses each person's shared pool. Kept with LibreChat's other fields in
    /// [`Definition::extra`], as given (checked on the way in).
    pub fn memory_scope(&self) -> Option<&str> {
        self.extra.get("memory_scope").and_then(Value::as_str)
    }
}

fn general() -> String {
    "general".into()
}

/// One stored agent, as the viewer may see it.
#[derive(Debug, Clone)]
pub struct Agent {
    /// LibreChat's `_id`.
    pub object_id: String,
    /// `agent_...`.
    pub id: String,
    pub def: Definition,
    pub is_promoted: bool,
    pub author: String,
    /// The author's display name (their name, else their username), for `owner_contact`.
    pub author_name: String,
    /// How many versions it has (LibreChat's `version`).
    pub version_count: i64,
    pub created_at: String,
    pub updated_at: String,
    /// Whether everyone may see it.
    pub is_public: bool,
    /// The viewer's permission bits on it.
    pub bits: u8,
}

/// An agent's columns, from `agents a LEFT JOIN users u ON u.id = a.author`; [`agent_from_row`]
/// reads them (the viewer's bits and whether it is public follow).
pub(super) const COLUMNS: &str = "a.object_id, a.id, a.name, a.description, a.instructions, \
    a.provider, a.model, a.model_parameters, a.artifacts, a.recursion_limit, a.tools, a.actions, \
    a.tool_resources, a.conversation_starters, a.agent_ids, a.edges, a.hide_sequential_outputs, \
    a.end_after_tools, a.avatar, a.support_contact, a.category, a.extra, a.is_promoted, a.author, \
    coalesce(nullif(u.name, ''), u.username, ''), a.version_count, a.created_at, a.updated_at";

/// A JSON column as the value it holds (a column that does not read is none: the CHECKs keep
/// them valid, so this is only ever a column written by hand).
pub(super) fn json_of<T: serde::de::DeserializeOwned>(text: Option<String>) -> Option<T> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

/// An agent from [`COLUMNS`] followed by `is_public` and the viewer's bits.
pub(super) fn agent_from_row(r: &Row<'_>) -> crate::db::sql::Result<Agent> {
    let def = Definition {
        name: r.get(2)?,
        description: r.get(3)?,
        instructions: r.get(4)?,
        provider: r.get(5)?,
        model: r.get(6)?,
        model_parameters: json_of(r.get(7)?).unwrap_or_default(),
        artifacts: r.get(8)?,
        recursion_limit: r.get(9)?,
        tools: json_of(r.get(10)?).unwrap_or_default(),
        actions: json_of(r.get(11)?),
        tool_resources: json_of(r.get(12)?).unwrap_or_default(),
        conversation_starters: json_of(r.get(13)?).unwrap_or_default(),
        agent_ids: json_of(r.get(14)?),
        edges: json_of(r.get(15)?).unwrap_or_default(),
        hide_sequential_outputs: r.get(16)?,
        end_after_tools: r.get(17)?,
        avatar: json_of(r.get(18)?),
        support_contact: json_of(r.get(19)?),
        category: r.get(20)?,
        extra: json_of(r.get(21)?).unwrap_or_default(),
    };
    Ok(Agent {
        object_id: r.get(0)?,
        id: r.get(1)?,
        def,
        is_promoted: r.get(22)?,
        author: r.get(23)?,
        author_name: r.get(24)?,
        version_count: r.get(25)?,
        created_at: r.get(26)?,
        updated_at: r.get(27)?,
        is_public: r.get(28)?,
        bits: r.get::<_, i64>(29)? as u8,
    })
}

/// JSON text of a value for a column.
pub(super) fn text<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Writes `def` over the agent's columns and stamps the change.
pub(super) fn write_definition(
    conn: &Connection,
    object_id: &str,
    def: &Definition,
    at: &str,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "UPDATE agents SET name = ?2, description = ?3, instructions = ?4, provider = ?5,
             model = ?6, model_parameters = ?7, artifacts = ?8, recursion_limit = ?9, tools = ?10,
             actions = ?11, tool_resources = ?12, conversation_starters = ?13, agent_ids = ?14,
             edges = ?15, hide_sequential_outputs = ?16, end_after_tools = ?17, avatar = ?18,
             support_contact = ?19, category = ?20, extra = ?21, updated_at = ?22
         WHERE object_id = ?1",
    )?
    .execute(params![
        object_id,
        def.name,
        def.description,
        def.instructions,
        def.provider,
        def.model,
        text(&def.model_parameters),
        def.artifacts,
        def.recursion_limit,
        text(&def.tools),
        def.actions.as_ref().map(text),
        text(&def.tool_resources),
        text(&def.conversation_starters),
        def.agent_ids.as_ref().map(text),
        text(&def.edges),
        def.hide_sequential_outputs,
        def.end_after_tools,
        def.avatar.as_ref().map(text),
        def.support_contact.as_ref().map(text),
        def.category,
        text(&def.extra),
        at,
    ])?;
    Ok(())
}

/// The `_id` of the agent `id` (`agent_...`), if there is one.
pub(super) fn object_id_of(conn: &Connection, id: &str) -> Result<Option<String>, DbError> {
    conn.prepare_cached("SELECT object_id FROM agents WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()
}

/// The agent `id` if the viewer's bits on it include `need`: its `_id` and their bits.
pub(super) fn check(
    conn: &Connection,
    viewer: &Viewer,
    id: &str,
    need: u8,
) -> Result<Result<(String, u8), Denied>, DbError> {
    let Some(object_id) = object_id_of(conn, id)? else {
        return Ok(Err(Denied::NotFound));
    };
    let bits = acl::effective(conn, viewer, RT, &object_id)?;
    Ok(if bits & VIEW == 0 {
        Err(Denied::NotFound)
    } else if bits & need != need {
        Err(Denied::Forbidden)
    } else {
        Ok((object_id, bits))
    })
}

/// The agent whose `_id` this is, with the viewer's `bits` on it (already checked).
pub(super) fn load(conn: &Connection, object_id: &str, bits: u8) -> Result<Agent, DbError> {
    let sql = format!(
        "SELECT {COLUMNS}, EXISTS (SELECT 1 FROM acl_entries pe WHERE pe.resource_type = 'agent'
             AND pe.resource_id = a.object_id AND pe.principal_type = 'public'
             AND (pe.perm_bits & 1) <> 0), CAST(?2 AS INTEGER)
         FROM agents a LEFT JOIN users u ON u.id = a.author WHERE a.object_id = ?1"
    );
    conn.prepare_cached(&sql)?
        .query_row(params![object_id, bits], agent_from_row)
        .optional()?
        .ok_or(DbError::NotFound)
}

/// The agent `id` (`agent_...`) if the viewer's bits on it include `need`.
pub fn get(
    conn: &Connection,
    viewer: &Viewer,
    id: &str,
    need: u8,
) -> Result<Result<Agent, Denied>, DbError> {
    Ok(match check(conn, viewer, id, need)? {
        Ok((object_id, bits)) => Ok(load(conn, &object_id, bits)?),
        Err(d) => Err(d),
    })
}

/// The names of the agents of `ids` the viewer may see (LibreChat's `withAgentNames` for the
/// memories list: an id a person wrote into their own memories must not reveal the name of
/// an agent they cannot see). An agent without a name, or one not found, is left out.
pub fn names_visible(
    conn: &Connection,
    viewer: &Viewer,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, String>, DbError> {
    let mut names = std::collections::HashMap::new();
    for id in ids {
        if names.contains_key(*id) {
            continue;
        }
        if let Ok((object_id, _)) = check(conn, viewer, id, VIEW)? {
            let name: Option<String> = conn
                .prepare_cached("SELECT name FROM agents WHERE object_id = ?1")?
                .query_row([object_id], |r| r.get(0))
                .optional()?
                .flatten();
            if let Some(name) = name {
                names.insert((*id).to_owned(), name);
            }
        }
    }
    Ok(names)
}

/// The agent `id` for the server's own use, whoever may see it: the memory agent
/// librechat.yaml names (`memory.agent.id`), chosen by the administrator. Never for a request
/// a person makes (use [`get`]).
pub fn get_for_server(conn: &Connection, id: &str) -> Result<Option<Agent>, DbError> {
    match object_id_of(conn, id)? {
        Some(object_id) => Ok(Some(load(conn, &object_id, VIEW)?)),
        None => Ok(None),
    }
}

/// LibreChat's agent ids: `agent_` and 21 characters of nanoid's alphabet.
pub fn new_agent_id() -> String {
    const ALPHABET: &[u8; 64] = b"useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";
    let mut random = [0u8; 21];
    // Without system randomness the object id's own randomness and counter still make it unique.
    if getrandom::fill(&mut random).is_err() {
        return format!("agent_{}", new_object_id());
    }
    let tail: String = random
        .iter()
        .map(|b| ALPHABET[usize::from(b & 63)] as char)
        .collect();
    format!("agent_{tail}")
}

/// The access roles a new agent's author is granted: LibreChat's `agent_owner` and
/// `remoteAgent_owner` (the type, the role's id and its bits).
pub type Owners<'a> = &'a [(ResourceType, &'a str, u8)];

/// Creates an agent whose definition is `def`, with its first version, and makes the viewer its
/// owner. `id` is its new `agent_...` id. Its edges must name agents the viewer may see; file
/// ids in its tool resources that are not the viewer's are dropped.
pub fn create(
    conn: &mut Connection,
    viewer: &Viewer,
    id: &str,
    def: &Definition,
    owners: Owners<'_>,
) -> Result<Result<Agent, Denied>, DbError> {
    let tx = conn.transaction()?;
    let mut def = def.clone();
    if let Err(d) = check_edges(&tx, viewer, &def.edges, id)? {
        return Ok(Err(d));
    }
    prune_file_ids(&tx, &viewer.user_id, &mut def.tool_resources, &Map::new())?;
    let agent = insert(&tx, viewer, id, &def, owners)?;
    tx.commit()?;
    Ok(Ok(agent))
}

/// Writes a new agent, its first version and its owner's entries.
fn insert(
    tx: &Connection,
    viewer: &Viewer,
    id: &str,
    def: &Definition,
    owners: Owners<'_>,
) -> Result<Agent, DbError> {
    let (object_id, ts) = (new_object_id(), now());
    tx.prepare_cached(
        "INSERT INTO agents (object_id, id, provider, model, author, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![
        object_id,
        id,
        def.provider,
        def.model,
        viewer.user_id,
        ts
    ])?;
    write_definition(tx, &object_id, def, &ts)?;
    super::agent_changes::add_version(tx, &object_id, def, None, &ts)?;
    for (rt, role, bits) in owners {
        acl::grant(
            tx,
            *rt,
            &object_id,
            "user",
            &viewer.user_id,
            role,
            *bits,
            Some(&viewer.user_id),
        )?;
    }
    load(tx, &object_id, acl::effective(tx, viewer, RT, &object_id)?)
}

/// What a copy of an agent is given besides its source's definition.
#[derive(Debug, Clone)]
pub struct Copy {
    /// The new `agent_...` id.
    pub id: String,
    /// Added to the source's name, LibreChat's `" (1/2/26, 14:05)"`.
    pub name_suffix: String,
    /// A copy of the source's picture, stored already, recorded here as the copy's.
    pub picture: Option<File>,
}

/// Copies the agent `source` (needs EDIT on it) as a new agent of the viewer's, as LibreChat's
/// duplicate copies: the definition without its file resources (the `context` files stay),
/// its actions copied under new ids without their secrets (those stay with the source), the
/// copy's own edges pointing at the copy.
pub fn duplicate(
    conn: &mut Connection,
    viewer: &Viewer,
    source: &str,
    copy: &Copy,
    owners: Owners<'_>,
) -> Result<Result<Agent, Denied>, DbError> {
    let tx = conn.transaction()?;
    let original = match get(&tx, viewer, source, EDIT)? {
        Ok(a) => a,
        Err(d) => return Ok(Err(d)),
    };
    let mut def = original.def.clone();
    def.name = Some(format!(
        "{}{}",
        def.name.as_deref().unwrap_or(""),
        copy.name_suffix
    ));
    // LibreChat keeps the `context` files, with the legacy `ocr` ones merged in.
    let mut context = Map::new();
    for key in ["context", "ocr"] {
        if let Some(Value::Object(r)) = original.def.tool_resources.get(key) {
            context.extend(r.clone());
        }
    }
    def.tool_resources = Map::new();
    if !context.is_empty() {
        def.tool_resources
            .insert("context".into(), Value::Object(context));
    }
    let (copies, entries) =
        super::actions::plan_copies(&tx, source, original.def.actions.as_deref().unwrap_or(&[]))?;
    def.actions = Some(entries);
    def.avatar = None;
    replace_edge_source(&mut def.edges, source, &copy.id);
    replace_edge_source(&mut def.edges, "", &copy.id);
    if let Err(d) = check_edges(&tx, viewer, &def.edges, &copy.id)? {
        return Ok(Err(d));
    }
    let existing = def.tool_resources.clone();
    prune_file_ids(&tx, &viewer.user_id, &mut def.tool_resources, &existing)?;
    if let Some(p) = &copy.picture {
        def.avatar = Some(serde_json::json!({"filepath": p.filepath, "source": p.source}));
    }
    let mut agent = insert(&tx, viewer, &copy.id, &def, owners)?;
    super::actions::insert_copies(&tx, &copies, &copy.id, &viewer.user_id)?;
    if let Some(p) = &copy.picture {
        files::insert(&tx, p)?;
        tx.execute(
            "UPDATE files SET agent_id = ?2 WHERE file_id = ?1",
            params![p.file_id, agent.object_id],
        )?;
        agent = load(&tx, &agent.object_id, agent.bits)?;
    }
    tx.commit()?;
    Ok(Ok(agent))
}

/// Deletes an agent (needs DELETE): its versions and access entries go with it, other
/// agents' edges and people's favorites forget it. Returns the storage keys of its pictures,
/// whose records went too (the bytes are the caller's to remove, after this commits).
pub fn delete(
    conn: &mut Connection,
    viewer: &Viewer,
    id: &str,
) -> Result<Result<Vec<String>, Denied>, DbError> {
    let tx = conn.transaction()?;
    let object_id = match check(&tx, viewer, id, DELETE)? {
        Ok((object_id, _)) => object_id,
        Err(d) => return Ok(Err(d)),
    };
    let keys: Vec<String> = {
        let mut stmt = tx.prepare_cached(
            "DELETE FROM files WHERE agent_id = ?1 AND context = 'agent_avatar'
             RETURNING storage_key",
        )?;
        let rows = stmt.query_map([&object_id], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    tx.execute("DELETE FROM agents WHERE object_id = ?1", [&object_id])?;
    super::agent_changes::forget_in_edges(&tx, id)?;
    // LibreChat's favorites are `{agentId}` items of the account's list.
    tx.execute(
        "UPDATE users SET favorites = (SELECT json_group_array(json(f.value))
             FROM json_each(users.favorites) f
             WHERE json_extract(f.value, '$.agentId') IS DISTINCT FROM ?1)
         WHERE json_valid(favorites) AND EXISTS (SELECT 1 FROM json_each(users.favorites) f
             WHERE json_extract(f.value, '$.agentId') = ?1)",
        [id],
    )?;
    tx.commit()?;
    Ok(Ok(keys))
}

/// An agent as the administrator's list shows it.
#[derive(Debug, Clone)]
pub struct Summary {
    pub id: String,
    pub name: String,
    pub category: String,
    pub is_promoted: bool,
    pub author_email: String,
}

/// Every agent, newest change first, outside the access entries (`librechat agents list`).
pub fn all(conn: &Connection) -> Result<Vec<Summary>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT a.id, coalesce(a.name, ''), a.category, a.is_promoted, coalesce(u.email, '')
         FROM agents a LEFT JOIN users u ON u.id = a.author
         ORDER BY a.updated_at DESC, a.object_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Summary {
            id: r.get(0)?,
            name: r.get(1)?,
            category: r.get(2)?,
            is_promoted: r.get(3)?,
            author_email: r.get(4)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// Marks an agent as promoted (or not) in the marketplace; whether there was one by this id.
/// An administrator's operation (`librechat agents promote`), outside the access entries; the
/// change is no version (LibreChat's `is_promoted` is not the author's to write).
pub fn set_promoted(conn: &Connection, id: &str, promoted: bool) -> Result<bool, DbError> {
    let n = conn.execute(
        "UPDATE agents SET is_promoted = ?2 WHERE id = ?1",
        params![id, promoted],
    )?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_look_like_librechat_s() {
        let id = new_agent_id();
        assert_eq!(id.len(), "agent_".len() + 21);
        assert!(id.starts_with("agent_"));
        assert!(
            id[6..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        );
        assert_ne!(id, new_agent_id());
    }

    #[test]
    fn a_definition_keeps_what_it_does_not_know() {
        let v = json!({"provider": "openAI", "model": "gpt-4o", "skills": ["s1"], "name": "A"});
        let def: Definition = serde_json::from_value(v).unwrap();
        assert_eq!(def.category, "general");
        assert_eq!(def.extra["skills"], json!(["s1"]));
        let back = serde_json::to_value(&def).unwrap();
        assert_eq!(back["skills"], json!(["s1"]));
        assert_eq!(back["name"], "A");
        assert!(back.get("avatar").is_none());
    }
}
