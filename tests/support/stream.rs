//! An answer's event stream (`GET /api/agents/chat/stream/:id`), read frame by frame as
//! LibreChat's client reads it: `data:` lines, frames ended by a blank line.

use std::time::Duration;

use serde_json::Value;

use super::{Session, TestServer};

/// A stream's frames, one at a time.
pub struct Frames {
    resp: reqwest::Response,
    buf: String,
}

impl Frames {
    /// Opens the stream `stream_id` as `s`; asserts it answered 200.
    pub async fn open(server: &TestServer, s: &Session, stream_id: &str) -> Self {
        Self::open_with(server, s, stream_id, "").await
    }

    /// [`Frames::open`], `query` added to the URL (`?resume=true`).
    pub async fn open_with(server: &TestServer, s: &Session, stream_id: &str, query: &str) -> Self {
        let resp = server
            .get_as(
                &format!("/api/agents/chat/stream/{stream_id}{query}"),
                &s.token,
            )
            .await;
        assert_eq!(resp.status(), 200);
        Frames {
            resp,
            buf: String::new(),
        }
    }

    /// The next frame's `data`; `None` when the stream ended. A stream silent for a minute
    /// fails the test.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..end + 2).collect();
                let data: String = raw
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                if data.is_empty() {
                    continue;
                }
                return Some(serde_json::from_str(&data).unwrap());
            }
            let chunk = tokio::time::timeout(Duration::from_secs(60), self.resp.chunk())
                .await
                .expect("the stream stalled")
                .unwrap()?;
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Frames up to and including the final one (or to the stream's end, if it has none).
    pub async fn until_final(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(f) = self.next().await {
            let last = f["final"] == true;
            out.push(f);
            if last {
                break;
            }
        }
        out
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
