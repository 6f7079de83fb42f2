//! Legacy SSE (the 2024-11-05 "HTTP with SSE" transport; LibreChat's `type: sse`): a GET opens an event stream whose first `endpoint` event names the URI
//! to POST our messages to; the server's messages arrive as `message` events.
//!
//! The guarded client gives up on a stream silent for 5 minutes (its read timeout): a server
//! that sends no keep-alive comments while idle then ends the session, with "timed out" as
//! the reason, and its owner connects again.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, future};
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use serde_json::Value;

use super::{Ended, Why, WireError, header_map, net_why, parse};
use crate::net::Guarded;

/// A client's side of one legacy SSE session.
pub struct SseTransport {
    events: BoxStream<'static, Result<Event, EventStreamError<Why>>>,
    /// Bytes read since the parser last gave out an event: what it may be holding.
    held: Arc<AtomicUsize>,
    post: Poster,
    max_message: usize,
    ended: Ended,
    /// Closed, by either side: nothing more is read.
    done: bool,
}

/// What sending needs, cloned into each send (send futures are `'static`).
#[derive(Clone)]
struct Poster {
    client: reqwest::Client,
    endpoint: url::Url,
    headers: HeaderMap,
    url: Arc<str>,
}

/// Opens the event stream at `url` (with the configured `headers`, on the guarded client) and
/// waits for its `endpoint` event. An endpoint on another origin than `url` is refused: the
/// server could otherwise have our messages, and the headers with them, sent anywhere.
pub async fn sse(
    url: &str,
    headers: &HashMap<String, String>,
    guarded: &Guarded,
    max_message: usize,
) -> Result<SseTransport, WireError> {
    let (url, shown) = parse(url)?;
    let fail = |why: Why| WireError {
        url: shown.clone(),
        why,
    };
    let client = guarded
        .client_for(&url)
        .map_err(|b| fail(b.into()))?
        .clone();
    let headers = header_map(headers).map_err(fail)?;
    let response = client
        .get(url.clone())
        .headers(headers.clone())
        .header(ACCEPT, HeaderValue::from_static("text/event-stream"))
        .send()
        .await
        .map_err(|e| fail(net_why(&e)))?;
    if !response.status().is_success() {
        return Err(fail(Why::Status(response.status().as_u16())));
    }
    let held = Arc::new(AtomicUsize::new(0));
    let mut events = bounded(response, held.clone(), max_message);
    let endpoint = loop {
        match next(&mut events, &held, max_message).await {
            Ok(e) if e.event == "endpoint" => break e.data,
            Ok(_) => continue, // nothing else is meaningful before the endpoint
            Err(why) => return Err(fail(why)),
        }
    };
    let endpoint = url
        .join(endpoint.trim())
        .map_err(|_| fail(Why::Protocol("its endpoint event is not a URI".into())))?;
    if endpoint.origin() != url.origin() {
        return Err(fail(Why::Protocol(format!(
            "its endpoint event names another origin ({}); refused",
            endpoint.origin().ascii_serialization()
        ))));
    }
    Ok(SseTransport {
        events,
        held,
        post: Poster {
            client,
            endpoint,
            headers,
            url: shown.into(),
        },
        max_message,
        ended: Ended::default(),
        done: false,
    })
}

impl SseTransport {
    /// Where the reason this session ended will be.
    pub fn ended(&self) -> Ended {
        self.ended.clone()
    }

    /// Drops the event stream, which ends the GET (the server then ends the session).
    fn close_now(&mut self) {
        self.done = true;
        self.events = futures_util::stream::empty().boxed();
    }
}

/// The response's events, where more than `max` bytes read without an event coming out ends
/// the stream: the parser then holds at most `max` and one network chunk.
pub(super) fn bounded(
    response: reqwest::Response,
    held: Arc<AtomicUsize>,
    max: usize,
) -> BoxStream<'static, Result<Event, EventStreamError<Why>>> {
    let mut over = false;
    response
        .bytes_stream()
        .map(move |chunk| match chunk {
            Ok(bytes) if held.fetch_add(bytes.len(), Ordering::Relaxed) + bytes.len() <= max => {
                Ok(bytes)
            }
            Ok(_) => Err(Why::TooLarge(max)),
            Err(e) => Err(net_why(&e)),
        })
        // Nothing is read after the limit is crossed.
        .take_while(move |item| {
            let go = !over;
            over |= matches!(item, Err(Why::TooLarge(_)));
            future::ready(go)
        })
        .eventsource()
        .boxed()
}

/// The next event, or why there is none.
pub(super) async fn next(
    events: &mut BoxStream<'static, Result<Event, EventStreamError<Why>>>,
    held: &AtomicUsize,
    max: usize,
) -> Result<Event, Why> {
    match events.next().await {
        None => Err(Why::Closed),
        Some(Ok(event)) => {
            held.store(0, Ordering::Relaxed);
            if event.data.len() > max {
                return Err(Why::TooLarge(max));
            }
            Ok(event)
        }
        Some(Err(EventStreamError::Transport(why))) => Err(why),
        Some(Err(e)) => Err(Why::Protocol(format!("the event stream is broken: {e}"))),
    }
}

impl crate::mcp::rpc::Transport for SseTransport {
    type Error = WireError;

    fn send(
        &mut self,
        item: Value,
    ) -> impl Future<Output = Result<(), WireError>> + Send + 'static {
        let post = self.post.clone();
        async move {
            let fail = |why| WireError {
                url: post.url.to_string(),
                why,
            };
            let response = post
                .client
                .post(post.endpoint)
                .headers(post.headers)
                .json(&item)
                .send()
                .await
                .map_err(|e| fail(net_why(&e)))?;
            // The answer (usually "Accepted") is dropped unread.
            match response.status() {
                s if s.is_success() => Ok(()),
                s => Err(fail(Why::Status(s.as_u16()))),
            }
        }
    }

    /// Cancel-safe: nothing is held across the await but the stream itself.
    async fn receive(&mut self) -> Option<Value> {
        while !self.done {
            let why = match next(&mut self.events, &self.held, self.max_message).await {
                // The default event type is "message".
                Ok(e) if e.event == "message" || e.event.is_empty() => {
                    match serde_json::from_str(&e.data) {
                        Ok(message) => return Some(message),
                        Err(err) => Why::NotJson(err.to_string()),
                    }
                }
                Ok(_) => continue, // a later endpoint event, or one of the server's own
                Err(why) => why,
            };
            self.ended.set(WireError {
                url: self.post.url.to_string(),
                why,
            });
            self.close_now();
        }
        None
    }

    async fn close(&mut self) {
        self.close_now();
    }
}
