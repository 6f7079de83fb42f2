//! The tools a model may call: what one is ([`Tool`]), the ones this server has
//! ([`Registry`]), and the ones offered in a turn ([`ToolSet`]).
//!
//! A tool gets arguments that are JSON and fit its schema (the loop checks both first, and
//! answers the model with the error otherwise), and returns text for the model. It runs
//! inside the turn's task: one that waits on the network is cancelled where it waits when the
//! turn is aborted or its time runs out; one that computes for long must move that work to a
//! blocking thread itself.

pub mod calculator;
pub mod ephemeral;
mod math;
pub mod schema;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use crate::providers::ToolDef;

/// What a call gives back: text for the model, or why it failed (also for the model).
pub type ToolFuture<'a> = Pin<Box<dyn Future<Output = Result<String, ToolError>> + Send + 'a>>;

/// A call failed; the message goes back to the model as the call's result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ToolError(pub String);

/// Whom and where a call is made for.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub user_id: String,
    pub conversation_id: String,
    /// The answer being written.
    pub message_id: String,
}

/// A tool.
pub trait Tool: Send + Sync {
    /// Its name, what it does and its arguments' JSON Schema, as the model is told.
    fn def(&self) -> &ToolDef;

    /// Runs one call with `args`, which are a JSON object that fits [`Tool::def`]'s schema.
    fn call<'a>(&'a self, args: Value, cx: &'a Context) -> ToolFuture<'a>;
}

/// The tools offered in one turn, in the order the model is told of them.
#[derive(Clone, Default)]
pub struct ToolSet {
    tools: Vec<Arc<dyn Tool>>,
}

impl std::fmt::Debug for ToolSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl ToolSet {
    pub fn new(tools: Vec<Arc<dyn Tool>>) -> Self {
        ToolSet { tools }
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// The definitions to send the model.
    pub fn defs(&self) -> Vec<ToolDef> {
        self.tools.iter().map(|t| t.def().clone()).collect()
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.iter().find(|t| t.def().name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(|t| t.def().name.as_str())
    }

    /// These tools and `tool` after them.
    pub fn with(&self, tool: Arc<dyn Tool>) -> ToolSet {
        let mut tools = self.tools.clone();
        tools.push(tool);
        ToolSet { tools }
    }
}

/// Every tool this server has, by the name LibreChat gives it (its `pluginKey`, or its
/// built-in tool name: `web_search`, `file_search`, `execute_code`, ...).
pub struct Registry {
    tools: Vec<Arc<dyn Tool>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Registry {
    /// The tools that need nothing configured.
    pub fn builtin() -> Self {
        Registry {
            tools: vec![Arc::new(calculator::Calculator::new())],
        }
    }

    /// The tools of `names` that exist here, each once, in the order named; names of tools
    /// this server does not have are left out (LibreChat's client names tools on every
    /// message whether or not the server has them).
    pub fn select<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> ToolSet {
        let mut chosen: Vec<Arc<dyn Tool>> = Vec::new();
        for name in names {
            if chosen.iter().any(|t| t.def().name == name) {
                continue;
            }
            match self.tools.iter().find(|t| t.def().name == name) {
                Some(t) => chosen.push(t.clone()),
                None => tracing::debug!(tool = name, "a tool this server does not have"),
            }
        }
        ToolSet::new(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tools_that_exist_are_selected_once_each() {
        let r = Registry::builtin();
        let set = r.select(["web_search", "calculator", "calculator", "execute_code"]);
        assert_eq!(set.names().collect::<Vec<_>>(), ["calculator"]);
        assert!(r.select(["sys__all__sys_mcp_time"]).is_empty());
        assert_eq!(set.defs()[0].name, "calculator");
    }
}
