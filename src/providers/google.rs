//! Google's Gemini API, streaming (`POST {baseURL}/v1beta/models/{model}:streamGenerateContent
//! ?alt=sse`, key in `x-goog-api-key`).
//!
//! Each `data:` is a `GenerateContentResponse`: `candidates[0].content.parts[]` (text, or
//! reasoning when `thought: true`), `finishReason`, and `usageMetadata`. The stream has no end
//! marker: it is complete when a candidate carried a finish reason. Errors are
//! `{error: {code, message, status}}`, a 429 with a `RetryInfo` delay. Function calls come
//! as whole `functionCall` parts: see [`super::google_tools`].

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::google_tools as tools;
use super::openai::message_of;
use super::sse::{self, SseEvent, Step};
use super::tools::Calls;
use super::{ChatRequest, Endpoint, EventStream, ProviderError, Role, StreamEvent, Usage};

/// The JSON body for `request`: turns as `user`/`model` contents (consecutive turns of one side
/// joined), the system prompt as `systemInstruction`, parameters in `generationConfig`.
pub fn body(endpoint: &Endpoint, request: &ChatRequest) -> Map<String, Value> {
    let p = &request.params;
    let (system, turns) = super::alternating(&request.messages);
    let contents: Vec<Value> = turns
        .iter()
        .map(|m| {
            let role = if m.role == Role::User {
                "user"
            } else {
                "model"
            };
            if m.content.iter().any(tools::is_call_part) {
                return json!({"role": role, "parts": tools::parts(m)});
            }
            let wire = m.wire();
            let mut parts = Vec::with_capacity(wire.images.len() + 1);
            if !wire.text.is_empty() || wire.images.is_empty() {
                parts.push(json!({"text": wire.text}));
            }
            for image in wire.images {
                parts.push(json!({"inlineData": {"mimeType": image.mime, "data": &*image.base64}}));
            }
            json!({"role": role, "parts": parts})
        })
        .collect();
    let mut config = Map::new();
    for (ours, theirs) in [
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("topP", "topP"),
        ("top_k", "topK"),
        ("topK", "topK"),
        ("maxOutputTokens", "maxOutputTokens"),
        ("max_tokens", "maxOutputTokens"),
    ] {
        if let Some(v) = p.get(ours).filter(|v| !v.is_null()) {
            config.insert(theirs.into(), v.clone());
        }
    }
    if let Some(stop) = p.get("stop").and_then(Value::as_array) {
        config.insert("stopSequences".into(), Value::Array(stop.clone()));
    }
    // LibreChat's `thinking` / `thinkingBudget`; thoughts are included so they can be shown.
    if p.get("thinking").and_then(Value::as_bool).unwrap_or(false)
        || p.contains_key("thinkingBudget")
    {
        let mut thinking = json!({"includeThoughts": true});
        if let Some(b) = p.get("thinkingBudget").and_then(Value::as_i64) {
            thinking["thinkingBudget"] = json!(b);
        }
        config.insert("thinkingConfig".into(), thinking);
    }
    let mut body = Map::new();
    body.insert("contents".into(), Value::Array(contents));
    if let Some(text) = system {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": text}]}),
        );
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    tools::write_tools(request, &mut body);
    super::apply_params(endpoint, &mut body);
    body
}

pub async fn stream(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    api_key: &str,
    request: ChatRequest,
) -> Result<EventStream, ProviderError> {
    let url = format!(
        "{}/v1beta/models/{}:streamGenerateContent?alt=sse",
        endpoint.base_url.trim_end_matches('/'),
        urlencode(&request.model)
    );
    let body = body(endpoint, &request);
    let headers = super::key_header("x-goog-api-key", api_key, api_key);
    let response = super::post(http, endpoint, &request, &url, &body, headers, error_from).await?;
    Ok(Box::pin(parse(sse::events(response))))
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Google's errors: 401/403 for keys, 429 with `RetryInfo.retryDelay` ("7s").
async fn error_from(response: reqwest::Response) -> ProviderError {
    let status = response.status().as_u16();
    let text = crate::net::error_text(response).await;
    let message = message_of(&text);
    match status {
        401 | 403 => ProviderError::Unauthorized { status, message },
        // An invalid key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID.
        400 if text.contains("API_KEY_INVALID") => ProviderError::Unauthorized { status, message },
        429 => {
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let retry_after = v
                .pointer("/error/details")
                .and_then(Value::as_array)
                .and_then(|d| {
                    d.iter()
                        .find_map(|x| x.get("retryDelay").and_then(Value::as_str))
                })
                .and_then(|d| d.trim_end_matches('s').parse::<f64>().ok())
                .and_then(|s| Duration::try_from_secs_f64(s).ok());
            ProviderError::RateLimited {
                retry_after,
                message,
            }
        }
        _ => ProviderError::Status { status, message },
    }
}

/// What one chunk says, with the calls of the answer so far; `Ok(true)` once a candidate
/// finished.
fn read_chunk(
    data: &str,
    calls: &mut Calls,
    out: &mut VecDeque<StreamEvent>,
) -> Result<bool, ProviderError> {
    let v: Value = serde_json::from_str(data)
        .map_err(|e| ProviderError::Malformed(format!("a chunk is not JSON ({e})")))?;
    if v.get("error").is_some() {
        return Err(ProviderError::Status {
            status: 200,
            message: message_of(data),
        });
    }
    let mut finished = false;
    if let Some(c) = v.pointer("/candidates/0") {
        for part in c
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if part.get("functionCall").is_some() {
                tools::function_call(calls, part, out)?;
            }
            if let Some(t) = part
                .get("text")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                if part
                    .get("thought")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                {
                    out.push_back(StreamEvent::Reasoning(t.to_owned()));
                } else {
                    out.push_back(StreamEvent::Text(t.to_owned()));
                }
            }
        }
        if let Some(reason) = c.get("finishReason").and_then(Value::as_str) {
            finished = true;
            out.push_back(StreamEvent::Finished(Some(calls.finish(reason, &["STOP"]))));
        }
    } else if let Some(reason) = v
        .pointer("/promptFeedback/blockReason")
        .and_then(Value::as_str)
    {
        return Err(ProviderError::Status {
            status: 200,
            message: format!("the prompt was blocked ({reason})"),
        });
    }
    if let Some(u) = v.get("usageMetadata") {
        let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
        out.push_back(StreamEvent::Usage(Usage {
            // Uncached prompt tokens: Google counts cached ones among them.
            prompt_tokens: n("promptTokenCount").saturating_sub(n("cachedContentTokenCount")),
            completion_tokens: n("candidatesTokenCount") + n("thoughtsTokenCount"),
            cache_read_tokens: n("cachedContentTokenCount"),
            cache_write_tokens: 0,
        }));
    }
    Ok(finished)
}

/// Turns SSE events into stream events; a candidate's finish reason marks the answer
/// complete (there is no end marker: usage may follow until the body ends).
fn parse<S>(
    events: S,
) -> impl futures_util::Stream<Item = Result<StreamEvent, ProviderError>> + Send
where
    S: futures_util::Stream<Item = Result<SseEvent, ProviderError>> + Send + Unpin,
{
    let mut finished = false;
    let mut calls = Calls::default();
    sse::translate(events, move |e, out| {
        let data = e.data.trim();
        if !data.is_empty() && read_chunk(data, &mut calls, out)? {
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
    use crate::providers::ChatMessage;

    /// One chunk of an answer without function calls.
    fn chunk_events(data: &str, out: &mut VecDeque<StreamEvent>) -> Result<bool, ProviderError> {
        read_chunk(data, &mut Calls::default(), out)
    }

    #[test]
    fn contents_system_instruction_and_config() {
        let mut params = Map::new();
        params.insert("temperature".into(), json!(0.3));
        params.insert("maxOutputTokens".into(), json!(100));
        params.insert("thinkingBudget".into(), json!(512));
        let request = ChatRequest {
            model: "gemini-2.5-flash".into(),
            messages: vec![
                ChatMessage::text(Role::System, "Be brief."),
                ChatMessage::text(Role::User, "q"),
                ChatMessage::text(Role::Assistant, "a"),
                ChatMessage::text(Role::User, "q2"),
            ],
            params,
            user: None,
            vars: Vec::new(),
            ..ChatRequest::default()
        };
        let b = body(
            &crate::providers::endpoints::tests_support::endpoint("google", "x"),
            &request,
        );
        assert_eq!(b["systemInstruction"]["parts"][0]["text"], "Be brief.");
        assert_eq!(
            b["contents"][1],
            json!({"role": "model", "parts": [{"text": "a"}]})
        );
        assert_eq!(b["generationConfig"]["temperature"], 0.3);
        assert_eq!(b["generationConfig"]["maxOutputTokens"], 100);
        assert_eq!(
            b["generationConfig"]["thinkingConfig"],
            json!({"includeThoughts": true, "thinkingBudget": 512})
        );
    }

    #[test]
    fn chunks_become_events() {
        let mut out = VecDeque::new();
        let done = chunk_events(r#"{"candidates":[{"content":{"parts":[{"text":"hm","thought":true},{"text":"Hi"}],"role":"model"},"index":0}]}"#, &mut out).unwrap();
        assert!(!done);
        let done = chunk_events(r#"{"candidates":[{"content":{"parts":[{"text":"!"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2,"thoughtsTokenCount":3,"totalTokenCount":9}}"#, &mut out).unwrap();
        assert!(done);
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            [
                StreamEvent::Reasoning("hm".into()),
                StreamEvent::Text("Hi".into()),
                StreamEvent::Text("!".into()),
                StreamEvent::Finished(Some("STOP".into())),
                StreamEvent::Usage(Usage {
                    prompt_tokens: 4,
                    completion_tokens: 5,
                    cache_read_tokens: 0,
                    cache_write_tokens: 0
                }),
            ]
        );
        assert!(
            chunk_events(
                r#"{"promptFeedback":{"blockReason":"SAFETY"}}"#,
                &mut VecDeque::new()
            )
            .is_err()
        );
    }
}
