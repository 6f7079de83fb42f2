//! OpenAI's Responses API, streaming (`POST {baseURL}/responses` with `stream: true`), used
//! when a conversation sets `useResponsesApi`.
//!
//! The stream is named server-sent events: `response.output_text.delta` (text),
//! `response.reasoning_summary_text.delta` (reasoning summaries), `response.completed` (with
//! usage), `response.failed` / `response.incomplete` and `error`. It ends after the
//! completion event; there is no `[DONE]`. A function call is an output item:
//! `response.output_item.added` (a `function_call` item with its `call_id` and `name`), then
//! `response.function_call_arguments.delta` pieces and `.done` (naming the item by `item_id`),
//! then `response.output_item.done`.

use std::collections::{HashMap, VecDeque};

use serde_json::{Map, Value, json};

use super::openai::{error_from, message_of};
use super::sse::{self, SseEvent, Step};
use super::tools::Calls;
use super::{
    ChatRequest, Endpoint, EventStream, ProviderError, Role, StreamEvent, ToolChoice, ToolResult,
    Usage,
};

/// A result as a `function_call_output` item: its text, or with images a list of
/// `input_text` and `input_image` parts.
fn output(r: &ToolResult) -> Value {
    let output = if r.images.is_empty() {
        json!(r.content)
    } else {
        let mut parts = vec![json!({"type": "input_text", "text": r.content})];
        for image in &r.images {
            parts.push(json!({
                "type": "input_image",
                "image_url": image.data_url(),
                "detail": image.detail.map_or("auto", |d| d.as_str()),
            }));
        }
        Value::Array(parts)
    };
    json!({"type": "function_call_output", "call_id": r.call_id, "output": output})
}

/// The tools as `tools: [{type: function, name, description, parameters, strict: false}]`
/// (the Responses API makes functions strict unless told not to, and strict mode refuses
/// most schemas tools come with), `tool_choice` and `parallel_tool_calls`.
fn write_tools(request: &ChatRequest, body: &mut Map<String, Value>) {
    if request.tools.is_empty() {
        return;
    }
    let tools: Vec<Value> = request
        .tools
        .iter()
        .map(|t| {
            let mut f = Map::new();
            f.insert("type".into(), json!("function"));
            f.insert("name".into(), json!(t.name));
            if !t.description.is_empty() {
                f.insert("description".into(), json!(t.description));
            }
            f.insert("parameters".into(), t.parameters.clone());
            f.insert("strict".into(), json!(false));
            Value::Object(f)
        })
        .collect();
    body.insert("tools".into(), Value::Array(tools));
    if let Some(choice) = &request.tool_choice {
        let choice = match choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Tool(name) => json!({"type": "function", "name": name}),
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

/// The JSON body for `request`: the system prompt as `instructions`, the turns as `input`
/// (an assistant's tool calls as `function_call` items after its words, their results as
/// `function_call_output` items).
pub fn body(endpoint: &Endpoint, request: &ChatRequest) -> Map<String, Value> {
    let p = &request.params;
    let mut instructions = Vec::new();
    let mut input = Vec::new();
    for m in super::tools::paired(&request.messages).iter() {
        let wire = m.wire();
        match m.role {
            Role::System => instructions.push(wire.text),
            Role::User => {
                let mut content = vec![json!({"type": "input_text", "text": wire.text})];
                for image in wire.images {
                    content.push(json!({
                        "type": "input_image",
                        "image_url": image.data_url(),
                        "detail": image.detail.map_or("auto", |d| d.as_str()),
                    }));
                }
                input.push(json!({"role": "user", "content": content}));
            }
            Role::Assistant => {
                let calls = m.tool_calls().next().is_some();
                if !calls || !wire.text.is_empty() {
                    input.push(json!({"role": "assistant", "content": [{"type": "output_text", "text": wire.text}]}));
                }
                for c in m.tool_calls() {
                    input.push(json!({"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.args}));
                }
            }
            Role::Tool => input.extend(m.tool_results().map(output)),
        }
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("input".into(), Value::Array(input));
    body.insert("stream".into(), json!(true));
    body.insert("store".into(), json!(false));
    if !instructions.is_empty() {
        body.insert("instructions".into(), json!(instructions.join("\n\n")));
    }
    for key in ["temperature", "top_p"] {
        if let Some(v) = p.get(key).filter(|v| !v.is_null()) {
            body.insert(key.into(), v.clone());
        }
    }
    if let Some(max) = ["max_tokens", "maxOutputTokens", "max_output_tokens"]
        .iter()
        .find_map(|k| p.get(*k).and_then(Value::as_u64))
    {
        body.insert("max_output_tokens".into(), json!(max));
    }
    let effort = p.get("reasoning_effort").and_then(Value::as_str);
    let summary = p.get("reasoning_summary").and_then(Value::as_str);
    if effort.is_some() || summary.is_some() {
        let mut r = Map::new();
        if let Some(e) = effort {
            r.insert("effort".into(), json!(e));
        }
        if let Some(s) = summary {
            r.insert("summary".into(), json!(s));
        }
        body.insert("reasoning".into(), Value::Object(r));
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
    let url = format!("{}/responses", endpoint.base_url.trim_end_matches('/'));
    let headers = super::key_header("authorization", format!("Bearer {api_key}"), api_key);
    let body = body(endpoint, &request);
    let response = super::post(http, endpoint, &request, &url, &body, headers, error_from).await?;
    Ok(Box::pin(parse(sse::events(response))))
}

/// What the events of one response have said so far, for its function calls.
#[derive(Default)]
struct Events {
    calls: Calls,
    /// Each `function_call` item's id: its call here.
    items: HashMap<String, usize>,
}

/// The item an event is about: its `item_id`, or its output index when it has none.
fn item_key(id: Option<&Value>, v: &Value) -> String {
    match id.and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => format!("#{}", v["output_index"]),
    }
}

impl Events {
    /// A `function_call` item, from `response.output_item.added` (or `.done`, for a server
    /// that sends only that): its call starts, with the arguments it already has.
    fn item(&mut self, v: &Value, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        let item = &v["item"];
        if item["type"] != "function_call" {
            return Ok(());
        }
        let key = item_key(item.get("id"), v);
        let args = item["arguments"].as_str().unwrap_or("");
        let n = match self.items.get(&key) {
            Some(n) => *n,
            None => {
                let name = item["name"].as_str().unwrap_or("");
                let n = self
                    .calls
                    .start(item["call_id"].as_str(), name, None, out)?;
                self.items.insert(key, n);
                n
            }
        };
        if self.calls.args_len(n) == 0 {
            self.calls.args(n, args, out)?;
        }
        Ok(())
    }

    /// The call an arguments event is about.
    fn call_of(&self, v: &Value) -> Result<usize, ProviderError> {
        self.items
            .get(&item_key(v.get("item_id"), v))
            .copied()
            .ok_or_else(|| {
                ProviderError::Malformed("function call arguments came for no function call".into())
            })
    }

    /// What one event says; `Ok(true)` once the response completed.
    fn event(
        &mut self,
        e: &SseEvent,
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
        match kind {
            "response.output_text.delta" => {
                if let Some(d) = v
                    .get("delta")
                    .and_then(Value::as_str)
                    .filter(|d| !d.is_empty())
                {
                    out.push_back(StreamEvent::Text(d.to_owned()));
                }
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                if let Some(d) = v
                    .get("delta")
                    .and_then(Value::as_str)
                    .filter(|d| !d.is_empty())
                {
                    out.push_back(StreamEvent::Reasoning(d.to_owned()));
                }
            }
            "response.output_item.added" | "response.output_item.done" => self.item(&v, out)?,
            "response.function_call_arguments.delta" => {
                let n = self.call_of(&v)?;
                self.calls.args(n, v["delta"].as_str().unwrap_or(""), out)?;
            }
            // The whole arguments again: taken only when no piece came before.
            "response.function_call_arguments.done" => {
                let n = self.call_of(&v)?;
                if self.calls.args_len(n) == 0 {
                    self.calls
                        .args(n, v["arguments"].as_str().unwrap_or(""), out)?;
                }
            }
            "response.completed" | "response.incomplete" => {
                let u = &v["response"]["usage"];
                let n = |p: &str| u.pointer(p).and_then(Value::as_u64).unwrap_or(0);
                let cached = n("/input_tokens_details/cached_tokens");
                out.push_back(StreamEvent::Usage(Usage {
                    prompt_tokens: n("/input_tokens").saturating_sub(cached),
                    completion_tokens: n("/output_tokens"),
                    cache_read_tokens: cached,
                    cache_write_tokens: 0,
                }));
                let reason = if kind == "response.completed" {
                    self.calls.finish("stop", &["stop"])
                } else {
                    v.pointer("/response/incomplete_details/reason")
                        .and_then(Value::as_str)
                        .unwrap_or("incomplete")
                        .to_owned()
                };
                out.push_back(StreamEvent::Finished(Some(reason)));
                return Ok(true);
            }
            "response.failed" => {
                let message = v
                    .pointer("/response/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("the response failed")
                    .to_owned();
                return Err(ProviderError::Status {
                    status: 200,
                    message,
                });
            }
            "error" => {
                return Err(ProviderError::Status {
                    status: 200,
                    message: message_of(data),
                });
            }
            _ => {}
        }
        Ok(false)
    }
}

/// Turns named events into stream events; the completion event ends the stream.
fn parse<S>(
    events: S,
) -> impl futures_util::Stream<Item = Result<StreamEvent, ProviderError>> + Send
where
    S: futures_util::Stream<Item = Result<SseEvent, ProviderError>> + Send + Unpin,
{
    let mut state = Events::default();
    sse::translate(events, move |e, out| {
        Ok(if state.event(e, out)? {
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

    /// One event read on its own.
    fn event_events(e: &SseEvent, out: &mut VecDeque<StreamEvent>) -> Result<bool, ProviderError> {
        Events::default().event(e, out)
    }

    #[test]
    fn instructions_and_input() {
        let mut params = Map::new();
        params.insert("reasoning_effort".into(), json!("low"));
        params.insert("maxOutputTokens".into(), json!(300));
        let request = ChatRequest {
            model: "o4-mini".into(),
            messages: vec![
                ChatMessage::text(Role::System, "Be brief."),
                ChatMessage::text(Role::User, "q"),
                ChatMessage::text(Role::Assistant, "a"),
            ],
            params,
            user: None,
            vars: Vec::new(),
            ..ChatRequest::default()
        };
        let b = body(
            &crate::providers::endpoints::tests_support::endpoint("openAI", "x"),
            &request,
        );
        assert_eq!(b["instructions"], "Be brief.");
        assert_eq!(
            b["input"][0]["content"][0],
            json!({"type": "input_text", "text": "q"})
        );
        assert_eq!(b["input"][1]["content"][0]["type"], "output_text");
        assert_eq!(b["reasoning"], json!({"effort": "low"}));
        assert_eq!(b["max_output_tokens"], 300);
    }

    #[test]
    fn events_become_stream_events() {
        let ev = |data: Value| SseEvent {
            event: String::new(),
            data: data.to_string(),
        };
        let mut out = VecDeque::new();
        assert!(
            !event_events(
                &ev(json!({"type": "response.output_text.delta", "delta": "Hi"})),
                &mut out
            )
            .unwrap()
        );
        assert!(event_events(&ev(json!({"type": "response.completed", "response": {"usage": {"input_tokens": 9, "output_tokens": 2, "input_tokens_details": {"cached_tokens": 4}}}})), &mut out).unwrap());
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            [
                StreamEvent::Text("Hi".into()),
                StreamEvent::Usage(Usage {
                    prompt_tokens: 5,
                    completion_tokens: 2,
                    cache_read_tokens: 4,
                    cache_write_tokens: 0
                }),
                StreamEvent::Finished(Some("stop".into())),
            ]
        );
        let err = event_events(
            &ev(json!({"type": "response.failed", "response": {"error": {"message": "boom"}}})),
            &mut VecDeque::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("boom"));
    }
}
