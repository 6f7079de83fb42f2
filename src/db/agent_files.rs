//! An agent's own files: the `file_ids` of its `tool_resources` (LibreChat's Agent Builder
//! "File Context" is `context`). A file is added as it is uploaded, taken out on request, and
//! read, through the agent, for whoever may use it.
//!
//! Adding one is a change like any other, so a version (LibreChat's `addAgentResourceFile`
//! goes through `updateAgent`); taking one out is not (its `removeAgentResourceFiles` pulls
//! the ids without one), nor is forgetting a file its owner deleted.

use crate::db::sql::Connection;
use rusqlite::params;
use serde_json::{Map, Value};

use super::acl::{self, Viewer};
use super::agent_changes::{Patch, update_in};
use super::agents::{self, EDIT, RT, VIEW, check, object_id_of};
use super::files::{self, File};
use super::{DbError, now};

/// The most file ids one resource holds (what the builder accepts of `tool_resources`).
pub const MAX_FILES: usize = 1_000;

/// Why a change to an agent's files was refused; nothing of it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilesRefused {
    /// No agent by this id.
    NotFound,
    /// The agent exists and the viewer may not edit it. LibreChat says so to anyone, even to
    /// someone who may not see the agent.
    Forbidden,
    /// The resource holds [`MAX_FILES`] already.
    Full,
}

/// The `_id` of the agent `id` if the viewer may edit it, as LibreChat's upload and delete
/// checks ask (`checkAgentUploadAuth`): a missing agent is not found, any other is forbidden.
fn editable(
    conn: &Connection,
    viewer: &Viewer,
    id: &str,
) -> Result<Result<String, FilesRefused>, DbError> {
    let Some(object_id) = object_id_of(conn, id)? else {
        return Ok(Err(FilesRefused::NotFound));
    };
    let bits = acl::effective(conn, viewer, RT, &object_id)?;
    Ok(if bits & EDIT == EDIT {
        Ok(object_id)
    } else {
        Err(FilesRefused::Forbidden)
    })
}

/// Whether the viewer may change the agent `id`'s files (asked before an upload is read).
pub fn may_edit(
    conn: &Connection,
    viewer: &Viewer,
    id: &str,
) -> Result<Result<(), FilesRefused>, DbError> {
    Ok(editable(conn, viewer, id)?.map(|_| ()))
}

/// Adds `file_id` to the `file_ids` of `resource` in `resources` (made when missing or not
/// a list); false when that list is full already.
fn add_id(resources: &mut Map<String, Value>, resource: &str, file_id: &str) -> bool {
    let mut fields = match resources.remove(resource) {
        Some(Value::Object(o)) => o,
        _ => Map::new(),
    };
    let mut ids = match fields.remove("file_ids") {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let room = ids.len() < MAX_FILES;
    if room {
        ids.push(Value::from(file_id));
    }
    fields.insert("file_ids".into(), Value::Array(ids));
    resources.insert(resource.into(), Value::Object(fields));
    room
}

/// Records `file` (its bytes stored already) and adds it to the agent `id`'s `resource`
/// (`context`, ...), and the resource to its `tools`, as LibreChat's `addAgentResourceFile`:
/// one transaction, a new version. Needs EDIT. Returns the file as recorded.
pub fn add_file(
    conn: &mut Connection,
    viewer: &Viewer,
    id: &str,
    resource: &str,
    file: &File,
) -> Result<Result<File, FilesRefused>, DbError> {
    let tx = conn.transaction()?;
    let object_id = match editable(&tx, viewer, id)? {
        Ok(o) => o,
        Err(r) => return Ok(Err(r)),
    };
    let current = agents::load(&tx, &object_id, EDIT)?;
    let mut resources = current.def.tool_resources.clone();
    if !add_id(&mut resources, resource, &file.file_id) {
        return Ok(Err(FilesRefused::Full));
    }
    let mut tools = current.def.tools.clone();
    if !tools.iter().any(|t| t == resource) {
        tools.push(resource.to_owned());
    }
    let saved = files::insert(&tx, file)?;
    let patch = Patch {
        tool_resources: Some(resources),
        tools: Some(tools),
        ..Patch::default()
    };
    // The same checks as any change (EDIT, the files the writer may attach: theirs).
    if update_in(&tx, viewer, id, &patch)?.is_err() {
        return Ok(Err(FilesRefused::Forbidden));
    }
    tx.commit()?;
    Ok(Ok(saved))
}

/// Takes `file_ids` out of the agent `id`'s `resources`, as LibreChat's
/// `removeAgentResourceFiles`: no version, and the files themselves stay their owners'.
/// Needs EDIT. Returns how many ids went.
pub fn remove_files(
    conn: &mut Connection,
    viewer: &Viewer,
    id: &str,
    resources: &[&str],
    file_ids: &[String],
) -> Result<Result<usize, FilesRefused>, DbError> {
    let tx = conn.transaction()?;
    let object_id = match editable(&tx, viewer, id)? {
        Ok(o) => o,
        Err(r) => return Ok(Err(r)),
    };
    let mut current = agents::load(&tx, &object_id, EDIT)?.def.tool_resources;
    let removed = pull(&mut current, Some(resources), file_ids);
    if removed > 0 {
        write_resources(&tx, &object_id, &current)?;
        tx.commit()?;
    }
    Ok(Ok(removed))
}

/// Takes `file_ids` out of `resources`' lists (only those named, when `only` is given);
/// how many went.
fn pull(resources: &mut Map<String, Value>, only: Option<&[&str]>, file_ids: &[String]) -> usize {
    let gone: std::collections::HashSet<&str> = file_ids.iter().map(String::as_str).collect();
    let mut removed = 0;
    for (key, resource) in resources.iter_mut() {
        if only.is_some_and(|keys| !keys.contains(&key.as_str())) {
            continue;
        }
        if let Some(Value::Array(ids)) = resource.get_mut("file_ids") {
            let before = ids.len();
            ids.retain(|v| !v.as_str().is_some_and(|s| gone.contains(s)));
            removed += before - ids.len();
        }
    }
    removed
}

fn write_resources(
    conn: &Connection,
    object_id: &str,
    resources: &Map<String, Value>,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "UPDATE agents SET tool_resources = ?2, updated_at = ?3 WHERE object_id = ?1",
    )?
    .execute(params![object_id, agents::text(resources), now()])?;
    Ok(())
}

/// Takes files that were deleted out of every agent's resources, as LibreChat's
/// `removeAgentResourceFilesFromAllAgents` does after a delete (no version). Inside the
/// caller's transaction.
pub(super) fn forget(conn: &Connection, file_ids: &[String]) -> Result<(), DbError> {
    for id in file_ids {
        let touched: Vec<(String, String)> = {
            let mut stmt = conn.prepare_cached(
                "SELECT object_id, tool_resources FROM agents WHERE instr(tool_resources, ?1) > 0",
            )?;
            let rows = stmt.query_map([format!("\"{id}\"")], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (object_id, text) in touched {
            let mut resources: Map<String, Value> = serde_json::from_str(&text).unwrap_or_default();
            if pull(&mut resources, None, std::slice::from_ref(id)) > 0 {
                write_resources(conn, &object_id, &resources)?;
            }
        }
    }
    Ok(())
}

/// The documents of the agent `id`'s File Context (`context`, and the legacy `ocr`), their
/// texts not read (see [`files::text_of`]), in the agent's order, for a viewer who may use
/// (VIEW) the agent: read through the agent, whoever uploaded them (its author or an editor).
/// None for an agent the viewer may not see; files gone since, or without text, are left out.
pub fn context_files(
    conn: &Connection,
    viewer: &Viewer,
    id: &str,
) -> Result<Vec<files::ContextDoc>, DbError> {
    match check(conn, viewer, id, VIEW)? {
        Ok((object_id, _)) => files::context_of_agent(conn, &object_id),
        Err(_) => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_file_list_is_made_where_there_is_none() {
        let mut r = map(json!({"context": "odd", "file_search": {"file_ids": ["a"]}}));
        assert!(add_id(&mut r, "context", "f1"));
        assert!(add_id(&mut r, "execute_code", "f2"));
        assert_eq!(
            Value::Object(r),
            json!({"context": {"file_ids": ["f1"]}, "file_search": {"file_ids": ["a"]},
                   "execute_code": {"file_ids": ["f2"]}})
        );
    }

    #[test]
    fn a_full_list_takes_no_more() {
        let full: Vec<Value> = (0..MAX_FILES).map(|i| json!(format!("f{i}"))).collect();
        let mut r = map(json!({"context": {"file_ids": full}}));
        assert!(!add_id(&mut r, "context", "one-more"));
        assert_eq!(
            r["context"]["file_ids"].as_array().unwrap().len(),
            MAX_FILES
        );
    }

    #[test]
    fn pulling_takes_the_ids_out_of_the_resources_named() {
        let mut r = map(json!({"context": {"file_ids": ["a", "b", "a"]},
                               "ocr": {"file_ids": ["a"]}, "file_search": {"file_ids": ["a"]}}));
        let ids = ["a".to_owned()];
        assert_eq!(pull(&mut r, Some(&["context", "ocr"]), &ids), 3);
        assert_eq!(r["context"], json!({"file_ids": ["b"]}));
        assert_eq!(r["file_search"], json!({"file_ids": ["a"]}));
        assert_eq!(pull(&mut r, None, &ids), 1);
        assert_eq!(pull(&mut r, None, &ids), 0);
    }
}
