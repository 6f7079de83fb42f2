//! `webSearch` of librechat.yaml, read as LibreChat reads it (its `webSearchSchema` and
//! `loadWebSearchAuth`): which search provider, scraper and reranker answer the `web_search`
//! tool, and their keys and addresses.
//!
//! ```yaml
//! webSearch:
//!   searchProvider: searxng              # or serper
//!   searxngInstanceUrl: ${SEARXNG_INSTANCE_URL}
//!   serperApiKey: ${SERPER_API_KEY}
//!   scraperProvider: firecrawl           # firecrawl needs firecrawlApiKey; else built in
//!   firecrawlApiUrl: ${FIRECRAWL_API_URL} # a self-hosted Firecrawl; else api.firecrawl.dev
//!   firecrawlVersion: v2                 # or v1
//!   firecrawlOptions: {onlyMainContent: true}
//!   rerankerType: jina                   # jina, cohere, none; else built in
//!   jinaApiKey: ${JINA_API_KEY}
//!   scraperTimeout: 7500
//!   safeSearch: 1                        # 0 off, 1 moderate, 2 strict
//! ```
//!
//! As in LibreChat, every key has a default that names its environment variable
//! (`serperApiKey` is `${SERPER_API_KEY}`, `searxngInstanceUrl` is `${SEARXNG_INSTANCE_URL}`,
//! ...), so an `.env` alone sets web search up, without the section. A value that is a
//! variable set to something other than `user_provided` is the server's; unset or
//! `user_provided`, the service is not set up for the server. Beyond LibreChat: a literal value
//! (no `${...}`) is taken as the server's too, and when no scraper or reranker service is set
//! up, the built-in ones work (so web search needs only a search provider: a self-hosted
//! SearXNG needs no key at all).
//!
//! As LibreChat chooses them, a scraper or reranker not named is the one whose key is set
//! (Firecrawl; Jina, then Cohere); one named without its key is warned about at start and the
//! built-in one stands in.

use std::time::Duration;

use serde_json::Value;

use super::Env;
use super::tools::USER_PROVIDED;
use crate::net::AllowedAddresses;

/// Serper's search API, as documented (`POST /search`).
pub const SERPER_API_URL: &str = "https://google.serper.dev";
/// Firecrawl's hosted API (`POST /v2/scrape`).
pub const FIRECRAWL_API_URL: &str = "https://api.firecrawl.dev";
/// Jina's reranker, as LibreChat's `jinaApiUrl` defaults.
pub const JINA_API_URL: &str = "https://api.jina.ai/v1/rerank";
/// Cohere's reranker (its v2 API).
pub const COHERE_API_URL: &str = "https://api.cohere.com/v2/rerank";

/// LibreChat's default `scraperTimeout`, in milliseconds.
const DEFAULT_SCRAPER_TIMEOUT_MS: u64 = 7_500;

/// Where search results come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchProvider {
    Searxng,
    Serper,
}

/// Who reads the result pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scraper {
    /// Ours: each page fetched through the guarded client, its readable text extracted.
    Builtin,
    /// A Firecrawl-compatible API, with the server's key.
    Firecrawl,
}

/// Who picks the passages of the pages that answer the query best.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reranker {
    /// Ours: BM25 over the pages' passages.
    Builtin,
    Jina,
    Cohere,
    /// `rerankerType: none`: the passages in page order.
    None,
}

/// One key of the section: the variable it names (if it names one) and the server's value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Key {
    /// The variable the value is read from (`SERPER_API_KEY`), when the value is `${...}`.
    pub var: Option<String>,
    /// The server's value: none when unset, empty or `user_provided`.
    pub value: Option<String>,
    /// The variable is `user_provided`: each person brings their own value.
    pub personal: bool,
}

impl Key {
    /// Whether the service this key opens is set up: by the server, or for each person.
    pub fn is_set_up(&self) -> bool {
        self.value.is_some() || self.personal
    }
}

// Values are keys: never print them.
impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("var", &self.var)
            .field("set", &self.value.is_some())
            .field("personal", &self.personal)
            .finish()
    }
}

/// The section, read.
#[derive(Debug, Clone)]
pub struct WebSearchConfig {
    /// `searchProvider`; none: the first that is set up (Serper, then SearXNG, as LibreChat
    /// tries them).
    pub search_provider: Option<SearchProvider>,
    pub serper_api_key: Key,
    pub searxng_instance_url: Key,
    pub searxng_api_key: Key,
    /// `SERPER_API_URL` (ours): where Serper is called (default [`SERPER_API_URL`]; another
    /// address is for a proxy in front of it, or a test).
    pub serper_api_url: String,
    pub scraper: Scraper,
    pub firecrawl_api_key: Key,
    pub firecrawl_api_url: Key,
    /// `firecrawlVersion`: `v2` (the default) or `v1`, the path of the scrape route.
    pub firecrawl_version: String,
    /// `firecrawlOptions`: sent with every scrape as written (`formats`, `onlyMainContent`,
    /// `includeTags`, `waitFor`, ...); the page's `url` is always ours.
    pub firecrawl_options: serde_json::Map<String, Value>,
    pub reranker: Reranker,
    pub jina_api_key: Key,
    /// `jinaApiUrl`: where Jina's reranker is called (default [`JINA_API_URL`]).
    pub jina_api_url: String,
    pub cohere_api_key: Key,
    /// `COHERE_API_URL` (ours): where Cohere's reranker is called (default
    /// [`COHERE_API_URL`]; another address is for a proxy, or a test).
    pub cohere_api_url: String,
    /// `scraperTimeout`: how long reading one page may take (default 7.5 s).
    pub scraper_timeout: Duration,
    /// `WEB_SEARCH_TIMEOUT_MS` (ours): how long the search provider may take to answer
    /// (default 15 s).
    pub search_timeout: Duration,
    /// `safeSearch`: 0 off, 1 moderate (the default), 2 strict.
    pub safe_search: u8,
    /// `allowedAddresses`: private services (`host:port`) the scraper may read pages from,
    /// and a SearXNG on the private network may be reached at (LibreChat's key).
    pub allowed_addresses: AllowedAddresses,
}

impl Default for WebSearchConfig {
    fn default() -> Self {
        Self::load(&Env::from_pairs(Vec::<(String, String)>::new()), None).0
    }
}

impl WebSearchConfig {
    /// Reads the section (as written, before `${VAR}` expansion) and the variables it names;
    /// what cannot be used is returned as warnings.
    pub fn load(env: &Env, section: Option<&Value>) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let empty = Value::Object(Default::default());
        let s = section.filter(|v| v.is_object()).unwrap_or(&empty);
        if section.is_some_and(|v| !v.is_object() && !v.is_null()) {
            warnings.push("webSearch must be a mapping; it is ignored".to_owned());
        }
        let key = |name: &str, default_var: &str| read_key(env, s.get(name), default_var);
        let text = |name: &str| s.get(name).and_then(Value::as_str).map(str::trim);

        let search_provider = match text("searchProvider") {
            None => None,
            Some("searxng") => Some(SearchProvider::Searxng),
            Some("serper") => Some(SearchProvider::Serper),
            Some(other) => {
                warnings.push(format!(
                    "webSearch.searchProvider {other:?} is not supported here (searxng or \
                     serper); the first one set up is used"
                ));
                None
            }
        };
        let firecrawl_api_key = key("firecrawlApiKey", "FIRECRAWL_API_KEY");
        let scraper = match text("scraperProvider") {
            Some("builtin") => Scraper::Builtin,
            // LibreChat's default scraper is Firecrawl, when its key is set (by the server, or
            // `user_provided`: each person's own, the built-in scraper for those without).
            None if firecrawl_api_key.is_set_up() => Scraper::Firecrawl,
            None => Scraper::Builtin,
            Some("firecrawl") if firecrawl_api_key.is_set_up() => Scraper::Firecrawl,
            Some("firecrawl") => {
                warnings.push(
                    "webSearch: Firecrawl has no key (firecrawlApiKey, FIRECRAWL_API_KEY); the \
                     built-in scraper reads the pages"
                        .to_owned(),
                );
                Scraper::Builtin
            }
            Some(other) => {
                warnings.push(format!(
                    "webSearch.scraperProvider {other:?} is not supported here; the built-in \
                     scraper reads the pages"
                ));
                Scraper::Builtin
            }
        };
        let firecrawl_version = match key("firecrawlVersion", "FIRECRAWL_VERSION").value {
            None => "v2".to_owned(),
            Some(v) if v == "v1" || v == "v2" => v,
            Some(v) => {
                warnings.push(format!(
                    "webSearch.firecrawlVersion {v:?} is ignored: expected v1 or v2"
                ));
                "v2".to_owned()
            }
        };
        let firecrawl_options = match s.get("firecrawlOptions") {
            Some(Value::Object(o)) => o.clone(),
            None | Some(Value::Null) => Default::default(),
            Some(_) => {
                warnings.push("webSearch.firecrawlOptions must be a mapping; ignored".to_owned());
                Default::default()
            }
        };
        let jina_api_key = key("jinaApiKey", "JINA_API_KEY");
        let cohere_api_key = key("cohereApiKey", "COHERE_API_KEY");
        let (jina, cohere) = (jina_api_key.is_set_up(), cohere_api_key.is_set_up());
        let reranker = match text("rerankerType") {
            Some("builtin") => Reranker::Builtin,
            Some("none") => Reranker::None,
            // As LibreChat: the first reranker whose key is set.
            None if jina => Reranker::Jina,
            None if cohere => Reranker::Cohere,
            None => Reranker::Builtin,
            Some("jina") if jina => Reranker::Jina,
            Some("cohere") if cohere => Reranker::Cohere,
            Some(named @ ("jina" | "cohere")) => {
                warnings.push(format!(
                    "webSearch: the {named} reranker has no key ({named}ApiKey); the built-in \
                     reranker is used"
                ));
                Reranker::Builtin
            }
            Some(other) => {
                warnings.push(format!(
                    "webSearch.rerankerType {other:?} is not supported here (jina, cohere or \
                     none); the built-in reranker is used"
                ));
                Reranker::Builtin
            }
        };
        let scraper_timeout = match s.get("scraperTimeout") {
            None | Some(Value::Null) => Duration::from_millis(DEFAULT_SCRAPER_TIMEOUT_MS),
            Some(v) => match v.as_u64() {
                Some(ms) if (1..=120_000).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    warnings.push(format!(
                        "webSearch.scraperTimeout {v} is ignored: expected milliseconds from 1 \
                         to 120000"
                    ));
                    Duration::from_millis(DEFAULT_SCRAPER_TIMEOUT_MS)
                }
            },
        };
        let safe_search = match s.get("safeSearch") {
            None | Some(Value::Null) => 1,
            Some(v) => match v.as_u64() {
                Some(n @ 0..=2) => n as u8,
                _ => {
                    warnings.push(format!(
                        "webSearch.safeSearch {v} is ignored: expected 0, 1 or 2"
                    ));
                    1
                }
            },
        };
        let listed: Vec<&str> = match s.get("allowedAddresses") {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let (allowed_addresses, more) = AllowedAddresses::parse(listed);
        warnings.extend(more.into_iter().map(|w| {
            w.replacen(
                "endpoints.allowedAddresses",
                "webSearch.allowedAddresses",
                1,
            )
        }));
        let search_timeout = match env.get("WEB_SEARCH_TIMEOUT_MS") {
            None | Some("") => Duration::from_secs(15),
            Some(v) => match v.parse::<u64>() {
                Ok(ms) if (1..=120_000).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    warnings.push(format!(
                        "WEB_SEARCH_TIMEOUT_MS={v:?} is ignored: expected milliseconds from 1 \
                         to 120000"
                    ));
                    Duration::from_secs(15)
                }
            },
        };
        let serper_api_url = env
            .get("SERPER_API_URL")
            .map(|v| v.trim().trim_end_matches('/').to_owned())
            .filter(|v| url::Url::parse(v).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
            .unwrap_or_else(|| SERPER_API_URL.to_owned());
        let config = WebSearchConfig {
            search_provider,
            serper_api_key: key("serperApiKey", "SERPER_API_KEY"),
            searxng_instance_url: key("searxngInstanceUrl", "SEARXNG_INSTANCE_URL"),
            searxng_api_key: key("searxngApiKey", "SEARXNG_API_KEY"),
            serper_api_url,
            scraper,
            firecrawl_api_key,
            firecrawl_api_url: key("firecrawlApiUrl", "FIRECRAWL_API_URL"),
            firecrawl_version,
            firecrawl_options,
            reranker,
            jina_api_key,
            jina_api_url: web_url(key("jinaApiUrl", "JINA_API_URL").value, JINA_API_URL),
            cohere_api_key,
            cohere_api_url: web_url(env.get("COHERE_API_URL").map(str::to_owned), COHERE_API_URL),
            scraper_timeout,
            search_timeout,
            safe_search,
            allowed_addresses,
        };
        (config, warnings)
    }

    /// The variables a person may store their own values under (`POST /api/user/plugins`
    /// with `pluginKey: web_search`), as the keys name them.
    pub fn vars(&self) -> Vec<&str> {
        [
            &self.serper_api_key,
            &self.searxng_instance_url,
            &self.searxng_api_key,
            &self.firecrawl_api_key,
            &self.firecrawl_api_url,
            &self.jina_api_key,
            &self.cohere_api_key,
        ]
        .into_iter()
        .filter_map(|k| k.var.as_deref())
        .collect()
    }

    /// `webSearch` of `/api/config`, LibreChat's `{searchProvider, scraperProvider?,
    /// rerankerType?}`: given only when the server has a search provider (so the client shows
    /// web search only where it works; a person's own key is read from the tool's auth route).
    pub fn for_client(&self) -> Option<Value> {
        let mut c = serde_json::Map::new();
        let provider = match self.provider()? {
            SearchProvider::Searxng => "searxng",
            SearchProvider::Serper => "serper",
        };
        c.insert("searchProvider".into(), provider.into());
        if self.scraper == Scraper::Firecrawl {
            c.insert("scraperProvider".into(), "firecrawl".into());
        }
        let reranker = match self.reranker {
            Reranker::Builtin => None,
            Reranker::Jina => Some("jina"),
            Reranker::Cohere => Some("cohere"),
            Reranker::None => Some("none"),
        };
        if let Some(r) = reranker {
            c.insert("rerankerType".into(), r.into());
        }
        Some(Value::Object(c))
    }

    /// The search provider the server has set up: the one `searchProvider` names if its keys
    /// are there, else the first that is (Serper, then SearXNG); none when no provider is.
    pub fn provider(&self) -> Option<SearchProvider> {
        let ready = |p: SearchProvider| match p {
            SearchProvider::Serper => self.serper_api_key.value.is_some(),
            SearchProvider::Searxng => self.searxng_instance_url.value.is_some(),
        };
        match self.search_provider {
            Some(p) => ready(p).then_some(p),
            None => [SearchProvider::Serper, SearchProvider::Searxng]
                .into_iter()
                .find(|p| ready(*p)),
        }
    }
}

/// `set` when it is an http(s) address, else `default`.
fn web_url(set: Option<String>, default: &str) -> String {
    set.map(|v| v.trim().trim_end_matches('/').to_owned())
        .filter(|v| url::Url::parse(v).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
        .unwrap_or_else(|| default.to_owned())
}

/// A key as written (or its default `${VAR}`), resolved against the environment.
fn read_key(env: &Env, written: Option<&Value>, default_var: &str) -> Key {
    let written = match written.and_then(Value::as_str).map(str::trim) {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ => format!("${{{default_var}}}"),
    };
    let usable = |v: &str| !v.trim().is_empty() && v.trim() != USER_PROVIDED;
    match written
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
    {
        Some(var) => Key {
            var: Some(var.to_owned()),
            value: env
                .get(var)
                .filter(|v| usable(v))
                .map(|v| v.trim().to_owned()),
            personal: env.get(var).is_some_and(|v| v.trim() == USER_PROVIDED),
        },
        None => Key {
            var: None,
            value: usable(&written).then_some(written),
            personal: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn the_environment_alone_sets_it_up_as_in_librechat() {
        let (c, w) = WebSearchConfig::load(
            &env(&[("SEARXNG_INSTANCE_URL", "http://searx.lan:8080")]),
            None,
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.provider(), Some(SearchProvider::Searxng));
        assert_eq!(
            c.searxng_instance_url.value.as_deref(),
            Some("http://searx.lan:8080")
        );
        assert_eq!(c.serper_api_key.var.as_deref(), Some("SERPER_API_KEY"));
        assert_eq!(c.scraper, Scraper::Builtin);
        assert_eq!(c.reranker, Reranker::Builtin);
        assert_eq!(c.scraper_timeout, Duration::from_millis(7_500));
        assert_eq!(c.safe_search, 1);
        assert_eq!(c.serper_api_url, SERPER_API_URL);
        // Nothing set: no provider.
        assert_eq!(WebSearchConfig::default().provider(), None);
    }

    #[test]
    fn keys_name_their_variables_and_user_provided_is_no_value() {
        let section = json!({
            "searchProvider": "serper",
            "serperApiKey": "${MY_SERPER}",
            "searxngInstanceUrl": "http://literal:8080",
            "jinaApiKey": "${JINA_API_KEY}",
            "rerankerType": "none",
            "scraperTimeout": 3000,
            "safeSearch": 2,
            "allowedAddresses": ["127.0.0.1:9000", "not an address"],
        });
        let e = env(&[("MY_SERPER", "user_provided"), ("SERPER_API_KEY", "x")]);
        let (c, w) = WebSearchConfig::load(&e, Some(&section));
        assert_eq!(c.serper_api_key.var.as_deref(), Some("MY_SERPER"));
        assert_eq!(c.serper_api_key.value, None);
        // Serper is named but has no key: no provider, even though SearXNG has an address.
        assert_eq!(c.provider(), None);
        assert_eq!(
            c.searxng_instance_url.value.as_deref(),
            Some("http://literal:8080")
        );
        assert_eq!(c.reranker, Reranker::None);
        assert_eq!(c.scraper_timeout, Duration::from_millis(3_000));
        assert_eq!(c.safe_search, 2);
        assert!(!c.allowed_addresses.is_empty());
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("webSearch.allowedAddresses"), "{w:?}");
        // The key's value is never printed.
        let e = env(&[("MY_SERPER", "sk-secret")]);
        let (c, _) = WebSearchConfig::load(&e, Some(&section));
        assert_eq!(c.provider(), Some(SearchProvider::Serper));
        assert!(!format!("{c:?}").contains("sk-secret"));
    }

    #[test]
    fn services_are_chosen_by_their_keys_as_in_librechat() {
        let (c, w) = WebSearchConfig::load(
            &env(&[("FIRECRAWL_API_KEY", "fc-1"), ("COHERE_API_KEY", "co-1")]),
            None,
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            (c.scraper, c.reranker),
            (Scraper::Firecrawl, Reranker::Cohere)
        );
        assert_eq!(c.firecrawl_version, "v2");
        assert_eq!(c.cohere_api_url, COHERE_API_URL);
        let section = json!({"rerankerType": "none", "scraperProvider": "builtin",
                             "firecrawlVersion": "v1", "jinaApiUrl": "http://rerank.lan/v1/rerank/",
                             "firecrawlOptions": {"onlyMainContent": false}});
        let e = env(&[("FIRECRAWL_API_KEY", "fc-1"), ("JINA_API_KEY", "j-1")]);
        let (c, w) = WebSearchConfig::load(&e, Some(&section));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!((c.scraper, c.reranker), (Scraper::Builtin, Reranker::None));
        assert_eq!(c.firecrawl_version, "v1");
        assert_eq!(c.jina_api_url, "http://rerank.lan/v1/rerank");
        assert_eq!(c.firecrawl_options["onlyMainContent"], false);
        // `user_provided`: each person's own key, so the service is chosen (with the built-in
        // one for those who gave none).
        let e = env(&[
            ("FIRECRAWL_API_KEY", "user_provided"),
            ("COHERE_API_KEY", "user_provided"),
        ]);
        let (c, w) = WebSearchConfig::load(&e, None);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            (c.scraper, c.reranker),
            (Scraper::Firecrawl, Reranker::Cohere)
        );
        assert!(c.firecrawl_api_key.personal && c.firecrawl_api_key.value.is_none());
        // Jina first, when both keys are set and none is named.
        let e = env(&[("JINA_API_KEY", "j-1"), ("COHERE_API_KEY", "co-1")]);
        assert_eq!(WebSearchConfig::load(&e, None).0.reranker, Reranker::Jina);
    }

    #[test]
    fn services_without_keys_and_bad_values_are_warned_about() {
        let section = json!({
            "searchProvider": "tavily", "scraperProvider": "firecrawl", "rerankerType": "cohere",
            "scraperTimeout": -1, "safeSearch": 7, "firecrawlVersion": "v9",
        });
        let (c, w) = WebSearchConfig::load(&env(&[]), Some(&section));
        assert_eq!(c.search_provider, None);
        assert_eq!(c.scraper, Scraper::Builtin);
        assert_eq!(c.reranker, Reranker::Builtin);
        assert_eq!(c.scraper_timeout, Duration::from_millis(7_500));
        assert_eq!(c.safe_search, 1);
        for part in [
            "searchProvider \"tavily\"",
            "Firecrawl has no key",
            "the cohere reranker has no key",
            "firecrawlVersion \"v9\"",
            "scraperTimeout -1",
            "safeSearch 7",
        ] {
            assert!(w.iter().any(|w| w.contains(part)), "{part}: {w:?}");
        }
    }
}
