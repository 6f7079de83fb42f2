//! Outbound HTTP to places a user (or a document, a tool, an agent) chose: the one guarded way
//! out, for every feature that calls such a URL (a `user_provided` base URL today; actions,
//! MCP servers and web search pages when they come).
//!
//! The rules, in one place: http(s) only; no private, loopback, link-local, unique-local,
//! carrier-grade NAT, multicast or unspecified address (IPv4, IPv6 and IPv4 inside IPv6),
//! checked on the literal in the URL and again on every address a name resolves to at connect
//! time, so a name that changes its answer (DNS rebinding) cannot slip through; exceptions only
//! for the services the administrator lists (`endpoints.allowedAddresses`); no redirects; no
//! proxy (a proxy would resolve names itself, out of our sight); timeouts; and bodies read to a
//! bound. What the server itself sends (its keys, its configured headers) is the caller's
//! business: see `providers::stream`.
//!
//! A leaf: it knows nothing of the rest of the crate.

mod allowed;
mod guarded;
mod ranges;

use std::time::Duration;

pub use allowed::AllowedAddresses;
pub use guarded::Guarded;
pub use ranges::private_kind;

/// Why a URL a user chose is not called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Blocked {
    #[error("only http and https URLs can be used")]
    Scheme,
    #[error("the URL has no host")]
    NoHost,
    /// An address written in the URL: the person wrote it, so it is named back to them.
    #[error(
        "{host} is {} {kind} address ({ip}); this server does not call private addresses for you \
         (an administrator can allow one service with endpoints.allowedAddresses in librechat.yaml)",
        article(kind)
    )]
    Address {
        host: String,
        ip: std::net::IpAddr,
        kind: &'static str,
    },
    /// A name that resolves to a non-public address. What it resolved to is in the server's log,
    /// never in the message: the person would otherwise learn this network's internal addresses
    /// one name at a time.
    #[error(
        "{host} resolves to a private address; this server does not call private addresses for \
         you (an administrator can allow one service with endpoints.allowedAddresses in \
         librechat.yaml)"
    )]
    Resolves {
        host: String,
        ip: std::net::IpAddr,
        kind: &'static str,
    },
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

impl Blocked {
    /// The refusal somewhere in an error's chain of causes (reqwest wraps what the resolver
    /// said in a connect error).
    pub fn find<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Blocked> {
        let mut cur = Some(e);
        while let Some(err) = cur {
            if let Some(b) = err.downcast_ref::<Blocked>() {
                return Some(b);
            }
            cur = err.source();
        }
        None
    }
}

/// How much of an error body is read: enough for any provider's JSON error, not more.
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// How long reading an error body may take in all (each read is bounded by the client's own
/// read timeout, which a trickle of bytes would renew).
const ERROR_BODY_TIME: Duration = Duration::from_secs(30);

/// The start of a response body: at most `limit` bytes, read within `within`; the rest is
/// left unread (the connection is then dropped, not drained). What was read before an error
/// or the time limit is kept.
pub async fn body_prefix(
    mut response: reqwest::Response,
    limit: usize,
    within: Duration,
) -> Vec<u8> {
    let mut out = Vec::new();
    let read = async {
        while let Ok(Some(chunk)) = response.chunk().await {
            let room = limit - out.len();
            if chunk.len() >= room {
                out.extend_from_slice(&chunk[..room]);
                break;
            }
            out.extend_from_slice(&chunk);
        }
    };
    let _ = tokio::time::timeout(within, read).await;
    out
}

/// The most read of a JSON document a configured identity provider serves (its userinfo,
/// keys or discovery document): far above any real one (a few KB, a userinfo with many groups
/// tens of KB), so a broken or hostile provider cannot fill the server's memory.
pub const PROVIDER_JSON_LIMIT: usize = 1024 * 1024;

/// A response body parsed as JSON when it is at most `limit` bytes and arrives within
/// `within`; `None` when it is larger, slower, or not JSON of that type.
pub async fn json_bounded<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    limit: usize,
    within: Duration,
) -> Option<T> {
    let bytes = body_prefix(response, limit + 1, within).await;
    if bytes.len() > limit {
        return None;
    }
    serde_json::from_slice(&bytes).ok()
}

/// An error answer's body as text, bounded by [`ERROR_BODY_LIMIT`] (invalid UTF-8 replaced).
pub async fn error_text(response: reqwest::Response) -> String {
    let bytes = body_prefix(response, ERROR_BODY_LIMIT, ERROR_BODY_TIME).await;
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves one HTTP answer whose body is `body`, on a fresh port; returns its URL.
    async fn serve_once(body: Vec<u8>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&body).await;
        });
        url
    }

    #[tokio::test]
    async fn json_is_read_only_up_to_its_bound() {
        let get = |url: String| async move { reqwest::get(url).await.unwrap() };
        let small = serve_once(br#"{"sub":"a"}"#.to_vec()).await;
        let v: Option<serde_json::Value> =
            json_bounded(get(small).await, 64, Duration::from_secs(5)).await;
        assert_eq!(v.unwrap()["sub"], "a");
        // A 2 MiB document (valid JSON) against a 1 MiB bound: refused, not parsed.
        let mut big = b"{\"groups\":\"".to_vec();
        big.extend(std::iter::repeat_n(b'x', 2 * 1024 * 1024));
        big.extend_from_slice(b"\"}");
        let url = serve_once(big).await;
        let v: Option<serde_json::Value> =
            json_bounded(get(url).await, PROVIDER_JSON_LIMIT, Duration::from_secs(5)).await;
        assert!(v.is_none());
    }
}
