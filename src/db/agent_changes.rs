//! Changing an agent: every change is a version (`agent_versions`), as LibreChat keeps
//! `versions` on its document; a revert restores one; a picture is a change too.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;
use serde_json::{Map, Value};

use super::acl::Viewer;
use super::agent_refs::{check_edges, prune_file_ids, replace_edge_source};
use super::agents::{self, Agent, Definition, Denied, EDIT, check, load, write_definition};
use super::files::{self, File};
use super::{DbError, now};

/// A change to an agent: what is `Some` is set (`avatar: Some(None)` takes the picture away).
#[derive(Debug, Clone, Default)]
pub struct Patch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub instructions: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub model_parameters: Option<Map<String, Value>>,
    pub artifacts: Option<String>,
    pub recursion_limit: Option<i64>,
    pub tools: Option<Vec<String>>,
    pub tool_resources: Option<Map<String, Value>>,
    pub conversation_starters: Option<Vec<String>>,
    pub agent_ids: Option<Vec<String>>,
    pub edges: Option<Vec<Value>>,
    pub hide_sequential_outputs: Option<bool>,
    pub end_after_tools: Option<bool>,
    pub avatar: Option<Option<Value>>,
    pub support_contact: Option<Value>,
    pub category: Option<String>,
    /// Fields of features not built here, each replacing what was stored.
    pub extra: Map<String, Value>,
}

impl Patch {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        let Patch {
            name,
            description,
            instructions,
            provider,
            model,
            model_parameters,
            artifacts,
            recursion_limit,
            tools,
            tool_resources,
            conversation_starters,
            agent_ids,
            edges,
            hide_sequential_outputs,
            end_after_tools,
            avatar,
            support_contact,
            category,
            extra,
        } = self;
        name.is_none()
            && description.is_none()
            && instructions.is_none()
            && provider.is_none()
            && model.is_none()
            && model_parameters.is_none()
            && artifacts.is_none()
            && recursion_limit.is_none()
            && tools.is_none()
            && tool_resources.is_none()
            && conversation_starters.is_none()
            && agent_ids.is_none()
            && edges.is_none()
            && hide_sequential_outputs.is_none()
            && end_after_tools.is_none()
            && avatar.is_none()
            && support_contact.is_none()
            && category.is_none()
            && extra.is_empty()
    }

    /// Applies this change to `def`.
    pub fn apply(&self, def: &mut Definition) {
        fn set<T: Clone>(target: &mut T, v: &Option<T>) {
            if let Some(v) = v {
                *target = v.clone();
            }
        }
        fn set_some<T: Clone>(target: &mut Option<T>, v: &Option<T>) {
            if v.is_some() {
                target.clone_from(v);
            }
        }
        set_some(&mut def.name, &self.name);
        set_some(&mut def.description, &self.description);
        set_some(&mut def.instructions, &self.instructions);
        set(&mut def.provider, &self.provider);
        set(&mut def.model, &self.model);
        set(&mut def.model_parameters, &self.model_parameters);
        set_some(&mut def.artifacts, &self.artifacts);
        set_some(&mut def.recursion_limit, &self.recursion_limit);
        set(&mut def.tools, &self.tools);
        set(&mut def.tool_resources, &self.tool_resources);
        set(&mut def.conversation_starters, &self.conversation_starters);
        set_some(&mut def.agent_ids, &self.agent_ids);
        set(&mut def.edges, &self.edges);
        set_some(
            &mut def.hide_sequential_outputs,
            &self.hide_sequential_outputs,
        );
        set_some(&mut def.end_after_tools, &self.end_after_tools);
        set(&mut def.avatar, &self.avatar);
        set_some(&mut def.support_contact, &self.support_contact);
        set(&mut def.category, &self.category);
        for (k, v) in &self.extra {
            def.extra.insert(k.clone(), v.clone());
        }
    }
}

/// Appends a version holding `def` and counts it.
pub(super) fn add_version(
    conn: &Connection,
    object_id: &str,
    def: &Definition,
    updated_by: Option<&str>,
    at: &str,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO agent_versions (agent_id, idx, definition, updated_by, created_at, updated_at)
         SELECT ?1, version_count, ?2, ?3, ?4, ?4 FROM agents WHERE object_id = ?1",
    )?
    .execute(params![object_id, agents::text(def), updated_by, at])?;
    conn.prepare_cached(
        "UPDATE agents SET version_count = version_count + 1 WHERE object_id = ?1",
    )?
    .execute([object_id])?;
    Ok(())
}

/// The definition kept by version `idx`.
fn version(conn: &Connection, object_id: &str, idx: i64) -> Result<Option<Definition>, DbError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT definition FROM agent_versions WHERE agent_id = ?1 AND idx = ?2")?
        .query_row(params![object_id, idx], |r| r.get(0))
        .optional()?;
    Ok(agents::json_of(text))
}

/// A value with LibreChat's looseness for comparing versions: empty strings, lists and
/// objects, `false`, 0 and null read as absent, and list order does not matter.
fn loose(v: &Value) -> Option<Value> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.is_empty() => None,
        Value::Number(n) if n.as_f64() == Some(0.0) => None,
        Value::Array(a) if a.is_empty() => None,
        Value::Object(o) if o.is_empty() => None,
        Value::Array(a) => {
            let mut items: Vec<String> = a.iter().map(Value::to_string).collect();
            items.sort();
            Some(Value::from(items))
        }
        Value::Object(o) => Some(Value::Object(
            o.iter()
                .filter_map(|(k, v)| loose(v).map(|v| (k.clone(), v)))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

/// Whether two definitions are the same version, as LibreChat's `isDuplicateVersion` judges.
pub fn same_version(a: &Definition, b: &Definition) -> bool {
    let as_value = |d: &Definition| loose(&serde_json::to_value(d).unwrap_or_default());
    as_value(a) == as_value(b)
}

/// Applies `patch` to the agent `id` (needs EDIT). The change is a new version, unless it
/// leaves the agent as its newest version already is (LibreChat then records none; the change
/// still lands).
pub fn update(
    conn: &mut Connection,
    viewer: &Viewer,
    id: &str,
    patch: &Patch,
) -> Result<Result<Agent, Denied>, DbError> {
    let tx = conn.transaction()?;
    let done = update_in(&tx, viewer, id, patch)?;
    if done.is_ok() {
        tx.commit()?;
    }
    Ok(done)
}

/// [`update`] inside the caller's transaction.
pub(super) fn update_in(
    tx: &Connection,
    viewer: &Viewer,
    id: &str,
    patch: &Patch,
) -> Result<Result<Agent, Denied>, DbError> {
    let (object_id, bits) = match check(tx, viewer, id, EDIT)? {
        Ok(found) => found,
        Err(d) => return Ok(Err(d)),
    };
    let current = load(tx, &object_id, bits)?;
    if patch.is_empty() {
        return Ok(Ok(current));
    }
    let mut patch = patch.clone();
    if let Some(Some(avatar)) = &patch.avatar
        && Some(avatar) != current.def.avatar.as_ref()
        && !own_picture(tx, &object_id, avatar)?
    {
        return Ok(Err(Denied::ForeignAvatar));
    }
    if let Some(edges) = &mut patch.edges {
        replace_edge_source(edges, "", id);
        if let Err(d) = check_edges(tx, viewer, edges, id)? {
            return Ok(Err(d));
        }
    }
    if let Some(resources) = &mut patch.tool_resources {
        prune_file_ids(tx, &viewer.user_id, resources, &current.def.tool_resources)?;
    }
    let mut def = current.def.clone();
    patch.apply(&mut def);
    let ts = now();
    write_definition(tx, &object_id, &def, &ts)?;
    let newest = version(tx, &object_id, current.version_count - 1)?;
    if !newest.is_some_and(|n| same_version(&n, &def)) {
        add_version(tx, &object_id, &def, Some(&viewer.user_id), &ts)?;
    }
    Ok(Ok(load(tx, &object_id, bits)?))
}

/// Whether `avatar` (`{filepath, source}`) is a picture uploaded for this agent.
fn own_picture(conn: &Connection, object_id: &str, avatar: &Value) -> Result<bool, DbError> {
    let Some(path) = avatar.get("filepath").and_then(Value::as_str) else {
        return Ok(false);
    };
    conn.prepare_cached(
        "SELECT 1 FROM files WHERE agent_id = ?1 AND context = 'agent_avatar'
             AND filepath = ?2",
    )?
    .exists(params![object_id, path])
}

/// Records `picture` (a file whose bytes are stored) as the agent's new avatar (needs EDIT):
/// a change like any other, so a version.
pub fn set_avatar(
    conn: &mut Connection,
    viewer: &Viewer,
    id: &str,
    picture: &File,
) -> Result<Result<Agent, Denied>, DbError> {
    let tx = conn.transaction()?;
    let object_id = match check(&tx, viewer, id, EDIT)? {
        Ok((object_id, _)) => object_id,
        Err(d) => return Ok(Err(d)),
    };
    files::insert(&tx, picture)?;
    tx.execute(
        "UPDATE files SET agent_id = ?2 WHERE file_id = ?1",
        params![picture.file_id, object_id],
    )?;
    let patch = Patch {
        avatar: Some(Some(
            serde_json::json!({"filepath": picture.filepath, "source": picture.source}),
        )),
        ..Patch::default()
    };
    let done = update_in(&tx, viewer, id, &patch)?;
    if done.is_ok() {
        tx.commit()?;
    }
    Ok(done)
}

/// The versions of the agent `id` (needs EDIT), oldest first: each a definition and when
/// (and by whom) it was made.
pub fn versions(
    conn: &Connection,
    viewer: &Viewer,
    id: &str,
) -> Result<Result<Vec<Version>, Denied>, DbError> {
    let object_id = match check(conn, viewer, id, EDIT)? {
        Ok((object_id, _)) => object_id,
        Err(d) => return Ok(Err(d)),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT definition, updated_by, created_at, updated_at FROM agent_versions
         WHERE agent_id = ?1 ORDER BY idx",
    )?;
    let rows = stmt.query_map([&object_id], |r| {
        Ok(Version {
            def: agents::json_of(r.get(0)?).unwrap_or_default(),
            updated_by: r.get(1)?,
            created_at: r.get(2)?,
            updated_at: r.get(3)?,
        })
    })?;
    Ok(Ok(rows.collect::<Result<_, _>>()?))
}

/// One version of an agent.
#[derive(Debug, Clone)]
pub struct Version {
    pub def: Definition,
    pub updated_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Restores version `idx` of the agent `id` (needs EDIT). As in LibreChat, a revert records
/// no version of its own. Its edges must still name agents the viewer may see.
pub fn revert(
    conn: &mut Connection,
    viewer: &Viewer,
    id: &str,
    idx: i64,
) -> Result<Result<Agent, Denied>, DbError> {
    let tx = conn.transaction()?;
    let (object_id, bits) = match check(&tx, viewer, id, EDIT)? {
        Ok(found) => found,
        Err(d) => return Ok(Err(d)),
    };
    let Some(mut def) = version(&tx, &object_id, idx)? else {
        return Ok(Err(Denied::NoVersion(idx)));
    };
    replace_edge_source(&mut def.edges, "", id);
    if let Err(d) = check_edges(&tx, viewer, &def.edges, id)? {
        return Ok(Err(d));
    }
    let existing = def.tool_resources.clone();
    prune_file_ids(&tx, &viewer.user_id, &mut def.tool_resources, &existing)?;
    write_definition(&tx, &object_id, &def, &now())?;
    let agent = load(&tx, &object_id, bits)?;
    tx.commit()?;
    Ok(Ok(agent))
}

/// Takes a deleted agent out of every other agent's edges (an edge left without a side goes),
/// as LibreChat does; no version is recorded for it.
pub(super) fn forget_in_edges(conn: &Connection, id: &str) -> Result<(), DbError> {
    let touched: Vec<(String, String)> = {
        let mut stmt =
            conn.prepare_cached("SELECT object_id, edges FROM agents WHERE instr(edges, ?1) > 0")?;
        let rows = stmt.query_map([format!("\"{id}\"")], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (object_id, text) in touched {
        let edges: Vec<Value> = serde_json::from_str(&text).unwrap_or_default();
        let kept: Vec<Value> = edges
            .into_iter()
            .filter_map(|mut edge| {
                for side in ["from", "to"] {
                    let keep = match edge.get_mut(side) {
                        Some(Value::String(s)) => s != id,
                        Some(Value::Array(list)) => {
                            list.retain(|v| v.as_str() != Some(id));
                            !list.is_empty()
                        }
                        _ => true,
                    };
                    if !keep {
                        return None;
                    }
                }
                Some(edge)
            })
            .collect();
        conn.execute(
            "UPDATE agents SET edges = ?2 WHERE object_id = ?1",
            params![object_id, agents::text(&kept)],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(v: Value) -> Definition {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn versions_compare_as_librechat_compares_them() {
        let a = def(json!({"provider": "openAI", "model": "m", "tools": ["b", "a"]}));
        let b = def(
            json!({"provider": "openAI", "model": "m", "tools": ["a", "b"],
                           "description": "", "end_after_tools": false}),
        );
        assert!(
            same_version(&a, &b),
            "order, empty text and false do not count"
        );
        let c = def(json!({"provider": "openAI", "model": "m", "tools": ["a"]}));
        assert!(!same_version(&a, &c));
        let d = def(
            json!({"provider": "openAI", "model": "m", "tools": ["a", "b"],
                           "instructions": "Be brief"}),
        );
        assert!(!same_version(&a, &d));
    }

    #[test]
    fn a_patch_sets_what_it_names_and_nothing_else() {
        let mut d = def(json!({"provider": "openAI", "model": "m", "name": "A",
                               "avatar": {"filepath": "/x", "source": "local"}}));
        let p = Patch {
            model: Some("n".into()),
            avatar: Some(None),
            ..Patch::default()
        };
        assert!(!p.is_empty() && Patch::default().is_empty());
        p.apply(&mut d);
        assert_eq!((d.model.as_str(), d.name.as_deref()), ("n", Some("A")));
        assert_eq!(d.avatar, None);
    }
}
