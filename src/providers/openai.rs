//! OpenAI chat completions, streaming (`POST {baseURL}/chat/completions` with `stream: true`):
//! OpenAI and every OpenAI-compatible server.
//!
//! The stream is server-sent events, each `data:` a JSON chunk
//! `{choices: [{delta: {content, reasoning_content, tool_calls}, finish_reason}], usage}`,
//! ending with `data: [DONE]`. An `{error: {message}}` chunk is an error in the middle of the
//! stream. Tool calls stream as `delta.tool_calls[]` pieces `{index, id, function: {name,
//! arguments}}`: the first piece of a call has its id and name, the next ones more of its
//! arguments; parallel calls have their own `index`.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::sse::{self, SseEvent, Step};
use super::tools::Calls;
use super::{
    ChatMessage, ChatRequest, Endpoint, EventStream, ProviderError, Role, StreamEvent, ToolChoice,
    Usage,
};

/// Model parameters passed through, under the names OpenAI uses.
const PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "stop",
    "seed",
    "reasoning_effort",
    "verbosity",
    "logit_bias",
];

/// One message: its text as a string, or, with images, a list of a text part and
/// `image_url` parts (inline `data:` URLs) — the text first, as LibreChat sends them. An
/// assistant message's tool calls go in its `tool_calls` (its content `null` when it says
/// nothing else).
fn message(m: &ChatMessage) -> Value {
    let wire = m.wire();
    if m.role == Role::Assistant && m.tool_calls().next().is_some() {
        let calls: Vec<Value> = m
            .tool_calls()
            .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.args}}))
            .collect();
        let content = if wire.text.is_empty() {
            Value::Null
        } else {
            json!(wire.text)
        };
        return json!({"role": "assistant", "content": content, "tool_calls": calls});
    }
    if wire.images.is_empty() {
        return json!({"role": m.role.as_str(), "content": wire.text});
    }
    let mut parts = Vec::with_capacity(wire.images.len() + 1);
    if !wire.text.trim().is_empty() {
        parts.push(json!({"type": "text", "text": wire.text}));
    }
    for image in wire.images {
        let mut url = json!({"url": image.data_url()});
        if let Some(detail) = image.detail {
            url["detail"] = json!(detail.as_str());
        }
        parts.push(json!({"type": "image_url", "image_url": url}));
    }
    json!({"role": m.role.as_str(), "content": parts})
}

/// The messages of `request`: a [`Role::Tool`] message becomes one `tool` message per result,
/// with its call's `tool_call_id` (images left out: a tool message takes text only).
fn messages(request: &ChatRequest) -> Vec<Value> {
    let history = super::tools::paired(&request.messages);
    let mut out = Vec::with_capacity(history.len());
    for m in history.iter() {
        if m.role == Role::Tool {
            for r in m.tool_results() {
                out.push(json!({"role": "tool", "tool_call_id": r.call_id, "content": r.content}));
            }
        } else {
            out.push(message(m));
        }
    }
    out
}

/// The tools as `tools: [{type: function, function: {name, description, parameters}}]`,
/// with `tool_choice` and `parallel_tool_calls` (from the parameters) when tools are offered.
fn write_tools(request: &ChatRequest, body: &mut Map<String, Value>) {
    if request.tools.is_empty() {
        return;
    }
    let tools: Vec<Value> = request
        .tools
        .iter()
        .map(|t| {
            let mut f = Map::new();
            f.insert("name".into(), json!(t.name));
            if !t.description.is_empty() {
                f.insert("description".into(), json!(t.description));
            }
            if !t.parameters.is_null() {
                f.insert("parameters".into(), t.parameters.clone());
            }
            json!({"type": "function", "function": f})
        })
        .collect();
    body.insert("tools".into(), Value::Array(tools));
    if let Some(choice) = &request.tool_choice {
        let choice = match choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
        };
        body.insert("tool_choice".into(), choice);
    }
    if let Some(p) = request
        .params
        .get("parallel_tool_calls")
        .filter(|v| v.is_boolean())
    {
        body.insert("parallel_tool_calls".into(), p.clone());
    }
}

/// The JSON body for `request`.
pub fn body(endpoint: &Endpoint, request: &ChatRequest) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("messages".into(), Value::Array(messages(request)));
    body.insert("stream".into(), json!(true));
    body.insert("stream_options".into(), json!({"include_usage": true}));
    for key in PARAMS {
        if let Some(v) = request.params.get(*key).filter(|v| !v.is_null()) {
            body.insert((*key).into(), v.clone());
        }
    }
    // LibreChat's clients send the output limit under several names.
    if let Some(max) = [
        "max_tokens",
        "maxOutputTokens",
        "maxTokens",
        "max_completion_tokens",
    ]
    .iter()
    .find_map(|k| request.params.get(*k).and_then(Value::as_u64))
    {
        body.insert("max_tokens".into(), json!(max));
    }
    if let Some(user) = &request.user {
        body.insert("user".into(), json!(user));
    }
    write_tools(request, &mut body);
    super::apply_params(endpoint, &mut body);
    body
}

pub async fn stream(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    api_key: &str,
    request: ChatRequest,
) -> Result<EventStream, ProviderError> {
    let base = endpoint.base_url.trim_end_matches('/');
    let url = match &endpoint.azure {
        // Azure: a URL per deployment, the API version in the query, the key in `api-key`.
        Some(azure) => {
            let deployment = azure.deployment_for(&request.model);
            let base = base.replace("${DEPLOYMENT_NAME}", &deployment);
            let base = if base.contains("/deployments/") {
                base
            } else {
                format!("{base}/deployments/{deployment}")
            };
            format!("{base}/chat/completions?api-version={}", azure.api_version)
        }
        None => format!("{base}/chat/completions"),
    };
    let headers = if endpoint.azure.is_some() {
        super::key_header("api-key", api_key, api_key)
    } else {
        super::key_header("authorization", format!("Bearer {api_key}"), api_key)
    };
    let body = body(endpoint, &request);
    let response = super::post(http, endpoint, &request, &url, &body, headers, error_from).await?;
    Ok(Box::pin(parse(sse::events(response))))
}

/// The root cause of a reqwest error, without the URL (which may carry a key).
pub(super) fn cause(e: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    if e.is_connect() {
        format!("connection failed ({source})")
    } else if e.is_timeout() {
        "timed out".into()
    } else {
        source.to_string()
    }
}

/// The error a non-2xx answer stands for, with the provider's own message.
pub async fn error_from(response: reqwest::Response) -> ProviderError {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = crate::net::error_text(response).await;
    let message = message_of(&text);
    match status {
        401 | 403 => ProviderError::Unauthorized { status, message },
        429 => {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let retry_after = header("retry-after-ms")
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_millis)
                .or_else(|| {
                    header("retry-after")
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .and_then(|s| Duration::try_from_secs_f64(s).ok())
                });
            ProviderError::RateLimited {
                retry_after,
                message,
            }
        }
        _ => ProviderError::Status { status, message },
    }
}

/// The readable message in an error body: `{error: {message}}`, `{error: "..."}`,
/// `{message}`, or the text itself (shortened).
pub fn message_of(text: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let found = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("error").filter(|e| e.is_string()))
            .or_else(|| v.get("message"))
            .or_else(|| v.get("detail"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let message = found.unwrap_or_else(|| text.trim().to_owned());
    let mut short: String = message.chars().take(500).collect();
    if short.is_empty() {
        short = "no details".into();
    }
    short
}

/// What the chunks of one answer have said so far, for the tool calls they stream.
#[derive(Default)]
struct Chunks {
    calls: Calls,
    /// Each `tool_calls[].index` seen: the call it streams now (its index here) and its id.
    slots: HashMap<u64, (usize, Option<String>)>,
    /// The call the last piece went to, for servers that leave `index` out.
    last: Option<usize>,
}

impl Chunks {
    /// What one `data:` chunk says; `Ok(true)` once a finish reason came.
    fn chunk(
        &mut self,
        data: &str,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, ProviderError> {
        let v: Value = serde_json::from_str(data)
            .map_err(|e| ProviderError::Malformed(format!("a chunk is not JSON ({e})")))?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            return Err(ProviderError::Status {
                status: 200,
                message: message_of(&json!({ "error": err }).to_string()),
            });
        }
        let mut finished = false;
        for choice in v
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(delta) = choice.get("delta") {
                for key in ["reasoning_content", "reasoning"] {
                    if let Some(r) = delta
                        .get(key)
                        .and_then(Value::as_str)
                        .filter(|r| !r.is_empty())
                    {
                        out.push_back(StreamEvent::Reasoning(r.to_owned()));
                    }
                }
                if let Some(t) = delta
                    .get("content")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                {
                    out.push_back(StreamEvent::Text(t.to_owned()));
                }
                for piece in delta
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    self.tool_call(piece, out)?;
                }
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                finished = true;
                // Some compatible servers end calls with `stop`; `function_call` is the old word.
                let reason = self
                    .calls
                    .finish(reason, &["tool_calls", "function_call", "stop"]);
                out.push_back(StreamEvent::Finished(Some(reason)));
            }
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            let n = |p: &str| u.pointer(p).and_then(Value::as_u64).unwrap_or(0);
            // Prompt tokens here are the uncached ones; OpenAI counts cached ones among them.
            let cached = n("/prompt_tokens_details/cached_tokens");
            out.push_back(StreamEvent::Usage(Usage {
                prompt_tokens: n("/prompt_tokens").saturating_sub(cached),
                completion_tokens: n("/completion_tokens"),
                cache_read_tokens: cached,
                cache_write_tokens: 0,
            }));
        }
        Ok(finished)
    }

    /// One `tool_calls[]` piece: a new call when its `index` is new (or, as Ollama sends
    /// parallel calls, when it brings another id at an index already seen), else more of
    /// that call's arguments.
    fn tool_call(
        &mut self,
        piece: &Value,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), ProviderError> {
        let id = piece
            .get("id")
            .and_then(Value::as_str)
            .filter(|i| !i.is_empty());
        let name = piece.pointer("/function/name").and_then(Value::as_str);
        let args = piece
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or("");
        let key = piece.get("index").and_then(Value::as_u64);
        let current = match key {
            Some(k) => self.slots.get(&k).cloned(),
            // No index: a piece without an id continues the last call.
            None if id.is_none() => self.last.map(|n| (n, None)),
            None => None,
        };
        let index = match current {
            Some((n, current_id)) if id.is_none() || id == current_id.as_deref() => n,
            _ => {
                let Some(name) = name.filter(|n| !n.is_empty()) else {
                    return Err(ProviderError::Malformed(
                        "a tool call's arguments came before its name".into(),
                    ));
                };
                let n = self.calls.start(id, name, None, out)?;
                if let Some(key) = key {
                    self.slots.insert(key, (n, id.map(str::to_owned)));
                }
                n
            }
        };
        self.last = Some(index);
        self.calls.args(index, args, out)
    }
}

/// Turns SSE events into stream events: `[DONE]` ends the stream (a finish reason is added
/// when none came); a finish reason marks the answer complete.
fn parse<S>(
    events: S,
) -> impl futures_util::Stream<Item = Result<StreamEvent, ProviderError>> + Send
where
    S: futures_util::Stream<Item = Result<SseEvent, ProviderError>> + Send + Unpin,
{
    let mut finished = false;
    let mut chunks = Chunks::default();
    sse::translate(events, move |e, out| {
        let data = e.data.trim();
        if data == "[DONE]" {
            if !finished {
                out.push_back(StreamEvent::Finished(None));
            }
            return Ok(Step::End);
        }
        if data.is_empty() {
            return Ok(Step::Continue);
        }
        if chunks.chunk(data, out)? {
            finished = true;
        }
        Ok(if finished {
            Step::Finished
        } else {
            Step::Continue
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One chunk read on its own.
    fn chunk_events(data: &str, out: &mut VecDeque<StreamEvent>) -> Result<bool, ProviderError> {
        Chunks::default().chunk(data, out)
    }

    #[test]
    fn chunks_become_events() {
        let mut out = VecDeque::new();
        let done = chunk_events(
            r#"{"choices":[{"delta":{"content":"Hi","reasoning_content":"hm"},"finish_reason":null}]}"#,
            &mut out,
        )
        .unwrap();
        assert!(!done);
        assert_eq!(
            out.drain(..).collect::<Vec<_>>(),
            [
                StreamEvent::Reasoning("hm".into()),
                StreamEvent::Text("Hi".into())
            ]
        );
        assert!(chunk_events(r#"{"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":3}}}"#, &mut out).unwrap());
        assert_eq!(
            out[1],
            StreamEvent::Usage(Usage {
                prompt_tokens: 2,
                completion_tokens: 2,
                cache_read_tokens: 3,
                cache_write_tokens: 0
            })
        );
        assert!(chunk_events("{not json", &mut out).is_err());
        let err = chunk_events(r#"{"error":{"message":"overloaded"}}"#, &mut out).unwrap_err();
        assert!(err.to_string().contains("overloaded"));
    }

    #[test]
    fn calls_are_told_apart_by_index_or_by_a_new_id() {
        let mut chunks = Chunks::default();
        let mut out = VecDeque::new();
        let piece = |tc: Value| json!({"choices": [{"delta": {"tool_calls": [tc]}}]}).to_string();
        // Ollama: parallel calls all at index 0, told apart by their ids.
        for tc in [
            json!({"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}),
            json!({"index": 0, "id": "b", "function": {"name": "g", "arguments": "{\"x\""}}),
            json!({"index": 0, "id": "b", "function": {"arguments": ":1}"}}),
            // A server that leaves `index` out: an id starts a call, no id continues it.
            json!({"id": "c", "function": {"name": "h", "arguments": ""}}),
            json!({"function": {"arguments": "[]"}}),
        ] {
            chunks.chunk(&piece(tc), &mut out).unwrap();
        }
        let mut answer = crate::providers::Answer::default();
        out.iter().for_each(|e| answer.push(e));
        let got: Vec<_> = answer
            .calls()
            .map(|c| (c.id.as_str(), c.name.as_str(), c.args.as_str()))
            .collect();
        assert_eq!(
            got,
            [("a", "f", "{}"), ("b", "g", "{\"x\":1}"), ("c", "h", "[]")]
        );
        // `stop` after calls (some compatible servers) still says "call the tools".
        chunks
            .chunk(
                r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
                &mut out,
            )
            .unwrap();
        assert_eq!(
            out.back(),
            Some(&StreamEvent::Finished(Some("tool_calls".into())))
        );
        // A call without an id gets one made here.
        let mut fresh = Chunks::default();
        let mut out = VecDeque::new();
        fresh
            .chunk(
                &piece(json!({"index": 0, "function": {"name": "f"}})),
                &mut out,
            )
            .unwrap();
        assert!(
            matches!(&out[0], StreamEvent::ToolCallStart { id, .. } if id.starts_with("call_lc"))
        );
    }

    #[test]
    fn error_messages_are_found_in_any_common_shape() {
        assert_eq!(
            message_of(r#"{"error":{"message":"bad key","type":"x"}}"#),
            "bad key"
        );
        assert_eq!(message_of(r#"{"error":"nope"}"#), "nope");
        assert_eq!(message_of(r#"{"message":"m"}"#), "m");
        assert_eq!(message_of("plain text"), "plain text");
        assert_eq!(message_of(""), "no details");
    }
}
