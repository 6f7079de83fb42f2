//! The Responses API with function tools: a `function_call` output item
//! (`response.output_item.added`), its `response.function_call_arguments.delta` pieces and
//! `.done`, `response.output_item.done`, then `response.completed` with the items in its
//! `output`; and the 400 for a `function_call_output` that answers no `function_call`.

use axum::Json;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Broken, ToolScript, pieces, planned, results_text};
use crate::support::fake_openai::sse;

/// What the Responses API refuses: a `function_call_output` whose `call_id` no earlier
/// `function_call` item has.
pub fn check(body: &Value) -> Option<Response> {
    let mut calls: Vec<&str> = Vec::new();
    for item in body["input"].as_array()? {
        match item["type"].as_str() {
            Some("function_call") => calls.extend(item["call_id"].as_str()),
            Some("function_call_output") => {
                let id = item["call_id"].as_str().unwrap_or("");
                if !calls.contains(&id) {
                    return Some((StatusCode::BAD_REQUEST, Json(json!({"error": {
                        "message": format!("No tool call found for function call output with call_id {id}."),
                        "type": "invalid_request_error", "param": "input", "code": null
                    }}))).into_response());
                }
            }
            _ => {}
        }
    }
    None
}

/// The results a request ends with (its trailing `function_call_output` items).
fn trailing_results(body: &Value) -> Vec<(String, bool)> {
    let input = body["input"].as_array().cloned().unwrap_or_default();
    let mut out: Vec<(String, bool)> = input
        .iter()
        .rev()
        .take_while(|i| i["type"] == "function_call_output")
        .map(|i| {
            let text = match &i["output"] {
                Value::String(s) => s.clone(),
                parts => parts[0]["text"].as_str().unwrap_or("").to_owned(),
            };
            (text, false)
        })
        .collect();
    out.reverse();
    out
}

/// The scripted answer: function calls, or text once the request carries results.
pub fn answer(script: &ToolScript, body: &Value) -> Response {
    let mut seq = 0;
    let mut ev = |data: Value| {
        let mut data = data;
        data["sequence_number"] = json!(seq);
        seq += 1;
        format!(
            "event: {}\ndata: {data}\n\n",
            data["type"].as_str().unwrap_or("")
        )
    };
    let mut out = ev(
        json!({"type": "response.created", "response": {"id": "resp_tools", "object": "response", "status": "in_progress", "output": []}}),
    );
    out.push_str(&ev(json!({"type": "response.in_progress", "response": {"id": "resp_tools", "object": "response", "status": "in_progress", "output": []}})));
    let results = if script.always {
        Vec::new()
    } else {
        trailing_results(body)
    };
    let mut output = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    if !results.is_empty() {
        texts.push(results_text(&results));
    } else if let Some(words) = &script.preface {
        texts.push(words.clone());
    }
    for text in &texts {
        let item = json!({"id": "msg_tools", "type": "message", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": text, "annotations": []}]});
        out.push_str(&ev(json!({"type": "response.output_item.added", "output_index": output.len(), "item": {"id": "msg_tools", "type": "message", "status": "in_progress", "role": "assistant", "content": []}})));
        out.push_str(&ev(json!({"type": "response.output_text.delta", "item_id": "msg_tools", "output_index": output.len(), "content_index": 0, "delta": text})));
        out.push_str(&ev(json!({"type": "response.output_item.done", "output_index": output.len(), "item": item})));
        output.push(item);
    }
    if results.is_empty() {
        if script.broken == Some(Broken::Orphan) {
            out.push_str(&ev(json!({"type": "response.function_call_arguments.delta", "item_id": "fc_nowhere", "output_index": 7, "delta": "{}"})));
        }
        for (i, (name, args)) in planned(script).into_iter().enumerate() {
            let at = output.len();
            let (item_id, call_id) = (format!("fc_{i}x"), format!("call_{i}x"));
            out.push_str(&ev(json!({"type": "response.output_item.added", "output_index": at, "item": {"id": item_id, "type": "function_call", "status": "in_progress", "arguments": "", "call_id": call_id, "name": name}})));
            for p in pieces(&args) {
                out.push_str(&ev(json!({"type": "response.function_call_arguments.delta", "item_id": item_id, "output_index": at, "delta": p})));
            }
            out.push_str(&ev(json!({"type": "response.function_call_arguments.done", "item_id": item_id, "output_index": at, "arguments": args})));
            let item = json!({"id": item_id, "type": "function_call", "status": "completed", "arguments": args, "call_id": call_id, "name": name});
            out.push_str(&ev(
                json!({"type": "response.output_item.done", "output_index": at, "item": item}),
            ));
            output.push(item);
        }
    }
    out.push_str(&ev(json!({"type": "response.completed", "response": {"id": "resp_tools", "object": "response", "status": "completed", "output": output,
        "usage": {"input_tokens": 30, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 12, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 42}}})));
    sse(Body::from(out))
}
