//! Tool credentials per person, as LibreChat keeps them: the values of a tool's variables
//! (`WOLFRAM_APP_ID`) that a person stores for themselves (`POST /api/user/plugins`),
//! encrypted with CREDS_KEY and never sent back nor logged; whether a tool is set up for them
//! (`GET /api/agents/tools/:toolId/auth`); the tools list (`GET /api/agents/tools`); and the
//! credentials a tool finds at call time ([`Credentials`]).
//!
//! The server's own value (the environment's variable of the same name, unless it is
//! `user_provided`) comes first, for everyone, as in LibreChat; a person's value is used only
//! for their own calls.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::agents::tools::{Credentials, Manifest, Registry, ToolError};
use crate::auth::crypto::Cipher;
use crate::config::tools::ToolSettings;
use crate::db::{Db, DbError, plugin_auth};

/// The longest value stored, in bytes: far above any API key.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;
/// The longest plugin key or variable name.
const MAX_NAME_CHARS: usize = 256;
/// The most variables one request may name.
const MAX_FIELDS: usize = 32;
/// The most tools one person's list (`plugins`) holds.
const MAX_INSTALLED: usize = 256;

/// LibreChat's `AuthType`s, as `GET /api/agents/tools/:toolId/auth` names them.
pub const SYSTEM_DEFINED: &str = "system_defined";
pub const USER_PROVIDED: &str = "user_provided";

/// Why a change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ToolAuthError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// `POST /api/user/plugins`'s `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Install,
    Uninstall,
}

/// A change to a person's tools: LibreChat's `{pluginKey, action, auth, isEntityTool}`.
#[derive(Debug)]
pub struct Change {
    pub plugin_key: String,
    pub action: Action,
    /// The variables and their values (only the names count for an uninstall).
    pub auth: Option<Map<String, Value>>,
    /// The tool is being added to or taken from an agent (not the person's own list).
    pub entity_tool: bool,
    /// The variables of an MCP server a person added, when `plugin_key` names one the caller
    /// may use (librechat.yaml's are known here already).
    pub user_server_vars: Option<Vec<String>>,
}

/// Whether a tool is set up for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub authenticated: bool,
    /// [`SYSTEM_DEFINED`] or [`USER_PROVIDED`].
    pub message: &'static str,
}

/// The tools' credentials: the server's, and each person's, stored encrypted.
pub struct ToolAuth {
    db: Db,
    cipher: Arc<Cipher>,
    settings: ToolSettings,
    registry: Arc<Registry>,
    /// The MCP servers' `customUserVars`, by plugin key (`mcp_<server>`, as LibreChat's client
    /// stores them).
    mcp_vars: Vec<(String, Vec<String>)>,
}

/// The plugin key a person's variables for the MCP server `server` are stored under.
pub fn mcp_plugin_key(server: &str) -> String {
    format!("mcp_{server}")
}

impl ToolAuth {
    pub fn new(
        db: Db,
        cipher: Arc<Cipher>,
        settings: ToolSettings,
        registry: Arc<Registry>,
        mcp: &crate::mcp::config::McpConfig,
    ) -> Self {
        let mcp_vars = mcp
            .servers
            .iter()
            .filter(|s| !s.custom_user_vars.is_empty())
            .map(|s| {
                let vars = s.custom_user_vars.keys().cloned().collect();
                (mcp_plugin_key(&s.name), vars)
            })
            .collect();
        ToolAuth {
            db,
            cipher,
            settings,
            registry,
            mcp_vars,
        }
    }

    /// The variables the MCP server `server` takes from each person (`customUserVars`), if it
    /// takes any.
    fn mcp_vars(&self, plugin_key: &str) -> Option<&[String]> {
        self.mcp_vars
            .iter()
            .find(|(k, _)| k == plugin_key)
            .map(|(_, v)| v.as_slice())
    }

    /// The tools people choose from, in LibreChat's `TPlugin` shape: `authenticated: true`
    /// when the server sets every credential the tool needs (as LibreChat's list says it).
    pub fn list(&self) -> Vec<Value> {
        self.registry
            .manifests()
            .map(|m| {
                let mut v = serde_json::to_value(m).unwrap_or_default();
                if !m.auth.is_empty() && self.system_covers(m) {
                    v["authenticated"] = Value::Bool(true);
                }
                v
            })
            .collect()
    }

    /// Whether the environment sets every credential `m` needs.
    fn system_covers(&self, m: &Manifest) -> bool {
        m.auth
            .iter()
            .filter(|f| !f.optional)
            .all(|f| f.names().any(|n| self.settings.credential(n).is_some()))
    }

    /// Whether `tool_id` is set up for the person; `None` when this server has no such tool.
    pub async fn status(&self, user_id: &str, tool_id: &str) -> Result<Option<Status>, DbError> {
        let Some(m) = self.registry.manifest(tool_id) else {
            return Ok(None);
        };
        let mut user_provided = false;
        for field in m.auth.iter().filter(|f| !f.optional) {
            if field.names().any(|n| self.settings.credential(n).is_some()) {
                continue;
            }
            let names: Vec<String> = field.names().map(str::to_owned).collect();
            let user = user_id.to_owned();
            let stored = self
                .db
                .read(move |c| {
                    for n in &names {
                        if plugin_auth::get(c, &user, n)?.is_some() {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                })
                .await?;
            if !stored {
                return Ok(Some(Status {
                    authenticated: false,
                    message: USER_PROVIDED,
                }));
            }
            user_provided = true;
        }
        Ok(Some(Status {
            authenticated: true,
            message: if user_provided {
                USER_PROVIDED
            } else {
                SYSTEM_DEFINED
            },
        }))
    }

    /// Installs or uninstalls a tool for the person, storing (install) or forgetting
    /// (uninstall) the credentials `auth` names. As in LibreChat, an uninstall forgets only
    /// the variables it names.
    pub async fn change(&self, user_id: &str, change: Change) -> Result<(), ToolAuthError> {
        let invalid = |m: &str| ToolAuthError::Invalid(m.to_owned());
        let key = change.plugin_key.trim().to_owned();
        if key.is_empty()
            || key.chars().count() > MAX_NAME_CHARS
            || key.chars().any(char::is_control)
        {
            return Err(invalid("pluginKey must be a tool's key"));
        }
        let auth = change.auth.unwrap_or_default();
        if auth.len() > MAX_FIELDS {
            return Err(invalid("auth names too many variables"));
        }
        for name in auth.keys() {
            if name.is_empty()
                || name.len() > MAX_NAME_CHARS
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
            {
                return Err(invalid("auth must name variables such as WOLFRAM_APP_ID"));
            }
        }
        // What to store, checked before anything is written.
        let mut stored = Vec::new();
        if change.action == Action::Install && !auth.is_empty() {
            // Web search has no manifest: it takes the variables its `webSearch` keys name.
            let takes: Vec<&str> = if key == crate::agents::tools::web_search::NAME {
                self.settings.web_search.vars()
            } else if let Some(vars) = self.mcp_vars(&key) {
                vars.iter().map(String::as_str).collect()
            } else if let Some(vars) = &change.user_server_vars {
                vars.iter().map(String::as_str).collect()
            } else {
                let manifest = self.registry.manifest(&key).ok_or_else(|| {
                    ToolAuthError::Invalid(format!(
                        "this server has no tool {key:?} that takes credentials"
                    ))
                })?;
                manifest.auth.iter().flat_map(|f| f.names()).collect()
            };
            for (name, value) in &auth {
                if !takes.contains(&name.as_str()) {
                    return Err(ToolAuthError::Invalid(format!(
                        "the tool {key:?} does not take {name}"
                    )));
                }
                let Some(value) = value.as_str().map(str::trim).filter(|v| !v.is_empty()) else {
                    return Err(ToolAuthError::Invalid(format!(
                        "{name} must be a non-empty string"
                    )));
                };
                if value.len() > MAX_VALUE_BYTES {
                    return Err(ToolAuthError::Invalid(format!(
                        "{name} must be at most {} KB",
                        MAX_VALUE_BYTES / 1024
                    )));
                }
                stored.push((name.clone(), self.cipher.encrypt(value)));
            }
        }
        // An MCP server's variables are not a tool of the person's list; taking the server
        // away forgets all of them (LibreChat's uninstall of `mcp_<server>`).
        let mcp = self.mcp_vars(&key).is_some() || change.user_server_vars.is_some();
        let (user, action) = (user_id.to_owned(), change.action);
        let entity = change.entity_tool || mcp;
        let names: Vec<String> = auth.keys().cloned().collect();
        let done = self
            .db
            .write(move |c| {
                let tx = c.transaction()?;
                if !entity
                    && !plugin_auth::set_installed(
                        &tx,
                        &user,
                        &key,
                        action == Action::Install,
                        MAX_INSTALLED,
                    )?
                {
                    return Ok(false);
                }
                match action {
                    Action::Install => {
                        for (name, encrypted) in &stored {
                            plugin_auth::set(&tx, &user, &key, name, encrypted)?;
                        }
                    }
                    Action::Uninstall if mcp => {
                        plugin_auth::delete_plugin(&tx, &user, &key)?;
                    }
                    Action::Uninstall => {
                        for name in &names {
                            plugin_auth::delete(&tx, &user, name)?;
                        }
                    }
                }
                tx.commit()?;
                Ok(true)
            })
            .await?;
        if !done {
            return Err(ToolAuthError::Invalid(format!(
                "at most {MAX_INSTALLED} tools can be installed"
            )));
        }
        Ok(())
    }
}

impl ToolAuth {
    /// The person's values of the MCP server `server`'s variables, decrypted (a value that no
    /// longer decrypts is left out, with a warning).
    pub async fn mcp_values(
        &self,
        user_id: &str,
        server: &str,
    ) -> Result<Vec<(String, String)>, DbError> {
        let (user, key) = (user_id.to_owned(), mcp_plugin_key(server));
        let stored = self
            .db
            .read(move |c| plugin_auth::of_plugin(c, &user, &key))
            .await?;
        Ok(stored
            .into_iter()
            .filter_map(|(field, enc)| match self.cipher.decrypt(&enc) {
                Ok(v) => Some((field, v)),
                Err(e) => {
                    tracing::warn!(mcp.server = server, field, error = %e, "a stored MCP variable could not be decrypted");
                    None
                }
            })
            .collect())
    }
}

impl crate::mcp::resolve::UserVars for ToolAuth {
    fn values<'a>(
        &'a self,
        user_id: &'a str,
        server: &'a str,
    ) -> crate::mcp::resolve::VarsFuture<'a> {
        Box::pin(async move {
            self.mcp_values(user_id, server).await.unwrap_or_else(|e| {
                tracing::error!(mcp.server = server, error = %e, "reading a person's MCP variables failed");
                Vec::new()
            })
        })
    }
}

impl Credentials for ToolAuth {
    fn get<'a>(
        &'a self,
        user_id: &'a str,
        field: &'a str,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Option<String>, ToolError>> + Send + 'a>,
    > {
        Box::pin(async move {
            if let Some(v) = self.settings.credential(field) {
                return Ok(Some(v.to_owned()));
            }
            let (user, name) = (user_id.to_owned(), field.to_owned());
            let stored = self
                .db
                .read(move |c| plugin_auth::get(c, &user, &name))
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "reading a tool credential failed");
                    ToolError("the tool's credentials could not be read; try again later.".into())
                })?;
            let Some(stored) = stored else {
                return Ok(None);
            };
            match self.cipher.decrypt(&stored) {
                Ok(v) => Ok(Some(v)),
                Err(e) => {
                    tracing::warn!(field, error = %e, "a stored tool credential could not be decrypted");
                    Err(ToolError(format!(
                        "the stored {field} could not be read; the person should enter it again \
                         in the tool's settings."
                    )))
                }
            }
        })
    }
}
