//! Stand-ins for the services web search may use instead of its built-in parts, on 127.0.0.1,
//! speaking their documented JSON: Firecrawl's `POST /v1/scrape` and `/v2/scrape` (`{url,
//! formats, ...}` → `{success, data: {markdown, metadata}}`, errors `{success: false, error}`),
//! and the rerankers' `POST /v1/rerank` (Jina) and `/v2/rerank` (Cohere) (`{model, query,
//! documents, top_n}` → `{results: [{index, relevance_score}]}`; Jina refuses a key with
//! `{"detail": ...}`, Cohere with `{"message": ...}`).
//!
//! Firecrawl "reads" the fake web's `/article` as Markdown that carries [`FIRECRAWL_MARK`], and
//! answers any other page with 402 (a plan out of credits). The rerankers score each document
//! by the query words it contains, so the passage that answers comes first. Each service
//! keeps the requests it got; key [`BROKEN_KEY`] gets a 500 and [`SLOW_KEY`] no answer.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::fake_search::ANSWER;

pub const FIRECRAWL_KEY: &str = "fc-test-key";
pub const JINA_KEY: &str = "jina-test-key";
pub const COHERE_KEY: &str = "cohere-test-key";
/// A key the services answer with a 500.
pub const BROKEN_KEY: &str = "broken-key";
/// A key the services never answer.
pub const SLOW_KEY: &str = "slow-key";
/// Words only Firecrawl's reading of `/article` has.
pub const FIRECRAWL_MARK: &str = "Read by Firecrawl";

/// One request a service got: its path, bearer token and JSON body.
#[derive(Debug, Clone)]
pub struct Got {
    pub path: String,
    pub token: String,
    pub body: Value,
}

/// The services, on one address.
pub struct FakeServices {
    pub base: String,
    got: Arc<Mutex<Vec<Got>>>,
}

impl FakeServices {
    pub async fn start() -> Self {
        let got: Arc<Mutex<Vec<Got>>> = Arc::default();
        let app = Router::new()
            .route("/v1/scrape", post(scrape))
            .route("/v2/scrape", post(scrape))
            .route("/v1/rerank", post(rerank))
            .route("/v2/rerank", post(rerank))
            .with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeServices { base, got }
    }

    /// The requests to paths starting with `prefix` (`/v2/scrape`, `/v1/rerank`).
    pub fn got(&self, prefix: &str) -> Vec<Got> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|g| g.path.starts_with(prefix))
            .cloned()
            .collect()
    }
}

type Shared = State<Arc<Mutex<Vec<Got>>>>;

/// Records the request, then lets it through only with `key`: a broken key's 500, a slow
/// key's silence, or any other key's 401 with `refusal` (each service's own) as `Err`.
async fn admit(
    State(got): &Shared,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Value,
    key: &str,
    refusal: Value,
) -> Result<(), Response> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    got.lock().unwrap().push(Got {
        path: uri.path().to_owned(),
        token: token.clone(),
        body: body.clone(),
    });
    match token.as_str() {
        BROKEN_KEY => Err((StatusCode::INTERNAL_SERVER_ERROR, "upstream broke").into_response()),
        SLOW_KEY => std::future::pending().await,
        t if t == key => Ok(()),
        _ => Err((StatusCode::UNAUTHORIZED, axum::Json(refusal)).into_response()),
    }
}

async fn scrape(
    state: Shared,
    uri: axum::http::Uri,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let refusal = json!({"success": false, "error": "Unauthorized: Invalid token"});
    if let Err(r) = admit(&state, &uri, &headers, &body, FIRECRAWL_KEY, refusal).await {
        return r;
    }
    let url = body["url"].as_str().unwrap_or_default();
    if !url.ends_with("/article") {
        return (
            StatusCode::PAYMENT_REQUIRED,
            axum::Json(
                json!({"success": false, "error": "Payment required to access this resource."}),
            ),
        )
            .into_response();
    }
    let markdown = format!(
        "# Tides\n\nHarbour notes and sailing times.\n\n{FIRECRAWL_MARK}: {ANSWER}, when the \
         Sun and the Moon pull together.\n\nThe cafe opens at nine."
    );
    axum::Json(json!({"success": true, "data": {
        "markdown": markdown,
        "metadata": {"title": "Tides explained", "sourceURL": url, "statusCode": 200},
    }}))
    .into_response()
}

async fn rerank(
    state: Shared,
    uri: axum::http::Uri,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let jina = uri.path() == "/v1/rerank";
    let (key, refusal) = if jina {
        (JINA_KEY, json!({"detail": "Invalid API key"}))
    } else {
        (
            COHERE_KEY,
            json!({"id": "x", "message": "invalid api token"}),
        )
    };
    if let Err(r) = admit(&state, &uri, &headers, &body, key, refusal).await {
        return r;
    }
    let query: Vec<String> = words(body["query"].as_str().unwrap_or_default());
    let docs = body["documents"].as_array().cloned().unwrap_or_default();
    let mut scored: Vec<(usize, f64)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let text = words(d.as_str().unwrap_or_default());
            let hits = query.iter().filter(|q| text.contains(q)).count();
            (i, hits as f64 / query.len().max(1) as f64)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(body["top_n"].as_u64().unwrap_or(docs.len() as u64) as usize);
    let results: Vec<Value> = scored
        .iter()
        .map(|(i, s)| json!({"index": i, "relevance_score": s}))
        .collect();
    let answer = if jina {
        json!({"model": body["model"], "usage": {"total_tokens": 42}, "results": results})
    } else {
        json!({"id": "rr-1", "results": results, "meta": {"billed_units": {"search_units": 1}}})
    };
    axum::Json(answer).into_response()
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}
