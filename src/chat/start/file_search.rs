//! The `file_search` tool in a turn, offered as LibreChat offers it: to an agent whose tools
//! name it, and in a plain chat when the composer's toggle is on (`ephemeralAgent`), only for
//! a role with `FILE_SEARCH.USE`, when the agents' `file_search` capability is served and the
//! search index is open. With it, the system prompt names the files it searches (LibreChat's
//! `primeFiles` tool context).

use std::sync::Arc;

use super::ChatService;
use super::agent::AgentSetup;
use crate::agents::tools::Tool;
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
        let mut names = tool_names
            .iter()
            .chain(agent.iter().flat_map(|a| a.tools.iter()));
        if !allowed
            || !names.any(|n| n == NAME)
            || !self.settings.agents.serves(NAME)
            || self.engine.search.is_none()
        {
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

    /// The file search tool for `user`'s turn, with the agent `agent_id`'s files when an
    /// agent answers (offered when [`ChatService::file_search_context`] said so).
    pub(super) fn file_search_tool(
        &self,
        user: &User,
        agent_id: Option<&str>,
    ) -> Vec<Arc<dyn Tool>> {
        let Some(index) = self.engine.search.clone() else {
            return Vec::new();
        };
        vec![Arc::new(FileSearch::new(
            self.engine.db.clone(),
            index,
            crate::access::viewer(user),
            agent_id.map(str::to_owned),
        ))]
    }
}
