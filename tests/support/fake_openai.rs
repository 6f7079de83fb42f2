//! A stand-in for OpenAI's chat completions API on 127.0.0.1, speaking its documented wire
//! format: `POST /v1/chat/completions` with `stream: true` answers server-sent events of
//! `chat.completion.chunk` objects, a usage chunk and `data: [DONE]`; errors are
//! `{"error": {"message", "type", "code"}}` with OpenAI's statuses; `GET /v1/models` lists
//! models. What it does depends on the model asked for:
//!
//! * anything else: echoes the last user message as `Echo: <text>`, a word per chunk (the
//!   text of its content parts, when it has parts);
//! * `gated`: sends "part one", waits for [`FakeOpenAi::release`], then sends " part two";
//! * `reasoning`: `reasoning_content` deltas, then the answer;
//! * `split-utf8`: chunk boundaries inside UTF-8 characters and inside SSE lines;
//! * `halfway`: stops (closes the connection) in the middle of the answer;
//! * `garbage`: a chunk that is not JSON;
//! * `error-in-stream`: an `{"error": ...}` chunk after some text;
//! * `rate-limited`: 429 with `retry-after: 7`; `server-error`: 500;
//! * any model with a key other than [`KEY`]: 401 `invalid_api_key`.
//!
//! A chat-completions request whose system prompt asks for a title (and offers no tools) gets
//! "Tides and the Moon", from any model (asked of `gated`, only after [`FakeOpenAi::release`]).
//!
//! A model given a [`ToolScript`] ([`FakeOpenAi::script`]) answers with tool calls in each
//! format (see [`super::fake_tools`]), and every request's tool history is checked as each
//! provider checks it.
//!
//! Models that **meet** ([`FakeOpenAi::meet`]) answer only once each of them has been asked:
//! a request to one waits for the others' (a barrier), so requests made one after another
//! never all arrive, and the first is answered with an error (after [`MEET_WAIT`], a guard
//! against a hung test, never reached when the requests are made together).
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};

use super::fake_tools::{self, ToolScript};

pub const KEY: &str = "test-key";

/// How long a model of a meeting waits for the others before it gives up.
pub const MEET_WAIT: Duration = Duration::from_secs(20);

/// The models that meet, and those of them asked so far.
type Meeting = (Vec<String>, HashSet<String>);

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Value>>>,
    /// The headers of the last chat-completions request.
    headers: Arc<Mutex<Vec<(String, String)>>>,
    gate: Arc<Semaphore>,
    /// The models that answer with tool calls, and their calls.
    scripts: Arc<Mutex<HashMap<String, ToolScript>>>,
    meeting: Arc<watch::Sender<Meeting>>,
}

impl Shared {
    /// For a model of the meeting: waits until every model of it has been asked; an error
    /// answer when they never all are.
    async fn meet(&self, model: &str) -> Option<Response> {
        let mut seen = self.meeting.subscribe();
        if !seen.borrow().0.iter().any(|m| m == model) {
            return None;
        }
        self.meeting.send_modify(|(_, asked)| {
            asked.insert(model.to_owned());
        });
        let all = |(models, asked): &Meeting| models.iter().all(|m| asked.contains(m));
        match tokio::time::timeout(MEET_WAIT, seen.wait_for(all)).await {
            Ok(Ok(_)) => None,
            _ => Some(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("{model} waited for the others of its meeting in vain"),
                "server_error",
                None,
            )),
        }
    }

    /// The script of `model`, when it has one that applies to this request.
    fn script(&self, model: &str, body: &Value) -> Option<ToolScript> {
        let script = self.scripts.lock().unwrap().get(model).cloned()?;
        script.applies(body).then(|| script.resolved(body))
    }
}

pub struct FakeOpenAi {
    /// The base URL, as OPENAI_REVERSE_PROXY or a custom endpoint's baseURL (`.../v1`).
    pub base: String,
    shared: Shared,
}

impl FakeOpenAi {
    pub async fn start() -> Self {
        let shared = Shared {
            requests: Arc::default(),
            headers: Arc::default(),
            gate: Arc::new(Semaphore::new(0)),
            scripts: Arc::default(),
            meeting: Arc::new(watch::channel(Meeting::default()).0),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .route("/v1/models", get(models))
            .route("/v1/messages", post(messages))
            .route("/v1/responses", post(responses))
            .route("/v1/moderations", post(moderations))
            .route("/v1beta/models/{spec}", post(gemini))
            .route(
                "/openai/deployments/{deployment}/chat/completions",
                post(azure),
            )
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, shared }
    }

    /// The base URL for Anthropic's API on the same server (`ANTHROPIC_REVERSE_PROXY`).
    pub fn anthropic_base(&self) -> String {
        self.base.trim_end_matches("/v1").to_owned()
    }

    /// Makes `model` answer with tool calls (in whichever format it is asked in), and with
    /// text quoting the results once a request carries them.
    pub fn script(&self, model: &str, script: ToolScript) {
        self.shared
            .scripts
            .lock()
            .unwrap()
            .insert(model.to_owned(), script);
    }

    /// Makes `models` meet: a request to one is answered only once each has been asked.
    pub fn meet(&self, models: &[&str]) {
        self.shared.meeting.send_replace((
            models.iter().map(|m| (*m).to_owned()).collect(),
            HashSet::new(),
        ));
    }

    /// Lets one waiting `gated` answer finish.
    pub fn release(&self) {
        self.shared.gate.add_permits(1);
    }

    /// A header of the last chat-completions request.
    pub fn last_header(&self, name: &str) -> Option<String> {
        self.shared
            .headers
            .lock()
            .unwrap()
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// The request bodies received, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many chat requests ended with the question `text` (as a string or as text parts).
    pub fn times_asked(&self, text: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| {
                let Some(q) = r["messages"].as_array().and_then(|m| m.last()) else {
                    return false;
                };
                match &q["content"] {
                    Value::String(s) => s == text,
                    Value::Array(parts) => {
                        parts
                            .iter()
                            .filter_map(|p| p["text"].as_str())
                            .collect::<String>()
                            == text
                    }
                    _ => false,
                }
            })
            .count()
    }

    /// The last chat request that was not a title request.
    pub fn last_chat(&self) -> Value {
        self.requests()
            .into_iter()
            .rev()
            .find(|r| !is_title(r))
            .expect("a chat request")
    }
}

/// A message's text: its `content` string, or the text of its content parts (an image part
/// has none), joined by newlines.
fn text_of_content(content: &Value) -> String {
    match content {
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.as_str().unwrap_or("").to_owned(),
    }
}

fn is_title(body: &Value) -> bool {
    let system = body["system"]
        .as_str()
        .or_else(|| body["system"][0]["text"].as_str())
        .or_else(|| body["systemInstruction"]["parts"][0]["text"].as_str());
    body["messages"][0]["content"]
        .as_str()
        .or(system)
        .is_some_and(|s| s.starts_with("Write a concise title"))
}

fn error(status: StatusCode, message: &str, kind: &str, code: Option<&str>) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "type": kind, "param": null, "code": code}})),
    )
        .into_response()
}

async fn models(headers: HeaderMap) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}"))
    {
        return error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided.",
            "invalid_request_error",
            Some("invalid_api_key"),
        );
    }
    Json(json!({"object": "list", "data": [
        {"id": "fetched-model-b", "object": "model", "created": 1700000000, "owned_by": "test"},
        {"id": "fetched-model-a", "object": "model", "created": 1700000000, "owned_by": "test"}
    ]}))
    .into_response()
}

pub(crate) fn chunk(model: &str, delta: Value, finish: Option<&str>) -> String {
    let v = json!({
        "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1700000000,
        "model": model, "system_fingerprint": "fp_test",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    });
    format!("data: {v}\n\n")
}

pub(crate) fn usage(model: &str, prompt: u64, completion: u64) -> String {
    let v = json!({
        "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1700000000,
        "model": model, "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    });
    format!("data: {v}\n\n")
}

/// The answer as SSE text: a role chunk, a chunk per piece, the finish, usage, `[DONE]`.
fn answer(model: &str, pieces: &[&str]) -> String {
    let mut out = chunk(model, json!({"role": "assistant", "content": ""}), None);
    for p in pieces {
        out.push_str(&chunk(model, json!({"content": p}), None));
    }
    out.push_str(&chunk(model, json!({}), Some("stop")));
    out.push_str(&usage(model, 11, pieces.len() as u64));
    out.push_str("data: [DONE]\n\n");
    out
}

pub(crate) fn sse(body: Body) -> Response {
    Response::builder()
        .header("content-type", "text/event-stream; charset=utf-8")
        .header("cache-control", "no-cache")
        .body(body)
        .unwrap()
}

/// A body fed through a channel, so the stream can pause or stop anywhere.
fn channel_body() -> (mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    (tx, Body::from_stream(stream))
}

async fn completions(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    shared.requests.lock().unwrap().push(body.clone());
    *shared.headers.lock().unwrap() = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}"))
    {
        return error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided: sk-wr***. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            Some("invalid_api_key"),
        );
    }
    if let Some(refused) = fake_tools::openai::check(&body) {
        return refused;
    }
    let model = body["model"].as_str().unwrap_or("").to_owned();
    if let Some(refused) = shared.meet(&model).await {
        return refused;
    }
    // A title request offers no tools: a scripted model answers it with the title too.
    let title = is_title(&body) && body.get("tools").is_none();
    if let Some(script) = shared.script(&model, &body).filter(|_| !title) {
        let results = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .is_some_and(|m| m["role"] == "tool");
        if script.hold
            && results
            && let Ok(permit) = shared.gate.acquire().await
        {
            permit.forget();
        }
        return fake_tools::openai::answer(&model, &script, &body);
    }
    if title {
        // A title asked of `gated` waits for `release`, like its answers.
        if model == "gated"
            && let Ok(permit) = shared.gate.acquire().await
        {
            permit.forget();
        }
        return sse(Body::from(answer(&model, &["Tides ", "and the ", "Moon"])));
    }
    match model.as_str() {
        "rate-limited" => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for requests",
                "requests",
                Some("rate_limit_exceeded"),
            );
            r.headers_mut().insert("retry-after", "7".parse().unwrap());
            r
        }
        "server-error" => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        ),
        "gated" => {
            let (tx, body) = channel_body();
            let gate = shared.gate.clone();
            tokio::spawn(async move {
                let head = chunk(&model, json!({"role": "assistant", "content": ""}), None)
                    + &chunk(&model, json!({"content": "part one"}), None);
                if tx.send(Bytes::from(head)).await.is_err() {
                    return;
                }
                let Ok(permit) = gate.acquire().await else {
                    return;
                };
                permit.forget();
                let tail = chunk(&model, json!({"content": " part two"}), None)
                    + &chunk(&model, json!({}), Some("stop"))
                    + &usage(&model, 11, 4)
                    + "data: [DONE]\n\n";
                let _ = tx.send(Bytes::from(tail)).await;
            });
            sse(body)
        }
        "reasoning" => {
            let mut out = chunk(&model, json!({"role": "assistant", "content": ""}), None);
            out.push_str(&chunk(
                &model,
                json!({"reasoning_content": "Thinking it over. "}),
                None,
            ));
            out.push_str(&chunk(
                &model,
                json!({"reasoning_content": "Done thinking."}),
                None,
            ));
            out.push_str(&chunk(
                &model,
                json!({"content": "The answer is 42."}),
                Some("stop"),
            ));
            out.push_str("data: [DONE]\n\n");
            sse(Body::from(out))
        }
        "split-utf8" => {
            let text = answer(&model, &["héllo ", "wörld ", "東京 ", "🦀"]);
            let bytes = text.into_bytes();
            // Cut every 7 bytes: boundaries land inside characters, lines and `data:` prefixes.
            let pieces: Vec<Result<Bytes, Infallible>> = bytes
                .chunks(7)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            sse(Body::from_stream(futures_util::stream::iter(pieces)))
        }
        "halfway" => {
            let (tx, body) = channel_body();
            tokio::spawn(async move {
                let head = chunk(&model, json!({"role": "assistant", "content": ""}), None)
                    + &chunk(&model, json!({"content": "This answer stops "}), None);
                let _ = tx.send(Bytes::from(head)).await;
                // Dropping the sender ends the body early: no finish reason, no [DONE].
            });
            sse(body)
        }
        "garbage" => sse(Body::from(
            chunk(&model, json!({"content": "ok so far"}), None) + "data: {not json\n\n",
        )),
        "error-in-stream" => sse(Body::from(
            chunk(&model, json!({"content": "Starting"}), None)
                + "data: {\"error\":{\"message\":\"The model is overloaded\",\"type\":\"server_error\"}}\n\n",
        )),
        _ => {
            let last = body["messages"]
                .as_array()
                .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
                .map(|m| text_of_content(&m["content"]))
                .unwrap_or_default();
            let text = format!("Echo: {last}");
            let words: Vec<String> = text.split_inclusive(' ').map(str::to_owned).collect();
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            sse(Body::from(answer(&model, &refs)))
        }
    }
}

// ---- Anthropic's Messages API: named events, `x-api-key`, `anthropic-version`. ----

pub(crate) fn anthropic_error(status: u16, kind: &str, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({"type": "error", "error": {"type": kind, "message": message}})),
    )
        .into_response()
}

pub(crate) fn event(name: &str, data: Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

pub(crate) fn message_start(model: &str, cached: u64) -> String {
    event(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": "msg_test", "type": "message", "role": "assistant", "content": [], "model": model,
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 25, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": cached}
        }}),
    )
}

pub(crate) fn text_block(index: u64, pieces: &[&str]) -> String {
    let mut out = event(
        "content_block_start",
        json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
    );
    out.push_str(&event("ping", json!({"type": "ping"})));
    for p in pieces {
        out.push_str(&event("content_block_delta", json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": p}})));
    }
    out.push_str(&event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    ));
    out
}

fn message_end(output: u64) -> String {
    event(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": output}}),
    ) + &event("message_stop", json!({"type": "message_stop"}))
}

async fn messages(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    shared.requests.lock().unwrap().push(body.clone());
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(KEY) {
        return anthropic_error(401, "authentication_error", "invalid x-api-key");
    }
    if headers.get("anthropic-version").is_none() {
        return anthropic_error(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
        );
    }
    if body.get("max_tokens").and_then(Value::as_u64).is_none() {
        return anthropic_error(400, "invalid_request_error", "max_tokens: Field required");
    }
    if let Some(refused) = fake_tools::anthropic::check(&body) {
        return refused;
    }
    let model = body["model"].as_str().unwrap_or("").to_owned();
    if let Some(script) = shared.script(&model, &body) {
        return fake_tools::anthropic::answer(&model, &script, &body);
    }
    if is_title(&body) {
        return sse(Body::from(
            message_start(&model, 0) + &text_block(0, &["Tides and the Moon"]) + &message_end(5),
        ));
    }
    let cached = if body.to_string().contains("cache_control") {
        19
    } else {
        0
    };
    match model.as_str() {
        "claude-overloaded" => anthropic_error(529, "overloaded_error", "Overloaded"),
        "claude-thinking" => {
            let mut out = message_start(&model, cached);
            out.push_str(&event("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}})));
            for t in ["Let me think. ", "Yes."] {
                out.push_str(&event("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": t}})));
            }
            out.push_str(&event("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM"}})));
            out.push_str(&event(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": 0}),
            ));
            out.push_str(&text_block(1, &["Forty-", "two."]));
            out.push_str(&message_end(12));
            sse(Body::from(out))
        }
        "claude-error-mid" => sse(Body::from(
            message_start(&model, 0)
                + &event(
                    "content_block_start",
                    json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                )
                + &event(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Partial"}}),
                )
                + &event(
                    "error",
                    json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
                ),
        )),
        _ => {
            let last = body["messages"]
                .as_array()
                .and_then(|m| m.last())
                .map(|m| {
                    m["content"].as_str().map(str::to_owned).unwrap_or_else(|| {
                        m["content"][0]["text"].as_str().unwrap_or("").to_owned()
                    })
                })
                .unwrap_or_default();
            let text = format!("Claude says: {last}");
            let words: Vec<String> = text.split_inclusive(' ').map(str::to_owned).collect();
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            sse(Body::from(
                message_start(&model, cached)
                    + &text_block(0, &refs)
                    + &message_end(words.len() as u64),
            ))
        }
    }
}

// ---- Google's Gemini API: `models/{model}:streamGenerateContent?alt=sse`, `x-goog-api-key`. ----

pub(crate) fn gemini_chunk(parts: Value, finish: Option<&str>, usage: Option<Value>) -> String {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if let Some(f) = finish {
        candidate["finishReason"] = json!(f);
    }
    let mut v = json!({"candidates": [candidate], "modelVersion": "gemini-test"});
    if let Some(u) = usage {
        v["usageMetadata"] = u;
    }
    format!("data: {v}\r\n\r\n")
}

async fn gemini(
    State(shared): State<Shared>,
    axum::extract::Path(spec): axum::extract::Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    shared.requests.lock().unwrap().push(body.clone());
    let google_error = |status: StatusCode, message: &str, state: &str, details: Value| {
        (status, Json(json!({"error": {"code": status.as_u16(), "message": message, "status": state, "details": details}}))).into_response()
    };
    if headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()) != Some(KEY) {
        return google_error(
            StatusCode::BAD_REQUEST,
            "API key not valid. Please pass a valid API key.",
            "INVALID_ARGUMENT",
            json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]),
        );
    }
    let Some((model, "streamGenerateContent")) = spec.split_once(':') else {
        return google_error(StatusCode::NOT_FOUND, "not found", "NOT_FOUND", json!([]));
    };
    if query.as_deref() != Some("alt=sse") {
        return google_error(
            StatusCode::BAD_REQUEST,
            "this fake only streams with alt=sse",
            "INVALID_ARGUMENT",
            json!([]),
        );
    }
    let script = shared.script(model, &body);
    if let Some(refused) = fake_tools::gemini::check(&body, script.as_ref()) {
        return refused;
    }
    if let Some(script) = script {
        return fake_tools::gemini::answer(&script, &body);
    }
    let usage = json!({"promptTokenCount": 8, "candidatesTokenCount": 6, "totalTokenCount": 14});
    if is_title(&body) {
        return sse(Body::from(gemini_chunk(
            json!([{"text": "Tides and the Moon"}]),
            Some("STOP"),
            Some(usage),
        )));
    }
    match model {
        "gemini-quota" => google_error(
            StatusCode::TOO_MANY_REQUESTS,
            "Resource has been exhausted (e.g. check quota).",
            "RESOURCE_EXHAUSTED",
            json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]),
        ),
        "gemini-thinking" => sse(Body::from(
            gemini_chunk(
                json!([{"text": "Considering.", "thought": true}]),
                None,
                None,
            ) + &gemini_chunk(
                json!([{"text": "Blue."}]),
                Some("STOP"),
                Some(
                    json!({"promptTokenCount": 8, "candidatesTokenCount": 2, "thoughtsTokenCount": 4, "totalTokenCount": 14}),
                ),
            ),
        )),
        _ => {
            let last = body["contents"]
                .as_array()
                .and_then(|c| c.last())
                .and_then(|c| c["parts"][0]["text"].as_str())
                .unwrap_or("")
                .to_owned();
            let text = format!("Gemini says: {last}");
            let words: Vec<String> = text.split_inclusive(' ').map(str::to_owned).collect();
            let mut out = String::new();
            for (i, w) in words.iter().enumerate() {
                let last = i + 1 == words.len();
                out.push_str(&gemini_chunk(
                    json!([{"text": w}]),
                    last.then_some("STOP"),
                    last.then(|| usage.clone()),
                ));
            }
            sse(Body::from(out))
        }
    }
}

// ---- Azure OpenAI: per-deployment URLs, `api-version`, an `api-key` header. ----

async fn azure(
    State(shared): State<Shared>,
    axum::extract::Path(deployment): axum::extract::Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if headers.get("api-key").and_then(|v| v.to_str().ok()) != Some(KEY) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint."}}))).into_response();
    }
    if !query.as_deref().unwrap_or("").starts_with("api-version=") {
        return error(
            StatusCode::NOT_FOUND,
            "Resource not found",
            "invalid_request_error",
            Some("404"),
        );
    }
    if deployment != "team-deployment" {
        return (StatusCode::NOT_FOUND, Json(json!({"error": {"code": "DeploymentNotFound", "message": format!("The API deployment {deployment} for this resource does not exist.")}}))).into_response();
    }
    let mut forwarded = HeaderMap::new();
    forwarded.insert("authorization", format!("Bearer {KEY}").parse().unwrap());
    completions(State(shared), forwarded, Json(body)).await
}

// ---- OpenAI's Responses API: named `response.*` events, no `[DONE]`. ----

async fn responses(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    shared.requests.lock().unwrap().push(body.clone());
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}"))
    {
        return error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided.",
            "invalid_request_error",
            Some("invalid_api_key"),
        );
    }
    if let Some(refused) = fake_tools::responses::check(&body) {
        return refused;
    }
    if let Some(script) = body["model"].as_str().and_then(|m| shared.script(m, &body)) {
        return fake_tools::responses::answer(&script, &body);
    }
    let ev = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    let last = body["input"]
        .as_array()
        .and_then(|i| i.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"][0]["text"].as_str())
        .unwrap_or("")
        .to_owned();
    let mut out = ev(
        "response.created",
        json!({"type": "response.created", "response": {"id": "resp_test", "status": "in_progress"}}),
    );
    if body["reasoning"]["summary"].is_string() {
        out.push_str(&ev("response.reasoning_summary_text.delta", json!({"type": "response.reasoning_summary_text.delta", "delta": "Summarized thinking."})));
    }
    for piece in ["Responses ", "say: ", &last] {
        out.push_str(&ev("response.output_text.delta", json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": piece})));
    }
    out.push_str(&ev("response.completed", json!({"type": "response.completed", "response": {"id": "resp_test", "status": "completed",
        "usage": {"input_tokens": 20, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 3, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 23}}})));
    sse(Body::from(out))
}

// ---- OpenAI's moderation endpoint: flags text containing "forbidden". ----

async fn moderations(headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}"))
    {
        return error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided.",
            "invalid_request_error",
            Some("invalid_api_key"),
        );
    }
    let flagged = body["input"].as_str().unwrap_or("").contains("forbidden");
    Json(
        json!({"id": "modr-test", "model": "omni-moderation-latest", "results": [{
            "flagged": flagged,
            "categories": {"violence": flagged, "harassment": false},
            "category_scores": {"violence": if flagged { 0.97 } else { 0.01 }, "harassment": 0.0}
        }]}),
    )
    .into_response()
}
