//! The `file_search` tool in a turn, offered as LibreChat offers it: to an agent whose tools
//! name it, and in a plain chat when the composer's toggle is on (`ephemeralAgent`), only for
//! a role with `FILE_SEARCH.USE`, when the agents' `file_search` capability is served and the
//! search index is open. With it, the system prompt names the files it searches (LibreChat's
//! `primeFiles` tool context).

use std::sync::Arc;

use super::ChatService;
use super::agent::AgentSetup;
use crate::agents::tools::Tool;
use crate::agents::tools::file_citations::Limits;
use crate::agents::tools::file_search::{self, FileSearch, NAME};
use crate::db::users::User;

impl ChatService {
    /// What the system prompt says of file search when the turn offers it (`tool_names` are
    /// the composer's, the agent's are its own), `None` when it does not.
    pub(super) async fn file_search_context(
        &self,
        user: &User,
        agent: Option<&AgentSetup>,
        tool_names: &[String],
        allowed: bool,
        conversation_id: &str,
    ) -> Option<String> {
        let names = tool_names
            .iter()
            .chain(agent.iter().flat_map(|a| a.tools.iter()));
        if !self.offers_file_search(allowed, names) {
            return None;
        }
        let viewer = crate::access::viewer(user);
        let (agent_id, convo) = (agent.map(|a| a.id.clone()), conversation_id.to_owned());
        let files = self
            .engine
            .db
            .read(move |c| crate::db::file_search::scope(c, &viewer, agent_id.as_deref(), &convo))
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the files to search could not be read");
                Vec::new()
            });
        Some(file_search::tool_context(&files))
    }

    /// Whether file search is offered to tools named `names`, for a person whose role may
    /// use it or not (`allowed`).
    fn offers_file_search<'a>(
        &self,
        allowed: bool,
        mut names: impl Iterator<Item = &'a String>,
    ) -> bool {
        allowed
            && names.any(|n| n == NAME)
            && self.settings.agents.serves(NAME)
            && self.engine.search.is_some()
    }

    /// The file search tool of an agent that the turn hands on to (or chains), over that
    /// agent's own files, when its tools (`names`) name it and it may be offered (`allowed`:
    /// the role may use file search, and see file citations).
    pub(super) fn member_file_search(
        &self,
        user: &User,
        (allowed, citations): (bool, bool),
        agent_id: &str,
        names: &[String],
    ) -> Vec<Arc<dyn Tool>> {
        if !self.offers_file_search(allowed, names.iter()) {
            return Vec::new();
        }
        self.file_search_tool(user, Some(agent_id), citations)
    }

    /// The file search tool for `user`'s turn, with the agent `agent_id`'s files when an
    /// agent answers (offered when [`ChatService::file_search_context`] said so), citing its
    /// passages when the person's role may see file citations (`citations`), within the
    /// agents endpoint's `maxCitations`, `maxCitationsPerFile` and `minRelevanceScore`.
    pub(super) fn file_search_tool(
        &self,
        user: &User,
        agent_id: Option<&str>,
        citations: bool,
    ) -> Vec<Arc<dyn Tool>> {
        let Some(index) = self.engine.search.clone() else {
            return Vec::new();
        };
        vec![Arc::new(FileSearch::new(
            self.engine.db.clone(),
            index,
            crate::access::viewer(user),
            agent_id.map(str::to_owned),
            citations.then(|| Limits::from_config(&self.settings.agents)),
            self.engine.embeddings.clone(),
        ))]
    }
}
