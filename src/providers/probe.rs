//! For `librechat doctor`: asks an endpoint for something cheap (its model list) with the
//! server's key, which tells a refused key from an unreachable host, and reads the clock of
//! whoever answered from the `Date` header.

use std::time::{Duration, SystemTime};

use super::endpoints::{Endpoint, Key, Protocol};

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The key works.
    Ok,
    /// 401 or 403: the key is wrong, revoked or lacks access.
    KeyRefused(u16),
    /// Another error status.
    Status(u16),
    /// No answer: the host, port or proxy is wrong, or the network is down.
    Unreachable(String),
    /// Nothing to check with (keys are each person's own), or no cheap request exists.
    NotChecked(&'static str),
}

pub struct Probe {
    pub outcome: Outcome,
    /// The answering server's clock, when it said.
    pub server_time: Option<SystemTime>,
}

/// Probes `endpoint`; never takes much longer than ten seconds.
pub async fn probe(http: &reqwest::Client, endpoint: &Endpoint) -> Probe {
    let not_checked = |why| Probe {
        outcome: Outcome::NotChecked(why),
        server_time: None,
    };
    let key = match &endpoint.key {
        Key::Value(k) => k.as_str(),
        Key::None => "",
        Key::UserProvided => return not_checked("each person enters their own key"),
    };
    if endpoint.user_base_url {
        return not_checked("each person enters their own address");
    }
    let base = endpoint.base_url.trim_end_matches('/');
    let request = match endpoint.protocol {
        Protocol::OpenAi => {
            let r = http.get(format!("{base}/models"));
            if key.is_empty() {
                r
            } else {
                r.bearer_auth(key)
            }
        }
        Protocol::Anthropic => http
            .get(format!("{base}/v1/models"))
            .header("x-api-key", key)
            .header("anthropic-version", super::anthropic::API_VERSION),
        Protocol::Google => http
            .get(format!("{base}/v1beta/models"))
            .header("x-goog-api-key", key),
        Protocol::AzureOpenAi => return not_checked("Azure deployments have no cheap request"),
    };
    let mut request = request.timeout(Duration::from_secs(10));
    for (k, v) in &endpoint.headers {
        // Headers with per-request placeholders cannot be filled here.
        if !v.contains("{{") {
            request = request.header(k.as_str(), v.as_str());
        }
    }
    match request.send().await {
        Err(e) => Probe {
            outcome: Outcome::Unreachable(without_url(&e)),
            server_time: None,
        },
        Ok(resp) => {
            let server_time = resp
                .headers()
                .get(reqwest::header::DATE)
                .and_then(|d| d.to_str().ok())
                .and_then(http_date);
            let status = resp.status().as_u16();
            let outcome = match status {
                200..=299 => Outcome::Ok,
                401 | 403 => Outcome::KeyRefused(status),
                s => Outcome::Status(s),
            };
            Probe {
                outcome,
                server_time,
            }
        }
    }
}

/// A request error with its causes (the DNS or connection failure underneath), without its
/// URL, which may carry a key in the query.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(i) = text.find(" for url (") {
        text.truncate(i);
    }
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// An HTTP `Date` (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(s: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = time::PrimitiveDateTime::parse(s.trim(), &format).ok()?;
    Some(t.assume_utc().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_http_dates() {
        let t = http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            784111777
        );
        assert!(http_date("yesterday").is_none());
    }
}
