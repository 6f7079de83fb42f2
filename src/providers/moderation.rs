//! OpenAI's moderation check of what people send (`OPENAI_MODERATION=true`), as LibreChat's
//! `moderateText`: the text goes to `POST {OPENAI_MODERATION_REVERSE_PROXY or
//! https://api.openai.com/v1}/moderations` with `OPENAI_MODERATION_API_KEY`, and flagged text
//! is refused. When the check itself cannot be made, the message is let through (logged): a
//! moderation outage should not stop every conversation.

use std::time::Duration;

use serde_json::{Value, json};

use crate::config::{ConfigError, Env};

#[derive(Clone)]
pub struct Moderation {
    url: String,
    key: String,
}

impl std::fmt::Debug for Moderation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Moderation")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Moderation {
    /// The check, when `OPENAI_MODERATION` is on.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        if !env.bool("OPENAI_MODERATION")?.unwrap_or(false) {
            return Ok(None);
        }
        let base = env
            .get("OPENAI_MODERATION_REVERSE_PROXY")
            .filter(|u| !u.is_empty())
            .unwrap_or("https://api.openai.com/v1")
            .trim_end_matches('/');
        Ok(Some(Self {
            url: format!("{base}/moderations"),
            key: env
                .get("OPENAI_MODERATION_API_KEY")
                .unwrap_or("")
                .to_owned(),
        }))
    }

    /// The categories `text` is flagged for; empty when it is fine (or cannot be checked).
    pub async fn flagged(&self, http: &reqwest::Client, text: &str) -> Vec<String> {
        let answer = http
            .post(&self.url)
            .bearer_auth(&self.key)
            .timeout(Duration::from_secs(10))
            .json(&json!({"input": text}))
            .send()
            .await;
        let body: Value = match answer {
            Ok(r) if r.status().is_success() => r.json().await.unwrap_or(Value::Null),
            Ok(r) => {
                tracing::warn!(
                    status = r.status().as_u16(),
                    "the moderation check failed; letting the message through"
                );
                return Vec::new();
            }
            Err(e) => {
                tracing::warn!(error = %super::openai::cause(&e), "the moderation check failed; letting the message through");
                return Vec::new();
            }
        };
        let result = &body["results"][0];
        if result["flagged"] != true {
            return Vec::new();
        }
        let mut categories: Vec<String> = result["categories"]
            .as_object()
            .map(|c| {
                c.iter()
                    .filter(|(_, v)| **v == true)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        if categories.is_empty() {
            categories.push("flagged".into());
        }
        categories
    }
}
