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
//!
//! When the person's role may see file citations (`FILE_CITATIONS.USE`), the tool is
//! described with LibreChat's citation instructions, each block carries its `Anchor:`, and
//! the call attaches the passages' sources to the answer (`super::file_citations`).

use std::fmt::Write;
use std::sync::Arc;

use serde_json::{Value, json};

use super::file_citations::{self, Limits};
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

/// LibreChat's description of the tool.
const DESCRIPTION: &str = "Performs semantic search across attached \"file_search\" documents \
using natural language queries. This tool analyzes the content of uploaded files to find \
relevant information, quotes, and passages that best match your query. Use this to extract \
specific information or find relevant sections within the available documents.";

/// LibreChat's citation instructions, added to the description with file citations on.
const CITE: &str = r#"

**CITE FILE SEARCH RESULTS:**
Use the EXACT anchor markers shown below (copy them verbatim) immediately after statements derived from file content. Reference the filename in your text:
- File citation: "The document.pdf states that... \ue202turn0file0"  
- Page reference: "According to report.docx... \ue202turn0file1"
- Multi-file: "Multiple sources confirm... \ue200\ue202turn0file0\ue202turn0file1\ue201"

**CRITICAL:** Output these escape sequences EXACTLY as shown (e.g., \ue202turn0file0). Do NOT substitute with other characters like † or similar symbols.
**ALWAYS mention the filename in your text before the citation marker. NEVER use markdown links or footnotes.**"#;

/// The key under which an answer counts its file search attachments (the `T` of
/// `turn{T}file{i}`).
const ATTACHED: &str = "file_search attachment";

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
    /// With file citations (the role's `FILE_CITATIONS.USE`): how many the answer keeps.
    citations: Option<Limits>,
    /// Dense retrieval, when configured.
    dense: Option<Arc<Embeddings>>,
}

impl FileSearch {
    pub fn new(
        db: Db,
        index: Arc<SearchIndex>,
        viewer: Viewer,
        agent_id: Option<String>,
        citations: Option<Limits>,
        dense: Option<Arc<Embeddings>>,
    ) -> Self {
        FileSearch {
            def: definition(citations.is_some()),
            db,
            index,
            viewer,
            agent_id,
            citations,
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
        self.until_indexed(&ids).await;
        let found = passages(&self.index, self.dense.as_deref(), ids, query)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "file search failed");
                ToolError("No results found or errors occurred while searching the files.".into())
            })?;
        let Some(limits) = self.citations else {
            return Ok(format(&files, &found, None));
        };
        let all = file_citations::sources(&files, &found);
        let selected = file_citations::select(&all, limits);
        if selected.is_empty() {
            return Ok(format(&files, &found, None));
        }
        let cited = file_citations::cited_files(&selected);
        let turn = cx.attachments.next_use(ATTACHED);
        cx.attachments.attach(file_citations::attachment(
            &selected,
            &cx.call_id,
            &cx.message_id,
            &cx.conversation_id,
        ));
        Ok(format(&files, &found, Some((turn, &cited))))
    }

    /// Waits (at most [`INDEX_WAIT`]) until the index has the files `ids`: a document uploaded
    /// and asked about at once is indexed off the request path, where LibreChat's upload
    /// answers only once its RAG API has embedded it.
    async fn until_indexed(&self, ids: &[String]) {
        let deadline = tokio::time::Instant::now() + INDEX_WAIT;
        loop {
            let ids = ids.to_vec();
            let applied = self.index.applied_change();
            let pending = self
                .db
                .read(move |c| file_search::unindexed(c, &ids, applied))
                .await
                .unwrap_or(false);
            if !pending || tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
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

/// The longest a search waits for the index to take in files just uploaded.
const INDEX_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// The tool's definition (LibreChat's `fileSearchJsonSchema`), with LibreChat's citation
/// instructions when `citations`.
pub fn definition(citations: bool) -> ToolDef {
    let mut description = DESCRIPTION.to_owned();
    if citations {
        description.push_str(CITE);
    }
    ToolDef {
        name: NAME.into(),
        description,
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

/// The passages as LibreChat's tool writes its results; with citations (`cited`: the answer's
/// attachment number and the cited files in the client's order), each passage of a cited file
/// with its anchor.
fn format(files: &[Searchable], found: &[Passage], cited: Option<(u32, &[&str])>) -> String {
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
        let anchor = cited.and_then(|(turn, ids)| {
            let i = ids.iter().position(|id| *id == p.file_id)?;
            Some(format!("\\ue202turn{turn}file{i}"))
        });
        if let Some(anchor) = anchor {
            let _ = writeln!(block, "Anchor: {anchor} ({name})");
        }
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
            mime: "application/pdf".into(),
            bytes: 1,
            source: "local".into(),
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
            format(&files, &found, None),
            "File: report.pdf\nPage: 3\nRelevance: 1.0000\nContent: the answer\n\n---\n\
             File: report.pdf\nRelevance: 0.2500\nContent: less\n"
        );
        assert!(format(&files, &[], None).starts_with("No content found"));
        assert!(
            format(&files, &found, Some((1, &["f1"])))
                .starts_with("File: report.pdf\nAnchor: \\ue202turn1file0 (report.pdf)\nPage: 3\n")
        );
        assert!(
            definition(true)
                .description
                .ends_with("NEVER use markdown links or footnotes.**")
        );
        assert!(!definition(false).description.contains("CITE"));
        let mut more = files.clone();
        more.push(Searchable {
            file_id: "f2".into(),
            filename: "notes.txt".into(),
            from_agent: false,
            mime: "text/plain".into(),
            bytes: 1,
            source: "local".into(),
        });
        assert_eq!(
            tool_context(&more),
            "- Note: Use the file_search tool to find relevant information within:\n\t- \
             report.pdf\n\t- notes.txt (just attached by user)"
        );
        assert!(tool_context(&[]).contains("no files are currently loaded"));
    }
}
