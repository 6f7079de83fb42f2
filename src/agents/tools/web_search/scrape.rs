//! The built-in scraper: a result's page fetched through the guarded client and read into its
//! text.
//!
//! The page's address comes from the search results, which anyone on the web can shape, so
//! every rule of `crate::net` holds: http(s) only, no private address (in the URL, in what a
//! name resolves to, or at any redirect, each hop checked again; at most [`MAX_REDIRECTS`]),
//! the whole read bounded in time (`scraperTimeout`: a page whose body is still coming near
//! the end is read as far as it came) and size ([`MAX_PAGE_BYTES`]: a longer page is read up
//! to there), and HTML only (anything else, or a body that looks binary
//! whatever it claims, is left unread).

use std::time::Duration;

use super::extract::{Page, readable};
use crate::net::{Blocked, Guarded};

/// The most of a page read: article text is rarely past the first few hundred KB of HTML.
pub const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;
const MAX_REDIRECTS: usize = 3;

/// Why a page was not read (logged, and the result keeps its snippet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotRead {
    #[error("{0}")]
    Blocked(#[from] Blocked),
    #[error("not a web address")]
    BadUrl,
    #[error("could not be fetched: {0}")]
    Fetch(String),
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("too many redirects")]
    Redirects,
    #[error("not HTML ({0})")]
    NotHtml(String),
    #[error("timed out")]
    Timeout,
    /// A scraping service's answer: its error, or why it could not be used.
    #[error("{0}")]
    Service(String),
}

/// Fetches `link` and reads it, within `timeout` in all.
pub async fn page(guarded: &Guarded, link: &str, timeout: Duration) -> Result<Page, NotRead> {
    // The body stops being read a little before the end, so what came is kept.
    let body_until = tokio::time::Instant::now() + timeout - (timeout / 10).min(SPARE);
    match tokio::time::timeout(timeout, fetch(guarded, link, body_until)).await {
        Err(_) => Err(NotRead::Timeout),
        Ok(Err(e)) => Err(e),
        Ok(Ok(html)) => {
            // Reading is CPU work on up to 2 MB: off the async threads.
            tokio::task::spawn_blocking(move || readable(&html))
                .await
                .map_err(|_| NotRead::Fetch("the page could not be read".into()))
        }
    }
}

/// The time kept, at most, between the end of reading a body and the end of `scraperTimeout`.
const SPARE: Duration = Duration::from_millis(500);

async fn fetch(
    guarded: &Guarded,
    link: &str,
    body_until: tokio::time::Instant,
) -> Result<String, NotRead> {
    let mut url = url::Url::parse(link).map_err(|_| NotRead::BadUrl)?;
    for _ in 0..=MAX_REDIRECTS {
        let client = guarded.client_for(&url)?;
        let response = client
            .get(url.clone())
            .header("accept", "text/html,application/xhtml+xml;q=0.9")
            .send()
            .await
            .map_err(|e| match Blocked::find(&e) {
                Some(b) => NotRead::Blocked(b.clone()),
                None => NotRead::Fetch(e.without_url().to_string()),
            })?;
        let status = response.status();
        if status.is_redirection() {
            let next = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or(NotRead::Status(status.as_u16()))?;
            url = next;
            continue;
        }
        if !status.is_success() {
            return Err(NotRead::Status(status.as_u16()));
        }
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !(kind.starts_with("text/html") || kind.starts_with("application/xhtml+xml")) {
            return Err(NotRead::NotHtml(if kind.is_empty() {
                "no content type".into()
            } else {
                kind
            }));
        }
        let within = body_until.saturating_duration_since(tokio::time::Instant::now());
        let body = crate::net::body_prefix(response, MAX_PAGE_BYTES, within).await;
        // A NUL among the first bytes: binary, whatever the header said.
        if body.iter().take(4096).any(|&b| b == 0) {
            return Err(NotRead::NotHtml("binary content".into()));
        }
        return Ok(String::from_utf8_lossy(&body).into_owned());
    }
    Err(NotRead::Redirects)
}
