//! A provider that misbehaves on purpose, on 127.0.0.1: it speaks OpenAI's chat completions
//! (`POST /v1/chat/completions`) and then breaks the rules in the way the model names:
//!
//! * `endless-line`: a real first chunk ("Hello"), then a `data:` line that grows to 8 MiB
//!   without ever ending, then the connection closes;
//! * `huge-error`: a 500 whose body begins as OpenAI's error JSON, runs on for 1 MiB and then
//!   never ends (the connection stays open, sending nothing);
//! * `redirect`: a 307 to the URL given at start (another server's chat completions);
//! * `flood`: well-formed chunks without end in sight: 24 of 512 KiB of reasoning and then of
//!   text, alternating (12 MiB in all, each event far below the per-event limit), then
//!   `[DONE]`.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

#[derive(Clone)]
struct Shared {
    redirect_to: Arc<String>,
    requests: Arc<AtomicUsize>,
}

pub struct FakeHostile {
    /// The base URL (`.../v1`).
    pub base: String,
    shared: Shared,
}

impl FakeHostile {
    /// `redirect_to`: where the `redirect` model sends the request.
    pub async fn start(redirect_to: &str) -> Self {
        let shared = Shared {
            redirect_to: Arc::new(redirect_to.to_owned()),
            requests: Arc::default(),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, shared }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches("/v1").parse().ok())
            .unwrap()
    }

    /// How many requests it has received.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

const MIB: usize = 1024 * 1024;

async fn completions(State(shared): State<Shared>, Json(body): Json<Value>) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    match body["model"].as_str().unwrap_or("") {
        "endless-line" => {
            let first = json!({
                "id": "chatcmpl-hostile", "object": "chat.completion.chunk", "created": 1700000000,
                "model": "endless-line",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hello"}, "finish_reason": null}]
            });
            let head = format!(
                "data: {first}\n\ndata: {{\"choices\":[{{\"delta\":{{\"content\":\""
            );
            let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
            let parts = std::iter::once(Bytes::from(head))
                .chain(std::iter::repeat_n(chunk, 8 * MIB / (64 * 1024)))
                .map(Ok::<_, std::io::Error>);
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(futures_util::stream::iter(parts)))
                .unwrap()
        }
        "flood" => {
            let piece = "a".repeat(MIB / 2);
            let chunks = (0..24).map(move |n| {
                let field = if n % 2 == 0 { "reasoning_content" } else { "content" };
                let chunk = json!({
                    "id": "chatcmpl-flood", "object": "chat.completion.chunk", "created": 1700000000,
                    "model": "flood",
                    "choices": [{"index": 0, "delta": {field: piece}, "finish_reason": null}]
                });
                Ok::<_, std::io::Error>(Bytes::from(format!("data: {chunk}\n\n")))
            });
            let done = std::iter::once(Ok(Bytes::from_static(b"data: [DONE]\n\n")));
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(futures_util::stream::iter(chunks.chain(done))))
                .unwrap()
        }
        "huge-error" => {
            let mut start = br#"{"error":{"message":"overloaded "#.to_vec();
            start.resize(MIB, b'x');
            let body = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(start))])
                .chain(futures_util::stream::pending());
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .header("content-type", "application/json")
                .body(Body::from_stream(body))
                .unwrap()
        }
        "redirect" => (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", shared.redirect_to.as_str())],
        )
            .into_response(),
        other => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"message": format!("The model `{other}` does not exist"), "type": "invalid_request_error", "code": "model_not_found"}})),
        )
            .into_response(),
    }
}
