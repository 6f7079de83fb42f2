//! Anthropic's Messages API, streaming (`POST {baseURL}/v1/messages` with `stream: true`).
//!
//! The stream is named server-sent events: `message_start` (with input usage, including
//! prompt-cache reads and writes), `content_block_start`, `content_block_delta` (`text_delta`,
//! `thinking_delta`, `signature_delta`, `input_json_delta`), `content_block_stop`,
//! `message_delta` (stop reason, output usage), `message_stop`, `ping`, and `error`.
//! Extended thinking (`thinking`, `thinkingBudget`) and prompt caching (`promptCache`) follow
//! LibreChat's parameter names. Tool use: see [`super::anthropic_tools`].

use std::collections::VecDeque;

use serde_json::{Map, Value, json};

use super::anthropic_tools::{self as tools, ToolBlocks};
use super::openai::{error_from, message_of};
use super::sse::{self, SseEvent, Step};
use super::{
    ChatMessage, ChatRequest, Endpoint, EventStream, ProviderError, Role, StreamEvent, Usage,
};

/// The output limit when the request sets none (the API requires one).
pub const DEFAULT_MAX_TOKENS: u64 = 8_192;
/// Thinking tokens when `thinking` is on without a `thinkingBudget`.
pub const DEFAULT_THINKING_BUDGET: u64 = 2_000;
/// The `anthropic-version` sent.
pub const API_VERSION: &str = "2023-06-01";

fn flag(params: &Map<String, Value>, key: &str) -> Option<bool> {
    params.get(key).and_then(Value::as_bool)
}

/// One turn: its text as a string, or a list of blocks when it has images (images first, as
/// LibreChat sends them to Anthropic), tool parts (see [`tools::blocks`]) or carries the
/// cache breakpoint (on its last block).
fn message(m: &ChatMessage, breakpoint: bool, thinking: bool) -> Value {
    if m.has_tool_parts() {
        let mut blocks = tools::blocks(m, thinking);
        if breakpoint && let Some(last) = blocks.last_mut() {
            last["cache_control"] = json!({"type": "ephemeral"});
        }
        return json!({"role": m.role.as_str(), "content": blocks});
    }
    let wire = m.wire();
    if wire.images.is_empty() && !breakpoint {
        return json!({"role": m.role.as_str(), "content": wire.text});
    }
    let mut blocks: Vec<Value> = wire.images.iter().map(|i| tools::image_block(i)).collect();
    // Anthropic refuses an empty text block.
    if !wire.text.is_empty() || blocks.is_empty() {
        blocks.push(json!({"type": "text", "text": wire.text}));
    }
    if breakpoint && let Some(last) = blocks.last_mut() {
        last["cache_control"] = json!({"type": "ephemeral"});
    }
    json!({"role": m.role.as_str(), "content": blocks})
}

/// The JSON body for `request`: the system prompt apart, turns alternating and starting with
/// the user (consecutive turns of one side are joined), the last turns marked for the prompt
/// cache when `promptCache` is on (the default).
pub fn body(endpoint: &Endpoint, request: &ChatRequest) -> Map<String, Value> {
    let p = &request.params;
    let cache = flag(p, "promptCache").unwrap_or(true);
    let thinking = flag(p, "thinking").unwrap_or(false);
    let (system, turns) = super::alternating(&request.messages);
    let user_turns: Vec<usize> = turns
        .iter()
        .enumerate()
        .filter(|(_, m)| m.role == Role::User)
        .map(|(i, _)| i)
        .collect();
    // The last two user turns carry cache breakpoints, so the next request reuses the prefix.
    let cached: Vec<usize> = user_turns.iter().rev().take(2).copied().collect();
    let messages: Vec<Value> = turns
        .iter()
        .enumerate()
        .map(|(i, m)| message(m, cache && cached.contains(&i), thinking))
        .collect();
    let max_tokens = ["max_tokens", "maxOutputTokens", "maxTokens"]
        .iter()
        .find_map(|k| p.get(*k).and_then(Value::as_u64))
        .unwrap_or(DEFAULT_MAX_TOKENS);
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(true));
    if let Some(text) = system {
        body.insert(
            "system".into(),
            if cache {
                json!([{"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}])
            } else {
                json!(text)
            },
        );
    }
    if thinking {
        let budget = p
            .get("thinkingBudget")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_THINKING_BUDGET)
            .max(1_024);
        body.insert(
            "thinking".into(),
            json!({"type": "enabled", "budget_tokens": budget}),
        );
        // The answer must have room beyond the thinking.
        body.insert("max_tokens".into(), json!(max_tokens.max(budget + 1_024)));
    } else {
        body.insert("max_tokens".into(), json!(max_tokens));
        for key in ["temperature", "top_p", "top_k"] {
            if let Some(v) = p.get(key).filter(|v| !v.is_null()) {
                body.insert(key.into(), v.clone());
            }
        }
        // LibreChat's names.
        for (ours, theirs) in [("topP", "top_p"), ("topK", "top_k")] {
            if let Some(v) = p.get(ours).filter(|v| !v.is_null()) {
                body.insert(theirs.into(), v.clone());
            }
        }
    }
    if let Some(stop) = p.get("stop").and_then(Value::as_array) {
        body.insert("stop_sequences".into(), Value::Array(stop.clone()));
    }
    if let Some(user) = &request.user {
        body.insert("metadata".into(), json!({"user_id": user}));
    }
    tools::write_tools(request, thinking, &mut body);
    super::apply_params(endpoint, &mut body);
    body
}

pub async fn stream(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    api_key: &str,
    request: ChatRequest,
) -> Result<EventStream, ProviderError> {
    let url = format!("{}/v1/messages", endpoint.base_url.trim_end_matches('/'));
    let body = body(endpoint, &request);
    let mut headers = super::key_header("x-api-key", api_key, api_key);
    headers.push(("anthropic-version", API_VERSION.to_owned()));
    let response = super::post(http, endpoint, &request, &url, &body, headers, error_from).await?;
    Ok(Box::pin(parse(sse::events(response))))
}

/// What one event says, with the usage and tool calls of the message so far; `Ok(true)` at
/// `message_stop`.
fn read_event(
    e: &SseEvent,
    usage: &mut Usage,
    tools: &mut ToolBlocks,
    out: &mut VecDeque<StreamEvent>,
) -> Result<bool, ProviderError> {
    let data = e.data.trim();
    if data.is_empty() {
        return Ok(false);
    }
    let v: Value = serde_json::from_str(data)
        .map_err(|err| ProviderError::Malformed(format!("an event is not JSON ({err})")))?;
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(e.event.as_str());
    let n = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_u64);
    match kind {
        "message_start" => {
            let u = &v["message"]["usage"];
            usage.prompt_tokens = n(u, "/input_tokens").unwrap_or(0);
            usage.cache_read_tokens = n(u, "/cache_read_input_tokens").unwrap_or(0);
            usage.cache_write_tokens = n(u, "/cache_creation_input_tokens").unwrap_or(0);
            usage.completion_tokens = n(u, "/output_tokens").unwrap_or(0);
        }
        "content_block_delta" => {
            let d = &v["delta"];
            match d.get("type").and_then(Value::as_str) {
                Some("text_delta") => {
                    if let Some(t) = d
                        .get("text")
                        .and_then(Value::as_str)
                        .filter(|t| !t.is_empty())
                    {
                        out.push_back(StreamEvent::Text(t.to_owned()));
                    }
                }
                Some("thinking_delta") => {
                    if let Some(t) = d
                        .get("thinking")
                        .and_then(Value::as_str)
                        .filter(|t| !t.is_empty())
                    {
                        out.push_back(StreamEvent::Reasoning(t.to_owned()));
                    }
                }
                Some("signature_delta") => {
                    if let Some(s) = d
                        .get("signature")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                    {
                        out.push_back(StreamEvent::ReasoningSignature(s.to_owned()));
                    }
                }
                Some("input_json_delta") => tools.input(&v, out)?,
                _ => {}
            }
        }
        "content_block_start" => tools.start(&v, out)?,
        "content_block_stop" => tools.stop(&v, out)?,
        "message_delta" => {
            if let Some(o) = n(&v, "/usage/output_tokens") {
                usage.completion_tokens = o;
            }
            if let Some(reason) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                out.push_back(StreamEvent::Finished(Some(tools.finish(reason))));
            }
        }
        "message_stop" => {
            out.push_back(StreamEvent::Usage(*usage));
            return Ok(true);
        }
        "error" => {
            let kind = v
                .pointer("/error/type")
                .and_then(Value::as_str)
                .unwrap_or("error");
            let message = message_of(data);
            return Err(match kind {
                "rate_limit_error" => ProviderError::RateLimited {
                    retry_after: None,
                    message,
                },
                "overloaded_error" => ProviderError::Status {
                    status: 529,
                    message,
                },
                _ => ProviderError::Status {
                    status: 200,
                    message,
                },
            });
        }
        _ => {}
    }
    Ok(false)
}

/// Turns named events into stream events; `message_stop` ends the stream.
fn parse<S>(
    events: S,
) -> impl futures_util::Stream<Item = Result<StreamEvent, ProviderError>> + Send
where
    S: futures_util::Stream<Item = Result<SseEvent, ProviderError>> + Send + Unpin,
{
    let mut usage = Usage::default();
    let mut tools = ToolBlocks::default();
    sse::translate(events, move |e, out| {
        Ok(if read_event(e, &mut usage, &mut tools, out)? {
            Step::End
        } else {
            Step::Continue
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ChatMessage;

    /// One event of a message without tool calls.
    fn event_events(
        e: &SseEvent,
        usage: &mut Usage,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, ProviderError> {
        read_event(e, usage, &mut ToolBlocks::default(), out)
    }

    fn endpoint() -> Endpoint {
        crate::providers::endpoints::tests_support::endpoint(
            "anthropic",
            "https://api.anthropic.com",
        )
    }

    #[test]
    fn turns_alternate_and_the_system_prompt_stands_apart() {
        let msg = |role, content: &str| ChatMessage::text(role, content);
        let mut params = Map::new();
        params.insert("promptCache".into(), json!(false));
        params.insert("temperature".into(), json!(0.5));
        let request = ChatRequest {
            model: "claude-sonnet-4-5".into(),
            messages: vec![
                msg(Role::System, "Be brief."),
                msg(Role::Assistant, "Greeting"),
                msg(Role::User, "a"),
                msg(Role::User, "b"),
                msg(Role::Assistant, "c"),
                msg(Role::User, "d"),
            ],
            params,
            user: None,
            vars: Vec::new(),
            ..ChatRequest::default()
        };
        let b = body(&endpoint(), &request);
        assert_eq!(b["system"], "Be brief.");
        assert_eq!(
            b["messages"],
            json!([
                {"role": "user", "content": "a\n\nb"},
                {"role": "assistant", "content": "c"},
                {"role": "user", "content": "d"}
            ])
        );
        assert_eq!(b["max_tokens"], DEFAULT_MAX_TOKENS);
        assert_eq!(b["temperature"], 0.5);
    }

    #[test]
    fn thinking_and_the_prompt_cache() {
        let mut params = Map::new();
        params.insert("thinking".into(), json!(true));
        params.insert("thinkingBudget".into(), json!(4000));
        params.insert("temperature".into(), json!(0.5));
        let request = ChatRequest {
            model: "m".into(),
            messages: vec![
                ChatMessage::text(Role::System, "s"),
                ChatMessage::text(Role::User, "q"),
            ],
            params,
            user: Some("u1".into()),
            vars: Vec::new(),
            ..ChatRequest::default()
        };
        let b = body(&endpoint(), &request);
        assert_eq!(
            b["thinking"],
            json!({"type": "enabled", "budget_tokens": 4000})
        );
        assert!(b["max_tokens"].as_u64().unwrap() > 4000);
        assert!(
            b.get("temperature").is_none(),
            "thinking requires the default temperature"
        );
        assert_eq!(b["system"][0]["cache_control"]["type"], "ephemeral");
        assert_eq!(
            b["messages"][0]["content"][0]["cache_control"]["type"],
            "ephemeral"
        );
        assert_eq!(b["metadata"]["user_id"], "u1");
    }

    #[test]
    fn events_become_stream_events() {
        let ev = |event: &str, data: Value| SseEvent {
            event: event.into(),
            data: data.to_string(),
        };
        let mut usage = Usage::default();
        let mut out = VecDeque::new();
        event_events(&ev("message_start", json!({"type": "message_start", "message": {"usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 7, "cache_creation_input_tokens": 3}}})), &mut usage, &mut out).unwrap();
        event_events(&ev("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hm"}})), &mut usage, &mut out).unwrap();
        event_events(&ev("content_block_delta", json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hi"}})), &mut usage, &mut out).unwrap();
        event_events(&ev("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 15}})), &mut usage, &mut out).unwrap();
        assert!(
            event_events(
                &ev("message_stop", json!({"type": "message_stop"})),
                &mut usage,
                &mut out
            )
            .unwrap()
        );
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            [
                StreamEvent::Reasoning("hm".into()),
                StreamEvent::Text("Hi".into()),
                StreamEvent::Finished(Some("end_turn".into())),
                StreamEvent::Usage(Usage {
                    prompt_tokens: 25,
                    completion_tokens: 15,
                    cache_read_tokens: 7,
                    cache_write_tokens: 3
                }),
            ]
        );
        let err = event_events(&ev("error", json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})), &mut usage, &mut VecDeque::new()).unwrap_err();
        assert_eq!(
            err,
            ProviderError::Status {
                status: 529,
                message: "Overloaded".into()
            }
        );
    }
}
