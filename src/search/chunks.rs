//! File search over the chunks of documents (LibreChat's RAG API, here BM25 in the same
//! index as messages, with the same analyzer, so CJK text and accents work alike).
//!
//! A file's chunks ([`crate::files::chunks`]) are documents of kind `f`, all under the key
//! `f:<file_id>` (replaced together when the file changes or goes), with the owner in `user`,
//! the file id in `file`, and the chunk's page and text stored. A search names the files it may
//! see: the caller decides which (an agent's files, a conversation's), and the query holds a
//! required clause over exactly those ids, so nothing else can be found.

use std::collections::HashSet;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{TantivyDocument, Term};

use super::{Kind, SearchError, SearchIndex, tokenizer};
use crate::db::search::FileDoc;
use crate::files::chunks;

/// The most query terms used (a question pasted whole is still a quick search).
const MAX_QUERY_TERMS: usize = 64;
/// How much more two query terms side by side in a chunk count than each alone: a chunk that
/// has the question's phrase (or a CJK word, which is a run of one-character terms) comes
/// before one that merely has its words.
const PAIR_BOOST: f32 = 1.5;

/// One chunk found.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    pub file_id: String,
    /// Its number in the file (from 0).
    pub chunk: u32,
    pub page: Option<u32>,
    pub text: String,
    /// BM25: higher is better; comparable within one search only.
    pub score: f32,
}

impl SearchIndex {
    /// The documents of a file's chunks, made one at a time as they are added (a document's
    /// text may be 15 MB).
    pub(super) fn chunk_documents<'a>(
        &'a self,
        file: &'a FileDoc,
    ) -> impl Iterator<Item = TantivyDocument> + 'a {
        let f = &self.fields;
        chunks::split(&file.text)
            .into_iter()
            .enumerate()
            .map(move |(n, chunk)| {
                let mut d = TantivyDocument::default();
                d.add_text(f.key, format!("{}:{}", Kind::Chunk.tag(), file.file_id));
                d.add_text(f.id, &file.file_id);
                d.add_text(f.kind, Kind::Chunk.tag());
                d.add_text(f.user, &file.user_id);
                d.add_text(f.file, &file.file_id);
                d.add_text(f.body, &chunk.text);
                d.add_text(f.passage, &chunk.text);
                d.add_u64(f.chunk, n as u64);
                if let Some(page) = chunk.page {
                    d.add_u64(f.page, u64::from(page));
                }
                d
            })
    }

    /// The `limit` chunks of the files `file_ids` that answer `query` best (any of its words;
    /// more of them, rarer ones, and ones side by side rank higher), best first. None for no
    /// files or a query with no words. Blocking (but quick).
    pub fn search_files(
        &self,
        file_ids: &[String],
        query: &str,
        limit: usize,
    ) -> Result<Vec<Passage>, SearchError> {
        if file_ids.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let terms: Vec<String> = tokenizer::terms(&mut self.analyzer.clone(), query)
            .into_iter()
            .map(|(t, _)| t)
            .take(MAX_QUERY_TERMS)
            .collect();
        let body = |t: &str| Term::from_field_text(self.fields.body, t);
        let mut wanted: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut seen = HashSet::new();
        for t in &terms {
            if seen.insert(t.as_str()) {
                wanted.push((
                    Occur::Should,
                    Box::new(TermQuery::new(body(t), IndexRecordOption::WithFreqs)),
                ));
            }
        }
        let mut pairs = HashSet::new();
        for pair in terms.windows(2) {
            if pair[0] != pair[1] && pairs.insert((pair[0].as_str(), pair[1].as_str())) {
                let phrase = PhraseQuery::new(vec![body(&pair[0]), body(&pair[1])]);
                wanted.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(phrase), PAIR_BOOST)),
                ));
            }
        }
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let files: Vec<(Occur, Box<dyn Query>)> = file_ids
            .iter()
            .collect::<HashSet<_>>()
            .into_iter()
            .map(|id| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(self.fields.file, id),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, q)
            })
            .collect();
        let scoped = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(BooleanQuery::new(wanted)) as Box<dyn Query>,
            ),
            (Occur::Must, Box::new(BooleanQuery::new(files))),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(self.fields.kind, Kind::Chunk.tag()),
                    IndexRecordOption::Basic,
                )),
            ),
        ]);
        let searcher = self.reader.searcher();
        let top = searcher.search(&scoped, &TopDocs::with_limit(limit).order_by_score())?;
        let mut out = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            out.push(Passage {
                file_id: text(self.fields.id),
                chunk: doc
                    .get_first(self.fields.chunk)
                    .and_then(|v| v.as_u64())
                    .and_then(|c| u32::try_from(c).ok())
                    .unwrap_or_default(),
                page: doc
                    .get_first(self.fields.page)
                    .and_then(|v| v.as_u64())
                    .and_then(|p| u32::try_from(p).ok()),
                text: text(self.fields.passage),
                score,
            });
        }
        Ok(out)
    }
}
