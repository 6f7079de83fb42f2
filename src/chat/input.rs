//! Checks on what a client sends that more than one room needs: JSON depth, conversation ids,
//! and a conversation's settings read into [`Changes`]. Used by the chat service, the import
//! and the conversation routes; the HTTP layer answers an [`Invalid`] with a 400.

use serde_json::{Map, Value};

use crate::db::conversations::Changes;

/// Input refused, with the message the client is shown (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// How deeply a client's JSON may nest. Stored values are read back, and wrapped in snapshots
/// and exports, by parsers that stop at 128 levels: refusing more than 32 at the door keeps
/// every later read working.
pub const MAX_JSON_DEPTH: usize = 32;

/// Refuses JSON nested deeper than [`MAX_JSON_DEPTH`]. Iterative, so it cannot overflow.
pub fn reject_deep(v: &Value) -> Result<(), Invalid> {
    let mut stack = vec![(v, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        if depth > MAX_JSON_DEPTH {
            return Err(Invalid(format!(
                "the request nests deeper than {MAX_JSON_DEPTH} levels"
            )));
        }
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, depth + 1))),
            _ => {}
        }
    }
    Ok(())
}

/// Ids that would collide with fixed routes under `/api/convos/`.
const RESERVED_IDS: [&str; 8] = [
    "all",
    "pin",
    "fork",
    "duplicate",
    "update",
    "archive",
    "import",
    "gen_title",
];

/// Fields the server owns; a client cannot set them through an update.
const RESERVED: [&str; 9] = [
    "_id",
    "user",
    "conversationId",
    "createdAt",
    "updatedAt",
    "messages",
    "tags",
    "expiredAt",
    "isTemporary",
];

/// A conversation id a client sent: a non-empty, printable string of at most 200 bytes.
pub fn conversation_id(v: Option<&Value>) -> Result<String, Invalid> {
    match v.and_then(Value::as_str) {
        Some(id) if !id.is_empty() && id.len() <= 200 && !id.chars().any(char::is_control) => {
            Ok(id.to_owned())
        }
        _ => Err(Invalid("conversationId is required".into())),
    }
}

/// Reads `{conversationId, ...settings}` (LibreChat's `arg`, or the settings sent with a chat
/// message) into an id and the changes it asks for.
pub fn parse_changes(mut arg: Map<String, Value>) -> Result<(String, Changes), Invalid> {
    let id = conversation_id(arg.get("conversationId"))?;
    if RESERVED_IDS.contains(&id.as_str()) {
        return Err(Invalid(format!("\"{id}\" cannot be a conversationId")));
    }
    reject_deep(&Value::Object(arg.clone()))?;
    let text = |v: Value, name: &str, max: usize| -> Result<Option<String>, Invalid> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) if s.chars().count() <= max => Ok(Some(s)),
            _ => Err(Invalid(format!(
                "{name} must be a string of at most {max} characters"
            ))),
        }
    };
    let mut c = Changes::default();
    if let Some(t) = arg.remove("title") {
        c.title = Some(text(t, "title", 500)?.unwrap_or_else(|| "New Chat".into()));
    }
    if let Some(v) = arg.remove("endpoint") {
        c.endpoint = Some(text(v, "endpoint", 200)?);
    }
    if let Some(v) = arg.remove("endpointType") {
        c.endpoint_type = Some(text(v, "endpointType", 200)?);
    }
    if let Some(v) = arg.remove("model") {
        c.model = Some(text(v, "model", 500)?);
    }
    for (key, slot) in [
        ("isArchived", &mut c.is_archived),
        ("pinned", &mut c.pinned),
    ] {
        if let Some(v) = arg.remove(key) {
            *slot = Some(
                v.as_bool()
                    .ok_or_else(|| Invalid(format!("{key} must be true or false")))?,
            );
        }
    }
    // The project is a column, checked against the owner when written, never a setting.
    match arg.remove("chatProjectId") {
        None => {}
        Some(Value::Null) => c.project = Some(None),
        Some(Value::String(p)) if p.len() <= 200 => {
            c.project = Some(Some(p).filter(|p| !p.is_empty()))
        }
        Some(_) => return Err(Invalid("chatProjectId must be a project id or null".into())),
    }
    for key in RESERVED {
        arg.remove(key);
    }
    c.settings = arg;
    Ok((id, c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn depth_is_bounded() {
        let mut v = json!(1);
        for _ in 0..MAX_JSON_DEPTH - 1 {
            v = json!([v]);
        }
        assert!(reject_deep(&v).is_ok());
        assert!(reject_deep(&json!([v])).is_err());
    }

    #[test]
    fn settings_are_read_and_server_fields_dropped() {
        let arg = json!({"conversationId": "c1", "title": null, "temperature": 0.5,
            "user": "someone", "pinned": true});
        let Value::Object(arg) = arg else { panic!() };
        let (id, c) = parse_changes(arg).unwrap();
        assert_eq!(id, "c1");
        assert_eq!(c.title.as_deref(), Some("New Chat"));
        assert_eq!(c.pinned, Some(true));
        assert_eq!(c.settings.get("temperature"), Some(&json!(0.5)));
        assert!(!c.settings.contains_key("user"));
    }

    #[test]
    fn reserved_ids_and_wrong_types_are_refused() {
        let refused = |v: Value| {
            let Value::Object(arg) = v else { panic!() };
            parse_changes(arg).unwrap_err().0
        };
        assert_eq!(
            refused(json!({"conversationId": "all"})),
            "\"all\" cannot be a conversationId"
        );
        assert_eq!(
            refused(json!({"conversationId": "c", "model": 5})),
            "model must be a string of at most 500 characters"
        );
        assert_eq!(refused(json!({})), "conversationId is required");
    }
}
