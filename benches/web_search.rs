//! Web search benchmark (not a test): `cargo bench --bench web_search`.
//!
//! What the built-in scraper and reranker add to one search. This program serves, on
//! 127.0.0.1, a SearXNG answering five results and the five result pages (articles of about
//! 60 KB of HTML each: navigation, scripts, 40 paragraphs). It then runs `BENCH_SEARCHES`
//! (200) searches through the `web_search` tool as a chat turn runs it, and prints p50/p99 of:
//! - the search provider's answer alone (the same request, made directly);
//! - the whole tool call: search, five pages fetched and read, passages ranked;
//! - the reading (HTML to paragraphs, five pages) and the ranking (BM25 over the five pages'
//!   passages), each measured on its own.
//!
//! The difference between the first two is what the built-in parts add per search on a local
//! network; over the internet the pages' own latency adds to it (read at the same time, so
//! the slowest page counts, bounded by `scraperTimeout`).

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use common::stream::pct;
use librechat::agents::tools::web_search::{self, WebSearch, passages, readable, rerank_best};
use librechat::agents::tools::{Context, Tool};
use librechat::config::Env;
use librechat::config::web_search::WebSearchConfig;
use serde_json::{Value, json};

const WORDS: &[&str] = &[
    "harbour", "tide", "moon", "sailing", "current", "wind", "coast", "weather", "chart", "depth",
    "channel", "boat", "season", "spring", "neap", "water", "level", "forecast", "storm",
    "pressure", "gauge", "station", "report", "island", "river", "estuary", "flood", "ebb",
    "range", "height",
];

/// An article of about 60 KB: chrome, then 40 paragraphs of 25 sentences' worth of words.
fn article(seed: usize) -> String {
    let mut body = String::from(
        "<!doctype html><html><head><title>Tide tables</title><script>var tracking = \
         {site: 'news', ids: [1, 2, 3]};</script><style>p { margin: 0 }</style></head><body>\
         <nav><a href='/'>Home</a> | <a href='/w'>Weather</a> | <a href='/t'>Tides</a></nav>\
         <main><h1>Tides this week</h1>",
    );
    let mut n = seed as u64;
    for p in 0..40 {
        body.push_str("<p>");
        for w in 0..200 {
            n = n
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            body.push_str(WORDS[(n >> 33) as usize % WORDS.len()]);
            body.push(if w % 12 == 11 { '.' } else { ' ' });
            if w % 12 == 11 {
                body.push(' ');
            }
        }
        if p == 17 {
            body.push_str(" Spring tides happen twice a month, at new and full moon.");
        }
        body.push_str("</p>");
    }
    body.push_str("</main><footer>Footer links and a newsletter form</footer></body></html>");
    body
}

async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let pages: Vec<String> = (0..5).map(|i| article(i + 1)).collect();
    let b = base.clone();
    let mut app =
        Router::new().route(
            "/search",
            get(
                move |Query(q): Query<std::collections::HashMap<String, String>>| {
                    let b = b.clone();
                    async move {
                        let results: Vec<Value> = (0..5)
                    .map(|i| json!({"url": format!("{b}/page/{i}"), "title": format!("Tides {i}"),
                                    "content": "Tide tables for the week", "engine": "bench"}))
                    .collect();
                        axum::Json(
                            json!({"query": q.get("q"), "results": results, "answers": [],
                                  "infoboxes": []}),
                        )
                    }
                },
            ),
        );
    for (i, page) in pages.into_iter().enumerate() {
        app = app.route(
            &format!("/page/{i}"),
            get(move || {
                let page = page.clone();
                async move { ([("content-type", "text/html; charset=utf-8")], page) }
            }),
        );
    }
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn report(name: &str, mut times: Vec<Duration>) -> f64 {
    times.sort();
    let (p50, p99) = (pct(&times, 0.50), pct(&times, 0.99));
    println!("{name:<52} p50 {p50:>8.2} ms   p99 {p99:>8.2} ms");
    p50
}

fn main() {
    let searches: usize = std::env::var("BENCH_SEARCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let base = serve().await;
        let env = Env::from_pairs([("SEARXNG_INSTANCE_URL".to_owned(), base.clone())]);
        let host = base.trim_start_matches("http://");
        let section = json!({"allowedAddresses": [host]});
        let (config, warnings) = WebSearchConfig::load(&env, Some(&section));
        assert!(warnings.is_empty(), "{warnings:?}");
        let http = reqwest::Client::new();
        let tool = WebSearch::new(&config, http.clone());
        let cx = Context {
            user_id: "bench".into(),
            conversation_id: "c".into(),
            message_id: "m".into(),
            call_id: "call".into(),
            credentials: None,
            sign_in: None,
            progress: None,
            attachments: Default::default(),
        };
        let query = "when are spring tides";
        println!("{searches} searches of five 60 KB pages on 127.0.0.1\n");

        let mut provider = Vec::with_capacity(searches);
        let mut whole = Vec::with_capacity(searches);
        for _ in 0..searches {
            let t = Instant::now();
            let r = http
                .get(format!("{base}/search?q=when+are+spring+tides&format=json"))
                .send()
                .await
                .unwrap();
            let _: Value = r.json().await.unwrap();
            provider.push(t.elapsed());

            let t = Instant::now();
            let out = tool.call(json!({"query": query}), &cx).await.unwrap();
            whole.push(t.elapsed());
            assert!(out.contains("Spring tides happen"), "{out}");
        }
        let search = report("search provider alone", provider);
        let all = report("web_search tool call (search, read, rank)", whole);

        let pages: Vec<String> = (0..5).map(|i| article(i + 1)).collect();
        let mut reading = Vec::with_capacity(searches);
        let mut ranking = Vec::with_capacity(searches);
        for _ in 0..searches {
            let t = Instant::now();
            let read: Vec<Vec<String>> = pages
                .iter()
                .map(|html| passages(&readable(html).paragraphs))
                .collect();
            reading.push(t.elapsed());
            let t = Instant::now();
            let best = rerank_best(query, &read, 3);
            ranking.push(t.elapsed());
            assert!(best.iter().any(|p| !p.is_empty()));
        }
        report("reading five pages (HTML to passages, one core)", reading);
        report("ranking their passages (built-in BM25)", ranking);
        println!(
            "\nadded per search by the built-in scraper and reranker (p50): {:.2} ms",
            all - search
        );
        let _ = web_search::NAME;
    });
}
