//! What an agent refers to: other agents (its `edges`, LibreChat's handoff graph) and files
//! (its `tool_resources`). A reference is checked against what the writer may see or owns.

use crate::db::sql::Connection;
use rusqlite::params;
use serde_json::{Map, Value};

use super::DbError;
use super::acl::Viewer;
use super::agents::{Denied, EDIT, VIEW, check, object_id_of};
use super::files::{self, File};

/// The agents `ids` (`agent_...`) names that do not exist, and those the viewer may not see.
pub(super) fn classify_references(
    conn: &Connection,
    viewer: &Viewer,
    ids: &[String],
) -> Result<(Vec<String>, Vec<String>), DbError> {
    let (mut missing, mut unseen) = (Vec::new(), Vec::new());
    for id in ids {
        match check(conn, viewer, id, VIEW)? {
            Ok(_) => {}
            Err(_) if object_id_of(conn, id)?.is_none() => missing.push(id.clone()),
            Err(_) => unseen.push(id.clone()),
        }
    }
    Ok((missing, unseen))
}

/// The files the agent's `tool_resources` name, for a viewer who may edit it; none for anyone
/// else, and none for an agent that does not exist (LibreChat answers both with an empty
/// list).
pub fn files_of(conn: &Connection, viewer: &Viewer, id: &str) -> Result<Vec<File>, DbError> {
    match check(conn, viewer, id, EDIT)? {
        Ok((object_id, _)) => files::of_agent(conn, &object_id),
        Err(_) => Ok(Vec::new()),
    }
}

/// Every agent id an edge names (`from` and `to`, each a string or a list of them).
pub fn edge_participants(edges: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for edge in edges {
        for side in ["from", "to"] {
            let ids: Vec<&str> = match edge.get(side) {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            for id in ids {
                if !out.iter().any(|o| o == id) {
                    out.push(id.to_owned());
                }
            }
        }
    }
    out
}

/// LibreChat's `replaceEdgeSourceId`: edges whose `from` is (or holds) `previous` come from
/// `next` instead (an empty `from` is the agent being written).
pub fn replace_edge_source(edges: &mut [Value], previous: &str, next: &str) {
    for edge in edges.iter_mut() {
        match edge.get_mut("from") {
            Some(Value::String(s)) if s == previous => *s = next.to_owned(),
            Some(Value::Array(list)) => {
                for v in list.iter_mut() {
                    if v.as_str() == Some(previous) {
                        *v = Value::String(next.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
}

/// Refuses edges that name agents that do not exist (but `own`, the agent being written) or
/// that the viewer may not see.
pub(super) fn check_edges(
    conn: &Connection,
    viewer: &Viewer,
    edges: &[Value],
    own: &str,
) -> Result<Result<(), Denied>, DbError> {
    let ids: Vec<String> = edge_participants(edges)
        .into_iter()
        .filter(|id| id != own)
        .collect();
    let (missing, unseen) = classify_references(conn, viewer, &ids)?;
    Ok(if !missing.is_empty() {
        Err(Denied::EdgesMissing(missing))
    } else if !unseen.is_empty() {
        Err(Denied::EdgesForbidden(unseen))
    } else {
        Ok(())
    })
}

/// Keeps of `tool_resources`' file ids those the author may attach: their own files, and
/// those already attached to the agent (`existing`), as LibreChat prunes them.
pub(super) fn prune_file_ids(
    conn: &Connection,
    user_id: &str,
    tool_resources: &mut Map<String, Value>,
    existing: &Map<String, Value>,
) -> Result<(), DbError> {
    let attached: Vec<&str> = existing
        .values()
        .filter_map(|r| r.get("file_ids").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut owned =
        conn.prepare_cached("SELECT 1 FROM files WHERE user_id = ?1 AND file_id = ?2")?;
    for resource in tool_resources.values_mut() {
        let Some(Value::Array(ids)) = resource.get_mut("file_ids") else {
            continue;
        };
        let mut kept = Vec::with_capacity(ids.len());
        for id in ids.drain(..) {
            let Some(s) = id.as_str() else { continue };
            if attached.contains(&s) || owned.exists(params![user_id, s])? {
                kept.push(id);
            }
        }
        *ids = kept;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn edges_name_their_participants_and_an_empty_source_is_the_agent() {
        let mut edges = vec![
            json!({"from": "", "to": "agent_b"}),
            json!({"from": ["agent_b", ""], "to": ["agent_c", "agent_b"]}),
        ];
        replace_edge_source(&mut edges, "", "agent_a");
        assert_eq!(edges[0]["from"], "agent_a");
        assert_eq!(edges[1]["from"], json!(["agent_b", "agent_a"]));
        assert_eq!(edge_participants(&edges), ["agent_a", "agent_b", "agent_c"]);
    }
}
