//! Keys a person brings for web search, where the server has none (LibreChat's
//! `user_provided`): their Serper key or their SearXNG's address, stored with
//! `POST /api/user/plugins` (`pluginKey: web_search`) under the variable the `webSearch` key
//! names (`SERPER_API_KEY`, `SEARXNG_INSTANCE_URL`, `SEARXNG_API_KEY`); and, where those keys
//! are `user_provided`, their Firecrawl, Jina or Cohere key (`WebSearch::services_for`).

use super::super::{Credentials, ToolError};
use crate::config::web_search::{Key, SearchProvider, WebSearchConfig};

/// A search provider set up by a person's own keys.
#[derive(Clone, PartialEq, Eq)]
pub enum Personal {
    Serper(String),
    Searxng { url: String, key: Option<String> },
}

/// The person's value of `key`, when it names a variable they stored.
pub(super) async fn stored(
    creds: &dyn Credentials,
    user_id: &str,
    key: &Key,
) -> Result<Option<String>, ToolError> {
    match &key.var {
        Some(var) => creds.get(user_id, var).await,
        None => Ok(None),
    }
}

/// The provider the person's own keys set up (the one `searchProvider` names, else Serper,
/// then SearXNG), when they stored any.
pub async fn personal(
    config: &WebSearchConfig,
    creds: &dyn Credentials,
    user_id: &str,
) -> Result<Option<Personal>, ToolError> {
    let order = match config.search_provider {
        Some(p) => vec![p],
        None => vec![SearchProvider::Serper, SearchProvider::Searxng],
    };
    for p in order {
        match p {
            SearchProvider::Serper => {
                if let Some(k) = stored(creds, user_id, &config.serper_api_key).await? {
                    return Ok(Some(Personal::Serper(k)));
                }
            }
            SearchProvider::Searxng => {
                if let Some(url) = stored(creds, user_id, &config.searxng_instance_url).await? {
                    let key = stored(creds, user_id, &config.searxng_api_key).await?;
                    return Ok(Some(Personal::Searxng { url, key }));
                }
            }
        }
    }
    Ok(None)
}
