//! OpenAI chat completions with tools: `delta.tool_calls[]` pieces (`index`, then `id`, `type`
//! and `function.name` in a call's first piece, `function.arguments` fragments after), the
//! `tool_calls` finish reason, and the 400s OpenAI gives a history whose tool messages do not
//! answer the calls right before them.

use axum::Json;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Broken, ToolScript, pieces, planned, results_text};
use crate::support::fake_openai::{chunk, sse, usage};

/// OpenAI's 400 with the parameter it is about.
fn invalid(message: &str, param: Option<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": null}})),
    )
        .into_response()
}

/// What OpenAI refuses in a request with tools: `tool_choice` or `parallel_tool_calls`
/// without tools, a `tool` message that answers no call of the assistant message before the
/// run of tool messages it is in, and calls left without a tool message.
pub fn check(body: &Value) -> Option<Response> {
    let has_tools = body["tools"].as_array().is_some_and(|t| !t.is_empty());
    for key in ["tool_choice", "parallel_tool_calls"] {
        if body.get(key).is_some() && !has_tools {
            return Some(invalid(
                &format!(
                    "Invalid value for '{key}': '{key}' is only allowed when 'tools' are specified."
                ),
                Some(key.into()),
            ));
        }
    }
    let messages = body["messages"].as_array()?;
    let mut open: Vec<String> = Vec::new(); // calls awaiting their tool message
    let mut opened_at = 0;
    let mut in_results = false;
    for (i, m) in messages.iter().enumerate() {
        if m["role"] == "tool" {
            let id = m["tool_call_id"].as_str().unwrap_or("");
            let Some(at) = open.iter().position(|c| c == id).filter(|_| in_results) else {
                return Some(invalid(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                    Some(format!("messages.[{i}].role")),
                ));
            };
            open.remove(at);
            continue;
        }
        if !open.is_empty() {
            return Some(invalid(
                &format!(
                    "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
                    open.join(", ")
                ),
                Some(format!("messages.[{opened_at}].role")),
            ));
        }
        in_results = false;
        if let Some(calls) = m["tool_calls"].as_array() {
            open = calls
                .iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect();
            opened_at = i;
            in_results = true;
        }
    }
    None
}

/// The results a request ends with (its trailing `tool` messages).
fn trailing_results(body: &Value) -> Vec<(String, bool)> {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let mut out: Vec<(String, bool)> = messages
        .iter()
        .rev()
        .take_while(|m| m["role"] == "tool")
        .map(|m| (m["content"].as_str().unwrap_or("").to_owned(), false))
        .collect();
    out.reverse();
    out
}

/// One `tool_calls` piece in a chunk.
fn piece(model: &str, call: Value) -> String {
    chunk(model, json!({"tool_calls": [call]}), None)
}

/// The scripted answer: calls, or text once the request carries results.
pub fn answer(model: &str, script: &ToolScript, body: &Value) -> Response {
    let results = trailing_results(body);
    let mut out = chunk(
        model,
        json!({"role": "assistant", "content": null, "refusal": null}),
        None,
    );
    if !results.is_empty() && !script.always {
        out.push_str(&chunk(
            model,
            json!({"content": results_text(&results)}),
            None,
        ));
        out.push_str(&chunk(model, json!({}), Some("stop")));
        out.push_str(&usage(model, 40, 6));
        out.push_str("data: [DONE]\n\n");
        return sse(Body::from(out));
    }
    if let Some(words) = &script.preface {
        out.push_str(&chunk(model, json!({"content": words}), None));
    }
    if script.broken == Some(Broken::Orphan) {
        out.push_str(&piece(
            model,
            json!({"index": 0, "function": {"arguments": "{\"city\":"}}),
        ));
    }
    let calls = planned(script);
    let tag = script.id_tag.as_deref().unwrap_or("abc");
    let starts: Vec<String> = calls
        .iter()
        .enumerate()
        .map(|(i, (name, _))| piece(model, json!({"index": i, "id": format!("call_{i}{tag}"), "type": "function", "function": {"name": name, "arguments": ""}})))
        .collect();
    let args: Vec<Vec<String>> = calls
        .iter()
        .enumerate()
        .map(|(i, (_, a))| {
            pieces(a)
                .into_iter()
                .map(|p| piece(model, json!({"index": i, "function": {"arguments": p}})))
                .collect()
        })
        .collect();
    if script.interleave {
        out.extend(starts);
        let longest = args.iter().map(Vec::len).max().unwrap_or(0);
        for round in 0..longest {
            for call in &args {
                if let Some(p) = call.get(round) {
                    out.push_str(p);
                }
            }
        }
    } else {
        for (start, call) in starts.into_iter().zip(args) {
            out.push_str(&start);
            out.extend(call);
        }
    }
    out.push_str(&chunk(model, json!({}), Some("tool_calls")));
    out.push_str(&usage(model, 30, 12));
    out.push_str("data: [DONE]\n\n");
    sse(Body::from(out))
}
