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

use super::ChatService;
use super::agent::AgentSetup;
use crate::access;
use crate::chat::attachments::cut_to_tokens;
use crate::chat::tokens::Encoding;
use crate::db::agent_files;
use crate::db::files::File;
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
        // Only about as much of each text as can be given is read.
        let max_chars = limit.saturating_mul(CHARS_PER_TOKEN_AT_MOST);
        let found = self
            .engine
            .db
            .read(move |c| {
                let mut out = Vec::with_capacity(wanted.len());
                for id in wanted {
                    let files = agent_files::context_files(c, &viewer, &id, max_chars)?;
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
        let (exclude, encoding) = (message_files.to_vec(), Encoding::for_model(model));
        // Counting a long document's tokens takes a while: off the async threads.
        let blocks = tokio::task::spawn_blocking(move || {
            found
                .into_iter()
                .map(|(id, files)| (id, block(encoding, files, &exclude, limit)))
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

/// The block the model reads of `files` (but those in `exclude`), each cut at `limit`
/// tokens; none when nothing is left.
fn block(encoding: Encoding, files: Vec<File>, exclude: &[String], limit: u64) -> Option<String> {
    let docs: Vec<(String, String)> = files
        .into_iter()
        .filter(|f| !exclude.contains(&f.file_id))
        .filter_map(|f| {
            let text = f.text.filter(|t| !t.is_empty())?;
            Some((f.filename, cut_to_tokens(encoding, text, limit).0))
        })
        .collect();
    documents_block(docs.iter().map(|(n, t)| (n.as_str(), t.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, name: &str, text: &str) -> File {
        File {
            file_id: id.into(),
            filename: name.into(),
            text: Some(text.into()),
            ..File::default()
        }
    }

    #[test]
    fn the_block_holds_each_document_but_those_the_message_carries() {
        let files = vec![
            doc("a", "tides.md", "High tide at 06:12."),
            doc("b", "moon.md", "Full moon on Friday."),
            doc("c", "empty.md", ""),
        ];
        let got = block(Encoding::Cl100k, files, &["b".into()], 1_000).unwrap();
        assert_eq!(
            got,
            "Attached document(s):\n```md\n# \"tides.md\"\nHigh tide at 06:12.\n\n```"
        );
        let only_sent = vec![doc("b", "moon.md", "Full moon.")];
        assert_eq!(block(Encoding::Cl100k, only_sent, &["b".into()], 10), None);
    }
}
