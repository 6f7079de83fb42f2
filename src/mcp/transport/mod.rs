//! The network ways to an MCP server, each a [`Transport`](super::rpc::Transport) a JSON-RPC
//! [`Session`](super::rpc::Session) runs over: legacy SSE ([`sse`]), a websocket
//! ([`websocket`]) and streamable HTTP ([`streamable_http`]). stdio is [`super::stdio`].
//!
//! Common rules: every address goes through the guarded client's checks (`crate::net`), so a
//! server on a private address is refused unless the administrator listed it; one message is
//! at most `max_message` bytes ([`MAX_MESSAGE`] unless configured), and one over it, or one that
//! is not JSON-RPC, ends the connection; every error names the server by its URL without
//! credentials or query ([`shown`]).

mod http;
mod sse;
mod websocket;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

pub use http::{StreamableHttp, streamable_http};
pub use sse::{SseTransport, sse};
pub use websocket::{WsTransport, websocket};

use crate::net::Blocked;

/// The most one message from a server may take, by default: far above a real tool result (a
/// screenshot as base64 is a few MB).
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Why a connection to an MCP server could not be opened, or ended.
#[derive(Debug, Clone, thiserror::Error)]
#[error("MCP server {url}: {why}")]
pub struct WireError {
    /// The server's URL as [`shown`]: no credentials, no query.
    pub url: String,
    pub why: Why,
}

impl crate::mcp::rpc::SendError for WireError {
    fn unauthorized(&self) -> bool {
        matches!(self.why, Why::Status(401))
    }
}

/// What went wrong, shown after the server's URL.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Why {
    #[error(transparent)]
    Blocked(#[from] Blocked),
    #[error("the URL is not valid: {0}")]
    BadUrl(&'static str),
    #[error("the header {0:?} is not a valid HTTP header")]
    BadHeader(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("the server answered HTTP {0}")]
    Status(u16),
    #[error("the server sent a message over the {0}-byte limit")]
    TooLarge(usize),
    #[error("the server sent something that is not a JSON-RPC message: {0}")]
    NotJson(String),
    #[error("{0}")]
    Protocol(String),
    #[error("the server closed the connection")]
    Closed,
}

/// Where a transport leaves the reason it ended (`receive` can only say "no more"), for the
/// connection's owner to report once the session says the transport closed. Empty while it runs,
/// or when it was closed on our side.
#[derive(Clone, Default, Debug)]
pub struct Ended(Arc<Mutex<Option<WireError>>>);

impl Ended {
    pub fn get(&self) -> Option<WireError> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records the reason (the last one: streamable HTTP may recover from a failed stream
    /// before a later failure ends it) and logs it.
    fn set(&self, err: WireError) {
        tracing::warn!(error = %err, "MCP connection failed");
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(err);
    }
}

/// `url` as errors and logs show it: without user name, password, query or fragment, which may
/// carry credentials (`?api_key=`).
pub fn shown(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// The URL parsed, with the form it is shown in; an unparsable URL is shown as such.
fn parse(url: &str) -> Result<(url::Url, String), WireError> {
    url::Url::parse(url)
        .map(|u| {
            let s = shown(&u);
            (u, s)
        })
        .map_err(|_| WireError {
            url: "(an invalid URL)".into(),
            why: Why::BadUrl("it cannot be parsed"),
        })
}

/// The configured headers (already resolved) as HTTP headers.
fn header_map(headers: &HashMap<String, String>) -> Result<HeaderMap, Why> {
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        let bad = || Why::BadHeader(name.clone());
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        let v = HeaderValue::from_str(value).map_err(|_| bad())?;
        out.insert(n, v);
    }
    Ok(out)
}

/// A reqwest failure, without its URL (which may carry credentials): the guarded client's
/// refusal when that is the cause, else the chain of causes.
fn net_why(e: &reqwest::Error) -> Why {
    if let Some(b) = Blocked::find(e) {
        return Why::Blocked(b.clone());
    }
    if e.is_timeout() {
        return Why::Connect("timed out".into());
    }
    let mut text = String::new();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(err) = cur {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&err.to_string());
        cur = err.source();
    }
    if text.is_empty() {
        text = e.to_string();
        if let Some(u) = e.url() {
            text = text.replace(u.as_str(), "the server");
        }
    }
    Why::Connect(text)
}
