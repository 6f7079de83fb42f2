//! Server-sent events from a provider, as `(event, data)` pairs, with a clear error for a
//! stream that is not SSE or breaks off.

use std::collections::VecDeque;

use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};

use super::{ProviderError, StreamEvent};

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

/// What one SSE event meant for the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// More to come.
    Continue,
    /// The answer is complete; trailing events (usage) may still follow.
    Finished,
    /// Nothing more to read.
    End,
}

struct Translate<S, F> {
    events: S,
    handle: F,
    pending: VecDeque<StreamEvent>,
    finished: bool,
    done: bool,
}

/// Turns a provider's SSE events into stream events: `handle` adds the events one SSE event
/// stands for and says what it meant. The stream ends at [`Step::End`] (after reading the body
/// to its end, briefly, so the connection can be reused), or when the body ends after
/// [`Step::Finished`]; a body that ends before either is [`ProviderError::Interrupted`], and a
/// connection error after the answer finished loses nothing.
pub fn translate<S, F>(
    events: S,
    handle: F,
) -> impl Stream<Item = Result<StreamEvent, ProviderError>> + Send
where
    S: Stream<Item = Result<SseEvent, ProviderError>> + Send + Unpin,
    F: FnMut(&SseEvent, &mut VecDeque<StreamEvent>) -> Result<Step, ProviderError> + Send,
{
    let state = Translate {
        events,
        handle,
        pending: VecDeque::new(),
        finished: false,
        done: false,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(e) = st.pending.pop_front() {
                return Some((Ok(e), st));
            }
            if st.done {
                let drain = async { while st.events.next().await.is_some() {} };
                let _ = tokio::time::timeout(std::time::Duration::from_millis(500), drain).await;
                return None;
            }
            match st.events.next().await {
                Some(Ok(e)) => match (st.handle)(&e, &mut st.pending) {
                    Ok(Step::Continue) => {}
                    Ok(Step::Finished) => st.finished = true,
                    Ok(Step::End) => st.done = true,
                    Err(err) => {
                        st.done = true;
                        st.pending.clear();
                        return Some((Err(err), st));
                    }
                },
                Some(Err(_)) if st.finished => st.done = true,
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
                None => {
                    st.done = true;
                    if !st.finished {
                        return Some((Err(ProviderError::Interrupted), st));
                    }
                }
            }
        }
    })
}
