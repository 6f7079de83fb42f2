//! The `file_search` tool in a turn, offered as LibreChat offers it: to an agent whose tools
//! name it, and in a plain chat when the composer's toggle is on (`ephemeralAgent`), only for
//! a role with `FILE_SEARCH.USE`, when the agents' `file_search` capability is served and the
//! search index is open.

use std::sync::Arc;

use super::ChatService;
use crate::agents::tools::Tool;
use crate::agents::tools::file_search::{FileSearch, NAME};
use crate::db::users::User;

impl ChatService {
    /// The file search tool for `user`'s turn (with the agent `agent_id`'s files, when an
    /// agent answers), if `names` (the tools asked for) name it and it may be offered.
    pub(super) fn file_search_tool<'a>(
        &self,
        user: &User,
        agent_id: Option<&str>,
        mut names: impl Iterator<Item = &'a String>,
        allowed: bool,
    ) -> Vec<Arc<dyn Tool>> {
        if !allowed || !names.any(|n| n == NAME) || !self.settings.agents.serves(NAME) {
            return Vec::new();
        }
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
