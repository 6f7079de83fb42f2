//! Saving and deleting actions: the body read and judged (the document, its domain, where it
//! calls, the OAuth endpoints), the secrets sealed, and the store's transaction planned.

use serde_json::{Map, Value};

use super::metadata::{self, Held, Secret};
use super::{Actions, SaveError, blocked_text, domain, plan, spec, valid_id};
use crate::db::acl::Viewer;
use crate::db::actions::{self as store, Action, Plan, Refused, Sealed};
use crate::db::agents::{self, Agent};

impl Actions {
    /// Creates or updates an action of the agent `agent_id` from a save body (LibreChat's
    /// `{functions, action_id?, metadata}`); the agent and the action as saved.
    ///
    /// LibreChat's client reads the document itself and sends its operations as `functions`
    /// and its server as `metadata.domain`. A body without `functions` (ours: the bundled app
    /// reads no YAML) asks the server to do the same: every operation of the document becomes
    /// a function, named as LibreChat's `openapiToFunction` names it, and a domain not given
    /// is the document's server's `protocol//hostname`, as LibreChat's client writes it.
    pub async fn save(
        &self,
        viewer: Viewer,
        agent_id: String,
        body: &Map<String, Value>,
    ) -> Result<(Agent, Action), SaveError> {
        // `functions: []` (or `null`) stays LibreChat's 400; only its absence means "derive".
        let sent = match body.get("functions") {
            None => None,
            v => Some(function_names(v)?),
        };
        let requested = action_id(body.get("action_id"))?;
        let mut incoming = metadata::incoming(body.get("metadata"))?;
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
        let old = stored
            .as_ref()
            .map(|s| metadata::Metadata::from_map(&s.metadata))
            .unwrap_or_default();
        if sent.is_none() && incoming.metadata.domain.is_none() {
            let raw_spec = incoming.metadata.raw_spec.as_deref();
            if let Some(text) = raw_spec.or(old.raw_spec.as_deref()) {
                incoming.metadata.domain = derived_domain(text, old.domain.as_deref())?;
            }
        }
        let domain = incoming
            .metadata
            .domain
            .clone()
            .ok_or(SaveError::NoDomain)?;
        let held = stored.as_ref().map_or(Held::default(), |s| Held {
            api_key: s.sealed.api_key.is_some(),
            oauth_client_id: s.sealed.oauth_client_id.is_some(),
            oauth_client_secret: s.sealed.oauth_client_secret.is_some(),
        });
        let merged = metadata::merge(&old, held, incoming)?;
        let parsed = self.judge(&domain, &merged.metadata).await.inspect_err(|e| {
            if matches!(e, SaveError::DomainMismatch) {
                tracing::warn!(agent.id = %agent_id, "an action's domain is not its document's server");
            }
        })?;
        let functions: Vec<String> = match sent {
            // Names the client computed that are no operation of the document (LibreChat's
            // client makes some of a path's shared fields) are left out.
            Some(sent) => sent
                .into_iter()
                .filter(|f| parsed.operations.iter().any(|o| &o.name == f))
                .collect(),
            None if parsed.operations.is_empty() => return Err(SaveError::NoOperations),
            None => parsed.operations.iter().map(|o| o.name.clone()).collect(),
        };
        if functions.is_empty() {
            return Err(SaveError::NoFunctions);
        }
        let action_id = requested.unwrap_or_else(store::new_action_id);
        let sealed = self.seal(&merged, stored.as_ref().map(|s| &s.sealed));
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

    /// Judges what a save would store: a document that reads, on the server the domain names,
    /// a domain `allowedDomains` allows, a server (and OAuth endpoints) not inside this network
    /// unless listed. The document, read.
    async fn judge(
        &self,
        domain: &str,
        meta: &metadata::Metadata,
    ) -> Result<spec::Spec, SaveError> {
        let raw_spec = meta
            .raw_spec
            .as_deref()
            .ok_or(SaveError::Spec(spec::SpecError::NoServer))?;
        let parsed = spec::parse(raw_spec)?;
        domain::matches_server(domain, &parsed.server_url)
            .map_err(|_| SaveError::DomainMismatch)?;
        if !domain::allowed(domain, &self.allowed_domains) {
            return Err(SaveError::DomainNotAllowed);
        }
        let server = url::Url::parse(&parsed.server_url)
            .map_err(|_| SaveError::Spec(spec::SpecError::NoServer))?;
        self.guarded
            .preflight(&server)
            .await
            .map_err(|b| SaveError::Blocked(blocked_text(&b)))?;
        if let Some(auth) = &meta.auth
            && auth.kind() == metadata::OAUTH
        {
            self.check_oauth_endpoint("authorization_url", auth.authorization_url.as_deref())
                .await?;
            self.check_oauth_endpoint("client_url", auth.client_url.as_deref())
                .await?;
        }
        Ok(parsed)
    }

    /// The secrets to store: the new ones encrypted, the old ones kept or dropped.
    fn seal(&self, merged: &metadata::Merged, old: Option<&Sealed>) -> Sealed {
        let old = old.cloned().unwrap_or_default();
        let seal = |s: &Secret, old: Option<String>| match s {
            Secret::Keep => old,
            Secret::Set(v) => Some(self.cipher.encrypt(v)),
            Secret::Drop => None,
        };
        Sealed {
            api_key: seal(&merged.api_key, old.api_key),
            oauth_client_id: seal(&merged.oauth_client_id, old.oauth_client_id),
            oauth_client_secret: seal(&merged.oauth_client_secret, old.oauth_client_secret),
        }
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

/// The domain of the document `raw_spec` when the body names none: the stored one while the
/// document's server is still on it (so that an edit does not look like a move), else the
/// one LibreChat's client would name.
fn derived_domain(raw_spec: &str, stored: Option<&str>) -> Result<Option<String>, SaveError> {
    let server = spec::parse(raw_spec)?.server_url;
    Ok(match stored {
        Some(d) if domain::matches_server(d, &server).is_ok() => Some(d.to_owned()),
        _ => domain::of_server(&server),
    })
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
