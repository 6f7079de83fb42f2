//! An answer's event stream (`GET /api/agents/chat/stream/:id`) as plain JSON frames, for
//! tests that need neither the frames' ids nor a `Last-Event-ID` (those use
//! [`super::events::Events`], which reads the stream underneath).

use serde_json::Value;

use super::events::Events;
use super::{Session, TestServer};

/// A stream's frames' `data`, one at a time.
pub struct Frames(Events);

impl Frames {
    /// Opens the stream `stream_id` as `s`; asserts it answered 200.
    pub async fn open(server: &TestServer, s: &Session, stream_id: &str) -> Self {
        Self::open_with(server, s, stream_id, "").await
    }

    /// [`Frames::open`], `query` added to the URL (`?resume=true`).
    pub async fn open_with(server: &TestServer, s: &Session, stream_id: &str, query: &str) -> Self {
        Frames(Events::open(server, s, stream_id, query, None).await)
    }

    /// The next frame's `data`; `None` when the stream ended.
    pub async fn next(&mut self) -> Option<Value> {
        self.0.next().await.map(|f| f.data)
    }

    /// Frames up to and including the final one (or to the stream's end, if it has none).
    pub async fn until_final(&mut self) -> Vec<Value> {
        self.0
            .until_final()
            .await
            .into_iter()
            .map(|f| f.data)
            .collect()
    }
}

/// The frames of a stream up to and including its final one; `query` is added to the URL
/// (`?resume=true`, or empty).
pub async fn frames(server: &TestServer, s: &Session, stream_id: &str, query: &str) -> Vec<Value> {
    Frames::open_with(server, s, stream_id, query)
        .await
        .until_final()
        .await
}
