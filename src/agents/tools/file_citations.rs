//! File citations: what a file search shows beside the answer when the person's role may see
//! them (`FILE_CITATIONS.USE`), as LibreChat's `processFileCitations` makes it: the passages'
//! sources (LibreChat's tool artifact), kept when relevant enough, at most
//! `maxCitationsPerFile` of each file and `maxCitations` in all, each with its file's stored
//! name, type and size, in a `file_search` attachment.
//!
//! Relevance here is each passage's score over the best one's (BM25), so the best is always
//! 1.0 and `minRelevanceScore` (0.45) keeps passages at least that share as relevant as the
//! best: a relative cut, where LibreChat's is on a cosine
//! similarity. It drops a result list's weak tail and never leaves an answer with results
//! uncited; a poor best match is still cited (BM25 has no absolute scale to refuse it on).
//!
//! Anchors: LibreChat's client reads `\ue202turn{T}file{i}` as the i-th *file* (its
//! passages merged) of the answer's T-th `file_search` attachment. LibreChat's tool numbers
//! them by passage and always as turn 0, which its client resolves to another file or to
//! nothing past the first; here `i` is the file's place among the cited files and `T` counts
//! the answer's file search attachments, so every anchor the model copies opens its file.

use serde_json::{Map, Value, json};

use crate::db::file_search::Searchable;
use crate::search::chunks::Passage;

/// How many citations an answer keeps (`endpoints.agents` in librechat.yaml).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// `maxCitations`: in all.
    pub max: usize,
    /// `maxCitationsPerFile`.
    pub per_file: usize,
    /// `minRelevanceScore`: the least relevance a cited passage has.
    pub min_relevance: f64,
}

impl Limits {
    pub fn from_config(c: &crate::config::agents::AgentsConfig) -> Self {
        Limits {
            max: c.max_citations as usize,
            per_file: c.max_citations_per_file as usize,
            min_relevance: c.min_relevance_score,
        }
    }
}

/// One passage found, as LibreChat's tool artifact gives it (a `type: 'file'` source).
#[derive(Debug, Clone)]
pub struct Source<'a> {
    pub file: &'a Searchable,
    pub passage: &'a Passage,
    pub relevance: f64,
}

/// The passages with their files and relevance (score over the best's), best first.
pub fn sources<'a>(files: &'a [Searchable], found: &'a [Passage]) -> Vec<Source<'a>> {
    let best = found
        .first()
        .map_or(1.0, |p| p.score.max(f32::MIN_POSITIVE));
    found
        .iter()
        .filter_map(|p| {
            let file = files.iter().find(|f| f.file_id == p.file_id)?;
            // Rounded as the model reads it (four places), so both say the same.
            let relevance = ((p.score / best) as f64 * 10_000.0).round() / 10_000.0;
            Some(Source {
                file,
                passage: p,
                relevance,
            })
        })
        .collect()
}

/// LibreChat's `applyCitationLimits` after its relevance filter: per file (in order of first
/// appearance) its best `per_file`, then all of them best first, at most `max`.
pub fn select<'a>(sources: &[Source<'a>], limits: Limits) -> Vec<Source<'a>> {
    let kept: Vec<&Source> = sources
        .iter()
        .filter(|s| s.relevance >= limits.min_relevance)
        .collect();
    let mut order: Vec<&str> = Vec::new();
    for s in &kept {
        if !order.contains(&s.file.file_id.as_str()) {
            order.push(&s.file.file_id);
        }
    }
    let mut out: Vec<Source> = Vec::new();
    for id in order {
        let mut of_file: Vec<Source> = kept
            .iter()
            .filter(|s| s.file.file_id == id)
            .map(|s| (*s).clone())
            .collect();
        // Stable, as JavaScript's sort: equal ones keep their order.
        of_file.sort_by(|a, b| b.relevance.total_cmp(&a.relevance));
        out.extend(of_file.into_iter().take(limits.per_file));
    }
    out.sort_by(|a, b| b.relevance.total_cmp(&a.relevance));
    out.truncate(limits.max);
    out
}

/// The files cited, in the order LibreChat's client numbers them (first appearance).
pub fn cited_files<'a>(selected: &[Source<'a>]) -> Vec<&'a str> {
    let mut ids: Vec<&str> = Vec::new();
    for s in selected {
        if !ids.contains(&s.file.file_id.as_str()) {
            ids.push(&s.file.file_id);
        }
    }
    ids
}

/// The source as LibreChat's attachment carries it, its file's metadata added
/// (`enhanceSourcesWithMetadata`).
fn source_json(s: &Source) -> Value {
    let (pages, page_relevance) = match s.passage.page {
        Some(p) => (json!([p]), json!({ p.to_string(): s.relevance })),
        None => (json!([]), json!({})),
    };
    let mut metadata = Map::new();
    // LibreChat's client offers to download a cited file unless it is stored `local`.
    let storage = if s.file.source.is_empty() {
        "local"
    } else {
        &s.file.source
    };
    metadata.insert("storageType".into(), json!(storage));
    if !s.file.mime.is_empty() {
        metadata.insert("fileType".into(), json!(s.file.mime));
    }
    if s.file.bytes > 0 {
        metadata.insert("fileBytes".into(), json!(s.file.bytes));
    }
    json!({
        "type": "file",
        "fileId": s.file.file_id,
        "content": s.passage.text,
        "fileName": s.file.filename,
        "relevance": s.relevance,
        "pages": pages,
        "pageRelevance": page_relevance,
        "metadata": metadata,
    })
}

/// The `file_search` attachment of one call (LibreChat names it
/// `file_search_file_search_results_<nanoid>`).
pub fn attachment(
    selected: &[Source],
    call_id: &str,
    message_id: &str,
    conversation_id: &str,
) -> Value {
    let nanoid = &uuid::Uuid::new_v4().simple().to_string()[..21];
    json!({
        "type": super::file_search::NAME,
        "file_search": {"sources": selected.iter().map(source_json).collect::<Vec<_>>()},
        "toolCallId": call_id,
        "messageId": message_id,
        "conversationId": conversation_id,
        "name": format!("file_search_file_search_results_{nanoid}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(id: &str) -> Searchable {
        Searchable {
            file_id: id.into(),
            filename: format!("{id}.md"),
            from_agent: false,
            mime: "text/markdown".into(),
            bytes: 10,
            source: "local".into(),
        }
    }

    fn passage(id: &str, score: f32, page: Option<u32>) -> Passage {
        Passage {
            file_id: id.into(),
            chunk: 0,
            page,
            text: format!("{id} {score}"),
            score,
        }
    }

    #[test]
    fn relevance_is_relative_and_limits_apply_per_file_then_in_all() {
        let files = [file("a"), file("b"), file("c")];
        let found = [
            passage("a", 10.0, Some(2)),
            passage("a", 9.0, None),
            passage("b", 8.0, None),
            passage("a", 7.0, None),
            passage("c", 4.0, None),
        ];
        let all = sources(&files, &found);
        assert_eq!(all[0].relevance, 1.0);
        assert_eq!(all[4].relevance, 0.4);
        let limits = Limits {
            max: 3,
            per_file: 2,
            min_relevance: 0.45,
        };
        let picked = select(&all, limits);
        let got: Vec<_> = picked.iter().map(|s| s.passage.text.as_str()).collect();
        // c (0.4) is under the threshold; a keeps two; three in all.
        assert_eq!(got, ["a 10", "a 9", "b 8"]);
        assert_eq!(cited_files(&picked), ["a", "b"]);
        let att = attachment(&picked, "call_1", "m1", "c1");
        assert_eq!(att["type"], "file_search");
        assert_eq!(att["toolCallId"], "call_1");
        let first = &att["file_search"]["sources"][0];
        assert_eq!(first["pages"], json!([2]));
        assert_eq!(first["pageRelevance"], json!({"2": 1.0}));
        assert_eq!(
            first["metadata"],
            json!({"storageType": "local", "fileType": "text/markdown", "fileBytes": 10})
        );
        assert!(
            att["name"]
                .as_str()
                .unwrap()
                .starts_with("file_search_file_search_results_")
        );
    }
}
