//! Full-text search over messages and conversation titles, in a tantivy index in
//! `data/search/` (this replaces LibreChat's Meilisearch), and over the chunks of documents
//! uploaded for file search ([`chunks`]: this replaces LibreChat's RAG API).
//!
//! The database is the truth and the index follows it: triggers record every change in the
//! `search_outbox` table (migration 0006), and the [`indexer`] applies them in batches off the
//! request path, committing about every quarter second while changes arrive. Each commit
//! carries the position of the last change it holds, so after a crash or a restart the index
//! continues where it stopped. A missing, unreadable or outdated index is rebuilt from the
//! database while the server already serves; `librechat search reindex` does the same by hand.
//!
//! Several replicas on one PostgreSQL database each keep their own index in their own data
//! folder, each fed from the one change log: every replica records how far its index got
//! (`search_cursors`, under the id in `librechat-search-replica`), and a change is deleted
//! once every live replica has it (see [`crate::db::search::prune`]).
//!
//! Every message query is scoped to one user by a required term on the `user` field, and the
//! results are read back from the database with the same user id. A file search is scoped to
//! the files its caller may see by required terms on the `file` field.

pub mod chunks;
pub mod indexer;
pub mod query;
pub mod snippet;
pub mod tokenizer;
pub mod vectors;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::db::search::{Doc, Position};
pub use query::Wanted;

/// Bumped whenever the schema or the tokenizer changes: an index made with another version is
/// rebuilt at start.
const FORMAT: &str = "librechat-search 4";
const FORMAT_FILE: &str = "librechat-search-format";
/// Present when writes bypassed the search outbox (a bulk import): the index no longer covers
/// the database and is rebuilt at the next start. Holds the reason.
const STALE_FILE: &str = "librechat-search-stale";
/// The replica's name in the change log's `search_cursors`, kept when the index is rebuilt.
const REPLICA_FILE: &str = "librechat-search-replica";

/// Memory for the long-lived writer (tantivy's minimum per thread is 15 MB).
const WRITER_MEMORY: usize = 16_000_000;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index: {0}")]
    Io(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Message,
    Title,
    /// A chunk of a document uploaded for file search.
    Chunk,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Message => "m",
            Kind::Title => "c",
            Kind::Chunk => "f",
        }
    }
}

#[derive(Clone, Copy)]
struct Fields {
    /// `m:<messageId>` or `c:<conversationId>`: the document's identity, for updates; every
    /// chunk of a file has the key `f:<file_id>`.
    key: Field,
    /// The message, conversation or file id, stored for the results.
    id: Field,
    kind: Field,
    user: Field,
    conversation: Field,
    body: Field,
    /// Each distinct term of `body` as `<user id>\u{1f}<term>`: the dictionary of one user's
    /// words, so the word being typed expands to the searcher's own words only (never cut
    /// short, or hinted at, by other people's).
    user_terms: Field,
    /// A chunk's file id: the filter of a file search.
    file: Field,
    /// A chunk's page (from 1), when its document has pages.
    page: Field,
    /// A chunk's text, stored for the results (a message's is read from the database).
    passage: Field,
    /// A chunk's number in its file (from 0): what its vector is stored under.
    chunk: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let body = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer::NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        id: b.add_text_field("id", STORED),
        kind: b.add_text_field("kind", STRING),
        user: b.add_text_field("user", STRING),
        conversation: b.add_text_field("conversation", STRING),
        body: b.add_text_field("body", body),
        user_terms: b.add_text_field("user_terms", STRING),
        file: b.add_text_field("file", STRING),
        page: b.add_u64_field("page", STORED),
        passage: b.add_text_field("passage", STORED),
        chunk: b.add_u64_field("chunk", STORED),
    };
    (b.build(), fields)
}

/// One page of results: ids, best first, and how many there are in all.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub ids: Vec<String>,
    pub total: usize,
    pub wanted: Wanted,
}

/// The index, its reader, and (once the indexer runs) its one writer.
pub struct SearchIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    analyzer: TextAnalyzer,
    writer: Mutex<Option<IndexWriter>>,
    /// Why the index must be rebuilt before use, if it must.
    rebuild_reason: Mutex<Option<String>>,
    /// The last database change the index holds.
    applied: Mutex<Position>,
    /// This index's name among the replicas sharing the database.
    replica: String,
    /// How many times this process rebuilt the index.
    rebuilds: AtomicU64,
    /// Set by [`SearchIndex::close`]: no more writes.
    closed: AtomicBool,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating an empty one (marked for rebuild) when it is missing,
    /// unreadable or of another format. Blocking.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        let io = |what: &str, e: std::io::Error| {
            SearchError::Io(format!("{what} {}: {e}", dir.display()))
        };
        let (schema, fields) = schema();
        let format_ok =
            std::fs::read_to_string(dir.join(FORMAT_FILE)).is_ok_and(|f| f.trim() == FORMAT);
        let existing = if let Some(reason) = stale_reason(dir) {
            Err(reason)
        } else if !format_ok {
            Err(if dir.join("meta.json").exists() {
                "it was made by another version".to_owned()
            } else {
                "there is none yet".to_owned()
            })
        } else {
            // tantivy can panic on garbled segment files instead of returning an error; either
            // way the index is unusable and is rebuilt.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Self::try_open(dir, &schema)
            }))
            .unwrap_or_else(|_| Err("it is damaged".into()))
        };
        let replica = std::fs::read_to_string(dir.join(REPLICA_FILE))
            .ok()
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty() && r.len() <= 64)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let (index, reason) = match existing {
            Ok(index) => (index, None),
            Err(reason) => {
                if dir.exists() {
                    std::fs::remove_dir_all(dir).map_err(|e| io("cannot clear", e))?;
                }
                // Private, like the rest of the data folder: the index holds every word.
                let mut builder = std::fs::DirBuilder::new();
                std::os::unix::fs::DirBuilderExt::mode(builder.recursive(true), 0o700);
                builder.create(dir).map_err(|e| io("cannot create", e))?;
                let index = Index::create_in_dir(dir, schema)?;
                std::fs::write(dir.join(FORMAT_FILE), FORMAT)
                    .map_err(|e| io("cannot write to", e))?;
                (index, Some(reason))
            }
        };
        if !dir.join(REPLICA_FILE).exists() {
            std::fs::write(dir.join(REPLICA_FILE), &replica)
                .map_err(|e| io("cannot write to", e))?;
        }
        index
            .tokenizers()
            .register(tokenizer::NAME, tokenizer::analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let applied = index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| Position::parse(&p))
            .unwrap_or_default();
        Ok(Self {
            applied: Mutex::new(applied),
            replica,
            rebuilds: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            dir: dir.to_path_buf(),
            index,
            reader,
            fields,
            analyzer: tokenizer::analyzer(),
            writer: Mutex::new(None),
            rebuild_reason: Mutex::new(reason),
        })
    }

    /// For `librechat doctor`: whether the index in `dir` can be used as it is (else the
    /// server rebuilds it at start), and why not. Read-only.
    pub fn check(dir: &Path) -> Result<(), String> {
        if !dir.join("meta.json").exists() {
            return Err("there is none yet".into());
        }
        let format_ok =
            std::fs::read_to_string(dir.join(FORMAT_FILE)).is_ok_and(|f| f.trim() == FORMAT);
        if !format_ok {
            return Err("it was made by another version".into());
        }
        if let Some(reason) = stale_reason(dir) {
            return Err(reason);
        }
        Self::try_open(dir, &schema().0).map(|_| ())
    }

    /// Marks the index in `dir` (if there is one) as no longer covering the database, so the
    /// server rebuilds it at its next start: for writes that bypassed the search outbox. The
    /// server must be stopped.
    pub fn mark_stale(dir: &Path, reason: &str) -> std::io::Result<()> {
        if !dir.join(FORMAT_FILE).exists() {
            // None yet, or of another version: rebuilt at start anyway.
            return Ok(());
        }
        std::fs::write(dir.join(STALE_FILE), reason)
    }

    fn try_open(dir: &Path, schema: &Schema) -> Result<Index, String> {
        let index = Index::open_in_dir(dir).map_err(|e| format!("it cannot be read ({e})"))?;
        if index.schema() != *schema {
            return Err("its layout is outdated".into());
        }
        index
            .tokenizers()
            .register(tokenizer::NAME, tokenizer::analyzer());
        // Opening a reader loads every segment: a missing or damaged file shows here.
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| format!("it cannot be read ({e})"))?;
        // A search touches the term dictionaries and postings: damaged files show here.
        let kind = schema.get_field("kind").map_err(|e| e.to_string())?;
        reader
            .searcher()
            .search(
                &TermQuery::new(Term::from_field_text(kind, "m"), IndexRecordOption::Basic),
                &Count,
            )
            .map_err(|e| format!("it is damaged ({e})"))?;
        Ok(index)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops writing: drops the writer (releasing the index's lock) after the commit in
    /// progress, if any. Searches keep working. Blocking.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let writer = self.writer.lock().expect("search writer").take();
        drop(writer);
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Why the index needs a rebuild, if it does.
    pub fn rebuild_reason(&self) -> Option<String> {
        self.rebuild_reason.lock().expect("search state").clone()
    }

    /// Marks the index as needing a rebuild (for example when the database is older than it).
    pub fn require_rebuild(&self, reason: String) {
        *self.rebuild_reason.lock().expect("search state") = Some(reason);
    }

    /// The last database change the index holds (from its last commit).
    pub fn applied_change(&self) -> Position {
        *self.applied.lock().expect("search state")
    }

    fn set_applied(&self, up_to: Position) {
        *self.applied.lock().expect("search state") = up_to;
    }

    /// This index's name among the replicas that share the database's change log.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// How many times this process rebuilt the index (a restart that continues from where
    /// the index stopped rebuilds nothing).
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds.load(Ordering::Acquire)
    }

    /// How many documents the index holds.
    pub fn doc_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn document(&self, kind: Kind, doc: &Doc) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.key, format!("{}:{}", kind.tag(), doc.id));
        d.add_text(f.id, &doc.id);
        d.add_text(f.kind, kind.tag());
        d.add_text(f.user, &doc.user_id);
        d.add_text(f.conversation, &doc.conversation_id);
        d.add_text(f.body, &doc.text);
        let mut seen = std::collections::HashSet::new();
        for (term, _) in tokenizer::terms(&mut self.analyzer.clone(), &doc.text) {
            if seen.insert(term.clone()) {
                d.add_text(f.user_terms, format!("{}\u{1f}{term}", doc.user_id));
            }
        }
        d
    }

    /// Up to `max` of the user's terms that start with `prefix`, in order.
    fn user_terms_with_prefix(
        &self,
        searcher: &tantivy::Searcher,
        user_id: &str,
        prefix: &str,
        max: usize,
    ) -> Vec<String> {
        let key = format!("{user_id}\u{1f}{prefix}");
        let mut found = std::collections::BTreeSet::new();
        for segment in searcher.segment_readers() {
            let Ok(inverted) = segment.inverted_index(self.fields.user_terms) else {
                continue;
            };
            let Ok(mut stream) = inverted.terms().range().ge(key.as_bytes()).into_stream() else {
                continue;
            };
            let mut taken = 0;
            while taken < max && stream.advance() {
                let Some(term) = stream.key().strip_prefix(key.as_bytes()) else {
                    break;
                };
                let mut full = prefix.as_bytes().to_vec();
                full.extend_from_slice(term);
                if let Ok(t) = String::from_utf8(full) {
                    found.insert(t);
                }
                taken += 1;
            }
        }
        found.into_iter().take(max).collect()
    }

    fn key(&self, kind: Kind, id: &str) -> Term {
        Term::from_field_text(self.fields.key, &format!("{}:{id}", kind.tag()))
    }

    fn conversation(&self, id: &str) -> Term {
        Term::from_field_text(self.fields.conversation, id)
    }

    /// Searches the user's documents of one kind. Blocking (but quick).
    pub fn search(
        &self,
        user_id: &str,
        kind: Kind,
        text: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Found, SearchError> {
        let mut analyzer = self.analyzer.clone();
        let searcher = self.reader.searcher();
        let mut expand = |prefix: &str| {
            self.user_terms_with_prefix(&searcher, user_id, prefix, query::MAX_PREFIX_EXPANSIONS)
        };
        let Some((query, wanted)) =
            query::build(&mut analyzer, self.fields.body, text, &mut expand)
        else {
            return Ok(Found::default());
        };
        let scoped = BooleanQuery::new(vec![
            (Occur::Must, query),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(self.fields.user, user_id),
                    IndexRecordOption::Basic,
                )) as Box<dyn Query>,
            ),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(self.fields.kind, kind.tag()),
                    IndexRecordOption::Basic,
                )),
            ),
        ]);
        let (top, total) = searcher.search(
            &scoped,
            &(
                TopDocs::with_limit(limit.max(1))
                    .and_offset(offset)
                    .order_by_score(),
                Count,
            ),
        )?;
        let mut ids = Vec::with_capacity(top.len());
        for (_, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc.get_first(self.fields.id).and_then(|v| v.as_str()) {
                ids.push(id.to_owned());
            }
        }
        Ok(Found { ids, total, wanted })
    }

    /// The highlighted snippet of `text` for a search's terms.
    pub fn snippet(&self, text: &str, wanted: &Wanted) -> String {
        snippet::snippet(
            &mut self.analyzer.clone(),
            text,
            wanted,
            snippet::SNIPPET_CHARS,
        )
    }
}

/// Why the index in `dir` was marked stale ([`SearchIndex::mark_stale`]), if it was.
fn stale_reason(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(STALE_FILE))
        .ok()
        .map(|r| r.trim().to_owned())
}
