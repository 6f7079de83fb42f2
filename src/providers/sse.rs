//! Server-sent events from a provider, as `(event, data)` pairs, with a clear error for a
//! stream that is not SSE or breaks off.

use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};

use super::ProviderError;

/// One event: its `event:` name (empty when absent) and its `data:`.
pub struct SseEvent {
    #[allow(dead_code)] // Anthropic's stream names its events; OpenAI's does not.
    pub event: String,
    pub data: String,
}

/// The events of a streaming response body. Chunk boundaries may fall anywhere, even inside a
/// UTF-8 character or a line: the parser reassembles them.
pub fn events(
    response: reqwest::Response,
) -> impl Stream<Item = Result<SseEvent, ProviderError>> + Send {
    response
        .bytes_stream()
        .eventsource()
        .map(|item| match item {
            Ok(e) => Ok(SseEvent {
                event: e.event,
                data: e.data,
            }),
            Err(eventsource_stream::EventStreamError::Transport(e)) => {
                if e.is_timeout() {
                    Err(ProviderError::Malformed("the stream stalled".into()))
                } else {
                    Err(ProviderError::Interrupted)
                }
            }
            Err(e) => Err(ProviderError::Malformed(e.to_string())),
        })
}
