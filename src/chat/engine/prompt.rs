//! What the model is given: the branch within the model's context window, the system prompt,
//! and the files of the branch's messages (documents as text, images inline).

use serde_json::Value;

use super::{Engine, Turn};
use crate::chat::attachments::Attachments;
use crate::providers::{self, ChatMessage};

impl Engine {
    /// The first call's messages and their tokens.
    pub(super) async fn prompt(&self, turn: &Turn) -> (Vec<ChatMessage>, u64) {
        let budget = crate::chat::context::budget(&turn.model, &turn.params);
        let attachments = self.attachments(turn).await;
        // A short history is counted right here (a few microseconds on the counting thread,
        // once its table is loaded); a long one, or one with files, on a blocking thread, so
        // the async threads never wait long.
        // (An answer's tool results, given back, can be long: such a history goes off too.)
        let calls = turn.branch.iter().any(|m| {
            m.content
                .as_ref()
                .and_then(Value::as_array)
                .is_some_and(|parts| parts.iter().any(|p| p["type"] == "tool_call"))
        });
        let size: usize = turn.branch.iter().map(|m| m.text.len()).sum::<usize>()
            + turn.system.as_ref().map_or(0, String::len);
        let (messages, prompt_tokens) = if size <= crate::chat::tokens::INLINE_COUNT_BYTES
            && !calls
            && attachments.is_empty()
            && crate::chat::tokens::ready(&turn.model)
        {
            crate::chat::context::build_counted(
                &turn.model,
                &turn.branch,
                turn.system.as_deref(),
                budget,
                &attachments,
                &|name| turn.tools.get(name).is_some(),
            )
        } else {
            let (branch, system) = (turn.branch.clone(), turn.system.clone());
            let model = turn.model.clone();
            let tools = turn.tools.clone();
            tokio::task::spawn_blocking(move || {
                crate::chat::context::build_counted(
                    &model,
                    &branch,
                    system.as_deref(),
                    budget,
                    &attachments,
                    &|name| tools.get(name).is_some(),
                )
            })
            .await
            .unwrap_or_default()
        };
        (messages, prompt_tokens)
    }

    /// What the branch's files give the model: documents before their message's text, and
    /// images (sent again with later turns unless the conversation sets `resendFiles: false`,
    /// at its `imageDetail`). A failure to read them is logged, and the turn goes on without.
    async fn attachments(&self, turn: &Turn) -> Attachments {
        if !turn.branch.iter().any(|m| m.extra.contains_key("files")) {
            return Default::default();
        }
        let resend = turn.params.get("resendFiles").and_then(Value::as_bool) != Some(false);
        let only = (!resend).then(|| turn.request.message_id.clone());
        let (user, branch) = (turn.user_id.clone(), turn.branch.clone());
        let (model, limit) = (turn.model.clone(), self.file_token_limit);
        let loaded = self
            .db
            .read(move |c| {
                crate::chat::attachments::load(c, &user, &branch, only.as_deref(), &model, limit)
            })
            .await;
        let mut loaded = match loaded {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "reading a message's files failed");
                return Default::default();
            }
        };
        let detail = match turn.params.get("imageDetail").and_then(Value::as_str) {
            Some("low") => providers::Detail::Low,
            Some("high") => providers::Detail::High,
            _ => providers::Detail::Auto,
        };
        for (message_id, f) in loaded.images {
            let bytes = match self.files.read(&f.storage_key).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, file.id = %f.file_id, "an image's bytes are missing");
                    continue;
                }
            };
            use base64::Engine as _;
            let image = providers::Image {
                mime: f.mime,
                base64: base64::engine::general_purpose::STANDARD
                    .encode(bytes)
                    .into(),
                detail: Some(detail),
            };
            loaded
                .documents
                .entry(message_id)
                .or_default()
                .push_image(image);
        }
        loaded.documents
    }
}
