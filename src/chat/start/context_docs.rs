//! Agents' File Context documents as cut for the model, kept between turns. Without it every
//! turn with an agent read each document's text again (up to `fileTokenLimit` × 8 characters)
//! and counted its tokens again (the slow part: a long document takes tens of milliseconds),
//! only to give the model what the last turn gave it. Kept by file id and tokenizer with the
//! record's `updated_at`: a file written since (by the API, an import, another process sharing
//! the database) is read again; one gone since is no longer listed, so never asked for.

use std::sync::Arc;
use std::time::Duration;

use crate::bounded::BoundedCache;
use crate::chat::attachments::cut_to_tokens;
use crate::chat::tokens::Encoding;

/// The most bytes of text kept, all documents together.
const MAX_BYTES: u64 = 32 * 1024 * 1024;
/// A document no turn used for this long is let go.
const IDLE: Duration = Duration::from_secs(60 * 60);

#[derive(Clone)]
struct Entry {
    /// The record's `updated_at` when its text was read.
    updated_at: String,
    /// The token limit it was cut at.
    limit: u64,
    cut: Arc<str>,
}

/// Documents' texts as cut, by file id and tokenizer.
pub(crate) struct ContextDocs {
    entries: BoundedCache<Entry>,
}

impl Default for ContextDocs {
    fn default() -> Self {
        ContextDocs {
            entries: BoundedCache::builder(MAX_BYTES)
                .weigher(|_, e: &Entry| {
                    u32::try_from(e.cut.len() + e.updated_at.len()).unwrap_or(u32::MAX)
                })
                .time_to_idle(IDLE)
                .build(),
        }
    }
}

fn key(file_id: &str, encoding: Encoding) -> String {
    format!("{encoding:?}:{file_id}")
}

impl ContextDocs {
    /// The file's text as an earlier turn cut it, if the record is as it was then.
    pub fn get(
        &self,
        file_id: &str,
        updated_at: &str,
        encoding: Encoding,
        limit: u64,
    ) -> Option<Arc<str>> {
        self.entries
            .get(&key(file_id, encoding))
            .filter(|e| e.updated_at == updated_at && e.limit == limit)
            .map(|e| e.cut)
    }

    /// `text` (the file's, as of `updated_at`) cut at `limit` tokens, and kept for the next
    /// turns.
    pub fn cut(
        &self,
        file_id: &str,
        updated_at: &str,
        encoding: Encoding,
        limit: u64,
        text: String,
    ) -> Arc<str> {
        let cut: Arc<str> = cut_to_tokens(encoding, text, limit).0.into();
        let entry = Entry {
            updated_at: updated_at.to_owned(),
            limit,
            cut: cut.clone(),
        };
        self.entries.insert(key(file_id, encoding), entry);
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_served_while_its_record_is_unchanged() {
        let docs = ContextDocs::default();
        let cut = docs.cut("f1", "t1", Encoding::Cl100k, 100, "High tide.".into());
        assert_eq!(&*cut, "High tide.");
        let again = docs.get("f1", "t1", Encoding::Cl100k, 100).unwrap();
        assert!(Arc::ptr_eq(&cut, &again));
        // Written since, counted with another tokenizer, or cut at another limit: read again.
        assert!(docs.get("f1", "t2", Encoding::Cl100k, 100).is_none());
        assert!(docs.get("f1", "t1", Encoding::O200k, 100).is_none());
        assert!(docs.get("f1", "t1", Encoding::Cl100k, 50).is_none());
        assert!(docs.get("f2", "t1", Encoding::Cl100k, 100).is_none());
    }
}
