//! An agent's create and update bodies, read as LibreChat's zod schemas read them
//! (`agentCreateSchema`, `agentUpdateSchema`): unknown keys are dropped, `null` means "not
//! given" (except `avatar: null`, which takes the picture away), a value of the wrong type is
//! refused with its field named. Beyond LibreChat, every text and list has a bound, so one
//! agent cannot fill the database or every chat's context.

use serde_json::{Map, Value};

use crate::db::agent_changes::Patch;
use crate::db::agents::Definition;

/// The longest name, in characters.
pub const MAX_NAME: usize = 256;
/// The longest description, in characters.
pub const MAX_DESCRIPTION: usize = 10_000;
/// The longest instructions, in characters (about 25,000 tokens; LibreChat has no bound but
/// the body's size).
pub const MAX_INSTRUCTIONS: usize = 100_000;
/// The most tools, conversation starters, edges and chained agents an agent may have.
pub const MAX_TOOLS: usize = 256;
pub const MAX_STARTERS: usize = 32;
pub const MAX_EDGES: usize = 100;
/// The longest tool name, agent id, model or provider name.
const MAX_NAME_LIKE: usize = 256;
/// The most file ids one tool resource may hold.
const MAX_FILE_IDS: usize = 1_000;
/// The most JSON (in bytes) `model_parameters`, and each field kept for features not built
/// here, may take.
const MAX_OBJECT_BYTES: usize = 64 * 1024;

/// One thing wrong with a body, with the field it is about (`edges[2].to`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct Issue {
    pub path: String,
    pub message: String,
}

/// The JSON type's name, as zod's messages say it.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Reads the fields of a body, gathering every issue.
struct Reader<'a> {
    body: &'a Map<String, Value>,
    issues: Vec<Issue>,
}

impl<'a> Reader<'a> {
    fn issue(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue {
            path: path.into(),
            message: message.into(),
        });
    }

    /// The value of `key`, unless absent or `null`.
    fn given(&self, key: &str) -> Option<&'a Value> {
        self.body.get(key).filter(|v| !v.is_null())
    }

    fn wrong(&mut self, path: &str, expected: &str, got: &Value) {
        let message = format!("Expected {expected}, received {}", type_name(got));
        self.issue(path, message);
    }

    fn text_at(&mut self, path: &str, v: &Value, max: usize) -> Option<String> {
        match v {
            Value::String(s) if s.chars().count() <= max => Some(s.clone()),
            Value::String(_) => {
                self.issue(path, format!("is too long: at most {max} characters"));
                None
            }
            other => {
                self.wrong(path, "string", other);
                None
            }
        }
    }

    fn text(&mut self, key: &str, max: usize) -> Option<String> {
        let v = self.given(key)?;
        self.text_at(key, v, max)
    }

    fn switch(&mut self, key: &str) -> Option<bool> {
        match self.given(key)? {
            Value::Bool(b) => Some(*b),
            other => {
                self.wrong(key, "boolean", other);
                None
            }
        }
    }

    fn list_at(
        &mut self,
        path: &str,
        v: &Value,
        max_items: usize,
        max_len: usize,
    ) -> Option<Vec<String>> {
        let Value::Array(items) = v else {
            self.wrong(path, "array", v);
            return None;
        };
        if items.len() > max_items {
            self.issue(path, format!("has too many items: at most {max_items}"));
            return None;
        }
        let before = self.issues.len();
        let out: Vec<String> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.text_at(&format!("{path}[{i}]"), item, max_len))
            .collect();
        (self.issues.len() == before).then_some(out)
    }

    fn list(&mut self, key: &str, max_items: usize, max_len: usize) -> Option<Vec<String>> {
        let v = self.given(key)?;
        self.list_at(key, v, max_items, max_len)
    }

    fn object(&mut self, key: &str) -> Option<Map<String, Value>> {
        match self.given(key)? {
            Value::Object(o) if Value::Object(o.clone()).to_string().len() <= MAX_OBJECT_BYTES => {
                Some(o.clone())
            }
            Value::Object(_) => {
                self.issue(
                    key,
                    format!("is too large: at most {MAX_OBJECT_BYTES} bytes"),
                );
                None
            }
            other => {
                self.wrong(key, "object", other);
                None
            }
        }
    }

    fn one_of(&mut self, key: &str, allowed: &[&str]) -> Option<String> {
        let v = self.text(key, MAX_NAME_LIKE)?;
        if allowed.contains(&v.as_str()) {
            return Some(v);
        }
        self.issue(key, format!("must be one of {}", allowed.join(", ")));
        None
    }

    fn recursion_limit(&mut self) -> Option<i64> {
        match self.given("recursion_limit")? {
            Value::Number(n) => match n.as_i64() {
                Some(l) if (1..=10_000).contains(&l) => Some(l),
                _ => {
                    self.issue("recursion_limit", "must be a whole number from 1 to 10000");
                    None
                }
            },
            other => {
                self.wrong("recursion_limit", "number", other);
                None
            }
        }
    }
}

/// `model_parameters` as LibreChat keeps them: numeric settings given as text become numbers
/// (or go, when they are not one), and empty values go.
fn model_parameters(mut params: Map<String, Value>) -> Map<String, Value> {
    const NUMERIC: [&str; 18] = [
        "temperature",
        "top_p",
        "topP",
        "top_k",
        "topK",
        "frequency_penalty",
        "frequencyPenalty",
        "presence_penalty",
        "presencePenalty",
        "max_tokens",
        "maxTokens",
        "max_output_tokens",
        "maxOutputTokens",
        "max_context_tokens",
        "maxContextTokens",
        "fileTokenLimit",
        "thinking_budget",
        "thinkingBudget",
    ];
    params.retain(|k, v| {
        if NUMERIC.contains(&k.as_str()) {
            let n = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|_| !s.trim().is_empty()),
                _ => None,
            };
            match n
                .filter(|n| n.is_finite())
                .and_then(serde_json::Number::from_f64)
            {
                Some(n) => {
                    // Whole numbers stay whole (`max_tokens: 1000`, not 1000.0).
                    *v = match n.as_f64() {
                        Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => Value::from(f as i64),
                        _ => Value::Number(n),
                    };
                    true
                }
                None => false,
            }
        } else {
            !(v.is_null() || v.as_str() == Some(""))
        }
    });
    params
}

/// LibreChat's `tool_resources`: per resource, its `file_ids` (and for file search its
/// `vector_store_ids`); other keys are dropped.
fn tool_resources(r: &mut Reader<'_>) -> Option<Map<String, Value>> {
    let given = r.given("tool_resources")?;
    let Value::Object(given) = given else {
        r.wrong("tool_resources", "object", given);
        return None;
    };
    let mut out = Map::new();
    for key in [
        "image_edit",
        "execute_code",
        "file_search",
        "context",
        "ocr",
    ] {
        let Some(v) = given.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let path = format!("tool_resources.{key}");
        let Value::Object(resource) = v else {
            r.wrong(&path, "object", v);
            continue;
        };
        let mut kept = Map::new();
        let mut lists = vec!["file_ids"];
        if key == "file_search" {
            lists.push("vector_store_ids");
        }
        for list in lists {
            if let Some(ids) = resource.get(list).filter(|v| !v.is_null()) {
                let ids = r.list_at(&format!("{path}.{list}"), ids, MAX_FILE_IDS, MAX_NAME_LIKE);
                if let Some(ids) = ids {
                    kept.insert(list.into(), Value::from(ids));
                }
            }
        }
        out.insert(key.into(), Value::Object(kept));
    }
    Some(out)
}

/// One endpoint of an edge: an agent id, or a list of them.
fn edge_side(r: &mut Reader<'_>, path: &str, v: Option<&Value>) -> Option<Value> {
    match v {
        Some(Value::String(s)) if s.chars().count() <= MAX_NAME_LIKE => {
            Some(Value::from(s.clone()))
        }
        Some(list @ Value::Array(_)) => r
            .list_at(path, list, MAX_EDGES, MAX_NAME_LIKE)
            .map(Value::from),
        Some(other) => {
            r.wrong(path, "string or array", other);
            None
        }
        None => {
            r.issue(path, "Required");
            None
        }
    }
}

/// LibreChat's `edges` (`GraphEdge[]`): each `{from, to, description?, edgeType?, prompt?,
/// excludeResults?, promptKey?}`; empty texts are dropped, other keys too.
fn edges(r: &mut Reader<'_>) -> Option<Vec<Value>> {
    let given = r.given("edges")?;
    let Value::Array(items) = given else {
        r.wrong("edges", "array", given);
        return None;
    };
    if items.len() > MAX_EDGES {
        r.issue("edges", format!("has too many items: at most {MAX_EDGES}"));
        return None;
    }
    let before = r.issues.len();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("edges[{i}]");
        let Value::Object(edge) = item else {
            r.wrong(&path, "object", item);
            continue;
        };
        let mut kept = Map::new();
        for side in ["from", "to"] {
            if let Some(v) = edge_side(r, &format!("{path}.{side}"), edge.get(side)) {
                kept.insert(side.into(), v);
            }
        }
        for (key, max) in [
            ("description", MAX_DESCRIPTION),
            ("prompt", MAX_DESCRIPTION),
            ("promptKey", MAX_NAME_LIKE),
        ] {
            if let Some(v) = edge.get(key).filter(|v| !v.is_null()) {
                match r.text_at(&format!("{path}.{key}"), v, max) {
                    Some(s) if !s.is_empty() => {
                        kept.insert(key.into(), Value::from(s));
                    }
                    _ => {}
                }
            }
        }
        match edge.get("edgeType").filter(|v| !v.is_null()) {
            None => {}
            Some(Value::String(t)) if t == "handoff" || t == "direct" => {
                kept.insert("edgeType".into(), Value::from(t.clone()));
            }
            Some(_) => r.issue(format!("{path}.edgeType"), "must be handoff or direct"),
        }
        match edge.get("excludeResults").filter(|v| !v.is_null()) {
            None => {}
            Some(Value::Bool(b)) => {
                kept.insert("excludeResults".into(), Value::from(*b));
            }
            Some(other) => r.wrong(&format!("{path}.excludeResults"), "boolean", other),
        }
        out.push(Value::Object(kept));
    }
    (r.issues.len() == before).then_some(out)
}

/// `{name?, email?}`; an email must look like one (or be empty).
fn support_contact(r: &mut Reader<'_>) -> Option<Value> {
    let given = r.given("support_contact")?;
    let Value::Object(c) = given else {
        r.wrong("support_contact", "object", given);
        return None;
    };
    let mut out = Map::new();
    for key in ["name", "email"] {
        if let Some(v) = c.get(key).filter(|v| !v.is_null()) {
            let path = format!("support_contact.{key}");
            if let Some(s) = r.text_at(&path, v, MAX_NAME_LIKE) {
                let address = s.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
                });
                if key == "email" && !s.is_empty() && !address {
                    r.issue(path, "Invalid email");
                    continue;
                }
                out.insert(key.into(), Value::from(s));
            }
        }
    }
    Some(Value::Object(out))
}

/// `avatar`: `{filepath, source}`, or `null` to take the picture away (`Some(None)`).
fn avatar(r: &mut Reader<'_>) -> Option<Option<Value>> {
    match r.body.get("avatar")? {
        Value::Null => Some(None),
        Value::Object(a) => {
            let filepath = a.get("filepath").and_then(Value::as_str);
            let source = a.get("source").and_then(Value::as_str);
            match (filepath, source) {
                (Some(f), Some(s)) => Some(Some(serde_json::json!({"filepath": f, "source": s}))),
                _ => {
                    r.issue("avatar", "must be {filepath, source}");
                    None
                }
            }
        }
        other => {
            let other = other.clone();
            r.wrong("avatar", "object", &other);
            None
        }
    }
}

/// LibreChat's fields for features not built here, kept as given once their types check; and
/// `memory_scope`, kept with them (no column of its own: it is read once per turn, through
/// `Definition::memory_scope`).
fn extra(r: &mut Reader<'_>) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(v) = r.list("skills", MAX_TOOLS, MAX_NAME_LIKE) {
        out.insert("skills".into(), Value::from(v));
    }
    for key in ["skills_enabled", "stateful_code_sessions"] {
        if let Some(v) = r.switch(key) {
            out.insert(key.into(), Value::from(v));
        }
    }
    if let Some(v) = r.one_of("memory_scope", &["user", "agent"]) {
        out.insert("memory_scope".into(), Value::from(v));
    }
    let environments = ["user", "agent-user", "conversation"];
    if let Some(v) = r.one_of("stateful_code_environment", &environments) {
        out.insert("stateful_code_environment".into(), Value::from(v));
    }
    for key in ["tool_options", "subagents"] {
        if let Some(v) = r.object(key) {
            out.insert(key.into(), Value::Object(v));
        }
    }
    out
}

/// The fields every body may set, read into a change.
fn patch(r: &mut Reader<'_>) -> Patch {
    Patch {
        name: r.text("name", MAX_NAME),
        description: r.text("description", MAX_DESCRIPTION),
        instructions: r.text("instructions", MAX_INSTRUCTIONS),
        provider: r.text("provider", MAX_NAME_LIKE),
        model: r.text("model", MAX_NAME_LIKE),
        model_parameters: r.object("model_parameters").map(model_parameters),
        artifacts: r.text("artifacts", 64),
        recursion_limit: r.recursion_limit(),
        tools: r.list("tools", MAX_TOOLS, MAX_NAME_LIKE),
        tool_resources: tool_resources(r),
        conversation_starters: r.list("conversation_starters", MAX_STARTERS, 2_000),
        agent_ids: r.list("agent_ids", MAX_EDGES, MAX_NAME_LIKE),
        edges: edges(r),
        hide_sequential_outputs: r.switch("hide_sequential_outputs"),
        end_after_tools: r.switch("end_after_tools"),
        avatar: avatar(r),
        support_contact: support_contact(r),
        category: r.text("category", 128).map(|c| c.trim().to_owned()),
        extra: extra(r),
    }
}

/// A create body as a definition: `provider` and `model` are required; an `avatar` cannot be
/// given yet (the picture is uploaded for the agent once it exists).
pub fn create(body: &Map<String, Value>) -> Result<Definition, Vec<Issue>> {
    let mut r = Reader {
        body,
        issues: Vec::new(),
    };
    let p = patch(&mut r);
    for key in ["provider", "model"] {
        let filled = r
            .body
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty());
        let named = r.issues.iter().any(|i| i.path == key);
        if !filled && !named {
            r.issue(key, "Required: a non-empty string");
        }
    }
    if let Some(Some(_)) = p.avatar {
        r.issue(
            "avatar",
            "upload the picture once the agent exists (POST /api/files/images/agents/:id/avatar)",
        );
    }
    if !r.issues.is_empty() {
        return Err(r.issues);
    }
    let mut def = Definition {
        provider: String::new(),
        model: String::new(),
        category: "general".into(),
        ..Definition::default()
    };
    p.apply(&mut def);
    if def.category.is_empty() {
        def.category = "general".into();
    }
    Ok(def)
}

/// An update body as a change.
pub fn update(body: &Map<String, Value>) -> Result<Patch, Vec<Issue>> {
    let mut r = Reader {
        body,
        issues: Vec::new(),
    };
    let p = patch(&mut r);
    for key in ["provider", "model"] {
        if r.body
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|s| s.trim().is_empty())
        {
            r.issue(key, "must not be empty");
        }
    }
    if r.issues.is_empty() {
        Ok(p)
    } else {
        Err(r.issues)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_create_body_is_read_as_librechat_reads_it() {
        let def = create(&body(json!({
            "provider": "openAI", "model": "gpt-4o", "name": "Helper", "description": null,
            "tools": ["web_search"], "unknown": 1,
            "model_parameters": {"temperature": "0.5", "max_tokens": "x", "top_p": 1, "stop": ""},
            "edges": [{"from": "", "to": "agent_b", "description": "", "edgeType": "handoff",
                       "extra": true}],
            "skills_enabled": true,
        })))
        .unwrap();
        assert_eq!(def.name.as_deref(), Some("Helper"));
        assert_eq!(def.description, None);
        assert_eq!(def.category, "general");
        assert_eq!(
            Value::Object(def.model_parameters),
            json!({"temperature": 0.5, "top_p": 1})
        );
        assert_eq!(
            def.edges,
            [json!({"from": "", "to": "agent_b", "edgeType": "handoff"})]
        );
        assert_eq!(def.extra["skills_enabled"], true);
        assert!(!def.extra.contains_key("unknown"));
    }

    #[test]
    fn wrong_types_and_oversize_values_name_their_field() {
        let issues = create(&body(json!({
            "provider": "openAI", "tools": "web_search", "name": 5,
            "instructions": "x".repeat(MAX_INSTRUCTIONS + 1),
            "edges": [{"to": 3}], "support_contact": {"email": "nope"},
            "recursion_limit": 2.5,
        })))
        .unwrap_err();
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        for p in [
            "name",
            "instructions",
            "tools",
            "edges[0].from",
            "edges[0].to",
            "support_contact.email",
            "recursion_limit",
            "model",
        ] {
            assert!(paths.contains(&p), "{p} missing from {paths:?}");
        }
        let tools = issues.iter().find(|i| i.path == "tools").unwrap();
        assert_eq!(tools.message, "Expected array, received string");
    }

    #[test]
    fn an_update_reads_only_what_it_names_and_null_takes_the_avatar_away() {
        let p = update(&body(json!({"name": "New", "model": null, "avatar": null}))).unwrap();
        assert_eq!(p.name.as_deref(), Some("New"));
        assert_eq!(p.model, None);
        assert_eq!(p.avatar, Some(None));
        assert!(update(&body(json!({}))).unwrap().is_empty());
        assert!(update(&body(json!({"provider": ""}))).is_err());
    }
}
