//! LibreChat's `file_search` tool: BM25 over the chunks of the documents uploaded for file
//! search (`crate::search::chunks`), in place of LibreChat's RAG API.
//!
//! It looks only where the turn may: the files of the agent answering (its
//! `tool_resources.file_search`, read through the agent for whoever may use it) and the
//! person's own files uploaded for file search in the conversation. Which files those are is
//! read at each call (a file uploaded or deleted mid-conversation counts at once), and the
//! search's query requires one of exactly those file ids.
//!
//! With an embeddings endpoint configured (`crate::files::embeddings`), the query is embedded
//! too and the nearest chunks of the same files are fused with BM25's by reciprocal rank
//! fusion; when the endpoint fails, BM25 answers alone.
//!
//! The answer is LibreChat's text: the ten best chunks as `File:`, `Relevance:`, `Content:`
//! blocks joined by `---`, with the page (`Page:`) where the document has pages. BM25 scores
//! are not distances, so `Relevance` is each chunk's score over the best one's (the first is
//! 1.0000).

use std::fmt::Write;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{Context, Tool, ToolError, ToolFuture};
use crate::db::Db;
use crate::db::acl::Viewer;
use crate::db::file_search::{self, Searchable};
use crate::files::embeddings::Embeddings;
use crate::providers::ToolDef;
use crate::search::chunks::Passage;
use crate::search::{SearchError, SearchIndex};

/// The tool's name, as LibreChat names it (`Tools.file_search`).
pub const NAME: &str = "file_search";
/// The chunks returned at most (LibreChat keeps the best ten).
const RESULTS: usize = 10;
/// How many of each list (BM25, dense) are fused.
const CANDIDATES: usize = 50;

/// LibreChat's description of the tool (its citation instructions left out: citations are
/// not shown yet).
const DESCRIPTION: &str = "Performs semantic search across attached \"file_search\" documents \
using natural language queries. This tool analyzes the content of uploaded files to find \
relevant information, quotes, and passages that best match your query. Use this to extract \
specific information or find relevant sections within the available documents.";

/// LibreChat's description of the `query` argument.
const QUERY: &str = "A natural language query to search for relevant information in the \
files. Be specific and use keywords related to the information you're looking for. The query \
will be used for semantic similarity matching against the file contents.";

/// Whom and where one turn's file search looks.
pub struct FileSearch {
    def: ToolDef,
    db: Db,
    index: Arc<SearchIndex>,
    viewer: Viewer,
    /// The agent answering, if any: its files are searched too.
    agent_id: Option<String>,
    /// Dense retrieval, when configured.
    dense: Option<Arc<Embeddings>>,
}

impl FileSearch {
    pub fn new(
        db: Db,
        index: Arc<SearchIndex>,
        viewer: Viewer,
        agent_id: Option<String>,
        dense: Option<Arc<Embeddings>>,
    ) -> Self {
        FileSearch {
            def: definition(),
            db,
            index,
            viewer,
            agent_id,
            dense,
        }
    }

    async fn run(&self, query: &str, cx: &Context) -> Result<String, ToolError> {
        let (viewer, agent, conversation) = (
            self.viewer.clone(),
            self.agent_id.clone(),
            cx.conversation_id.clone(),
        );
        let files = self
            .db
            .read(move |c| file_search::scope(c, &viewer, agent.as_deref(), &conversation))
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "file search: the files could not be read");
                ToolError("There was an error reading the files to search.".into())
            })?;
        if files.is_empty() {
            return Ok("No files to search. Instruct the user to add files for the search.".into());
        }
        let ids: Vec<String> = files.iter().map(|f| f.file_id.clone()).collect();
        let found = passages(&self.index, self.dense.as_deref(), ids, query)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "file search failed");
                ToolError("No results found or errors occurred while searching the files.".into())
            })?;
        Ok(format(&files, &found))
    }
}

/// The best chunks of the files `ids` for `query`, best first: BM25's, fused with the
/// nearest chunks when `dense` is given and the query could be embedded.
pub async fn passages(
    index: &Arc<SearchIndex>,
    dense: Option<&Embeddings>,
    ids: Vec<String>,
    query: &str,
) -> Result<Vec<Passage>, SearchError> {
    let wanted = if dense.is_some() { CANDIDATES } else { RESULTS };
    let (index, q, files) = (index.clone(), query.to_owned(), ids.clone());
    let mut bm25 = tokio::task::spawn_blocking(move || index.search_files(&files, &q, wanted))
        .await
        .map_err(|e| SearchError::Io(format!("the search failed: {e}")))??;
    let Some(dense) = dense else {
        return Ok(bm25);
    };
    match dense.nearest(&ids, query, CANDIDATES).await {
        Ok(near) => Ok(crate::search::vectors::fuse(&[bm25, near], RESULTS)),
        Err(e) => {
            tracing::warn!(error = %e, "file search: the query could not be embedded; BM25 alone");
            bm25.truncate(RESULTS);
            Ok(bm25)
        }
    }
}

/// The tool's definition (LibreChat's `fileSearchJsonSchema`).
pub fn definition() -> ToolDef {
    ToolDef {
        name: NAME.into(),
        description: DESCRIPTION.into(),
        parameters: json!({
            "type": "object",
            "properties": {"query": {"type": "string", "description": QUERY}},
            "required": ["query"]
        }),
    }
}

/// What the system prompt says of the files to search, as LibreChat's `primeFiles` words
/// it: each file named, those not the agent's own marked as just attached.
pub fn tool_context(files: &[Searchable]) -> String {
    if files.is_empty() {
        return format!(
            "- Note: Semantic search is available through the {NAME} tool but no files are \
             currently loaded. Request the user to upload documents to search through."
        );
    }
    let mut out = format!("- Note: Use the {NAME} tool to find relevant information within:");
    for f in files {
        let _ = write!(out, "\n\t- {}", f.filename);
        if !f.from_agent {
            out.push_str(" (just attached by user)");
        }
    }
    out
}

/// The passages as LibreChat's tool writes its results.
fn format(files: &[Searchable], found: &[Passage]) -> String {
    if found.is_empty() {
        return "No content found in the files. The files may not have been processed \
                correctly or you may need to refine your query."
            .into();
    }
    let best = found[0].score.max(f32::MIN_POSITIVE);
    let mut blocks = Vec::with_capacity(found.len());
    for p in found {
        let name = files
            .iter()
            .find(|f| f.file_id == p.file_id)
            .map_or("file", |f| f.filename.as_str());
        let mut block = format!("File: {name}\n");
        if let Some(page) = p.page {
            let _ = writeln!(block, "Page: {page}");
        }
        let _ = write!(
            block,
            "Relevance: {:.4}\nContent: {}\n",
            p.score / best,
            p.text
        );
        blocks.push(block);
    }
    blocks.join("\n---\n")
}

impl Tool for FileSearch {
    fn def(&self) -> &ToolDef {
        &self.def
    }

    fn call<'a>(&'a self, args: Value, cx: &'a Context) -> ToolFuture<'a> {
        Box::pin(async move {
            let query = args["query"].as_str().unwrap_or_default().trim().to_owned();
            if query.is_empty() {
                return Err(ToolError("the query is empty: say what to look for".into()));
            }
            self.run(&query, cx).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_read_as_librechat_writes_them() {
        let files = vec![Searchable {
            file_id: "f1".into(),
            filename: "report.pdf".into(),
            from_agent: true,
        }];
        let found = vec![
            Passage {
                file_id: "f1".into(),
                chunk: 0,
                page: Some(3),
                text: "the answer".into(),
                score: 4.0,
            },
            Passage {
                file_id: "f1".into(),
                chunk: 1,
                page: None,
                text: "less".into(),
                score: 1.0,
            },
        ];
        assert_eq!(
            format(&files, &found),
            "File: report.pdf\nPage: 3\nRelevance: 1.0000\nContent: the answer\n\n---\n\
             File: report.pdf\nRelevance: 0.2500\nContent: less\n"
        );
        assert!(format(&files, &[]).starts_with("No content found"));
        let mut more = files.clone();
        more.push(Searchable {
            file_id: "f2".into(),
            filename: "notes.txt".into(),
            from_agent: false,
        });
        assert_eq!(
            tool_context(&more),
            "- Note: Use the file_search tool to find relevant information within:\n\t- \
             report.pdf\n\t- notes.txt (just attached by user)"
        );
        assert!(tool_context(&[]).contains("no files are currently loaded"));
    }
}
