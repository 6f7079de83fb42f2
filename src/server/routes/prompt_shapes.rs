//! The prompts library's JSON: LibreChat's `TPromptGroup` and `TPrompt` out, its create and
//! update bodies in (validated here, with LibreChat's limits and a few of our own).

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::db::prompt_lists::{After, Filter, Scope};
use crate::db::prompts::{Denied, GroupFields, GroupPatch, Prompt, PromptGroup};
use crate::server::ApiError;
use crate::shapes::prompt::{ProductionPrompt, TPrompt, TPromptGroup};

/// The longest prompt text stored, in characters (LibreChat has no limit but the body size).
pub const MAX_PROMPT_CHARS: usize = 50_000;
/// LibreChat's `Constants.COMMANDS_MAX_LENGTH`.
const MAX_COMMAND: usize = 56;

/// LibreChat's system categories, which filter lists rather than name a category.
const MY_PROMPTS: &str = "sys__my__prompts__sys";
const NO_CATEGORY: &str = "sys__no__category__sys";
const SHARED_PROMPTS: &str = "sys__shared__prompts__sys";
const ALL: &str = "sys__all__sys";

/// LibreChat's prompt categories (`/api/categories`).
pub const CATEGORIES: [&str; 9] = [
    "idea",
    "travel",
    "teach_or_explain",
    "write",
    "shop",
    "code",
    "misc",
    "roleplay",
    "finance",
];

/// LibreChat's `TPromptGroup` of a stored group.
pub fn group_json(g: &PromptGroup) -> TPromptGroup<'_> {
    TPromptGroup {
        id: &g.id,
        name: &g.name,
        number_of_generations: g.number_of_generations,
        oneliner: &g.oneliner,
        category: &g.category,
        production_id: g.production_id.as_deref(),
        author: &g.author,
        author_name: &g.author_name,
        command: g.command.as_deref(),
        created_at: &g.created_at,
        updated_at: &g.updated_at,
        production_prompt: g
            .production_prompt
            .as_deref()
            .map(|prompt| ProductionPrompt { prompt }),
        is_public: g.is_public,
    }
}

/// LibreChat's `TPrompt` of a stored version.
pub fn prompt_json(p: &Prompt) -> TPrompt<'_> {
    TPrompt {
        id: &p.id,
        group_id: &p.group_id,
        author: &p.author,
        prompt: &p.prompt,
        kind: &p.kind,
        created_at: &p.created_at,
        updated_at: &p.updated_at,
    }
}

/// A refusal of the store as the client hears it.
pub fn denied(d: Denied) -> ApiError {
    match d {
        Denied::NotFound => ApiError::NotFound("Prompt group not found".into()),
        Denied::Forbidden => ApiError::Shaped {
            status: axum::http::StatusCode::FORBIDDEN,
            body: json!({"error": "Forbidden",
                         "message": "Insufficient permissions to access this promptGroup"}),
        },
        Denied::CommandTaken(c) => ApiError::Conflict(format!(
            "The command /{c} is already used by a prompt you can see"
        )),
    }
}

/// A prompt body's text and type (`{prompt, type}`).
pub fn prompt_input(v: Option<&Value>) -> Result<(String, String), ApiError> {
    let Some(Value::Object(p)) = v else {
        return Err(ApiError::BadRequest("Prompt is required".into()));
    };
    let text = match p.get("prompt") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => {
            return Err(ApiError::BadRequest(
                "Prompt text is required and must be a non-empty string".into(),
            ));
        }
    };
    if text.chars().count() > MAX_PROMPT_CHARS {
        return Err(ApiError::PayloadTooLarge(format!(
            "Prompt text is too long: at most {MAX_PROMPT_CHARS} characters"
        )));
    }
    match p.get("type").and_then(Value::as_str) {
        Some(t @ ("text" | "chat")) => Ok((text, t.to_owned())),
        _ => Err(ApiError::BadRequest(
            "Prompt type must be \"text\" or \"chat\"".into(),
        )),
    }
}

/// A string field with a maximum length, if present.
fn text_field(o: &Map<String, Value>, key: &str, max: usize) -> Result<Option<String>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(ApiError::BadRequest(format!(
            "{key} is too long: at most {max} characters"
        ))),
        Some(_) => Err(ApiError::BadRequest(format!("{key} must be a string"))),
    }
}

/// A command as LibreChat accepts one: lowercase letters, digits and hyphens, at most 56; empty
/// means none.
fn command(o: &Map<String, Value>) -> Result<Option<Option<String>>, ApiError> {
    if !o.contains_key("command") {
        return Ok(None);
    }
    let Some(c) = text_field(o, "command", MAX_COMMAND)? else {
        return Ok(Some(None));
    };
    if !c
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(ApiError::BadRequest(
            "Command must only contain lowercase alphanumeric characters and hyphens".into(),
        ));
    }
    Ok(Some((!c.is_empty()).then_some(c)))
}

/// The `group` of a create body.
pub fn group_input(v: Option<&Value>) -> Result<GroupFields, ApiError> {
    let required = || ApiError::BadRequest("Prompt and group name are required".into());
    let Some(Value::Object(g)) = v else {
        return Err(required());
    };
    let name = text_field(g, "name", 255)?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(required)?;
    Ok(GroupFields {
        name,
        oneliner: text_field(g, "oneliner", 500)?.unwrap_or_default(),
        category: text_field(g, "category", 100)?.unwrap_or_default(),
        command: command(g)?.flatten(),
    })
}

/// A `PATCH /api/prompts/groups/:id` body, read as LibreChat's strict zod schema reads it.
pub fn patch_input(body: &Map<String, Value>) -> Result<GroupPatch, ApiError> {
    if let Some(k) = body
        .keys()
        .find(|k| !["name", "oneliner", "category", "command"].contains(&k.as_str()))
    {
        return Err(ApiError::BadRequest(format!(
            "Invalid request body: unrecognized key '{k}'"
        )));
    }
    let name = text_field(body, "name", 255)?;
    if name.as_deref().is_some_and(|n| n.is_empty()) {
        return Err(ApiError::BadRequest(
            "Invalid request body: name is empty".into(),
        ));
    }
    Ok(GroupPatch {
        name,
        oneliner: text_field(body, "oneliner", 500)?,
        category: text_field(body, "category", 100)?,
        command: command(body)?,
    })
}

/// A list's filters from its `name` and `category` parameters.
pub fn filter(name: Option<String>, category: Option<String>) -> Filter {
    let mut f = Filter {
        name: name.filter(|n| !n.is_empty()),
        ..Filter::default()
    };
    match category.as_deref() {
        None | Some("") | Some(ALL) => {}
        Some(MY_PROMPTS) => f.scope = Scope::Mine,
        Some(SHARED_PROMPTS) => f.scope = Scope::Shared,
        Some(NO_CATEGORY) => f.category = Some(String::new()),
        Some(c) => f.category = Some(c.to_owned()),
    }
    f
}

/// LibreChat's page cursor: base64 of `{numberOfGenerations, updatedAt, _id}`. One that does
/// not read is ignored, as LibreChat ignores it.
pub fn read_cursor(s: Option<&str>) -> Option<After> {
    let s = s.filter(|s| !s.is_empty() && *s != "undefined" && *s != "null")?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    Some(After {
        number_of_generations: v.get("numberOfGenerations")?.as_i64()?,
        updated_at: v.get("updatedAt")?.as_str()?.to_owned(),
        id: v.get("_id")?.as_str()?.to_owned(),
    })
}

pub fn write_cursor(g: &PromptGroup) -> String {
    let v = json!({"numberOfGenerations": g.number_of_generations, "updatedAt": g.updated_at,
                   "_id": g.id});
    base64::engine::general_purpose::STANDARD.encode(v.to_string())
}
