//! Anthropic's Messages API with tools: `tool_use` content blocks whose input streams as
//! `input_json_delta` pieces, a signed thinking block (`signature_delta`) and a
//! `redacted_thinking` block before them when thinking is on, `stop_reason: tool_use`; and
//! the 400 `invalid_request_error`s Anthropic gives a history whose `tool_result` blocks do
//! not follow their `tool_use`, or whose thinking blocks did not come back unchanged.

use axum::body::Body;
use axum::response::Response;
use serde_json::{Value, json};

use super::{Broken, ToolScript, pieces, planned, results_text, signature_for};
use crate::support::fake_openai::{anthropic_error, event, message_start, sse, text_block};

/// The thinking the fake does before its calls.
pub const THINKING: &str = "The user wants two cities; I will call the tool for each.";
/// The `data` of the fake's redacted_thinking block.
pub const REDACTED: &str = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP";

fn invalid(message: String) -> Option<Response> {
    Some(anthropic_error(400, "invalid_request_error", &message))
}

fn blocks(m: &Value) -> Vec<Value> {
    m["content"].as_array().cloned().unwrap_or_default()
}

fn ids_of<'a>(blocks: &'a [Value], kind: &str, key: &str) -> Vec<&'a str> {
    blocks
        .iter()
        .filter(|b| b["type"] == kind)
        .filter_map(|b| b[key].as_str())
        .collect()
}

/// What Anthropic refuses in a request with tool blocks (see the module's comment).
pub fn check(body: &Value) -> Option<Response> {
    let messages = body["messages"].as_array()?;
    let thinking = body["thinking"]["type"] == "enabled";
    let uses_tools = messages
        .iter()
        .flat_map(blocks)
        .any(|b| b["type"] == "tool_use" || b["type"] == "tool_result");
    if uses_tools && body["tools"].as_array().is_none_or(|t| t.is_empty()) {
        return invalid(
            "Requests which include `tool_use` or `tool_result` blocks must define tools.".into(),
        );
    }
    if thinking && matches!(body["tool_choice"]["type"].as_str(), Some("any" | "tool")) {
        return invalid("Thinking may not be enabled when tool_choice forces tool use.".into());
    }
    for (i, m) in messages.iter().enumerate() {
        let here = blocks(m);
        let before = i
            .checked_sub(1)
            .map(|p| blocks(&messages[p]))
            .unwrap_or_default();
        let after = messages.get(i + 1).map(blocks).unwrap_or_default();
        for (j, b) in here.iter().enumerate() {
            let id = b["tool_use_id"].as_str().unwrap_or("");
            if b["type"] == "tool_result" && !ids_of(&before, "tool_use", "id").contains(&id) {
                return invalid(format!(
                    "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                ));
            }
            if b["type"] == "thinking"
                && b["signature"].as_str()
                    != Some(&signature_for(b["thinking"].as_str().unwrap_or("")))
            {
                return invalid(format!(
                    "messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
                ));
            }
            if b["type"] == "redacted_thinking" && b["data"] != REDACTED {
                return invalid(format!(
                    "messages.{i}.content.{j}: Invalid `data` in `redacted_thinking` block"
                ));
            }
        }
        let answered = ids_of(&after, "tool_result", "tool_use_id");
        let missing: Vec<&str> = ids_of(&here, "tool_use", "id")
            .into_iter()
            .filter(|id| !answered.contains(id))
            .collect();
        if !missing.is_empty() {
            return invalid(format!(
                "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                missing.join(", ")
            ));
        }
    }
    // With thinking on, the last assistant turn that calls tools starts with its thinking.
    if thinking
        && let Some((i, last)) = messages
            .iter()
            .enumerate()
            .rev()
            .find(|(_, m)| m["role"] == "assistant")
        && blocks(last).iter().any(|b| b["type"] == "tool_use")
    {
        let first = blocks(last)[0]["type"].as_str().unwrap_or("").to_owned();
        if first != "thinking" && first != "redacted_thinking" {
            return invalid(format!(
                "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{first}`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
            ));
        }
    }
    None
}

/// The results the last (user) turn carries.
fn trailing_results(body: &Value) -> Vec<(String, bool)> {
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    blocks(&last)
        .iter()
        .filter(|b| b["type"] == "tool_result")
        .map(|b| {
            let text = match &b["content"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
                _ => String::new(),
            };
            (text, b["is_error"] == true)
        })
        .collect()
}

fn block_event(name: &str, index: usize, more: Value) -> String {
    let mut data = json!({"type": name, "index": index});
    for (k, v) in more.as_object().into_iter().flatten() {
        data[k] = v.clone();
    }
    event(name, data)
}

/// The scripted answer: thinking and `tool_use` blocks, or text once results came.
pub fn answer(model: &str, script: &ToolScript, body: &Value) -> Response {
    let mut out = message_start(model, 0);
    let results = trailing_results(body);
    if !results.is_empty() && !script.always {
        out.push_str(&text_block(0, &[&results_text(&results)]));
        out.push_str(&event("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 9}})));
        out.push_str(&event("message_stop", json!({"type": "message_stop"})));
        return sse(Body::from(out));
    }
    let mut index = 0;
    if script.thinking {
        out.push_str(&block_event(
            "content_block_start",
            index,
            json!({"content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ));
        for p in pieces(THINKING) {
            out.push_str(&block_event(
                "content_block_delta",
                index,
                json!({"delta": {"type": "thinking_delta", "thinking": p}}),
            ));
        }
        out.push_str(&block_event(
            "content_block_delta",
            index,
            json!({"delta": {"type": "signature_delta", "signature": signature_for(THINKING)}}),
        ));
        out.push_str(&block_event("content_block_stop", index, json!({})));
        index += 1;
        out.push_str(&block_event(
            "content_block_start",
            index,
            json!({"content_block": {"type": "redacted_thinking", "data": REDACTED}}),
        ));
        out.push_str(&block_event("content_block_stop", index, json!({})));
        index += 1;
    }
    if let Some(words) = &script.preface {
        out.push_str(&text_block(index as u64, &[words]));
        index += 1;
    }
    if script.broken == Some(Broken::Orphan) {
        out.push_str(&block_event(
            "content_block_delta",
            9,
            json!({"delta": {"type": "input_json_delta", "partial_json": "{}"}}),
        ));
    }
    for (i, (name, args)) in planned(script).into_iter().enumerate() {
        out.push_str(&block_event("content_block_start", index, json!({"content_block": {"type": "tool_use", "id": format!("toolu_0{i}A"), "name": name, "input": {}}})));
        // Anthropic opens a tool's input with an empty piece; a tool without input has only it.
        out.push_str(&block_event(
            "content_block_delta",
            index,
            json!({"delta": {"type": "input_json_delta", "partial_json": ""}}),
        ));
        if args != "{}" {
            for p in pieces(&args) {
                out.push_str(&block_event(
                    "content_block_delta",
                    index,
                    json!({"delta": {"type": "input_json_delta", "partial_json": p}}),
                ));
            }
        }
        out.push_str(&block_event("content_block_stop", index, json!({})));
        index += 1;
    }
    out.push_str(&event("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 48}})));
    out.push_str(&event("message_stop", json!({"type": "message_stop"})));
    sse(Body::from(out))
}
