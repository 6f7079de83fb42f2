//! OpenAI's embeddings API (`POST /v1/embeddings`), which OpenAI, Azure OpenAI (at its
//! deployment URL, with an `api-key` header), Ollama and most self-hosted servers speak: texts
//! in, one vector per text and the prompt tokens used out. Errors say whether trying again may
//! help (429, 5xx, timeouts and dropped connections) and how long the server asked to wait
//! (`Retry-After`, in seconds or as an HTTP date).

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::config::embeddings::EmbeddingsSettings;

/// The most read of one answer per text asked: a 3072-dimension vector written as JSON
/// numbers is about 70 KB.
const BYTES_PER_INPUT: usize = 128 * 1024;
/// The longest `Retry-After` obeyed; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// Calls the configured endpoint.
#[derive(Debug, Clone)]
pub struct Embedder {
    pub settings: EmbeddingsSettings,
}

/// What one request gave: a vector per input, in their order, normalized to unit length.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedded {
    pub vectors: Vec<Vec<f32>>,
    /// `usage.prompt_tokens` (0 when the server does not say).
    pub prompt_tokens: u64,
}

/// Why a request gave no vectors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("embeddings: {message}")]
pub struct EmbedError {
    pub message: String,
    /// Trying again later may work (429, 5xx, timeouts, dropped connections).
    pub retryable: bool,
    /// The wait the server asked for (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl EmbedError {
    fn fatal(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
            retry_after: None,
        }
    }
}

impl Embedder {
    pub fn new(settings: EmbeddingsSettings) -> Self {
        Self { settings }
    }

    pub fn model(&self) -> &str {
        &self.settings.model
    }

    /// Embeds `inputs` (at most the batch size) in one request.
    pub async fn embed(
        &self,
        http: &reqwest::Client,
        inputs: &[String],
    ) -> Result<Embedded, EmbedError> {
        let s = &self.settings;
        let mut request = http
            .post(&s.url)
            .timeout(s.timeout)
            .json(&json!({"model": s.model, "input": inputs, "encoding_format": "float"}));
        if let Some(key) = &s.key {
            request = if s.azure {
                request.header("api-key", key.expose())
            } else {
                request.bearer_auth(key.expose())
            };
        }
        let response = request.send().await.map_err(|e| EmbedError {
            message: super::openai::cause(&e),
            retryable: e.is_timeout() || e.is_connect() || e.is_request(),
            retry_after: None,
        })?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = retry_after(response.headers());
            let body = crate::net::error_text(response).await;
            let detail = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| body.chars().take(200).collect());
            return Err(EmbedError {
                message: format!("{} {detail}", status.as_u16()),
                retryable: status.as_u16() == 429 || status.is_server_error(),
                retry_after,
            });
        }
        let limit = 1024 * 1024 + inputs.len() * BYTES_PER_INPUT;
        let answer: Value = crate::net::json_bounded(response, limit, s.timeout)
            .await
            .ok_or_else(|| EmbedError {
                message: "the answer is not an embeddings list (or too large or too slow)".into(),
                retryable: true,
                retry_after: None,
            })?;
        vectors_in_order(answer, inputs.len())
    }
}

/// The answer's vectors by their `index` (OpenAI's order is not promised), each normalized;
/// refused when one is missing, empty, not finite, or of another length than the first.
/// Read from a `Value` rather than typed structs: no deserializer compiled for them.
fn vectors_in_order(answer: Value, n: usize) -> Result<Embedded, EmbedError> {
    let data = answer["data"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if data.len() != n {
        return Err(EmbedError::fatal(format!(
            "{} vectors for {n} inputs",
            data.len()
        )));
    }
    let mut out: Vec<Option<Vec<f32>>> = vec![None; n];
    for (i, item) in data.iter().enumerate() {
        let at = item["index"].as_u64().map_or(i, |x| x as usize);
        let numbers = item["embedding"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let v: Option<Vec<f32>> = numbers
            .iter()
            .map(|x| x.as_f64().map(|f| f as f32))
            .collect();
        let slot = out
            .get_mut(at)
            .ok_or_else(|| EmbedError::fatal(format!("a vector for input {at} of {n}")))?;
        *slot = v;
    }
    let mut vectors = Vec::with_capacity(n);
    for v in out {
        let mut v = v.ok_or_else(|| EmbedError::fatal("an input has no vector"))?;
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if v.is_empty() || !norm.is_finite() || norm == 0.0 {
            return Err(EmbedError::fatal("a vector is empty or not finite"));
        }
        v.iter_mut().for_each(|x| *x /= norm);
        if vectors
            .first()
            .is_some_and(|f: &Vec<f32>| f.len() != v.len())
        {
            return Err(EmbedError::fatal("vectors of different lengths"));
        }
        vectors.push(v);
    }
    Ok(Embedded {
        vectors,
        prompt_tokens: answer["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
    })
}

/// `Retry-After` as seconds or an HTTP date, at most [`MAX_RETRY_AFTER`].
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let wait = match v.trim().parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => super::probe::http_date(v)?
            .duration_since(SystemTime::now())
            .unwrap_or_default(),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> Value {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn vectors_come_back_in_input_order_and_normalized() {
        let a = answer(
            r#"{"object":"list","data":[{"object":"embedding","index":1,"embedding":[0,2]},
            {"object":"embedding","index":0,"embedding":[3,4]}],"model":"m",
            "usage":{"prompt_tokens":7,"total_tokens":7}}"#,
        );
        let e = vectors_in_order(a, 2).unwrap();
        assert_eq!(e.vectors, vec![vec![0.6, 0.8], vec![0.0, 1.0]]);
        assert_eq!(e.prompt_tokens, 7);
        for bad in [
            r#"{"data":[{"index":0,"embedding":[1]}]}"#,
            r#"{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]}"#,
            r#"{"data":[{"index":0,"embedding":[0,0]},{"index":1,"embedding":[1,0]}]}"#,
            r#"{"data":[{"index":0,"embedding":[1]},{"index":1,"embedding":[1,0]}]}"#,
        ] {
            assert!(vectors_in_order(answer(bad), 2).is_err(), "{bad}");
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_bounded() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after", "86400".parse().unwrap());
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        h.insert(
            "retry-after",
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }
}
