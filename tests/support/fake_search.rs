//! Stand-ins for web search on 127.0.0.1: a search API speaking SearXNG's and Serper's
//! documented JSON, a web of result pages (some hostile), and a private service that must never
//! be reached.
//!
//! The search API: SearXNG's `GET /search?q=..&format=json` (403 `Forbidden` for any other
//! format, as SearXNG answers when JSON is off) answers `{query, results: [{url, title,
//! content, engine, category}], answers, infoboxes}`; Serper's `POST /search`, `/news` and
//! `/images` with `X-API-KEY` answer `{organic, topStories, answerBox, knowledgeGraph}`,
//! `{news}` and `{images}`, and 403 `{"message": "Unauthorized.", "statusCode": 403}` for
//! another key. A query containing `hang` is never answered; one containing `boom` gets a 500.
//!
//! The web (its port is the one test servers allow): `/article` answers the test question in
//! one paragraph among chrome and filler; `/second` is another page, which `/moved` redirects
//! to; `/redirect-private` and
//! `/redirect-metadata` redirect to the private service and to 169.254.169.254; `/endless`
//! never ends; `/stall` sends a little, then nothing; `/huge` is 50 MB; `/binary` is
//! `application/octet-stream`; `/lying` says HTML but is binary. A query containing `private`
//! gets results that link to private addresses ([`PRIVATE_LINKS`]).
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use serde_json::{Value, json};

pub const SERPER_KEY: &str = "serper-test-key";
/// The sentence of `/article` that answers "when are spring tides".
pub const ANSWER: &str = "Spring tides happen twice a month, at new moon and at full moon";

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    base
}

/// The private service: counts what reaches it.
pub struct Private {
    pub base: String,
    hits: Arc<AtomicUsize>,
}

impl Private {
    pub async fn start() -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let app = Router::new().fallback(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    "<p>the private secret</p>",
                )
            }
        });
        Private {
            base: serve(app).await,
            hits,
        }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// The web of result pages.
pub struct FakeWeb {
    pub base: String,
}

/// The pages SearXNG's results link to, in order (the scraper reads the first five).
pub const PATHS: [&str; 5] = [
    "/article",
    "/moved",
    "/redirect-private",
    "/redirect-metadata",
    "/endless",
];
/// The results of a query containing `private`: addresses no page may be read from.
pub const PRIVATE_LINKS: [&str; 3] = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:9/admin",
    "http://[::1]/secret",
];
/// The pages of a query containing `heavy`.
pub const HEAVY_PATHS: [&str; 5] = ["/article", "/stall", "/huge", "/binary", "/lying"];

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn redirect(to: String) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to)], "").into_response()
}

impl FakeWeb {
    /// Serves the pages; the redirects go to `private`.
    pub async fn start(private: &Private) -> Self {
        let filler =
            "Sailing clubs meet on Saturdays and the harbour cafe opens at nine. ".repeat(8);
        let article = format!(
            "<!doctype html><html><head><title>Tides explained</title>\
             <script>var secret = 'script text';</script></head><body>\
             <nav>Home | Weather | Tides navigation</nav><main><h1>Tides</h1>\
             <p>{filler}</p><p>{ANSWER}, when the Sun and the Moon pull together.</p>\
             <p>{filler}</p></main><footer>Footer text</footer></body></html>"
        );
        let private_url = format!("{}/secret", private.base);
        let app = Router::new()
            .route("/article", get(move || async move { html(article) }))
            .route(
                "/second",
                get(|| async {
                    html(
                        "<html><body><p>Neap tides come at the quarter moons.</p></body></html>"
                            .into(),
                    )
                }),
            )
            .route("/moved", get(|| async { redirect("/second".into()) }))
            .route(
                "/redirect-private",
                get(move || async move { redirect(private_url) }),
            )
            .route(
                "/redirect-metadata",
                get(|| async { redirect("http://169.254.169.254/latest/meta-data/".into()) }),
            )
            .route(
                "/endless",
                get(|| async {
                    let chunk = Bytes::from_static(b"<p>endless tides page</p>");
                    let s = futures_util::stream::repeat(chunk).map(Ok::<_, std::io::Error>);
                    ([(header::CONTENT_TYPE, "text/html")], Body::from_stream(s)).into_response()
                }),
            )
            .route(
                "/stall",
                get(|| async {
                    let first = futures_util::stream::once(async {
                        Ok::<_, std::io::Error>(Bytes::from_static(b"<p>stalled tides</p>"))
                    });
                    let s = first.chain(futures_util::stream::pending());
                    ([(header::CONTENT_TYPE, "text/html")], Body::from_stream(s)).into_response()
                }),
            )
            .route(
                "/huge",
                get(|| async {
                    let chunk =
                        Bytes::from("<p>huge tides page</p>".repeat(64 * 1024 / 20).into_bytes());
                    let n = 50 * 1024 * 1024 / chunk.len();
                    let s = futures_util::stream::iter(
                        (0..n).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
                    );
                    ([(header::CONTENT_TYPE, "text/html")], Body::from_stream(s)).into_response()
                }),
            )
            .route(
                "/binary",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "application/octet-stream")],
                        vec![0u8, 1, 2, 3, 255, 254],
                    )
                }),
            )
            .route(
                "/lying",
                get(|| async {
                    let mut b = b"<p>tides".to_vec();
                    b.extend([0u8; 64]);
                    ([(header::CONTENT_TYPE, "text/html")], b)
                }),
            );
        FakeWeb {
            base: serve(app).await,
        }
    }

    /// Its `host:port`, for `allowedAddresses`.
    pub fn host_port(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

/// The search API (SearXNG's and Serper's), its results linking to `web`.
pub struct FakeSearch {
    pub base: String,
}

#[derive(Clone)]
struct Web(String);

impl FakeSearch {
    pub async fn start(web: &FakeWeb) -> Self {
        let app = Router::new()
            .route("/search", get(searxng).post(serper_search))
            .route("/news", axum::routing::post(serper_news))
            .route("/images", axum::routing::post(serper_images))
            .with_state(Web(web.base.clone()));
        FakeSearch {
            base: serve(app).await,
        }
    }
}

/// Answers `hang` never and `boom` with a 500, as `Some`; else `None`.
async fn trouble(q: &str) -> Option<Response> {
    if q.contains("hang") {
        std::future::pending::<()>().await;
    }
    q.contains("boom")
        .then(|| (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response())
}

async fn searxng(
    State(Web(web)): State<Web>,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    if p.get("format").map(String::as_str) != Some("json") {
        return (StatusCode::FORBIDDEN, "Forbidden").into_response();
    }
    let q = p.get("q").cloned().unwrap_or_default();
    if let Some(r) = trouble(&q).await {
        return r;
    }
    let paths = if q.contains("heavy") {
        HEAVY_PATHS
    } else {
        PATHS
    };
    let links: Vec<(String, &str)> = if q.contains("private") {
        PRIVATE_LINKS.iter().map(|l| (l.to_string(), *l)).collect()
    } else {
        paths.iter().map(|p| (format!("{web}{p}"), *p)).collect()
    };
    let results: Vec<Value> = links
        .iter()
        .map(|(url, path)| {
            json!({"url": url, "title": format!("Page {path}"),
                   "content": format!("Snippet of {path}"), "engine": "duckduckgo",
                   "category": "general", "score": 1.0})
        })
        .collect();
    axum::Json(json!({
        "query": q, "number_of_results": results.len(), "results": results,
        "answers": [], "infoboxes": [], "suggestions": [], "unresponsive_engines": [],
    }))
    .into_response()
}

/// Serper's refusal of a key, or the query.
async fn serper_query(headers: &HeaderMap, body: &Value) -> Result<String, Response> {
    if headers.get("x-api-key").and_then(|k| k.to_str().ok()) != Some(SERPER_KEY) {
        return Err((
            StatusCode::FORBIDDEN,
            axum::Json(json!({"message": "Unauthorized.", "statusCode": 403})),
        )
            .into_response());
    }
    let q = body["q"].as_str().unwrap_or_default().to_owned();
    match trouble(&q).await {
        Some(r) => Err(r),
        None => Ok(q),
    }
}

async fn serper_search(
    State(Web(web)): State<Web>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let q = match serper_query(&headers, &body).await {
        Ok(q) => q,
        Err(r) => return r,
    };
    axum::Json(json!({
        "searchParameters": {"q": q, "type": "search", "engine": "google"},
        "answerBox": {"title": "Spring tide", "answer": "Twice a month"},
        "knowledgeGraph": {"title": "Tide", "type": "Natural phenomenon",
                           "description": "The rise and fall of sea levels."},
        "organic": [
            {"title": "Tides explained", "link": format!("{web}/article"),
             "snippet": "All about tides.", "position": 1, "date": "Jan 2, 2026"},
            {"title": "Neap tides", "link": format!("{web}/second"),
             "snippet": "Quarter moons.", "position": 2},
        ],
        "topStories": [{"title": "King tide floods harbour", "link": "https://news.example/king",
                        "source": "Harbour News", "date": "2 hours ago"}],
        "relatedSearches": [{"query": "neap tide"}],
    }))
    .into_response()
}

async fn serper_news(headers: HeaderMap, axum::Json(body): axum::Json<Value>) -> Response {
    if let Err(r) = serper_query(&headers, &body).await {
        return r;
    }
    axum::Json(json!({"news": [{"title": "Tide tables published", "link": "https://news.example/tables",
                                "snippet": "New tables.", "source": "Coast Daily", "date": "1 day ago"}]}))
    .into_response()
}

async fn serper_images(headers: HeaderMap, axum::Json(body): axum::Json<Value>) -> Response {
    if let Err(r) = serper_query(&headers, &body).await {
        return r;
    }
    axum::Json(
        json!({"images": [{"title": "Tide chart", "imageUrl": "https://img.example/chart.png",
                                  "link": "https://img.example/chart", "position": 1}]}),
    )
    .into_response()
}
