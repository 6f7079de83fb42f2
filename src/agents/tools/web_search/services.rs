//! The services LibreChat reads pages and ranks passages with, when the administrator sets
//! them up instead of the built-in parts: a Firecrawl-compatible scraper (`POST
//! {firecrawlApiUrl}/{v1|v2}/scrape`) and the Jina (`POST {jinaApiUrl}`, its `/v1/rerank`) and
//! Cohere (`POST /v2/rerank`) rerankers, each called with the server's key as a bearer token at
//! the address the administrator chose (so with the providers' client, not the guarded one).
//!
//! A page's address still comes from search results, which anyone can shape: it is judged by
//! the guarded client's rules before Firecrawl is asked to fetch it, so a self-hosted
//! Firecrawl on the private network is never pointed at a private address. Every answer is
//! bounded in size and time; a service's failure is told in words (its `error`, or its
//! status), and the search goes on without it (the page keeps its snippet; the built-in
//! reranker ranks the page's passages).

use std::time::Duration;

use serde_json::{Value, json};

use super::extract::Page;
use super::rerank::Highlight;
use super::scrape::NotRead;
use crate::config::web_search::{FIRECRAWL_API_URL, Reranker as RerankerType, WebSearchConfig};
use crate::net::{Guarded, body_prefix, error_text};

/// The most read of Firecrawl's answer: the page's Markdown and metadata, in JSON.
const MAX_SCRAPE_BYTES: usize = 4 * 1024 * 1024;
/// The most read of a reranker's answer (indexes and scores).
const MAX_RERANK_BYTES: usize = 256 * 1024;

/// A Firecrawl-compatible scraper.
#[derive(Clone)]
pub struct Firecrawl {
    pub http: reqwest::Client,
    /// The scrape route: `{firecrawlApiUrl}/{firecrawlVersion}/scrape`.
    pub endpoint: String,
    pub key: String,
    /// `firecrawlOptions`, sent with every page.
    pub options: serde_json::Map<String, Value>,
}

impl Firecrawl {
    /// Firecrawl as `config` sets it up, called with `key`.
    pub fn new(config: &WebSearchConfig, http: reqwest::Client, key: String) -> Self {
        let base = config
            .firecrawl_api_url
            .value
            .as_deref()
            .unwrap_or(FIRECRAWL_API_URL)
            .trim_end_matches('/');
        Firecrawl {
            http,
            endpoint: format!("{base}/{}/scrape", config.firecrawl_version),
            key,
            options: config.firecrawl_options.clone(),
        }
    }

    /// Has Firecrawl read `link`, within `timeout` in all (also sent as its own `timeout`).
    pub async fn page(
        &self,
        guarded: &Guarded,
        link: &str,
        timeout: Duration,
    ) -> Result<Page, NotRead> {
        let url = url::Url::parse(link).map_err(|_| NotRead::BadUrl)?;
        guarded.preflight(&url).await?;
        let mut body = Value::Object(self.options.clone());
        body["url"] = json!(link);
        if body.get("formats").is_none() {
            body["formats"] = json!(["markdown"]);
        }
        if body.get("timeout").is_none() {
            body["timeout"] = json!(timeout.as_millis() as u64);
        }
        let answer = post_json(
            &self.http,
            "Firecrawl",
            &self.endpoint,
            &self.key,
            &body,
            MAX_SCRAPE_BYTES,
            timeout,
        )
        .await
        .map_err(NotRead::Service)?;
        scraped(&answer)
    }
}

/// The page in Firecrawl's answer (`{success, data: {markdown, metadata: {title}}}`), its
/// Markdown cut into paragraphs at blank lines; without Markdown (`formats` that ask for
/// none), its `html` or `rawHtml` read as the built-in scraper reads a page.
fn scraped(answer: &Value) -> Result<Page, NotRead> {
    if answer["success"] == false {
        return Err(NotRead::Service(format!(
            "Firecrawl: {}",
            said(&answer.to_string())
        )));
    }
    let data = &answer["data"];
    let html = ["html", "rawHtml"].iter().find_map(|k| data[*k].as_str());
    let markdown = data["markdown"].as_str().unwrap_or_default();
    if markdown.trim().is_empty()
        && let Some(html) = html
    {
        let mut page = super::extract::readable(html);
        if let Some(title) = data["metadata"]["title"].as_str() {
            page.title = title.to_owned();
        }
        return Ok(page);
    }
    let paragraphs: Vec<String> = markdown
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    if paragraphs.is_empty() {
        return Err(NotRead::Service(
            "Firecrawl found no text on the page".into(),
        ));
    }
    Ok(Page {
        title: data["metadata"]["title"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        paragraphs,
    })
}

/// POSTs `body` to a service's `endpoint` with `key` as a bearer token: its JSON answer (at
/// most `limit` bytes), all within `within`; else what went wrong, in words that name it.
async fn post_json(
    http: &reqwest::Client,
    name: &str,
    endpoint: &str,
    key: &str,
    body: &Value,
    limit: usize,
    within: Duration,
) -> Result<Value, String> {
    let call = async {
        let response = http
            .post(endpoint)
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("{name}: {}", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            let text = error_text(response).await;
            return Err(format!(
                "{name} answered HTTP {}: {}",
                status.as_u16(),
                said(&text)
            ));
        }
        let bytes = body_prefix(response, limit + 1, within).await;
        if bytes.len() > limit {
            return Err(format!("{name}'s answer is too long"));
        }
        serde_json::from_slice(&bytes).map_err(|_| format!("{name}'s answer is not JSON"))
    };
    tokio::time::timeout(within, call)
        .await
        .map_err(|_| format!("{name} did not answer in time"))?
}

/// What a service's error answer says: its `error` or `message`, else its start.
fn said(text: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let message = parsed.as_ref().and_then(|v| {
        ["error", "message", "detail"]
            .iter()
            .find_map(|k| v[*k].as_str().map(str::to_owned))
    });
    let text = message.unwrap_or_else(|| text.trim().to_owned());
    text.chars().take(300).collect()
}

/// A reranking service: Jina's and Cohere's APIs take and answer the same fields
/// (`{model, query, documents, top_n}` → `{results: [{index, relevance_score}]}`).
#[derive(Clone)]
pub struct Reranker {
    pub http: reqwest::Client,
    /// `Jina` or `Cohere`, for messages.
    pub name: &'static str,
    pub endpoint: String,
    pub key: String,
    pub model: &'static str,
    pub timeout: Duration,
}

impl Reranker {
    /// Jina's multilingual reranker, as LibreChat calls it.
    pub const JINA_MODEL: &'static str = "jina-reranker-v2-base-multilingual";
    /// Cohere's current reranker.
    pub const COHERE_MODEL: &'static str = "rerank-v3.5";

    /// The service `config.reranker` names, with its key (`jina_key` or `cohere_key`); none
    /// for the built-in ranking, or without the key.
    pub fn new(
        config: &WebSearchConfig,
        http: reqwest::Client,
        jina_key: Option<String>,
        cohere_key: Option<String>,
    ) -> Option<Self> {
        let (name, endpoint, key, model) = match config.reranker {
            RerankerType::Jina => ("Jina", &config.jina_api_url, jina_key?, Self::JINA_MODEL),
            RerankerType::Cohere => (
                "Cohere",
                &config.cohere_api_url,
                cohere_key?,
                Self::COHERE_MODEL,
            ),
            RerankerType::Builtin | RerankerType::None => return None,
        };
        Some(Reranker {
            http,
            name,
            endpoint: endpoint.clone(),
            key,
            model,
            timeout: config.search_timeout,
        })
    }

    /// The `top_n` passages of `passages` that answer `query` best, best first.
    pub async fn best(
        &self,
        query: &str,
        passages: &[String],
        top_n: usize,
    ) -> Result<Vec<Highlight>, String> {
        if passages.is_empty() {
            return Ok(Vec::new());
        }
        let body = json!({
            "model": self.model, "query": query, "documents": passages,
            "top_n": top_n.min(passages.len()),
        });
        let answer = post_json(
            &self.http,
            self.name,
            &self.endpoint,
            &self.key,
            &body,
            MAX_RERANK_BYTES,
            self.timeout,
        )
        .await?;
        ranked(&answer, passages, top_n)
            .ok_or_else(|| format!("{}'s answer has no results", self.name))
    }
}

/// The passages a reranker's `results` point at, best first; `None` if it has no list.
fn ranked(answer: &Value, passages: &[String], top_n: usize) -> Option<Vec<Highlight>> {
    let mut out: Vec<Highlight> = answer["results"]
        .as_array()?
        .iter()
        .filter_map(|r| {
            let text = passages.get(usize::try_from(r["index"].as_u64()?).ok()?)?;
            Some(Highlight {
                score: r["relevance_score"].as_f64().unwrap_or(0.0),
                text: text.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.truncate(top_n);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firecrawls_markdown_becomes_paragraphs_and_its_errors_words() {
        let page = scraped(&json!({"success": true, "data": {
            "markdown": "# Tides\n\nSpring tides   happen\ntwice a month.\n\n\n\nMore.",
            "metadata": {"title": "Tides", "statusCode": 200}}}))
        .unwrap();
        assert_eq!(page.title, "Tides");
        assert_eq!(
            page.paragraphs,
            ["# Tides", "Spring tides happen twice a month.", "More."]
        );
        let e = scraped(&json!({"success": false, "error": "Payment required"})).unwrap_err();
        assert_eq!(e.to_string(), "Firecrawl: Payment required");
        assert!(scraped(&json!({"success": true, "data": {"markdown": ""}})).is_err());
        let from_html = scraped(&json!({"success": true, "data": {
            "rawHtml": "<html><body><nav>Menu</nav><p>Neap tides come at quarter moons.</p></body></html>"}}))
        .unwrap();
        assert_eq!(from_html.paragraphs, ["Neap tides come at quarter moons."]);
    }

    #[test]
    fn reranked_indexes_point_at_passages_and_bad_ones_are_dropped() {
        let passages = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let got = ranked(
            &json!({"results": [{"index": 2, "relevance_score": 0.9},
                                {"index": 7, "relevance_score": 0.8},
                                {"index": 0, "relevance_score": 0.95}]}),
            &passages,
            2,
        )
        .unwrap();
        assert_eq!(
            got.iter().map(|h| h.text.as_str()).collect::<Vec<_>>(),
            ["a", "c"]
        );
        assert!(ranked(&json!({"detail": "no"}), &passages, 2).is_none());
        assert_eq!(
            said(r#"{"message": "invalid api token"}"#),
            "invalid api token"
        );
    }
}
