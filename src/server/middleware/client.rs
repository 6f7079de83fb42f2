//! Who is asking, and under which public URL we are reached.
//!
//! Behind a reverse proxy (`TRUST_PROXY=N`), the client's address and the public URL come from
//! `X-Forwarded-For`, `X-Forwarded-Host` and `X-Forwarded-Proto`, as Express computes them with
//! `trust proxy` and as LibreChat's `deriveBaseURL` uses them. Without it those headers are
//! ignored: anyone can send them, so believing them would let a client pick its own address
//! (and dodge per-IP limits) or its own links.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::config::ServerSettings;
use crate::server::AppState;

/// The requester as far as we can tell. Extract it in a handler's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The client's address (None only when no socket address is known, as in unit tests).
    pub ip: Option<IpAddr>,
    /// `scheme://host[:port]` the client used to reach us.
    pub base_url: String,
}

impl FromRequestParts<AppState> for Client {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let server = &state.settings.server;
        let fallback = format!("http://localhost:{}", server.port);
        Ok(Client {
            ip: client_ip(peer, &parts.headers, server.trust_proxy),
            base_url: base_url(&parts.headers, server.trust_proxy, &fallback),
        })
    }
}

impl Client {
    /// The server's public URL: `DOMAIN_SERVER` when set, else the address this request came
    /// to. Callback addresses are built on it, so with `DOMAIN_SERVER` set a forged `Host`
    /// cannot choose them.
    pub fn server_url<'a>(&'a self, server: &'a ServerSettings) -> &'a str {
        server.domain_server.as_deref().unwrap_or(&self.base_url)
    }

    /// Whether people reach us over https: the public URLs (`DOMAIN_CLIENT`, `DOMAIN_SERVER`)
    /// when set (a TLS-terminating proxy in front talks plain HTTP to us), else this request.
    pub fn public_https(&self, server: &ServerSettings) -> bool {
        let https = |u: &str| {
            u.get(..8)
                .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        };
        let configured = [&server.domain_client, &server.domain_server];
        if configured.iter().any(|u| u.is_some()) {
            configured.iter().filter_map(|u| u.as_deref()).any(https)
        } else {
            https(&self.base_url)
        }
    }
}

/// The client's address: the peer, or with `trust` proxies in front, the address that many hops
/// back along `X-Forwarded-For` (Express's `trust proxy = N`).
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trust: u32) -> Option<IpAddr> {
    let peer = peer?;
    if trust == 0 {
        return Some(peer);
    }
    // Nearest first: the peer, then the forwarded entries from right to left. The walk stops at
    // the first entry that is not an address: what lies beyond it cannot be trusted anyway.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut chain = vec![peer];
    for entry in entries.into_iter().rev() {
        match parse_addr(entry) {
            Some(ip) => chain.push(ip),
            None => break,
        }
    }
    let hops = usize::try_from(trust)
        .unwrap_or(usize::MAX)
        .min(chain.len() - 1);
    Some(chain[hops])
}

/// Warns once (per server) when a request carries forwarding headers while `TRUST_PROXY=0`:
/// a reverse proxy is most likely in front, unbelieved, so every client looks like the proxy
/// and one person's failed logins ban the proxy's address, locking out everyone's sign-in.
pub fn warn_untrusted_forwarding(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trust: u32,
    warned: &std::sync::atomic::AtomicBool,
) {
    use std::sync::atomic::Ordering;
    if trust > 0 || warned.load(Ordering::Relaxed) {
        return;
    }
    let forwarded = ["x-forwarded-for", "forwarded", "x-real-ip"]
        .into_iter()
        .find(|h| headers.contains_key(*h));
    if let Some(header) = forwarded
        && !warned.swap(true, Ordering::Relaxed)
    {
        tracing::warn!(
            header,
            peer = peer.map(|p| p.to_string()).unwrap_or_default(),
            "requests arrive with forwarding headers but TRUST_PROXY is 0: every client behind \
             that proxy is seen as the proxy's address, so limits and bans hit them all at once. \
             Behind a reverse proxy, set TRUST_PROXY to the number of proxies (usually 1)"
        );
    }
}

/// `1.2.3.4`, `1.2.3.4:567`, `::1` or `[::1]:567`.
fn parse_addr(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| s.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// `scheme://host` as the client sees us: from `X-Forwarded-Proto/-Host` when trusted, else
/// from `Host`. A host with characters no host has is ignored, so it cannot end up in a link.
pub fn base_url(headers: &HeaderMap, trust: u32, fallback: &str) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let (proto, host) = if trust > 0 {
        (
            header("x-forwarded-proto").unwrap_or("http"),
            header("x-forwarded-host").or_else(|| header("host")),
        )
    } else {
        ("http", header("host"))
    };
    let proto = if proto.eq_ignore_ascii_case("https") {
        "https"
    } else {
        "http"
    };
    match host {
        Some(h) if is_valid_host(h) => format!("{proto}://{h}"),
        _ => fallback.to_owned(),
    }
}

fn is_valid_host(h: &str) -> bool {
    h.len() <= 255
        && h.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_is_ignored_unless_trusted() {
        let peer = Some("10.0.0.2".parse().unwrap());
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9")]);
        assert_eq!(client_ip(peer, &h, 0), peer);
        assert_eq!(client_ip(peer, &h, 1), Some("203.0.113.9".parse().unwrap()));
        assert_eq!(client_ip(peer, &h, 2), Some("6.6.6.6".parse().unwrap()));
        assert_eq!(
            client_ip(peer, &h, u32::MAX),
            Some("6.6.6.6".parse().unwrap())
        );
        // Garbage in the header: fall back to the peer rather than guess.
        let bad = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(peer, &bad, 1), peer);
        // A bad entry further out does not hide the address our proxy added.
        let mixed = headers(&[("x-forwarded-for", "garbage, 203.0.113.7")]);
        assert_eq!(
            client_ip(peer, &mixed, 1),
            Some("203.0.113.7".parse().unwrap())
        );
        assert_eq!(
            client_ip(peer, &mixed, 5),
            Some("203.0.113.7".parse().unwrap())
        );
        let ports = headers(&[("x-forwarded-for", "1.1.1.1:1234, [2001:db8::1]:80")]);
        assert_eq!(
            client_ip(peer, &ports, 1),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(client_ip(peer, &ports, 2), Some("1.1.1.1".parse().unwrap()));
        // Several header lines are one list, in order.
        let split = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "7.7.7.7"),
        ]);
        assert_eq!(client_ip(peer, &split, 1), Some("7.7.7.7".parse().unwrap()));
    }

    #[test]
    fn base_url_follows_trusted_proxy_headers_only() {
        let h = headers(&[
            ("host", "127.0.0.1:3080"),
            ("x-forwarded-host", "chat.example.com"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(base_url(&h, 0, "http://fallback"), "http://127.0.0.1:3080");
        assert_eq!(
            base_url(&h, 1, "http://fallback"),
            "https://chat.example.com"
        );
        let evil = headers(&[("host", "evil.com/<script>")]);
        assert_eq!(base_url(&evil, 0, "http://fallback"), "http://fallback");
    }
}
