//! Reading LibreChat's chat stream (`GET /api/agents/chat/stream/:id`) frame by frame, as a
//! client does: with `?resume=true` or a `Last-Event-ID`, stopping where a test wants.

use std::time::Duration;

use serde_json::Value;

use super::{Session, TestServer};

/// One SSE frame: its id and its JSON.
#[derive(Debug, Clone)]
pub struct Frame {
    pub id: Option<u64>,
    pub data: Value,
}

/// Reads frames from an event stream as they arrive.
pub struct Events {
    resp: reqwest::Response,
    buf: String,
}

impl Events {
    pub async fn open(
        server: &TestServer,
        s: &Session,
        stream_id: &str,
        query: &str,
        last_id: Option<u64>,
    ) -> Self {
        let mut req = server
            .client
            .get(server.url(&format!("/api/agents/chat/stream/{stream_id}{query}")))
            .bearer_auth(&s.token);
        if let Some(id) = last_id {
            req = req.header("last-event-id", id.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Events {
            resp,
            buf: String::new(),
        }
    }

    /// The next frame, or None when the stream ends. A stream silent for a minute fails the
    /// test.
    pub async fn next(&mut self) -> Option<Frame> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in raw.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some(Frame {
                    id,
                    data: serde_json::from_str(&data).unwrap(),
                });
            }
            let chunk = tokio::time::timeout(Duration::from_secs(60), self.resp.chunk())
                .await
                .expect("the stream stalled")
                .unwrap()?;
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Reads up to and including the first piece of the answer.
    pub async fn until_delta(&mut self) {
        while let Some(f) = self.next().await {
            if f.data["event"] == "on_message_delta" {
                break;
            }
        }
    }

    /// Every frame up to and including the final one.
    pub async fn until_final(&mut self) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some(f) = self.next().await {
            let last = f.data["final"] == true;
            out.push(f);
            if last {
                break;
            }
        }
        out
    }
}
