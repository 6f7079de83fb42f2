//! The tools a model may call: what one is ([`Tool`]), the ones this server has
//! ([`Registry`]), and the ones offered in a turn ([`ToolSet`]).
//!
//! A tool gets arguments that are JSON and fit its schema (the loop checks both first, and
//! answers the model with the error otherwise), and returns text for the model. It runs
//! inside the turn's task: one that waits on the network is cancelled where it waits when the
//! turn is aborted or its time runs out; one that computes for long must move that work to a
//! blocking thread itself.
//!
//! A tool that needs a credential (an API key of its service) names it in its [`Manifest`]
//! (LibreChat's `authConfig`) and asks for it at call time through the call's
//! [`Context::credential`]: the server's own value when the environment sets one, else the
//! one the person stored for themselves (`POST /api/user/plugins`).

pub mod attach;
pub mod calculator;
pub mod ephemeral;
pub mod file_citations;
pub mod file_search;
mod math;
pub mod schema;
pub mod web_search;
pub mod wolfram;

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
    /// The provider's id of the call being run (set by the loop for each call).
    pub call_id: String,
    /// Where the person's credentials for tools are found; none: no tool has any.
    pub credentials: Option<CredentialSource>,
    /// Where a tool asks its person to sign in (an action's OAuth): the loop shows the link on
    /// the call as LibreChat's client expects it. Set by the loop for each call.
    pub sign_in: Option<tokio::sync::mpsc::UnboundedSender<SignIn>>,
    /// Where a long call reports how far it got (an MCP server's progress notifications):
    /// the loop streams it on the call's step, and keeps none of it. Set by the loop for
    /// each call.
    pub progress: Option<tokio::sync::mpsc::UnboundedSender<ToolProgress>>,
    /// Where the call's attachments go (LibreChat's `attachment` events), and how many times
    /// each tool ran in the answer.
    pub attachments: attach::Attachments,
}

/// A sign-in link to show on a running call (`url: None` takes it away once signed in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub call_id: String,
    pub url: Option<String>,
    /// When the link stops working, in milliseconds since the epoch.
    pub expires_at: Option<i64>,
}

/// How far a running call got, as its tool reports it (MCP's `notifications/progress`).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolProgress {
    pub call_id: String,
    /// Done so far; grows with each report.
    pub progress: f64,
    /// The whole, when the tool knows it.
    pub total: Option<f64>,
    pub message: Option<String>,
}

/// Finds a credential a tool needs (a field of its [`Manifest::auth`], such as
/// `WOLFRAM_APP_ID`) for one person.
pub trait Credentials: Send + Sync {
    /// The value of `field` for `user_id`: the server's own when it has one, else the one the
    /// person stored; `Ok(None)` when neither is there.
    fn get<'a>(
        &'a self,
        user_id: &'a str,
        field: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<String>, ToolError>> + Send + 'a>>;
}

/// A shared [`Credentials`], as a call's context carries it.
#[derive(Clone)]
pub struct CredentialSource(pub Arc<dyn Credentials>);

// What it finds are secrets: never print them, nor the store.
impl std::fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialSource")
    }
}

impl Context {
    /// The credential `field` of the person the call is for (the first of alternatives
    /// written `A||B` that is set), or an error for the model that says what is missing and
    /// where the person sets it.
    pub async fn credential(&self, tool: &str, field: &AuthField) -> Result<String, ToolError> {
        if let Some(CredentialSource(store)) = &self.credentials {
            for name in field.names() {
                if let Some(v) = store.get(&self.user_id, name).await? {
                    return Ok(v);
                }
            }
        }
        Err(ToolError(format!(
            "the {tool} tool cannot run: no {} ({}) is set up for this person. They can add \
             theirs in the tool's settings (or the administrator can set {} for everyone). \
             Tell them so; do not call this tool again until then.",
            field.label, field.field, field.field
        )))
    }
}

/// A credential a tool needs, as LibreChat's tool manifest describes it (`authConfig`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuthField {
    /// The variable's name (`WOLFRAM_APP_ID`), or alternatives (`A||B`).
    #[serde(rename = "authField")]
    pub field: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    /// LibreChat's `optional`: the tool works without it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

impl AuthField {
    /// The names it may be stored or set under (`A||B` is `A`, then `B`).
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        self.field.split("||")
    }
}

/// What LibreChat's tool dialog shows of a tool (its `TPlugin` manifest entry).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Manifest {
    pub name: &'static str,
    #[serde(rename = "pluginKey")]
    pub plugin_key: &'static str,
    pub description: &'static str,
    /// Its picture, from where the web app's Content-Security-Policy lets images load (this
    /// server: LibreChat's client ships some under `assets/`); none for a tool whose only
    /// picture is elsewhere, which the client then shows with its own tool icon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<&'static str>,
    /// The credentials it needs (none for most).
    #[serde(rename = "authConfig")]
    pub auth: Vec<AuthField>,
}

/// The definition of a tool that takes one text argument, `input` (LibreChat's calculator
/// and wolfram tools: `{"input": "..."}`), described to the model as `about_input`.
fn text_input_def(name: &str, description: &str, about_input: &str) -> ToolDef {
    ToolDef {
        name: name.into(),
        description: description.into(),
        parameters: serde_json::json!({
            "type": "object",
            "properties": {
                "input": {
                    "type": "string",
                    "description": about_input
                }
            },
            "required": ["input"]
        }),
    }
}

/// The `input` of a call to a tool defined by [`text_input_def`] (empty if absent, which the
/// loop's schema check already refuses).
fn text_input(args: &Value) -> String {
    args["input"].as_str().unwrap_or_default().to_owned()
}

/// A tool.
pub trait Tool: Send + Sync {
    /// Its name, what it does and its arguments' JSON Schema, as the model is told.
    fn def(&self) -> &ToolDef;

    /// Runs one call with `args`, which are a JSON object that fits [`Tool::def`]'s schema.
    fn call<'a>(&'a self, args: Value, cx: &'a Context) -> ToolFuture<'a>;

    /// Its entry in the tools list (`GET /api/agents/tools`); `None` for a tool that is not
    /// chosen by people (one the server adds itself).
    fn manifest(&self) -> Option<&Manifest> {
        None
    }

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

    /// These tools and `tool` after them.
    pub fn plus(&self, tool: Arc<dyn Tool>) -> ToolSet {
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

    /// Every tool this server offers: the built-in ones, and those that call a service (each
    /// with the person's or the server's credentials, `web_search` with `settings.web_search`),
    /// through `http`; less those librechat.yaml's `includedTools`/`filteredTools` leave out.
    pub fn new(settings: &crate::config::tools::ToolSettings, http: reqwest::Client) -> Self {
        let mut r = Self::builtin();
        r.tools.push(Arc::new(wolfram::Wolfram::new(
            http.clone(),
            &settings.wolfram_api_url,
        )));
        r.tools.push(Arc::new(web_search::WebSearch::new(
            &settings.web_search,
            http,
        )));
        // The lists choose among the tools of LibreChat's tool dialog (its plugins), as in
        // LibreChat; a capability such as `web_search` is not one of them.
        r.tools
            .retain(|t| t.manifest().is_none() || settings.offers(&t.def().name));
        r
    }

    /// The tools people choose from, as LibreChat's tool dialog lists them.
    pub fn manifests(&self) -> impl Iterator<Item = &Manifest> {
        self.tools.iter().filter_map(|t| t.manifest())
    }

    /// The manifest of the tool `plugin_key`.
    pub fn manifest(&self, plugin_key: &str) -> Option<&Manifest> {
        self.manifests().find(|m| m.plugin_key == plugin_key)
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
    fn every_credential_a_tool_names_is_read_from_the_environment() {
        let r = Registry::new(
            &crate::config::tools::ToolSettings::default(),
            reqwest::Client::new(),
        );
        let fields: Vec<&str> = r
            .manifests()
            .flat_map(|m| m.auth.iter().flat_map(AuthField::names))
            .collect();
        assert!(fields.contains(&"WOLFRAM_APP_ID"));
        for f in fields {
            assert!(
                crate::config::tools::CREDENTIAL_VARS.contains(&f),
                "{f} is not read from the environment"
            );
        }
        assert_eq!(r.manifest("calculator").unwrap().name, "Calculator");
    }

    #[test]
    fn the_tool_lists_choose_among_plugins_not_web_search() {
        let settings = crate::config::tools::ToolSettings::default()
            .with_lists(Some(&["calculator".to_owned()]), None);
        let r = Registry::new(&settings, reqwest::Client::new());
        let set = r.select(["calculator", "wolfram", "web_search"]);
        assert_eq!(
            set.names().collect::<Vec<_>>(),
            ["calculator", "web_search"]
        );
    }

    #[test]
    fn only_tools_that_exist_are_selected_once_each() {
        let r = Registry::builtin();
        let set = r.select(["file_search", "calculator", "calculator", "execute_code"]);
        assert_eq!(set.names().collect::<Vec<_>>(), ["calculator"]);
        assert!(r.select(["sys__all__sys_mcp_time"]).is_empty());
        assert_eq!(set.defs()[0].name, "calculator");
    }
}
