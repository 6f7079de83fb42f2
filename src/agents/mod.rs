//! Agents: a model with instructions, tools and files, stored and shared as a resource
//! (`crate::db::agents`). This module holds what the builder may write: the checks of a
//! create or update body ([`definition`]) and of the server's configuration
//! (`endpoints.agents`: whether the builder is on, which providers agents may use); and the
//! tool loop every chat turn runs through ([`run`], one round of tool calls in `round`), the
//! run steps and content parts it streams as LibreChat's client reads them ([`steps`]), and
//! the tools a model may call ([`tools`]), and agents that hand an answer on to others
//! ([`handoff`]) or answer side by side ([`parallel`]).

pub mod actions;
pub mod definition;
pub mod handoff;
pub mod parallel;
mod round;
pub mod run;
pub mod steps;
pub mod tools;

use crate::config::agents::AgentsConfig;
use crate::db::agent_changes::Patch;
use crate::db::agents::Definition;
use crate::providers::Endpoints;
use definition::Issue;

/// Why the builder refused a body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    /// `endpoints.agents.disableBuilder` is set.
    #[error("The agent builder is turned off on this server")]
    Disabled,
    /// The body does not fit LibreChat's schema or our bounds; each issue names its field.
    #[error("{}", .0.first().map(|i| i.to_string()).unwrap_or_default())]
    Invalid(Vec<Issue>),
}

/// The builder's checks, with the server's settings.
#[derive(Debug, Clone, Copy)]
pub struct Builder<'a> {
    pub config: &'a AgentsConfig,
    pub endpoints: &'a Endpoints,
}

impl Builder<'_> {
    /// Refuses every change while `disableBuilder` is set.
    pub fn open(&self) -> Result<(), BuildError> {
        if self.config.disable_builder {
            return Err(BuildError::Disabled);
        }
        Ok(())
    }

    /// A create body (LibreChat's `AgentCreateParams`) as a definition.
    pub fn create(
        &self,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Definition, BuildError> {
        self.open()?;
        let def = definition::create(body).map_err(BuildError::Invalid)?;
        self.provider(&def.provider)?;
        Ok(def)
    }

    /// An update body (LibreChat's `AgentUpdateParams`) as a change.
    pub fn update(
        &self,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Patch, BuildError> {
        self.open()?;
        let patch = definition::update(body).map_err(BuildError::Invalid)?;
        if let Some(p) = &patch.provider {
            self.provider(p)?;
        }
        Ok(patch)
    }

    /// A provider must be one of this server's endpoints, and one `allowedProviders` names
    /// when it is set.
    fn provider(&self, name: &str) -> Result<(), BuildError> {
        let issue = |message: String| {
            BuildError::Invalid(vec![Issue {
                path: "provider".into(),
                message,
            }])
        };
        if self.endpoints.get(name).is_none() {
            return Err(issue(format!(
                "provider {name:?} is not an endpoint of this server"
            )));
        }
        if !self.config.allows_provider(name) {
            return Err(issue(format!(
                "provider {name:?} is not allowed for agents (endpoints.agents.allowedProviders)"
            )));
        }
        Ok(())
    }
}
