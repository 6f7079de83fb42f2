//! Gemini with function declarations: whole `functionCall` parts (no ids), a thought and a
//! `thoughtSignature` on the first call when thinking, `finishReason: STOP`; and the 400
//! `INVALID_ARGUMENT`s Gemini gives a declaration with fields outside its `Schema`, a
//! function response turn that does not answer the call turn before it, or (Gemini 3) a
//! call sent back without its signature.

use axum::Json;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Broken, ToolScript, planned, results_text, signature_for};
use crate::support::fake_openai::{gemini_chunk, sse};

/// The thought the fake has before its calls.
pub const THOUGHT: &str = "Two cities, so two calls.";

/// The fields of Gemini's `Schema`.
const SCHEMA_FIELDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "items",
    "minItems",
    "maxItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "minimum",
    "maximum",
];

fn invalid(message: &str) -> Option<Response> {
    Some(
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})),
        )
            .into_response(),
    )
}

/// The first field of a schema outside Gemini's `Schema`, with where it is.
fn unknown_field(schema: &Value, at: &str) -> Option<(String, String)> {
    let obj = schema.as_object()?;
    for (k, v) in obj {
        if !SCHEMA_FIELDS.contains(&k.as_str()) {
            return Some((k.clone(), at.to_owned()));
        }
        let found = match k.as_str() {
            "properties" => v
                .as_object()
                .into_iter()
                .flatten()
                .enumerate()
                .find_map(|(i, (_, s))| unknown_field(s, &format!("{at}.properties[{i}].value"))),
            "items" => unknown_field(v, &format!("{at}.items")),
            "anyOf" => v
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .find_map(|(i, s)| unknown_field(s, &format!("{at}.any_of[{i}]"))),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

fn parts(c: &Value) -> Vec<Value> {
    c["parts"].as_array().cloned().unwrap_or_default()
}

fn count(c: &Value, kind: &str) -> usize {
    parts(c).iter().filter(|p| p.get(kind).is_some()).count()
}

/// What Gemini refuses (see the module's comment); `script` says whether the calls were made
/// with a signature that must come back.
pub fn check(body: &Value, script: Option<&ToolScript>) -> Option<Response> {
    for (i, d) in body["tools"][0]["functionDeclarations"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some((name, at)) = unknown_field(
            &d["parameters"],
            &format!("tools[0].function_declarations[{i}].parameters"),
        ) {
            return invalid(&format!(
                "Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field."
            ));
        }
    }
    let contents = body["contents"].as_array()?;
    for (i, c) in contents.iter().enumerate() {
        let responses = count(c, "functionResponse");
        if responses == 0 {
            continue;
        }
        let calls = i
            .checked_sub(1)
            .map_or(0, |p| count(&contents[p], "functionCall"));
        if calls == 0 {
            return invalid(
                "Please ensure that function response turn comes immediately after a function call turn.",
            );
        }
        if calls != responses {
            return invalid(
                "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.",
            );
        }
    }
    // The current turn: after the last user content with words of its own.
    let start = contents
        .iter()
        .rposition(|c| c["role"] == "user" && count(c, "functionResponse") == 0)
        .unwrap_or(0);
    if script.is_some_and(|s| s.thinking) {
        for c in &contents[start..] {
            let Some((position, first)) = parts(c)
                .into_iter()
                .enumerate()
                .find(|(_, p)| p.get("functionCall").is_some())
            else {
                continue;
            };
            match first["thoughtSignature"].as_str() {
                None => {
                    return invalid(&format!(
                        "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:{}` , position {}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
                        first["functionCall"]["name"].as_str().unwrap_or(""),
                        position + 1
                    ));
                }
                Some(s) if s != signature_for(THOUGHT) => {
                    return invalid("Corrupted thought signature.");
                }
                Some(_) => {}
            }
        }
    }
    None
}

/// The results the last (user) content carries.
fn trailing_results(body: &Value) -> Vec<(String, bool)> {
    let last = body["contents"]
        .as_array()
        .and_then(|c| c.last())
        .cloned()
        .unwrap_or_default();
    parts(&last)
        .iter()
        .filter_map(|p| p.get("functionResponse"))
        .map(|r| match r["response"].get("error") {
            Some(e) => (e.as_str().unwrap_or("").to_owned(), true),
            None => (
                r["response"]["output"].as_str().unwrap_or("").to_owned(),
                false,
            ),
        })
        .collect()
}

/// The scripted answer: `functionCall` parts, or text once results came.
pub fn answer(script: &ToolScript, body: &Value) -> Response {
    let usage = json!({"promptTokenCount": 30, "candidatesTokenCount": 12, "totalTokenCount": 42});
    let results = trailing_results(body);
    if !results.is_empty() && !script.always {
        return sse(Body::from(gemini_chunk(
            json!([{"text": results_text(&results)}]),
            Some("STOP"),
            Some(usage),
        )));
    }
    let mut out = String::new();
    if script.thinking {
        out.push_str(&gemini_chunk(
            json!([{"text": THOUGHT, "thought": true}]),
            None,
            None,
        ));
    }
    let mut answer = Vec::new();
    if let Some(words) = &script.preface {
        answer.push(json!({"text": words}));
    }
    if script.broken == Some(Broken::Orphan) {
        answer.push(json!({"functionCall": {"args": {}}}));
    }
    for (i, (name, args)) in planned(script).into_iter().enumerate() {
        let args: Value = serde_json::from_str(&args).unwrap();
        let mut part = json!({"functionCall": {"name": name, "args": args}});
        if script.thinking && i == 0 {
            part["thoughtSignature"] = json!(signature_for(THOUGHT));
        }
        answer.push(part);
    }
    out.push_str(&gemini_chunk(
        Value::Array(answer),
        Some("STOP"),
        Some(usage),
    ));
    sse(Body::from(out))
}
