//! An agent's File Context in its turn: the documents attached to it in the builder
//! (`tool_resources.context`, and the legacy `ocr`), given as the tail of its system prompt,
//! as LibreChat gives each agent its `agentContextAttachments` (`primeResources`, then
//! `buildAgentScopedContext` into the agent's `additional_instructions`): one "Attached
//! document(s)" block, each document cut at `fileTokenLimit`.
//!
//! Only when `endpoints.agents.capabilities` has `context`. Each agent of a chain or handoff
//! gets its own. The files are read through the agent (whoever uploaded them: the author, or
//! an editor), for a person who may use it; files gone since are left out, and so are those
//! the message carries itself (LibreChat's `sharedRunAttachmentIds`).

use std::sync::Arc;

use super::ChatService;
use super::agent::AgentSetup;
use crate::access;
use crate::chat::tokens::Encoding;
use crate::db::agent_files;
use crate::db::files::{self, ContextDoc};
use crate::db::users::User;
use crate::providers::content::documents_block;

/// More characters than the tokens of a document's text are read of it (a few more than any
/// text averages per token), so that a long document is cut without being read whole.
const CHARS_PER_TOKEN_AT_MOST: u64 = 8;

impl ChatService {
    /// Sets each agent's `context` from its File Context (counted with `model`'s tokenizer).
    /// A failure to read the files is logged and the turn goes on without them.
    pub(super) async fn give_context(
        &self,
        user: &User,
        agents: Vec<&mut AgentSetup>,
        message_files: &[String],
        model: &str,
    ) {
        let limit = self.engine.file_token_limit;
        if limit == 0 || !self.settings.agents.serves("context") {
            return;
        }
        let wanted: Vec<String> = agents
            .iter()
            .filter(|a| a.has_context_files)
            .map(|a| a.id.clone())
            .collect();
        if wanted.is_empty() {
            return;
        }
        let viewer = access::viewer(user);
        let encoding = Encoding::for_model(model);
        // Only about as much of each text as can be given is read, and only of those no
        // earlier turn cut as they now are.
        let max_chars = limit.saturating_mul(CHARS_PER_TOKEN_AT_MOST);
        let docs = self.context_docs.clone();
        let found = self
            .engine
            .db
            .read(move |c| {
                let mut out = Vec::with_capacity(wanted.len());
                for id in wanted {
                    let mut files = Vec::new();
                    for doc in agent_files::context_files(c, &viewer, &id)? {
                        let text = match docs.get(&doc.file_id, &doc.updated_at, encoding, limit) {
                            Some(cut) => Text::Cut(cut),
                            None => match files::text_of(c, &doc.file_id, max_chars)? {
                                Some(t) => Text::Read(t),
                                None => continue,
                            },
                        };
                        files.push((doc, text));
                    }
                    out.push((id, files));
                }
                Ok(out)
            })
            .await;
        let found = match found {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "reading an agent's context files failed");
                return;
            }
        };
        let exclude = message_files.to_vec();
        let docs = self.context_docs.clone();
        // Counting a long document's tokens takes a while: off the async threads.
        let blocks = tokio::task::spawn_blocking(move || {
            let cut = |doc: &ContextDoc, text| match text {
                Text::Cut(cut) => cut,
                Text::Read(t) => docs.cut(&doc.file_id, &doc.updated_at, encoding, limit, t),
            };
            found
                .into_iter()
                .map(|(id, files)| (id, block(files, &exclude, cut)))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        for a in agents {
            if let Some((_, b)) = blocks.iter().find(|(id, _)| *id == a.id) {
                a.context.clone_from(b);
            }
        }
    }
}

/// A document's text: as read now, or as an earlier turn cut it.
enum Text {
    Read(String),
    Cut(Arc<str>),
}

/// The block the model reads of `files` (but those in `exclude`), each given as `cut` gives
/// it; none when nothing is left.
fn block(
    files: Vec<(ContextDoc, Text)>,
    exclude: &[String],
    cut: impl Fn(&ContextDoc, Text) -> Arc<str>,
) -> Option<String> {
    let docs: Vec<(ContextDoc, Arc<str>)> = files
        .into_iter()
        .filter(|(d, _)| !exclude.contains(&d.file_id))
        .map(|(d, text)| {
            let text = cut(&d, text);
            (d, text)
        })
        .filter(|(_, t)| !t.is_empty())
        .collect();
    documents_block(docs.iter().map(|(d, t)| (d.filename.as_str(), &**t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, name: &str, text: &str) -> (ContextDoc, Text) {
        let doc = ContextDoc {
            file_id: id.into(),
            filename: name.into(),
            updated_at: "2026-01-01T00:00:00.000Z".into(),
        };
        (doc, Text::Read(text.into()))
    }

    fn whole(_: &ContextDoc, text: Text) -> Arc<str> {
        match text {
            Text::Read(t) => t.into(),
            Text::Cut(cut) => cut,
        }
    }

    #[test]
    fn the_block_holds_each_document_but_those_the_message_carries() {
        let files = vec![
            doc("a", "tides.md", "High tide at 06:12."),
            doc("b", "moon.md", "Full moon on Friday."),
            doc("c", "empty.md", ""),
        ];
        let got = block(files, &["b".into()], whole).unwrap();
        assert_eq!(
            got,
            "Attached document(s):\n```md\n# \"tides.md\"\nHigh tide at 06:12.\n\n```"
        );
        let only_sent = vec![doc("b", "moon.md", "Full moon.")];
        assert_eq!(block(only_sent, &["b".into()], whole), None);
    }
}
