//! OpenAI chat completions, streaming (`POST {baseURL}/chat/completions` with `stream: true`):
//! OpenAI and every OpenAI-compatible server.
//!
//! The stream is server-sent events, each `data:` a JSON chunk
//! `{choices: [{delta: {content, reasoning_content}, finish_reason}], usage}`, ending with
//! `data: [DONE]`. An `{error: {message}}` chunk is an error in the middle of the stream.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::sse::{self, SseEvent, Step};
use super::{ChatMessage, ChatRequest, Endpoint, EventStream, ProviderError, StreamEvent, Usage};

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
/// `image_url` parts (inline `data:` URLs) — the text first, as LibreChat sends them.
fn message(m: &ChatMessage) -> Value {
    let wire = m.wire();
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

/// The JSON body for `request`.
pub fn body(endpoint: &Endpoint, request: &ChatRequest) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert(
        "messages".into(),
        Value::Array(request.messages.iter().map(message).collect()),
    );
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

/// What one `data:` chunk says.
fn chunk_events(data: &str, out: &mut VecDeque<StreamEvent>) -> Result<bool, ProviderError> {
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
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            finished = true;
            out.push_back(StreamEvent::Finished(Some(reason.to_owned())));
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

/// Turns SSE events into stream events: `[DONE]` ends the stream (a finish reason is added
/// when none came); a finish reason marks the answer complete.
fn parse<S>(
    events: S,
) -> impl futures_util::Stream<Item = Result<StreamEvent, ProviderError>> + Send
where
    S: futures_util::Stream<Item = Result<SseEvent, ProviderError>> + Send + Unpin,
{
    let mut finished = false;
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
        if chunk_events(data, out)? {
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
