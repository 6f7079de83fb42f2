//! Actions: an OpenAPI document attached to an agent, whose operations become tools the agent's
//! model may call (LibreChat's `/api/agents/actions`).
//!
//! Saving one ([`Actions::save`]) checks the document ([`spec`]), that the domain the person
//! names is the one its server is on and that `actions.allowedDomains` allows it ([`domain`]),
//! that the server (and an OAuth provider's endpoints) is not a private address unless
//! `actions.allowedAddresses` lists it, encrypts the secrets with `CREDS_KEY`, and changes the
//! agent's tools as LibreChat does ([`plan`]). A chat with the agent gets one tool per
//! operation its `tools` name ([`Actions::tools_for`]): only the agent's own actions, each
//! call made through the guarded client, within a timeout, its answer read to a bound
//! ([`tool`]); an OAuth action asks the person to sign in and waits for the callback
//! ([`oauth`]).

pub mod domain;
mod load;
pub mod metadata;
pub mod oauth;
pub mod plan;
mod refs;
mod request;
pub mod spec;
mod tool;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::auth::crypto::Cipher;
use crate::config::actions::ActionsConfig;
use crate::db::Db;
use crate::db::DbError;
use crate::db::acl::Viewer;
use crate::db::actions::{self as store, Action, Plan, Refused, Sealed};
use crate::db::agents::{self, Agent, Denied};
use crate::net::{Blocked, Guarded};
use metadata::{Held, Secret};

/// LibreChat's words when a change of target comes without its secrets.
pub const CREDENTIAL_REFRESH_MESSAGE: &str = "Action credentials must be re-entered when \
     changing the domain, OpenAPI server URL, or authentication settings";

/// Why a save or a delete was refused.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("{0}")]
    Invalid(String),
    #[error("No functions provided")]
    NoFunctions,
    #[error("The OpenAPI document is larger than {} MiB", spec::MAX_SPEC_BYTES / (1024 * 1024))]
    SpecTooLarge,
    #[error("{0}")]
    Spec(#[from] spec::SpecError),
    #[error("Domain mismatch: The domain in the OpenAPI spec does not match the provided domain")]
    DomainMismatch,
    #[error("Domain not allowed")]
    DomainNotAllowed,
    #[error("No domain provided")]
    NoDomain,
    /// A private address (the refusal's words, naming `actions.allowedAddresses`).
    #[error("{0}")]
    Blocked(String),
    #[error("{CREDENTIAL_REFRESH_MESSAGE}")]
    CredentialsNeeded,
    #[error("Invalid action OAuth {field}: {why}")]
    OAuth { field: &'static str, why: String },
    #[error("agent not found")]
    Agent(Denied),
    #[error("Action does not belong to this agent")]
    OtherAgent,
    #[error("Action not found")]
    NoAction,
    #[error("The action was changed meanwhile; load it again and retry")]
    Changed,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The actions service: saving and deleting actions, and making their tools.
pub struct Actions {
    db: Db,
    cipher: Arc<Cipher>,
    /// Refuses private addresses but those `actions.allowedAddresses` lists.
    guarded: Guarded,
    allowed_domains: Vec<String>,
    timeout: Duration,
    /// Where OAuth providers send people back: `<base>/api/actions/<id>/oauth/callback`.
    callback_base: String,
    /// Whether agents may use actions (`endpoints.agents.capabilities` names `actions`).
    enabled: bool,
    /// Sign-ins waiting for their callback.
    pub flows: oauth::Flows,
}

/// What [`Actions::new`] needs besides the store.
pub struct Setup<'a> {
    pub config: &'a ActionsConfig,
    pub cipher: Arc<Cipher>,
    pub callback_base: String,
    pub enabled: bool,
}

impl Actions {
    pub fn new(db: Db, setup: Setup<'_>) -> Self {
        Actions {
            db,
            cipher: setup.cipher,
            guarded: Guarded::new(setup.config.allowed_addresses.clone()),
            allowed_domains: setup.config.allowed_domains.clone(),
            timeout: setup.config.timeout,
            callback_base: setup.callback_base.trim_end_matches('/').to_owned(),
            enabled: setup.enabled,
            flows: oauth::Flows::default(),
        }
    }

    /// The actions of every agent the viewer may edit.
    pub async fn editable(&self, viewer: Viewer) -> Result<Vec<Action>, DbError> {
        self.db.read(move |c| store::editable(c, &viewer)).await
    }

    /// Creates or updates an action of the agent `agent_id` from a save body (LibreChat's
    /// `{functions, action_id?, metadata}`); the agent and the action as saved.
    pub async fn save(
        &self,
        viewer: Viewer,
        agent_id: String,
        body: &Map<String, Value>,
    ) -> Result<(Agent, Action), SaveError> {
        let functions = function_names(body.get("functions"))?;
        let requested = action_id(body.get("action_id"))?;
        let incoming = metadata::incoming(body.get("metadata"))?;
        // Nothing of the agent or its actions is judged for someone who may not edit it.
        let (v, id) = (viewer.clone(), agent_id.clone());
        self.db
            .read(move |c| agents::get(c, &v, &id, agents::EDIT))
            .await?
            .map_err(SaveError::Agent)?;
        let stored = match requested.clone() {
            Some(a) => self.db.read(move |c| store::get(c, &a)).await?,
            None => None,
        };
        if stored.as_ref().is_some_and(|s| s.agent_id != agent_id) {
            return Err(SaveError::OtherAgent);
        }
        let domain = incoming
            .metadata
            .domain
            .clone()
            .ok_or(SaveError::NoDomain)?;
        let old = stored
            .as_ref()
            .map(|s| metadata::Metadata::from_map(&s.metadata))
            .unwrap_or_default();
        let held = stored.as_ref().map_or(Held::default(), |s| Held {
            api_key: s.sealed.api_key.is_some(),
            oauth_client_id: s.sealed.oauth_client_id.is_some(),
            oauth_client_secret: s.sealed.oauth_client_secret.is_some(),
        });
        let merged = metadata::merge(&old, held, incoming)?;
        let raw_spec = merged
            .metadata
            .raw_spec
            .as_deref()
            .ok_or(SaveError::Spec(spec::SpecError::NoServer))?;
        let parsed = spec::parse(raw_spec)?;
        domain::matches_server(&domain, &parsed.server_url).map_err(|why| {
            tracing::warn!(agent.id = %agent_id, why, "an action's domain is not its spec's");
            SaveError::DomainMismatch
        })?;
        if !domain::allowed(&domain, &self.allowed_domains) {
            return Err(SaveError::DomainNotAllowed);
        }
        let server = url::Url::parse(&parsed.server_url)
            .map_err(|_| SaveError::Spec(spec::SpecError::NoServer))?;
        self.guarded
            .preflight(&server)
            .await
            .map_err(|b| SaveError::Blocked(blocked_text(&b)))?;
        if let Some(auth) = &merged.metadata.auth
            && auth.kind() == metadata::OAUTH
        {
            self.check_oauth_endpoint("authorization_url", auth.authorization_url.as_deref())
                .await?;
            self.check_oauth_endpoint("client_url", auth.client_url.as_deref())
                .await?;
        }
        // Names the client computed that are no operation of the document (LibreChat's client
        // makes some of a path's shared fields) are left out.
        let functions: Vec<String> = functions
            .into_iter()
            .filter(|f| parsed.operations.iter().any(|o| &o.name == f))
            .collect();
        if functions.is_empty() {
            return Err(SaveError::NoFunctions);
        }
        let action_id = requested.unwrap_or_else(store::new_action_id);
        let old_sealed = stored
            .as_ref()
            .map(|s| s.sealed.clone())
            .unwrap_or_default();
        let seal = |s: &Secret, old: &Option<String>| match s {
            Secret::Keep => old.clone(),
            Secret::Set(v) => Some(self.cipher.encrypt(v)),
            Secret::Drop => None,
        };
        let sealed = Sealed {
            api_key: seal(&merged.api_key, &old_sealed.api_key),
            oauth_client_id: seal(&merged.oauth_client_id, &old_sealed.oauth_client_id),
            oauth_client_secret: seal(&merged.oauth_client_secret, &old_sealed.oauth_client_secret),
        };
        let expected = stored.as_ref().map(|s| s.updated_at.clone());
        let previous_domain = old.domain.clone();
        let previous_spec = old.raw_spec.clone();
        let forget_tokens = merged.target_changed && stored.is_some();
        let new_metadata = merged.metadata.to_map();
        let id = action_id.clone();
        let saved = self
            .db
            .write(move |c| {
                store::save(c, &viewer, &agent_id, &id, |agent, current| {
                    if current.map(|c| &c.updated_at) != expected.as_ref() {
                        return Err(SaveError::Changed);
                    }
                    let (tools, actions) = plan::save(&plan::Save {
                        agent_tools: &agent.def.tools,
                        agent_actions: agent.def.actions.as_deref().unwrap_or(&[]),
                        functions: &functions,
                        action_id: &id,
                        domain: &domain,
                        previous_domain: previous_domain.as_deref(),
                        previous_spec: previous_spec.as_deref(),
                    });
                    Ok(Plan {
                        metadata: new_metadata,
                        sealed,
                        tools,
                        actions,
                        forget_tokens,
                    })
                })
            })
            .await?;
        let saved = saved.map_err(refused)?;
        tracing::info!(action.id = %action_id, agent.id = %saved.0.id, "action saved");
        Ok(saved)
    }

    /// An OAuth endpoint must be https (or a private service the administrator listed) and
    /// not a private address (unless listed).
    async fn check_oauth_endpoint(
        &self,
        field: &'static str,
        value: Option<&str>,
    ) -> Result<(), SaveError> {
        let err = |why: &str| SaveError::OAuth {
            field,
            why: why.to_owned(),
        };
        let url = url::Url::parse(value.ok_or_else(|| err("endpoint URL is required."))?)
            .map_err(|_| err("unable to parse endpoint URL."))?;
        if url.scheme() != "https" && !(url.scheme() == "http" && self.guarded.listed(&url)) {
            return Err(err("only HTTPS endpoint URLs are permitted."));
        }
        self.guarded
            .preflight(&url)
            .await
            .map_err(|b| err(&blocked_text(&b)))
    }

    /// Deletes the action `action_id` of the agent `agent_id`, its tools with it.
    pub async fn delete(
        &self,
        viewer: Viewer,
        agent_id: String,
        action_id: String,
    ) -> Result<(), SaveError> {
        let done = self
            .db
            .write(move |c| {
                store::delete(c, &viewer, &agent_id, &action_id, |def, stored| {
                    let meta = stored
                        .map(|a| metadata::Metadata::from_map(&a.metadata))
                        .unwrap_or_default();
                    plan::delete(
                        &def.tools,
                        def.actions.as_deref().unwrap_or(&[]),
                        &action_id,
                        meta.domain.as_deref(),
                        meta.raw_spec.as_deref(),
                    )
                })
            })
            .await?;
        done.map_err(|r| match r {
            Refused::Agent(d) => SaveError::Agent(d),
            Refused::OtherAgent => SaveError::OtherAgent,
            Refused::NoAction | Refused::Plan(()) => SaveError::NoAction,
        })
    }
}

/// A refusal of the guarded client in words that name the setting actions read.
fn blocked_text(b: &Blocked) -> String {
    b.to_string()
        .replace("endpoints.allowedAddresses", "actions.allowedAddresses")
}

fn refused(r: Refused<SaveError>) -> SaveError {
    match r {
        Refused::Agent(d) => SaveError::Agent(d),
        Refused::OtherAgent => SaveError::OtherAgent,
        Refused::NoAction => SaveError::NoAction,
        Refused::Plan(e) => e,
    }
}

/// The operation names of `functions` (LibreChat's `FunctionTool[]`), each once.
fn function_names(v: Option<&Value>) -> Result<Vec<String>, SaveError> {
    let Some(Value::Array(items)) = v else {
        return Err(SaveError::NoFunctions);
    };
    let mut names: Vec<String> = Vec::new();
    for item in items.iter().take(spec::MAX_OPERATIONS * 2) {
        let name = item
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| SaveError::Invalid("functions[].function.name must be text".into()))?;
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    if names.is_empty() {
        return Err(SaveError::NoFunctions);
    }
    Ok(names)
}

/// A requested action id: LibreChat's nanoids (letters, digits, `_` and `-`).
fn action_id(v: Option<&Value>) -> Result<Option<String>, SaveError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if valid_id(s) => Ok(Some(s.clone())),
        Some(_) => Err(SaveError::Invalid(
            "action_id must be up to 64 letters, digits, _ or -".into(),
        )),
    }
}

/// Whether `s` has the shape of an action id.
pub fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
