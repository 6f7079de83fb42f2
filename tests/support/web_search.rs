//! What the web search suites share: the fakes one search needs (the model, the search API,
//! the web of result pages and a private service), a server whose scraper may read that web,
//! a question the fake model answers by searching, and readers of the answer's frames.
#![allow(dead_code)]

use serde_json::{Value, json};

use super::fake_openai::{FakeOpenAi, KEY};
use super::fake_search::{FakeSearch, FakeWeb, Private};
use super::fake_tools::ToolScript;
use super::{Session, TestServer, stream};

pub const PW: &str = "correct horse battery";

/// The fakes a test searches with.
pub struct Web {
    pub fake: FakeOpenAi,
    pub private: Private,
    pub web: FakeWeb,
    pub search: FakeSearch,
}

pub async fn web() -> Web {
    let private = Private::start().await;
    let web = FakeWeb::start(&private).await;
    let search = FakeSearch::start(&web).await;
    Web {
        fake: FakeOpenAi::start().await,
        private,
        web,
        search,
    }
}

/// The scraper's time per page in these servers: long enough that a loaded machine still reads
/// every local page whole (a page that stalls is read as far as it came when it runs out).
pub const SCRAPER_TIMEOUT_MS: u64 = 8000;

/// A server whose `webSearch` lets the scraper read the fake web (and nothing else private),
/// with `env` and more yaml (`interface`, ...).
pub async fn server(w: &Web, env: &[(&str, &str)], more_yaml: &str) -> TestServer {
    let yaml = format!(
        "version: 1.3.17\nwebSearch:\n  allowedAddresses: ['{}']\n  scraperTimeout: {SCRAPER_TIMEOUT_MS}\n{more_yaml}",
        w.web.host_port()
    );
    let mut b = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &w.fake.base)
        .env("OPENAI_MODELS", "searcher,gpt-4o")
        .yaml(&yaml);
    for (k, v) in env {
        b = b.env(k, v);
    }
    b.start().await
}

/// Asks `searcher` (which calls web_search with `args`) with the composer's web search toggle
/// on; every frame of the answer.
pub async fn ask(w: &Web, server: &TestServer, s: &Session, args: Value) -> Vec<Value> {
    w.fake
        .script("searcher", ToolScript::calls([("web_search", args)]));
    let id = server
        .start_chat(
            s,
            "openAI",
            json!({"text": "When are spring tides?", "model": "searcher",
                   "ephemeralAgent": {"web_search": true, "mcp": []}}),
        )
        .await;
    stream::frames(server, s, &id, "").await
}

/// The web_search call's output, as saved in the answer.
pub fn output(frames: &[Value]) -> String {
    let last = frames.last().unwrap();
    assert!(last.get("error").is_none(), "{last}");
    let parts = last["responseMessage"]["content"].as_array().unwrap();
    let call = parts
        .iter()
        .find(|p| p["type"] == "tool_call")
        .expect("a tool call");
    assert_eq!(call["tool_call"]["name"], "web_search");
    call["tool_call"]["output"].as_str().unwrap().to_owned()
}

/// The tools the model was offered in its last request.
pub fn offered(fake: &FakeOpenAi) -> Vec<String> {
    fake.last_chat()["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["function"]["name"].as_str().map(str::to_owned))
        .collect()
}

pub fn attachments(frames: &[Value]) -> Vec<Value> {
    frames
        .iter()
        .filter(|f| f["event"] == "attachment")
        .map(|f| f["data"].clone())
        .collect()
}
