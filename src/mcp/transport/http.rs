//! Streamable HTTP (LibreChat's `type: streamable-http` / `http`): rmcp's own client, on the
//! guarded reqwest client (address checks at every connect, no redirects).
//!
//! rmcp 3.11's reqwest client already reads bodies to a bound (`max_json_response_size` for a
//! JSON answer, `max_sse_event_size` for each event of a stream, `max_error_response_size` for
//! an error page), so it is kept, with both bounds set to `max_message`. Two things are added:
//! naming (rmcp's errors carry reqwest's, whose text holds the full URL, query and credentials
//! too, so [`StreamableHttp`] shows the server as [`shown`](super::shown)), and the reason a
//! session ended: rmcp's worker only logs it, so [`Recorded`] notes each failure it passes on.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt;
use reqwest::header::{HeaderName, HeaderValue};
use rmcp::RoleClient;
use rmcp::model::ClientJsonRpcMessage;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::transport::common::client_side_sse::BoxedSseResponse;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpClientTransport,
    StreamableHttpClientTransportConfig, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};

use super::{Ended, Why, WireError, header_map, net_why, parse};
use crate::net::Guarded;

/// rmcp's streamable HTTP transport, its errors naming the server without credentials.
pub struct StreamableHttp {
    inner: StreamableHttpClientTransport<Recorded>,
    url: Arc<str>,
    ended: Ended,
    max_message: usize,
}

/// A streamable HTTP transport to `url` with the configured `headers`, on the guarded client;
/// a JSON answer or a stream event over `max_message` bytes ends it. Nothing is sent until
/// rmcp serves it.
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
    let config = StreamableHttpClientTransportConfig::with_uri(parsed.as_str())
        .custom_headers(
            headers
                .into_iter()
                .filter_map(|(n, v)| Some((n?, v)))
                .collect(),
        )
        .max_sse_event_size(max_message)
        .max_json_response_size(max_message);
    let url: Arc<str> = shown.into();
    let ended = Ended::default();
    let recorded = Recorded {
        client,
        url: url.clone(),
        ended: ended.clone(),
        max_message,
    };
    Ok(StreamableHttp {
        inner: StreamableHttpClientTransport::with_client(recorded, config),
        url,
        ended,
        max_message,
    })
}

impl StreamableHttp {
    /// Where the reason this session failed will be.
    pub fn ended(&self) -> Ended {
        self.ended.clone()
    }
}

fn named(url: &str, e: &StreamableHttpError<reqwest::Error>, max: usize) -> WireError {
    let why = match e {
        StreamableHttpError::Client(e) => net_why(e),
        StreamableHttpError::ResponseBodyTooLarge { max_size } => Why::TooLarge(*max_size),
        StreamableHttpError::HttpStatus(s) => Why::Status(s.status),
        StreamableHttpError::Deserialize(e) => Why::NotJson(e.to_string()),
        StreamableHttpError::Sse(e) => sse_why(e, max),
        e => Why::Protocol(e.to_string()),
    };
    WireError {
        url: url.to_owned(),
        why,
    }
}

fn sse_why(e: &SseError, max: usize) -> Why {
    match e {
        SseError::Body(inner) => match inner.downcast_ref::<reqwest::Error>() {
            Some(e) => net_why(e),
            // rmcp's bound is a private type; its message is what identifies it.
            None if inner.to_string().contains("maximum size") => Why::TooLarge(max),
            None => Why::Protocol(format!("the event stream broke: {inner}")),
        },
        e => Why::Protocol(format!("the event stream is broken: {e}")),
    }
}

impl Transport<RoleClient> for StreamableHttp {
    type Error = WireError;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), WireError>> + Send + 'static {
        let sent = self.inner.send(item);
        let (url, max) = (self.url.clone(), self.max_message);
        async move { sent.await.map_err(|e| named(&url, &e, max)) }
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.inner.receive()
    }

    async fn close(&mut self) -> Result<(), WireError> {
        let url = self.url.clone();
        self.inner
            .close()
            .await
            .map_err(|e| named(&url, &e, self.max_message))
    }
}

/// The guarded reqwest client as rmcp's HTTP client, noting in `ended` each failure it passes
/// on (an answer too large or not JSON, a broken stream); otherwise exactly rmcp's reqwest
/// client.
#[derive(Clone)]
struct Recorded {
    client: reqwest::Client,
    url: Arc<str>,
    ended: Ended,
    max_message: usize,
}

impl Recorded {
    fn note<T>(
        &self,
        r: Result<T, StreamableHttpError<reqwest::Error>>,
    ) -> Result<T, StreamableHttpError<reqwest::Error>> {
        if let Err(e) = &r {
            // Not failures: the server has no GET stream, or wants a sign-in.
            if !matches!(
                e,
                StreamableHttpError::ServerDoesNotSupportSse
                    | StreamableHttpError::AuthRequired(_)
                    | StreamableHttpError::InsufficientScope(_)
            ) {
                self.ended.set(named(&self.url, e, self.max_message));
            }
        }
        r
    }

    fn watch(&self, events: BoxedSseResponse) -> BoxedSseResponse {
        let me = self.clone();
        events
            .inspect(move |item| {
                if let Err(e) = item {
                    me.ended.set(WireError {
                        url: me.url.to_string(),
                        why: sse_why(e, me.max_message),
                    });
                }
            })
            .boxed()
    }
}

type Headers = HashMap<HeaderName, HeaderValue>;
type HttpResult<T> = Result<T, StreamableHttpError<reqwest::Error>>;

impl StreamableHttpClient for Recorded {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        headers: Headers,
    ) -> HttpResult<StreamableHttpPostResponse> {
        let limits = StreamableHttpResponseLimits::default();
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            headers,
            limits,
        )
        .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        headers: Headers,
        max_sse_event_size: usize,
    ) -> HttpResult<StreamableHttpPostResponse> {
        let mut limits = StreamableHttpResponseLimits::default();
        limits.max_sse_event_size = max_sse_event_size;
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            headers,
            limits,
        )
        .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        headers: Headers,
        limits: StreamableHttpResponseLimits,
    ) -> HttpResult<StreamableHttpPostResponse> {
        let answer = self
            .client
            .post_message_with_response_limits(
                uri,
                message,
                session_id,
                auth_header,
                headers,
                limits,
            )
            .await;
        match self.note(answer)? {
            StreamableHttpPostResponse::Sse(events, session) => {
                Ok(StreamableHttpPostResponse::Sse(self.watch(events), session))
            }
            other => Ok(other),
        }
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        headers: Headers,
    ) -> HttpResult<()> {
        self.client
            .delete_session(uri, session_id, auth_header, headers)
            .await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        headers: Headers,
    ) -> HttpResult<BoxedSseResponse> {
        let max = StreamableHttpResponseLimits::default().max_sse_event_size;
        self.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_header,
            headers,
            max,
        )
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        headers: Headers,
        max_sse_event_size: usize,
    ) -> HttpResult<BoxedSseResponse> {
        let events = self
            .client
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                auth_header,
                headers,
                max_sse_event_size,
            )
            .await;
        Ok(self.watch(self.note(events)?))
    }
}
