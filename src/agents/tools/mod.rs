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
    /// The call being run (the provider's id for it); set by the loop for each call.
    pub call_id: String,
    /// Where a tool asks its person to sign in (an action's OAuth): the loop shows the link on
    /// the call as LibreChat's client expects it. Set by the loop for each call.
    pub sign_in: Option<tokio::sync::mpsc::UnboundedSender<SignIn>>,
}

/// A sign-in link to show on a running call (`url: None` takes it away once signed in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub call_id: String,
    pub url: Option<String>,
    /// When the link stops working, in milliseconds since the epoch.
    pub expires_at: Option<i64>,
}

/// A tool.
pub trait Tool: Send + Sync {
    /// Its name, what it does and its arguments' JSON Schema, as the model is told.
    fn def(&self) -> &ToolDef;

    /// Runs one call with `args`, which are a JSON object that fits [`Tool::def`]'s schema.
    fn call<'a>(&'a self, args: Value, cx: &'a Context) -> ToolFuture<'a>;

    /// How long a call may run, when the tool knows better than the loop's bound (one that
    /// waits for its person to sign in).
    fn timeout(&self) -> Option<std::time::Duration> {
        None
    }
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

    /// This set and `more` (an agent's actions), a name already offered left out.
    pub fn with(mut self, more: Vec<Arc<dyn Tool>>) -> Self {
        for tool in more {
            if self.get(&tool.def().name).is_none() {
                self.tools.push(tool);
            }
        }
        self
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
