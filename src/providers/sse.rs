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

/// The largest event a provider may send (its lines together, so also the longest line): far
/// above any real one (a whole long answer repeated in a final event is well under 1 MiB), and
/// what the parser may hold for one stream at most, so a line that never ends cannot take the
/// server's memory.
pub const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// Why the body stopped being read.
#[derive(Debug)]
enum BodyError {
    Transport(reqwest::Error),
    TooLong,
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Transport(e) => e.fmt(f),
            BodyError::TooLong => f.write_str("an event too long"),
        }
    }
}

/// Counts the bytes of the event being received (since the last blank line), over chunks.
#[derive(Default)]
struct EventSize {
    len: usize,
    /// The last line ended and nothing of the next has come yet.
    at_line_start: bool,
    /// The last byte was a CR (a LF right after it ends the same line).
    after_cr: bool,
}

impl EventSize {
    /// Takes in a chunk; false once the event is over the limit.
    fn feed(&mut self, chunk: &[u8]) -> bool {
        for &b in chunk {
            match b {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\r' | b'\n' => {
                    if self.at_line_start {
                        self.len = 0; // a blank line: the event is complete
                    }
                    self.at_line_start = true;
                    self.after_cr = b == b'\r';
                }
                _ => {
                    self.at_line_start = false;
                    self.after_cr = false;
                    self.len += 1;
                    if self.len > MAX_EVENT_BYTES {
                        return false;
                    }
                }
            }
        }
        true
    }
}

/// The events of a streaming response body. Chunk boundaries may fall anywhere, even inside a
/// UTF-8 character or a line: the parser reassembles them. An event (or a line) longer than
/// [`MAX_EVENT_BYTES`] ends the stream with an error.
pub fn events(
    response: reqwest::Response,
) -> impl Stream<Item = Result<SseEvent, ProviderError>> + Send {
    let mut size = EventSize {
        at_line_start: true,
        ..EventSize::default()
    };
    let mut over = false;
    response
        .bytes_stream()
        .map(move |chunk| match chunk {
            Ok(bytes) if size.feed(&bytes) => Ok(bytes),
            Ok(_) => Err(BodyError::TooLong),
            Err(e) => Err(BodyError::Transport(e)),
        })
        // Nothing is read after the limit is crossed.
        .take_while(move |item| {
            let go = !over;
            over |= matches!(item, Err(BodyError::TooLong));
            std::future::ready(go)
        })
        .eventsource()
        .map(|item| match item {
            Ok(e) => Ok(SseEvent {
                event: e.event,
                data: e.data,
            }),
            Err(eventsource_stream::EventStreamError::Transport(BodyError::TooLong)) => {
                Err(ProviderError::Malformed(format!(
                    "the provider sent an event longer than {} MiB; the answer was cut there",
                    MAX_EVENT_BYTES / (1024 * 1024)
                )))
            }
            Err(eventsource_stream::EventStreamError::Transport(BodyError::Transport(e))) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_size_counts_since_the_last_blank_line() {
        let mut s = EventSize {
            at_line_start: true,
            ..EventSize::default()
        };
        assert!(s.feed(b"data: abc\n"));
        assert_eq!(s.len, 9);
        assert!(s.feed(b"data: de\r\n"));
        assert_eq!(s.len, 17, "CRLF ends a line, not the event");
        assert!(s.feed(b"\r"));
        assert!(s.feed(b"\n"), "a CRLF split over chunks");
        assert_eq!(s.len, 0, "the blank line ended the event");
        assert!(s.feed(b"data: x\n\n"));
        assert_eq!(s.len, 0);
        let line = vec![b'a'; MAX_EVENT_BYTES];
        assert!(s.feed(&line));
        assert!(!s.feed(b"b"), "one byte over the limit");
        // Many lines in one event count together.
        let mut s = EventSize {
            at_line_start: true,
            ..EventSize::default()
        };
        let lines = b"data: 0123456789\n".repeat(MAX_EVENT_BYTES / 16 + 1);
        assert!(!s.feed(&lines));
    }
}
