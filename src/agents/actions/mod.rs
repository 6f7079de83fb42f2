//! Actions: an OpenAPI document attached to an agent, whose operations become tools the agent's
//! model may call (LibreChat's `/api/agents/actions`).
//!
//! Saving one ([`Actions::save`]) checks the document ([`spec`]) (and reads its operations
//! and domain from it when the body leaves them out), that the domain the person names is the
//! one its server is on and that `actions.allowedDomains` allows it ([`domain`]),
//! that the server (and an OAuth provider's endpoints) is not a private address unless
//! `actions.allowedAddresses` lists it, encrypts the secrets with `CREDS_KEY`, and changes the
//! agent's tools as LibreChat does ([`plan`]). A chat with the agent gets one tool per
//! operation its `tools` name ([`Actions::tools_for`]): only the agent's own actions, each
//! call made through the guarded client, within a timeout, its answer read to a bound
//! ([`tool`]); an OAuth action asks the person to sign in and waits for the callback
//! ([`oauth`]).

pub mod domain;
pub mod flows;
mod load;
pub mod metadata;
pub mod oauth;
mod parsed;
pub mod plan;
mod refs;
mod request;
mod save;
pub mod spec;
mod tool;

use std::sync::Arc;
use std::time::Duration;

use crate::auth::crypto::Cipher;
use crate::config::actions::ActionsConfig;
use crate::db::Db;
use crate::db::DbError;
use crate::db::acl::Viewer;
use crate::db::actions::{self as store, Action};
use crate::db::agents::Denied;
use crate::net::{Blocked, Guarded};

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
    /// No `functions` were sent, and the document has no operation to make them of.
    #[error("No operations found in the OpenAPI spec: a path needs a method (get, post, ...)")]
    NoOperations,
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
    /// Sign-ins waiting for their callback and the browsers bound to them, in the database
    /// (every replica sees them).
    pub flows: oauth::Flows,
    /// Documents as the last turn read them.
    specs: parsed::ParsedSpecs,
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
        let flows = oauth::Flows::new(db.clone(), "action");
        Actions {
            db,
            cipher: setup.cipher,
            guarded: Guarded::new(setup.config.allowed_addresses.clone()),
            allowed_domains: setup.config.allowed_domains.clone(),
            timeout: setup.config.timeout,
            callback_base: setup.callback_base.trim_end_matches('/').to_owned(),
            enabled: setup.enabled,
            flows,
            specs: parsed::ParsedSpecs::default(),
        }
    }

    /// The actions of every agent the viewer may edit.
    pub async fn editable(&self, viewer: Viewer) -> Result<Vec<Action>, DbError> {
        self.db.read(move |c| store::editable(c, &viewer)).await
    }
}

/// A refusal of the guarded client in words that name the setting actions read.
fn blocked_text(b: &Blocked) -> String {
    b.to_string()
        .replace("endpoints.allowedAddresses", "actions.allowedAddresses")
}

/// Whether `s` has the shape of an action id.
pub fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
