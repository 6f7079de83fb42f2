//! Model lists for `/api/models`: the configured list, or the provider's own `GET /models`
//! when the endpoint asks for it (`models.fetch`, or OpenAI without `OPENAI_MODELS`), cached
//! for a while and falling back to the configured list when the provider cannot be asked.

use std::time::Duration;

use serde_json::Value;

use super::endpoints::{Endpoint, Key};
use crate::bounded::BoundedCache;

const CACHE_FOR: Duration = Duration::from_secs(10 * 60);

pub struct ModelLists {
    cache: BoundedCache<Vec<String>>,
}

impl Default for ModelLists {
    fn default() -> Self {
        Self {
            cache: BoundedCache::builder(256).time_to_live(CACHE_FOR).build(),
        }
    }
}

impl ModelLists {
    /// The models `endpoint` offers now.
    pub async fn get(&self, http: &reqwest::Client, endpoint: &Endpoint) -> Vec<String> {
        let Key::Value(key) = &endpoint.key else {
            // Fetching needs a key; user-provided keys are each person's own.
            return endpoint.models.clone();
        };
        if !endpoint.fetch_models {
            return endpoint.models.clone();
        }
        if let Some(list) = self.cache.get(&endpoint.name) {
            return list;
        }
        match fetch(http, endpoint, key).await {
            Ok(list) if !list.is_empty() => {
                self.cache.insert(endpoint.name.clone(), list.clone());
                list
            }
            Ok(_) => endpoint.models.clone(),
            Err(e) => {
                tracing::warn!(endpoint = %endpoint.name, error = %e, "cannot fetch the model list; using the configured one");
                endpoint.models.clone()
            }
        }
    }
}

async fn fetch(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    key: &str,
) -> Result<Vec<String>, String> {
    let mut req = http
        .get(format!("{}/models", endpoint.base_url))
        .timeout(Duration::from_secs(10));
    if !key.is_empty() {
        req = req.bearer_auth(key);
    }
    for (k, v) in &endpoint.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("the provider answered {}", resp.status()));
    }
    // Bounded like every provider body: a real list is a few hundred KB at most.
    const LIMIT: usize = 4 * 1024 * 1024;
    let bytes = crate::net::body_prefix(resp, LIMIT + 1, Duration::from_secs(10)).await;
    if bytes.len() > LIMIT {
        return Err("the model list is larger than 4 MiB".into());
    }
    let body: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    // OpenAI: {data: [{id}]}; Ollama's /api/tags-style lists: {models: [{name}]}.
    let items = body
        .get("data")
        .or_else(|| body.get("models"))
        .and_then(Value::as_array)
        .ok_or("the answer has no model list")?;
    let mut ids: Vec<String> = items
        .iter()
        .filter_map(|m| {
            m.get("id")
                .or_else(|| m.get("name"))
                .and_then(Value::as_str)
        })
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}
