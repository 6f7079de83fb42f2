//! A stand-in for OpenAI's embeddings API on 127.0.0.1, speaking its documented JSON:
//! `POST /v1/embeddings` with `{"model", "input": string or [strings]}` and a bearer [`KEY`]
//! (or Azure OpenAI's `POST /openai/deployments/{deployment}/embeddings?api-version=...` with
//! an `api-key` header) answers `{"object": "list", "data": [{"object": "embedding", "index", "embedding"}],
//! "model", "usage": {"prompt_tokens", "total_tokens"}}`; errors are OpenAI's
//! `{"error": {"message", "type", "param", "code"}}`: 401 `invalid_api_key` for another key,
//! 429 `rate_limit_exceeded` with `retry-after`, 500 `server_error`.
//!
//! Vectors are deterministic: a hashed bag of words over [`DIMS`] dimensions, with a small
//! table of synonyms folded to one word first, so a paraphrase lands near its source even when
//! it shares no word with it (what BM25 cannot do). The fake counts requests and inputs, and
//! can be told to fail: the next requests with a status, every request after some number, or
//! every request; or to hang: never answer a request again.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

pub const KEY: &str = "sk-embeddings-test";
pub const MODEL: &str = "text-embedding-3-small";
pub const DIMS: usize = 256;

/// Words folded together: each group's words all count as its first.
const SYNONYMS: &[&[&str]] = &[
    &["car", "automobile", "vehicle", "auto"],
    &["doctor", "physician", "medic", "clinician"],
    &["price", "cost", "fee", "charge", "tariff"],
    &["repair", "fix", "mend", "service"],
    &["buy", "purchase", "acquire"],
    &["house", "home", "dwelling", "residence"],
    &["big", "large", "huge", "enormous"],
    &["fast", "quick", "rapid", "speedy"],
    &["ill", "sick", "unwell", "ailing"],
    &["child", "kid", "youngster", "infant"],
    &["begin", "start", "commence", "open"],
    &["end", "finish", "close", "conclude"],
    &["ship", "vessel", "boat"],
    &["water", "tide", "sea", "ocean"],
    &["money", "funds", "cash", "payment"],
    &["plant", "flora", "vegetation", "garden"],
    &["dog", "canine", "hound", "puppy"],
    &["cat", "feline", "kitten"],
    &["bread", "loaf", "baguette"],
    &["mountain", "peak", "summit", "alp"],
    &["rain", "precipitation", "downpour", "shower"],
    &["law", "statute", "regulation", "rule"],
    &["music", "song", "melody", "tune"],
    &["book", "novel", "volume", "tome"],
    &["computer", "pc", "laptop", "machine"],
    &["teacher", "instructor", "tutor", "educator"],
    &["tooth", "teeth", "dental", "molar"],
    &["bicycle", "bike", "cycle"],
    &["coffee", "espresso", "brew"],
    &["wine", "vintage", "grape"],
];

const STOP: &[&str] = &[
    "a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "what",
    "how", "when", "where", "which", "who", "do", "does", "my", "i", "it", "at", "by", "with",
    "be", "can", "should", "this", "that", "there", "much", "many", "about", "from", "your",
];

/// The words of `text` as the fake reads them: lowercase, stop words out, plurals folded, and
/// synonyms folded to their group's first word.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP.contains(w))
        .map(|w| {
            let w = if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
                &w[..w.len() - 1]
            } else {
                w
            };
            SYNONYMS
                .iter()
                .find(|g| g.contains(&w))
                .map_or(w, |g| g[0])
                .to_owned()
        })
        .collect()
}

/// The fake's vector of `text` (not normalized: the server normalizes).
pub fn vector(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; DIMS];
    for w in words(text) {
        // FNV-1a.
        let h = w.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        });
        v[(h % DIMS as u64) as usize] += 1.0;
    }
    if v.iter().all(|x| *x == 0.0) {
        v[0] = 1e-3;
    }
    v
}

#[derive(Default)]
struct Inner {
    /// Statuses to answer the next requests with, in order.
    next: VecDeque<u16>,
    /// Requests answered with vectors before every later one gets a 500.
    ok_budget: Option<usize>,
    /// Every request from now on is left without an answer.
    hang: bool,
    requests: usize,
    ok_requests: usize,
    inputs: usize,
    biggest_batch: usize,
    failures: usize,
}

#[derive(Clone)]
pub struct FakeEmbeddings {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeEmbeddings {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/v1/embeddings", post(embeddings))
            .route("/openai/deployments/{deployment}/embeddings", post(azure))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeEmbeddings { base, inner }
    }

    /// The next requests are answered with these statuses (429 or 500), in order.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().next.extend(statuses);
    }

    /// After `n` more answers with vectors, every request gets a 500 (`None`: never).
    pub fn fail_after(&self, n: Option<usize>) {
        self.inner.lock().unwrap().ok_budget = n;
    }

    /// From now on no request gets an answer (they are still counted).
    pub fn hang(&self) {
        self.inner.lock().unwrap().hang = true;
    }

    /// Requests received.
    pub fn requests(&self) -> usize {
        self.inner.lock().unwrap().requests
    }

    /// Inputs embedded (in answers with vectors).
    pub fn inputs(&self) -> usize {
        self.inner.lock().unwrap().inputs
    }

    /// Requests answered with an error.
    pub fn failures(&self) -> usize {
        self.inner.lock().unwrap().failures
    }

    /// The most inputs one request carried.
    pub fn biggest_batch(&self) -> usize {
        self.inner.lock().unwrap().biggest_batch
    }

    /// The environment a server needs to embed with this fake.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("EMBEDDINGS_PROVIDER", "openai".into()),
            ("EMBEDDINGS_MODEL", MODEL.into()),
            ("RAG_OPENAI_API_KEY", KEY.into()),
            ("RAG_OPENAI_BASEURL", self.base.clone()),
        ]
    }
}

/// Azure's form of the same call: the key in `api-key`, an `api-version` required.
async fn azure(
    State(inner): State<Arc<Mutex<Inner>>>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    mut headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !query.unwrap_or_default().contains("api-version=") {
        return error(
            404,
            "Resource not found",
            "invalid_request_error",
            Value::Null,
        );
    }
    if let Some(key) = headers.remove("api-key") {
        let bearer = format!("Bearer {}", key.to_str().unwrap_or_default());
        headers.insert("authorization", bearer.parse().unwrap());
    }
    embeddings(State(inner), headers, body).await
}

fn error(status: u16, message: &str, kind: &str, code: Value) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    let mut r = (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
    if status == 429 {
        r.headers_mut().insert("retry-after", "1".parse().unwrap());
    }
    r
}

async fn embeddings(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let hang = {
        let mut s = inner.lock().unwrap();
        s.requests += 1;
        s.hang
    };
    if hang {
        return std::future::pending().await;
    }
    let mut s = inner.lock().unwrap();
    if auth != format!("Bearer {KEY}") {
        s.failures += 1;
        return error(
            401,
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            json!("invalid_api_key"),
        );
    }
    let over_budget = s.ok_budget == Some(0);
    if let Some(status) = s.next.pop_front().or(over_budget.then_some(500)) {
        s.failures += 1;
        return if status == 429 {
            error(
                429,
                "Rate limit reached for text-embedding-3-small on requests per min (RPM): Limit 3000.",
                "requests",
                json!("rate_limit_exceeded"),
            )
        } else {
            error(
                status,
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                Value::Null,
            )
        };
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let inputs: Vec<String> = match &request["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => {
            s.failures += 1;
            return error(
                400,
                "'input' is a required property",
                "invalid_request_error",
                Value::Null,
            );
        }
    };
    if let Some(b) = s.ok_budget.as_mut() {
        *b -= 1;
    }
    s.ok_requests += 1;
    s.inputs += inputs.len();
    s.biggest_batch = s.biggest_batch.max(inputs.len());
    drop(s);
    let tokens: usize = inputs.iter().map(|t| t.split_whitespace().count()).sum();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": vector(t)}))
        .collect();
    axum::Json(json!({
        "object": "list",
        "data": data,
        "model": request["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}
    }))
    .into_response()
}
