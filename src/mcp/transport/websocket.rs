//! A websocket to an MCP server (LibreChat's `type: websocket`): `ws://` or `wss://`,
//! subprotocol `mcp`, one JSON-RPC message per text frame, as the TypeScript SDK's
//! `WebSocketClientTransport` speaks it.
//!
//! reqwest does not do websockets, so the socket is opened here, with the guarded client's
//! rules: the name is resolved once and every answer judged ([`Guarded::addresses`]), the
//! connection goes to a checked address (no second lookup), and TLS verifies the host name
//! with the platform's verifier on the rustls reqwest already uses.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

use super::{Ended, Why, WireError, header_map, parse};
use crate::net::Guarded;

/// How long opening the TCP connection to one address may take.
const CONNECT_TIME: Duration = Duration::from_secs(10);

/// A plain or TLS socket.
trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

type Socket = WebSocketStream<Box<dyn Io>>;

/// A client's side of one websocket to an MCP server.
pub struct WsTransport {
    /// Shared with send futures, which must be `'static`.
    sink: Arc<Mutex<SplitSink<Socket, Message>>>,
    stream: SplitStream<Socket>,
    url: Arc<str>,
    max_message: usize,
    ended: Ended,
    done: bool,
}

/// Opens a websocket to `url` with the configured `headers`, on an address the guarded
/// client's rules allow; frames and messages over `max_message` bytes end it.
pub async fn websocket(
    url: &str,
    headers: &HashMap<String, String>,
    guarded: &Guarded,
    max_message: usize,
) -> Result<WsTransport, WireError> {
    let (url, shown) = parse(url)?;
    let fail = |why: Why| WireError {
        url: shown.clone(),
        why,
    };
    let tls = match url.scheme() {
        "ws" => false,
        "wss" => true,
        _ => {
            return Err(fail(Why::BadUrl(
                "a websocket URL starts with ws:// or wss://",
            )));
        }
    };
    let host = url.host().ok_or(fail(Why::BadUrl("it has no host")))?;
    let port = url
        .port_or_known_default()
        .unwrap_or(if tls { 443 } else { 80 });
    let addrs = guarded
        .addresses(host.clone(), port)
        .await
        .map_err(|b| fail(b.into()))?;
    if addrs.is_empty() {
        return Err(fail(Why::Connect("the name does not resolve".into())));
    }
    let mut last = String::new();
    let mut tcp = None;
    for addr in addrs {
        match tokio::time::timeout(CONNECT_TIME, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                tcp = Some(s);
                break;
            }
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = "timed out".into(),
        }
    }
    let tcp = tcp.ok_or_else(|| fail(Why::Connect(last)))?;
    let io: Box<dyn Io> = if tls {
        let name = match host {
            url::Host::Domain(d) => rustls::pki_types::ServerName::try_from(d.to_owned())
                .map_err(|_| fail(Why::BadUrl("the host is not a valid name")))?,
            url::Host::Ipv4(ip) => std::net::IpAddr::V4(ip).into(),
            url::Host::Ipv6(ip) => std::net::IpAddr::V6(ip).into(),
        };
        let connector = tokio_rustls::TlsConnector::from(tls_config().map_err(&fail)?);
        let stream = connector
            .connect(name, tcp)
            .await
            .map_err(|e| fail(Why::Connect(format!("TLS: {e}"))))?;
        Box::new(stream)
    } else {
        Box::new(tcp)
    };
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| fail(Why::Protocol(e.to_string())))?;
    request
        .headers_mut()
        .extend(header_map(headers).map_err(&fail)?);
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "mcp".parse().expect("a valid header value"),
    );
    let config = WebSocketConfig::default()
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message));
    let (socket, _) = client_async_with_config(request, io, Some(config))
        .await
        .map_err(|e| fail(ws_why(e, max_message)))?;
    let (sink, stream) = socket.split();
    Ok(WsTransport {
        sink: Arc::new(Mutex::new(sink)),
        stream,
        url: shown.into(),
        max_message,
        ended: Ended::default(),
        done: false,
    })
}

/// The TLS settings every websocket shares: the platform's verifier (system roots), built once.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, Why> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            use rustls_platform_verifier::BuilderVerifierExt;
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .and_then(|b| b.with_platform_verifier())
                .map(|b| Arc::new(b.with_no_client_auth()))
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| Why::Connect(format!("TLS cannot be set up: {e}")))
}

fn ws_why(e: WsError, max: usize) -> Why {
    match e {
        WsError::Capacity(_) => Why::TooLarge(max),
        WsError::Http(response) => Why::Status(response.status().as_u16()),
        WsError::ConnectionClosed | WsError::AlreadyClosed => Why::Closed,
        e => Why::Connect(e.to_string()),
    }
}

impl WsTransport {
    /// Where the reason this connection ended will be.
    pub fn ended(&self) -> Ended {
        self.ended.clone()
    }
}

impl crate::mcp::rpc::Transport for WsTransport {
    type Error = WireError;

    fn send(
        &mut self,
        item: Value,
    ) -> impl Future<Output = Result<(), WireError>> + Send + 'static {
        let sink = self.sink.clone();
        let url = self.url.clone();
        let max = self.max_message;
        async move {
            let fail = |why| WireError {
                url: url.to_string(),
                why,
            };
            let text = serde_json::to_string(&item)
                .map_err(|e| fail(Why::Protocol(format!("cannot encode a message: {e}"))))?;
            let mut sink = sink.lock().await;
            sink.send(Message::text(text))
                .await
                .map_err(|e| fail(ws_why(e, max)))
        }
    }

    /// Cancel-safe: nothing is held across the await but the stream itself.
    async fn receive(&mut self) -> Option<Value> {
        while !self.done {
            let why = match self.stream.next().await {
                Some(Ok(Message::Text(text))) => match serde_json::from_str(text.as_str()) {
                    Ok(message) => return Some(message),
                    Err(e) => Why::NotJson(e.to_string()),
                },
                // Not what the SDK sends, but unambiguous.
                Some(Ok(Message::Binary(bytes))) => match serde_json::from_slice(&bytes) {
                    Ok(message) => return Some(message),
                    Err(e) => Why::NotJson(e.to_string()),
                },
                // Pings are answered by tungstenite itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Close(_))) | None => Why::Closed,
                Some(Err(e)) => ws_why(e, self.max_message),
            };
            self.done = true;
            self.ended.set(WireError {
                url: self.url.to_string(),
                why,
            });
        }
        None
    }

    async fn close(&mut self) {
        self.done = true;
        let _ = self.sink.lock().await.close().await;
    }
}
