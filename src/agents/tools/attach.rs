//! What a tool shows beside the answer: LibreChat's `attachment` events (web search sources,
//! ...), sent on the answer's stream as the tool makes them and saved with the answer.
//!
//! A call's [`Context::attachments`](super::Context) carries the turn's [`Attachments`]; a
//! tool outside a chat turn (a test, the memory agent) has none, and what it would attach is
//! dropped.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Where a turn's attachments go: sent to the answer's followers and kept for the saved answer.
pub type Sink = Arc<dyn Fn(Value) + Send + Sync>;

/// An image a tool made (an MCP tool's image result), to keep as a file of the person's.
#[derive(Debug, Clone)]
pub struct NewImage {
    /// Its bytes, as the tool gave them (any format the server reads).
    pub bytes: Vec<u8>,
    /// Its name, without extension (`<tool>_img_<n>`).
    pub name: String,
    /// The call that made it.
    pub call_id: String,
}

/// Keeps a [`NewImage`] and attaches it: the stored file as LibreChat's client shows it, or
/// `None` when it could not be kept (logged).
pub type ImageSaver =
    Arc<dyn Fn(NewImage) -> Pin<Box<dyn Future<Output = Option<Value>> + Send>> + Send + Sync>;

/// One answer's attachments, and how many times each tool has run in it.
#[derive(Clone, Default)]
pub struct Attachments {
    sink: Option<Sink>,
    images: Option<ImageSaver>,
    uses: Arc<Mutex<HashMap<String, u32>>>,
}

impl std::fmt::Debug for Attachments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachments")
            .field("sink", &self.sink.is_some())
            .finish()
    }
}

impl Attachments {
    /// Attachments that go to `sink`.
    pub fn new(sink: Sink) -> Self {
        Attachments {
            sink: Some(sink),
            images: None,
            uses: Arc::default(),
        }
    }

    /// These, keeping images with `saver`.
    pub fn with_images(mut self, saver: ImageSaver) -> Self {
        self.images = Some(saver);
        self
    }

    /// Keeps `image` as a file and attaches it (LibreChat's image artifacts); `None` when
    /// there is nowhere to keep it or it could not be kept.
    pub async fn image(&self, image: NewImage) -> Option<Value> {
        let saver = self.images.as_ref()?;
        saver(image).await
    }

    /// Sends `attachment` (dropped when there is nowhere to send it).
    pub fn attach(&self, attachment: Value) {
        if let Some(sink) = &self.sink {
            sink(attachment);
        }
    }

    /// How many times `tool` ran in this answer before this call (0 for its first call):
    /// LibreChat's `toolCall.turn`, which numbers web search's citations (`turn0search1`).
    pub fn next_use(&self, tool: &str) -> u32 {
        let mut uses = self.uses.lock().expect("tool uses");
        let n = uses.entry(tool.to_owned()).or_insert(0);
        *n += 1;
        *n - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_tools_calls_and_sends_to_the_sink() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        let a = Attachments::new(Arc::new(move |v| g.lock().unwrap().push(v)));
        assert_eq!(a.next_use("web_search"), 0);
        assert_eq!(a.clone().next_use("web_search"), 1);
        assert_eq!(a.next_use("calculator"), 0);
        a.attach(serde_json::json!({"type": "web_search"}));
        assert_eq!(got.lock().unwrap().len(), 1);
        // None: nothing is sent, and nothing fails.
        Attachments::default().attach(Value::Null);
    }
}
