//! The embeddings endpoint for file search's dense retrieval, named as LibreChat's RAG API
//! names it where it fits: `EMBEDDINGS_PROVIDER` (`openai`, `azure`, `ollama`, or `custom` for
//! any OpenAI-compatible endpoint), `EMBEDDINGS_MODEL`, `RAG_OPENAI_API_KEY` (else
//! `OPENAI_API_KEY`), `RAG_OPENAI_BASEURL`, `RAG_AZURE_OPENAI_API_KEY` (else
//! `AZURE_OPENAI_API_KEY`), `RAG_AZURE_OPENAI_ENDPOINT` (else `AZURE_OPENAI_ENDPOINT`),
//! `RAG_AZURE_OPENAI_API_VERSION`, `OLLAMA_BASE_URL`. Ours: `EMBEDDINGS_BATCH_SIZE`,
//! `EMBEDDINGS_REQUESTS_PER_MINUTE`, `EMBEDDINGS_TIMEOUT_MS`.
//!
//! Off unless `EMBEDDINGS_PROVIDER` is set (file search is then BM25 alone). Every provider is
//! called at an OpenAI-compatible `POST .../embeddings`: OpenAI's and custom ones with a
//! bearer key, Azure's deployment URL with an `api-key` header, Ollama's `/v1/embeddings`
//! without a key. A provider LibreChat's RAG API knows but this server does not call
//! (`huggingface`, `bedrock`, ...) leaves dense retrieval off, with a warning.

use std::time::Duration;

use super::{ConfigError, Env, Secret};

/// LibreChat's RAG API default model for OpenAI and Azure.
const OPENAI_MODEL: &str = "text-embedding-3-small";
/// LibreChat's RAG API default model for Ollama.
const OLLAMA_MODEL: &str = "nomic-embed-text";
/// A GA version of Azure OpenAI's data-plane API that serves embeddings.
const AZURE_API_VERSION: &str = "2024-02-01";

/// Where and how chunks and queries are embedded.
#[derive(Clone)]
pub struct EmbeddingsSettings {
    /// `EMBEDDINGS_PROVIDER`, as written (lowercase).
    pub provider: String,
    /// `EMBEDDINGS_MODEL` (the Azure deployment's name for `azure`).
    pub model: String,
    /// The full URL requests are posted to.
    pub url: String,
    /// The key, if any: sent as `Authorization: Bearer`, or as `api-key` for Azure.
    pub key: Option<Secret>,
    /// The key goes in Azure's `api-key` header.
    pub azure: bool,
    /// `EMBEDDINGS_BATCH_SIZE` (default 64, at most 2048, OpenAI's limit): inputs per request.
    pub batch_size: usize,
    /// `EMBEDDINGS_REQUESTS_PER_MINUTE` (default 300): the background worker's pace.
    pub requests_per_minute: u32,
    /// `EMBEDDINGS_TIMEOUT_MS` (default 60000): bound on one request.
    pub timeout: Duration,
}

// The key is a secret: never print it.
impl std::fmt::Debug for EmbeddingsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddingsSettings")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("url", &self.url)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl EmbeddingsSettings {
    /// The endpoint, when configured; a provider it cannot use gives `Ok(None)` and a warning
    /// in `warnings`.
    pub fn from_env(env: &Env, warnings: &mut Vec<String>) -> Result<Option<Self>, ConfigError> {
        let Some(provider) = env.get("EMBEDDINGS_PROVIDER").map(str::to_ascii_lowercase) else {
            return Ok(None);
        };
        let key = |names: &[&str]| {
            names
                .iter()
                .filter_map(|n| env.get(n))
                .find(|v| *v != super::tools::USER_PROVIDED)
                .map(Secret::new)
        };
        let model = |default: &str| {
            env.string("EMBEDDINGS_MODEL")
                .unwrap_or_else(|| default.to_owned())
        };
        let base = |name: &str, default: Option<&str>| -> Result<Option<String>, ConfigError> {
            match env.get(name).or(default) {
                None => Ok(None),
                Some(v) => http_url(name, v).map(|u| Some(u.trim_end_matches('/').to_owned())),
            }
        };
        let (model, url, key, azure) = match provider.as_str() {
            "openai" => {
                let base = base("RAG_OPENAI_BASEURL", Some("https://api.openai.com/v1"))?;
                let key = key(&["RAG_OPENAI_API_KEY", "OPENAI_API_KEY"]);
                if key.is_none() {
                    warnings.push(
                        "EMBEDDINGS_PROVIDER=openai needs RAG_OPENAI_API_KEY (or \
                         OPENAI_API_KEY): file search uses BM25 alone"
                            .into(),
                    );
                    return Ok(None);
                }
                (
                    model(OPENAI_MODEL),
                    format!("{}/embeddings", base.unwrap_or_default()),
                    key,
                    false,
                )
            }
            "custom" => {
                let Some(base) = base("RAG_OPENAI_BASEURL", None)? else {
                    warnings.push(
                        "EMBEDDINGS_PROVIDER=custom needs RAG_OPENAI_BASEURL: file search uses \
                         BM25 alone"
                            .into(),
                    );
                    return Ok(None);
                };
                let Some(m) = env.string("EMBEDDINGS_MODEL") else {
                    return Err(ConfigError::Other(
                        "EMBEDDINGS_PROVIDER=custom needs EMBEDDINGS_MODEL".into(),
                    ));
                };
                (
                    m,
                    format!("{base}/embeddings"),
                    key(&["RAG_OPENAI_API_KEY"]),
                    false,
                )
            }
            "ollama" => {
                let base = base("OLLAMA_BASE_URL", Some("http://localhost:11434"))?;
                let url = format!("{}/v1/embeddings", base.unwrap_or_default());
                (model(OLLAMA_MODEL), url, None, false)
            }
            "azure" => {
                let endpoint = base(
                    "RAG_AZURE_OPENAI_ENDPOINT",
                    env.get("AZURE_OPENAI_ENDPOINT"),
                )?;
                let key = key(&["RAG_AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"]);
                let (Some(endpoint), Some(key)) = (endpoint, key) else {
                    warnings.push(
                        "EMBEDDINGS_PROVIDER=azure needs RAG_AZURE_OPENAI_ENDPOINT and \
                         RAG_AZURE_OPENAI_API_KEY: file search uses BM25 alone"
                            .into(),
                    );
                    return Ok(None);
                };
                let m = model(OPENAI_MODEL);
                let version = env
                    .get("RAG_AZURE_OPENAI_API_VERSION")
                    .unwrap_or(AZURE_API_VERSION);
                let url =
                    format!("{endpoint}/openai/deployments/{m}/embeddings?api-version={version}");
                (m, url, Some(key), true)
            }
            other => {
                warnings.push(format!(
                    "EMBEDDINGS_PROVIDER={other} is not supported here (openai, azure, ollama, \
                     custom): file search uses BM25 alone"
                ));
                return Ok(None);
            }
        };
        Ok(Some(Self {
            provider,
            model,
            url,
            key,
            azure,
            batch_size: env
                .int("EMBEDDINGS_BATCH_SIZE")?
                .unwrap_or(64)
                .clamp(1, 2048) as usize,
            requests_per_minute: env
                .int("EMBEDDINGS_REQUESTS_PER_MINUTE")?
                .unwrap_or(300)
                .clamp(1, 100_000) as u32,
            timeout: env
                .millis("EMBEDDINGS_TIMEOUT_MS")?
                .unwrap_or(Duration::from_secs(60))
                .max(Duration::from_millis(100)),
        }))
    }
}

fn http_url<'a>(name: &str, v: &'a str) -> Result<&'a str, ConfigError> {
    match url::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(v),
        _ => Err(ConfigError::invalid(name, v, "an http(s) URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> (Option<EmbeddingsSettings>, Vec<String>) {
        let mut w = Vec::new();
        let s = EmbeddingsSettings::from_env(&Env::from_pairs(pairs.iter().copied()), &mut w);
        (s.unwrap(), w)
    }

    #[test]
    fn providers_read_librechat_s_rag_variables() {
        assert!(load(&[]).0.is_none());
        let (s, _) = load(&[
            ("EMBEDDINGS_PROVIDER", "openai"),
            ("OPENAI_API_KEY", "sk-1"),
        ]);
        let s = s.unwrap();
        assert_eq!(s.url, "https://api.openai.com/v1/embeddings");
        assert_eq!((s.model.as_str(), s.batch_size), (OPENAI_MODEL, 64));
        assert!(!format!("{s:?}").contains("sk-1"));
        let (s, _) = load(&[
            ("EMBEDDINGS_PROVIDER", "OpenAI"),
            ("RAG_OPENAI_API_KEY", "sk-2"),
            ("RAG_OPENAI_BASEURL", "http://127.0.0.1:9/v1/"),
            ("EMBEDDINGS_MODEL", "text-embedding-3-large"),
        ]);
        let s = s.unwrap();
        assert_eq!(s.url, "http://127.0.0.1:9/v1/embeddings");
        assert_eq!(s.key.unwrap().expose(), "sk-2");
        let (s, _) = load(&[
            ("EMBEDDINGS_PROVIDER", "azure"),
            ("RAG_AZURE_OPENAI_API_KEY", "az"),
            ("RAG_AZURE_OPENAI_ENDPOINT", "https://x.openai.azure.com"),
        ]);
        let s = s.unwrap();
        assert!(s.azure);
        assert_eq!(
            s.url,
            "https://x.openai.azure.com/openai/deployments/text-embedding-3-small/embeddings\
             ?api-version=2024-02-01"
        );
        let (s, _) = load(&[("EMBEDDINGS_PROVIDER", "ollama")]);
        let s = s.unwrap();
        assert_eq!(s.url, "http://localhost:11434/v1/embeddings");
        assert_eq!((s.model.as_str(), s.key.is_none()), (OLLAMA_MODEL, true));
    }

    #[test]
    fn what_cannot_be_used_is_off_with_a_warning_or_refused() {
        let (s, w) = load(&[("EMBEDDINGS_PROVIDER", "huggingface")]);
        assert!(s.is_none() && w[0].contains("huggingface"));
        let (s, w) = load(&[
            ("EMBEDDINGS_PROVIDER", "openai"),
            ("OPENAI_API_KEY", "user_provided"),
        ]);
        assert!(s.is_none() && w[0].contains("RAG_OPENAI_API_KEY"));
        let env = Env::from_pairs([("EMBEDDINGS_PROVIDER", "ollama"), ("OLLAMA_BASE_URL", "x")]);
        assert!(EmbeddingsSettings::from_env(&env, &mut Vec::new()).is_err());
    }
}
