//! A stand-in for Wolfram|Alpha's LLM API on 127.0.0.1, speaking its documented wire format:
//! `GET /api/v1/llm-api?input=<query>&appid=<App ID>` answers `text/plain`: the result (200)
//! for an App ID it knows; `Error 2: Appid missing` (403) without one and `Error 1: Invalid
//! appid` (403) for one it does not know; 400 without an input; 501 for an input it cannot
//! interpret (anything containing `gibberish`), with a suggestion, as the API answers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// A query received: its input and App ID (`None`: no `appid`).
pub type Seen = (String, Option<String>);

#[derive(Clone, Default)]
struct Shared {
    /// The App IDs it accepts.
    known: Arc<Vec<String>>,
    /// Each query received, oldest first.
    seen: Arc<Mutex<Vec<Seen>>>,
}

pub struct FakeWolfram {
    /// The API's URL, as WOLFRAM_API_URL.
    pub url: String,
    shared: Shared,
}

impl FakeWolfram {
    /// Serves on a free port, accepting the App IDs `known`.
    pub async fn start(known: &[&str]) -> Self {
        let shared = Shared {
            known: Arc::new(known.iter().map(|s| (*s).to_owned()).collect()),
            seen: Arc::default(),
        };
        let app = Router::new()
            .route("/api/v1/llm-api", get(llm_api))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/v1/llm-api", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeWolfram { url, shared }
    }

    /// The queries received, oldest first: `(input, appid)`.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain;charset=utf-8")],
        body,
    )
        .into_response()
}

async fn llm_api(
    State(shared): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let input = q.get("input").cloned();
    let appid = q.get("appid").cloned();
    shared
        .seen
        .lock()
        .unwrap()
        .push((input.clone().unwrap_or_default(), appid.clone()));
    match appid.as_deref() {
        None | Some("") => return text(StatusCode::FORBIDDEN, "Error 2: Appid missing".into()),
        Some(id) if !shared.known.iter().any(|k| k == id) => {
            return text(StatusCode::FORBIDDEN, "Error 1: Invalid appid".into());
        }
        Some(_) => {}
    }
    let Some(input) = input.filter(|i| !i.trim().is_empty()) else {
        return text(
            StatusCode::BAD_REQUEST,
            "The input parameter is required".into(),
        );
    };
    if input.contains("gibberish") {
        return text(
            StatusCode::NOT_IMPLEMENTED,
            "Wolfram|Alpha did not understand your input\nThings to try instead:\npopulation of France"
                .into(),
        );
    }
    text(
        StatusCode::OK,
        format!(
            "Query:\n\"{input}\"\n\nInput interpretation:\n{input}\n\nResult:\n68.4 million people\n\nWolfram|Alpha website result for \"{input}\":\nhttps://www.wolframalpha.com/input?i=France+population"
        ),
    )
}
