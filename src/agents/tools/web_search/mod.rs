//! LibreChat's `web_search` tool, with no paid service needed: the query goes to the search
//! provider the server has (SearXNG or Serper, see `config::web_search`), the top results'
//! pages are read by the built-in scraper through the guarded client, and the built-in BM25
//! reranker picks each page's passages that answer the query best. Where the administrator
//! sets them up, Firecrawl reads the pages and Jina or Cohere ranks the passages instead
//! (`services`).
//!
//! The model gets the results as compact text in which each source carries its citation
//! anchor (`\ue202turn0search0`: the answer's first search, its first web result), and the
//! answer gets LibreChat's `web_search` attachment with the same sources under the same
//! numbers, which LibreChat's client turns into its Sources panel and inline citations. Only a
//! failed search is an error for the model; a page that cannot be read keeps its snippet.

mod extract;
mod keys;
mod output;
mod providers;
mod rerank;
mod scrape;
mod services;

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Context, Tool, ToolError, ToolFuture};
use crate::config::web_search::{Reranker, Scraper, SearchProvider, WebSearchConfig};
use crate::net::Guarded;
use crate::providers::ToolDef;

pub use extract::{Page, readable};
pub use providers::{Found, Image, Provider, Query, Source};
pub use rerank::{Highlight, best as rerank_best, passages};

/// The tool's name, LibreChat's `Tools.web_search`.
pub const NAME: &str = "web_search";
/// How many of the top web results are read.
const PAGES_READ: usize = 5;
/// How many passages of each page go to the model.
const PASSAGES_PER_PAGE: usize = 3;
/// The longest query sent.
const MAX_QUERY_CHARS: usize = 400;

pub struct WebSearch {
    def: ToolDef,
    provider: Option<Arc<dyn Provider>>,
    /// For Serper with a person's own key.
    http: reqwest::Client,
    guarded: Guarded,
    /// Firecrawl, when it reads the pages.
    firecrawl: Option<services::Firecrawl>,
    /// Jina or Cohere, when one ranks the passages.
    reranker: Option<services::Reranker>,
    config: WebSearchConfig,
}

impl WebSearch {
    /// The tool as `config` sets it up, calling the search provider through `http` and the
    /// result pages through a guarded client that allows only `config.allowed_addresses`.
    pub fn new(config: &WebSearchConfig, http: reqwest::Client) -> Self {
        let provider: Option<Arc<dyn Provider>> = match config.provider() {
            Some(SearchProvider::Searxng) => Some(Arc::new(providers::Searxng {
                http: http.clone(),
                base: config
                    .searxng_instance_url
                    .value
                    .clone()
                    .unwrap_or_default(),
                api_key: config.searxng_api_key.value.clone(),
                timeout: config.search_timeout,
            })),
            Some(SearchProvider::Serper) => Some(Arc::new(providers::Serper {
                http: http.clone(),
                base: config.serper_api_url.clone(),
                api_key: config.serper_api_key.value.clone().unwrap_or_default(),
                timeout: config.search_timeout,
            })),
            None => None,
        };
        let firecrawl = (config.scraper == Scraper::Firecrawl)
            .then(|| config.firecrawl_api_key.value.clone())
            .flatten()
            .map(|key| services::Firecrawl::new(config, http.clone(), key));
        let reranker = services::Reranker::new(
            config,
            http.clone(),
            config.jina_api_key.value.clone(),
            config.cohere_api_key.value.clone(),
        );
        WebSearch {
            def: definition(),
            provider,
            http,
            guarded: Guarded::new(config.allowed_addresses.clone()),
            firecrawl,
            reranker,
            config: config.clone(),
        }
    }

    /// The server's provider, else the one the person's own keys set up.
    async fn provider_for(&self, cx: &Context) -> Result<Arc<dyn Provider>, ToolError> {
        if let Some(p) = &self.provider {
            return Ok(p.clone());
        }
        let personal = match &cx.credentials {
            Some(super::CredentialSource(store)) => {
                keys::personal(&self.config, store.as_ref(), &cx.user_id).await?
            }
            None => None,
        };
        match personal {
            Some(keys::Personal::Serper(api_key)) => Ok(Arc::new(providers::Serper {
                http: self.http.clone(),
                base: self.config.serper_api_url.clone(),
                api_key,
                timeout: self.config.search_timeout,
            })),
            // A person's address is called as any address a person chose: guarded.
            Some(keys::Personal::Searxng { url, key }) => {
                let client = self.guarded.client_for_str(&url).map_err(|e| {
                    ToolError(format!(
                        "the search failed: the person's SearXNG address is refused ({e}). \
                         Tell them so."
                    ))
                })?;
                Ok(Arc::new(providers::Searxng {
                    http: client.clone(),
                    base: url,
                    api_key: key,
                    timeout: self.config.search_timeout,
                }))
            }
            None => Err(ToolError(
                "web search is not set up (no search provider: the administrator sets \
                 SEARXNG_INSTANCE_URL or SERPER_API_KEY, or the person adds their own in the \
                 web search settings). Tell the person so and answer without searching."
                    .into(),
            )),
        }
    }

    async fn run(&self, query: Query, cx: &Context) -> Result<String, ToolError> {
        let provider = self.provider_for(cx).await?;
        let turn = cx.attachments.next_use(NAME);
        let found = provider.search(&query).await?;
        let started = std::time::Instant::now();
        let (firecrawl, reranker) = self.services_for(cx).await;
        let highlights = self
            .read_pages(
                &query.q,
                &found.organic,
                firecrawl.as_ref(),
                reranker.as_ref(),
            )
            .await;
        tracing::debug!(
            provider = provider.name(),
            results = found.organic.len(),
            read_ms = started.elapsed().as_millis() as u64,
            "web search: pages read and reranked"
        );
        let data = output::attachment_data(turn, &found, &highlights);
        cx.attachments.attach(json!({
            "messageId": cx.message_id,
            "toolCallId": cx.call_id,
            "conversationId": cx.conversation_id,
            // LibreChat names it `web_search_<call id>_<nanoid>`.
            "name": format!("{NAME}_{}_{}", cx.call_id, &uuid::Uuid::new_v4().simple().to_string()[..21]),
            "type": NAME,
            NAME: data,
        }));
        Ok(output::for_model(turn, &query.q, &found, &highlights))
    }

    /// The Firecrawl and reranking services of this search: the server's, else, where their
    /// keys are `user_provided`, the person's own (stored as the keys name them); none for
    /// the built-in parts.
    async fn services_for(
        &self,
        cx: &Context,
    ) -> (Option<services::Firecrawl>, Option<services::Reranker>) {
        let Some(super::CredentialSource(store)) = &cx.credentials else {
            return (self.firecrawl.clone(), self.reranker.clone());
        };
        let own = |key: &crate::config::web_search::Key| {
            let key = key.clone();
            async move {
                if !key.personal {
                    return None;
                }
                keys::stored(store.as_ref(), &cx.user_id, &key)
                    .await
                    .ok()
                    .flatten()
            }
        };
        let config = &self.config;
        let firecrawl = match &self.firecrawl {
            Some(f) => Some(f.clone()),
            None if config.scraper == Scraper::Firecrawl => own(&config.firecrawl_api_key)
                .await
                .map(|key| services::Firecrawl::new(config, self.http.clone(), key)),
            None => None,
        };
        let reranker = match &self.reranker {
            Some(r) => Some(r.clone()),
            None => services::Reranker::new(
                config,
                self.http.clone(),
                own(&config.jina_api_key).await,
                own(&config.cohere_api_key).await,
            ),
        };
        (firecrawl, reranker)
    }

    /// The best passages of each of the first [`PAGES_READ`] web results' pages (an empty
    /// list for a page that could not be read), each page read and ranked at the same time,
    /// by `firecrawl` and `reranker` where given, else by the built-in parts.
    async fn read_pages(
        &self,
        query: &str,
        organic: &[Source],
        firecrawl: Option<&services::Firecrawl>,
        reranker: Option<&services::Reranker>,
    ) -> Vec<Vec<rerank::Highlight>> {
        let reads = organic.iter().take(PAGES_READ).map(|s| async move {
            let timeout = self.config.scraper_timeout;
            let page = match firecrawl {
                Some(f) => f.page(&self.guarded, &s.link, timeout).await,
                None => scrape::page(&self.guarded, &s.link, timeout).await,
            };
            match page {
                Ok(page) => rerank::passages(&page.paragraphs),
                Err(e) => {
                    tracing::info!(link = %s.link, reason = %e, "a result's page was not read");
                    Vec::new()
                }
            }
        });
        let pages: Vec<Vec<String>> = futures_util::future::join_all(reads).await;
        match (reranker, self.config.reranker) {
            (_, Reranker::None) => pages
                .into_iter()
                .map(|p| {
                    p.into_iter()
                        .take(PASSAGES_PER_PAGE)
                        .map(|text| rerank::Highlight { score: 0.0, text })
                        .collect()
                })
                .collect(),
            // Each page ranked by the service; one it fails on by ours.
            (Some(service), _) => {
                let ranked = pages.iter().map(|p| async move {
                    match service.best(query, p, PASSAGES_PER_PAGE).await {
                        Ok(best) => best,
                        Err(reason) => {
                            tracing::info!(%reason, "the reranker failed; the built-in one ranks");
                            rerank::best(query, std::slice::from_ref(p), PASSAGES_PER_PAGE)
                                .pop()
                                .unwrap_or_default()
                        }
                    }
                });
                futures_util::future::join_all(ranked).await
            }
            (None, _) => rerank::best(query, &pages, PASSAGES_PER_PAGE),
        }
    }
}

/// LibreChat's web search context (its `buildWebSearchContext`), which it adds to the
/// instructions of a model that may search: when to search, and how to cite.
const CONTEXT: &str = r#"# `web_search`:
Use this tool when the user's request calls for it, whether directly, indirectly, or implicitly, or when answering requires information that is current, real-time, or otherwise beyond your own knowledge; for questions you can answer reliably on your own, respond directly without searching. When searching, execute immediately without preface, then provide a brief summary addressing the query directly, then structure your response with clear Markdown formatting (## headers, lists, tables). Cite sources properly, tailor tone to query type, and provide comprehensive details.

Use the conversation date/time from the dynamic runtime context when recency matters.

**CITATION FORMAT - UNICODE ESCAPE SEQUENCES ONLY:**
Use these EXACT escape sequences (copy verbatim): \ue202 (before each anchor), \ue200 (group start), \ue201 (group end), \ue203 (highlight start), \ue204 (highlight end)

Anchor pattern: \ue202turn{N}{type}{index} where N=turn number, type=search|news|image|ref, index=0,1,2...

**Examples (copy these exactly):**
- Single: "Statement.\ue202turn0search0"
- Multiple: "Statement.\ue202turn0search0\ue202turn0news1"
- Group: "Statement. \ue200\ue202turn0search0\ue202turn0news1\ue201"
- Highlight: "\ue203Cited text.\ue204\ue202turn0search0"
- Image: "See photo\ue202turn0image0."

**CRITICAL:** Output escape sequences EXACTLY as shown. Do NOT substitute with † or other symbols. Place anchors AFTER punctuation. Cite every non-obvious fact/quote. NEVER use markdown links, [1], footnotes, or HTML tags."#;

/// What the model is told beside its instructions when it may search: LibreChat's web search
/// context, then its runtime context with the conversation's start (`started`, UTC, as
/// JavaScript's `toISOString` writes it), as LibreChat adds both.
pub fn instructions(started: time::OffsetDateTime) -> String {
    let iso = started
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default();
    format!("{CONTEXT}\n\n# `{NAME}` Runtime Context\nConversation Date & Time: {iso}")
}

/// What `librechat doctor` finds of the server's search provider: SearXNG asked one query
/// (the JSON format must be on), through `http` as the tool calls it; `None` when there is
/// no provider to ask without cost (none, or Serper, whose every query is billed).
pub async fn probe(
    config: &WebSearchConfig,
    http: reqwest::Client,
) -> Option<Result<String, String>> {
    if config.provider() != Some(SearchProvider::Searxng) {
        return None;
    }
    let base = config.searxng_instance_url.value.clone()?;
    let searxng = providers::Searxng {
        http,
        base: base.clone(),
        api_key: config.searxng_api_key.value.clone(),
        timeout: config.search_timeout,
    };
    let query = Query {
        q: "librechat".into(),
        safe: config.safe_search,
        ..Query::default()
    };
    Some(match searxng.search(&query).await {
        Ok(found) => Ok(format!(
            "web search: SearXNG at {base} answers in JSON ({} results)",
            found.organic.len()
        )),
        Err(e) => Err(format!("web search: SearXNG at {base}: {}", e.0)),
    })
}

/// Whether web search can run for `user_id`: the server has a search provider, or the person's
/// own keys set one up. A toggle or an agent's tool for it otherwise offers nothing (as a
/// toggle for a tool this server does not have).
pub async fn available(
    config: &WebSearchConfig,
    creds: &dyn super::Credentials,
    user_id: &str,
) -> bool {
    config.provider().is_some()
        || keys::personal(config, creds, user_id)
            .await
            .ok()
            .flatten()
            .is_some()
}

/// LibreChat's answer to `GET /api/agents/tools/web_search/auth` (its `verifyWebSearchAuth`):
/// whether each kind of service is set up, and by whom. The search provider is when the server
/// has one, by the person when their own keys set one up; the scraper and the reranker always
/// are (built in), by the person when the service chosen takes each person's own key
/// (`user_provided`), which they may or may not have given (the built-in part stands in).
pub async fn auth_status(
    config: &WebSearchConfig,
    creds: &dyn super::Credentials,
    user_id: &str,
) -> Value {
    let system = config.provider().is_some();
    let by = |personal: bool| {
        if personal {
            "user_provided"
        } else {
            "system_defined"
        }
    };
    json!({
        "authenticated": available(config, creds, user_id).await,
        "authTypes": [
            ["providers", if system { "system_defined" } else { "user_provided" }],
            ["scrapers", by(config.scraper == Scraper::Firecrawl && config.firecrawl_api_key.personal)],
            ["rerankers", by(match config.reranker {
                Reranker::Jina => config.jina_api_key.personal,
                Reranker::Cohere => config.cohere_api_key.personal,
                _ => false,
            })],
        ],
    })
}

/// The tool's definition, as the model sees it.
fn definition() -> ToolDef {
    ToolDef {
        name: NAME.into(),
        description: "Searches the web for current information, and reads the top pages. Use \
            it when the question needs facts that are recent, real-time or beyond your own \
            knowledge; answer directly when you can. Send a concise query. Cite the sources \
            of the results in your answer with the anchors they carry, copied exactly (such \
            as \\ue202turn0search0), right after the statement they support; never as \
            markdown links, [1] or footnotes."
            .into(),
        parameters: json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "The search query."},
                "date": {
                    "type": "string", "enum": ["h", "d", "w", "m", "y"],
                    "description": "Only results from the past hour (h), day (d), week (w), \
                        month (m) or year (y)."
                },
                "country": {
                    "type": "string",
                    "description": "A two-letter country code to search from (us, de, fr, ...)."
                },
                "images": {"type": "boolean", "description": "Also search images."},
                "news": {"type": "boolean", "description": "Also search news."}
            },
            "required": ["query"]
        }),
    }
}

impl Tool for WebSearch {
    fn def(&self) -> &ToolDef {
        &self.def
    }

    fn call<'a>(&'a self, args: Value, cx: &'a Context) -> ToolFuture<'a> {
        Box::pin(async move {
            let q: String = args["query"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(MAX_QUERY_CHARS)
                .collect();
            if q.is_empty() {
                return Err(ToolError(
                    "the query is empty: send what to search for.".into(),
                ));
            }
            let country = args["country"]
                .as_str()
                .map(str::trim)
                .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()))
                .map(str::to_ascii_lowercase);
            let query = Query {
                q,
                date: args["date"].as_str().map(str::to_owned),
                country,
                images: args["images"].as_bool().unwrap_or(false),
                news: args["news"].as_bool().unwrap_or(false),
                safe: self.config.safe_search,
            };
            self.run(query, cx).await
        })
    }
}
