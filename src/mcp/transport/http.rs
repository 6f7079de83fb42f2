//! Streamable HTTP (LibreChat's `type: streamable-http` / `http`): each of our messages is a
//! POST to the server's one URL, and the server's answers to it come back in the response,
//! as one JSON body or as an event stream (which may carry the request's progress first).
//! The session id the server gives when it initializes (`Mcp-Session-Id`) goes with every
//! later POST, with the protocol version; closing ends the session with a DELETE.
//!
//! On the guarded client (address checks at every connect, no redirects). A JSON body or an
//! event over `max_message` bytes, an answer that is not JSON-RPC, or a failed POST (the
//! server gone, an error status, a session the server no longer knows) ends the session, with
//! the reason in [`Ended`]; its owner connects again on next use. A request's event stream
//! that ends before its answer (this client does not resume streams) fails that request at
//! once, with an error answer made here; the session goes on (a request we cancelled gets no
//! answer, and no one waits for it any more).
//!
//! Not done: the optional GET stream for what a server sends outside any request (list
//! changes, logging); this client lists tools when it connects and has no use for them.

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::sync::mpsc;

use super::{Ended, Why, WireError, header_map, net_why, parse};
use crate::net::Guarded;

const SESSION: &str = "mcp-session-id";
const VERSION: &str = "mcp-protocol-version";

/// A client's side of one streamable HTTP session.
pub struct StreamableHttp {
    post: Poster,
    inbox: mpsc::UnboundedReceiver<Inbound>,
    done: bool,
}

/// What the POSTs' responses bring.
enum Inbound {
    Message(Value),
    /// The session has failed (the reason is in [`Ended`]).
    End,
}

/// What sending needs, cloned into each send.
#[derive(Clone)]
struct Poster {
    client: reqwest::Client,
    url: url::Url,
    headers: HeaderMap,
    shown: Arc<str>,
    session: Arc<Mutex<Option<HeaderValue>>>,
    inbox: mpsc::UnboundedSender<Inbound>,
    ended: Ended,
    max: usize,
}

/// A streamable HTTP transport to `url` with the configured `headers`, on the guarded client;
/// a JSON answer or a stream event over `max_message` bytes ends it. Nothing is sent until the
/// first message.
pub fn streamable_http(
    url: &str,
    headers: &HashMap<String, String>,
    guarded: &Guarded,
    max_message: usize,
) -> Result<StreamableHttp, WireError> {
    let (parsed, shown) = parse(url)?;
    let fail = |why: Why| WireError {
        url: shown.clone(),
        why,
    };
    let client = guarded
        .client_for(&parsed)
        .map_err(|b| fail(b.into()))?
        .clone();
    let headers = header_map(headers).map_err(fail)?;
    let (tx, inbox) = mpsc::unbounded_channel();
    Ok(StreamableHttp {
        post: Poster {
            client,
            url: parsed,
            headers,
            shown: shown.into(),
            session: Arc::default(),
            inbox: tx,
            ended: Ended::default(),
            max: max_message,
        },
        inbox,
        done: false,
    })
}

impl StreamableHttp {
    /// Where the reason this session failed will be.
    pub fn ended(&self) -> Ended {
        self.post.ended.clone()
    }
}

impl Poster {
    fn fail(&self, why: Why) -> WireError {
        WireError {
            url: self.shown.to_string(),
            why,
        }
    }

    fn session(&self) -> Option<HeaderValue> {
        self.session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// POSTs `message` and passes on what the response carries; a failure ends the session.
    async fn send(self, message: Value) -> Result<(), WireError> {
        let r = self.exchange(&message).await;
        if let Err(e) = &r {
            self.ended.set(e.clone());
            let _ = self.inbox.send(Inbound::End);
        }
        r
    }

    async fn exchange(&self, message: &Value) -> Result<(), WireError> {
        let mut request = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .header(
                ACCEPT,
                HeaderValue::from_static("application/json, text/event-stream"),
            )
            .json(message);
        if message["method"] != "initialize" {
            request = request.header(VERSION, super::super::protocol::PROTOCOL_VERSION);
        }
        if let Some(id) = self.session() {
            request = request.header(SESSION, id);
        }
        let response = request.send().await.map_err(|e| self.fail(net_why(&e)))?;
        if let Some(id) = response.headers().get(SESSION) {
            *self.session.lock().unwrap_or_else(|e| e.into_inner()) = Some(id.clone());
        }
        let status = response.status();
        if !status.is_success() {
            return Err(self.fail(Why::Status(status.as_u16())));
        }
        if status == reqwest::StatusCode::ACCEPTED {
            return Ok(()); // a notification or an answer taken
        }
        let kind = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        // A request's answer must come; a notification's response ("202 Accepted") is empty.
        let asked = message.get("id").is_some() && message.get("method").is_some();
        if kind.starts_with("text/event-stream") {
            self.stream(response, asked.then(|| &message["id"])).await
        } else if kind.starts_with("application/json") {
            let body = self.body(response).await?;
            match body.iter().all(u8::is_ascii_whitespace) && !asked {
                true => Ok(()),
                false => self.deliver(&body, None).map(drop),
            }
        } else if asked {
            Err(self.fail(Why::Protocol(format!(
                "it answered a request with HTTP {} and no JSON",
                status.as_u16()
            ))))
        } else {
            Ok(())
        }
    }

    /// The response's body, at most `max` bytes.
    async fn body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, WireError> {
        if response.content_length().unwrap_or(0) > self.max as u64 {
            return Err(self.fail(Why::TooLarge(self.max)));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.fail(net_why(&e)))? {
            if body.len() + chunk.len() > self.max {
                return Err(self.fail(Why::TooLarge(self.max)));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Passes on each message of an event stream until the server ends it; when it ends
    /// before the answer to request `id` (when one is awaited), an error answer is passed on
    /// in its place.
    async fn stream(
        &self,
        response: reqwest::Response,
        id: Option<&Value>,
    ) -> Result<(), WireError> {
        let held = Arc::new(AtomicUsize::new(0));
        let mut events = super::sse::bounded(response, held.clone(), self.max);
        let mut answered = id.is_none();
        loop {
            match super::sse::next(&mut events, &held, self.max).await {
                // The default event type is "message"; an event without data only primes
                // the stream (it carries an id to resume from).
                Ok(e) if (e.event == "message" || e.event.is_empty()) => {
                    if !e.data.trim().is_empty() {
                        answered |= self.deliver(e.data.as_bytes(), id)?;
                    }
                }
                Ok(_) => continue,
                Err(Why::Closed) => {
                    if let (false, Some(id)) = (answered, id) {
                        // The MCP SDKs' "connection closed" code.
                        let error = serde_json::json!({"jsonrpc": "2.0", "id": id, "error": {
                            "code": -32000,
                            "message": "the server's event stream ended without the answer"}});
                        let _ = self.inbox.send(Inbound::Message(error));
                    }
                    return Ok(());
                }
                Err(why) => return Err(self.fail(why)),
            }
        }
    }

    /// Passes on the message `bytes` hold; whether it answers the request `id`.
    fn deliver(&self, bytes: &[u8], id: Option<&Value>) -> Result<bool, WireError> {
        let message: Value =
            serde_json::from_slice(bytes).map_err(|e| self.fail(Why::NotJson(e.to_string())))?;
        let answer = id.is_some_and(|id| answers(&message, id));
        let _ = self.inbox.send(Inbound::Message(message));
        Ok(answer)
    }
}

/// Whether `message` (or a batch) holds the answer to the request `id`.
fn answers(message: &Value, id: &Value) -> bool {
    match message {
        Value::Array(batch) => batch.iter().any(|m| answers(m, id)),
        m => m.get("method").is_none() && m.get("id") == Some(id),
    }
}

impl crate::mcp::rpc::Transport for StreamableHttp {
    type Error = WireError;

    fn send(
        &mut self,
        message: Value,
    ) -> impl Future<Output = Result<(), WireError>> + Send + 'static {
        self.post.clone().send(message)
    }

    /// Cancel-safe: a channel's receive.
    async fn receive(&mut self) -> Option<Value> {
        if self.done {
            return None;
        }
        match self.inbox.recv().await {
            Some(Inbound::Message(m)) => Some(m),
            _ => {
                self.done = true;
                None
            }
        }
    }

    /// Ends the session on the server too, when it gave one (within a few seconds; a server
    /// that does not answer keeps it until its own timeout).
    async fn close(&mut self) {
        self.done = true;
        let Some(id) = self.post.session() else {
            return;
        };
        let p = &self.post;
        let _ = p
            .client
            .delete(p.url.clone())
            .headers(p.headers.clone())
            .header(SESSION, id)
            .timeout(Duration::from_secs(5))
            .send()
            .await;
    }
}
