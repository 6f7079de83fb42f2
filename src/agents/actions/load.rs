//! An agent's actions as the tools of one turn: for each of its actions (and only its own), the
//! operations its `tools` name, under the name LibreChat gives them
//! (`<operation>_action_<encoded domain>`, each `---` a `_`). An action whose document no longer
//! reads, whose domain is no longer its server's or no longer allowed, or whose secrets no
//! longer open (`CREDS_KEY` changed) gives no tools, with a warning in the log.

use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use super::Actions;
use super::domain::{self, DELIMITER};
use super::metadata::{self, Auth, Metadata};
use super::oauth::Client;
use super::spec::Spec;
use super::tool::{ActionTool, Bound, Credential};
use crate::agents::tools::Tool;
use crate::db::acl::Viewer;
use crate::db::actions::{self as store, Action};
use crate::providers::ToolDef;

/// A tool name providers accept: letters, digits, `_` and `-` (a base64 domain may bring
/// `+` or `/`).
fn tool_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Actions {
    /// The tools of the agent `agent_id`'s actions that its `tools` name, for a viewer who may
    /// use it. None when the agent has no action tools, or actions are off.
    pub async fn tools_for(
        self: &Arc<Self>,
        viewer: Viewer,
        agent_id: &str,
        agent_tools: &[String],
    ) -> Vec<Arc<dyn Tool>> {
        let wanted: HashSet<String> = agent_tools
            .iter()
            .filter(|t| t.contains(DELIMITER))
            .map(|t| domain::normalize_tool_name(t))
            .collect();
        if !self.enabled || wanted.is_empty() {
            return Vec::new();
        }
        let id = agent_id.to_owned();
        let actions = match self.db.read(move |c| store::usable(c, &viewer, &id)).await {
            Ok(Ok(a)) => a,
            Ok(Err(_)) => return Vec::new(),
            Err(e) => {
                tracing::error!(error = %e, "an agent's actions could not be read");
                return Vec::new();
            }
        };
        let mut out: Vec<Arc<dyn Tool>> = Vec::new();
        for action in &actions {
            let (bound, spec) = match self.bind(action) {
                Ok(b) => b,
                Err(why) => {
                    tracing::warn!(action.id = %action.action_id, agent.id = %agent_id, why, "an action gives no tools");
                    continue;
                }
            };
            let encoded = domain::for_model(&domain::encode(&bound.domain));
            let legacy = domain::for_model(&domain::legacy_encode(&bound.domain));
            let bound = Arc::new(bound);
            for op in &spec.operations {
                let key = format!("{}{DELIMITER}{encoded}", op.name);
                let legacy_key = format!("{}{DELIMITER}{legacy}", op.name);
                if !wanted.contains(&key) && !wanted.contains(&legacy_key) {
                    continue;
                }
                let name = tool_name(&key);
                if out.iter().any(|t| t.def().name == name) {
                    tracing::warn!(tool = %name, agent.id = %agent_id, "two actions give a tool of the same name; the first is kept");
                    continue;
                }
                out.push(Arc::new(ActionTool {
                    def: ToolDef {
                        name,
                        description: op.description.clone(),
                        parameters: op.parameters.clone(),
                    },
                    op: op.clone(),
                    bound: bound.clone(),
                    service: self.clone(),
                }));
            }
        }
        out
    }

    /// What an action's calls need: its document (read once per text, see [`super::parsed`])
    /// checked again, and its credential, opened.
    fn bind(&self, action: &Action) -> Result<(Bound, Arc<Spec>), String> {
        let meta = Metadata::from_map(&action.metadata);
        let domain = meta.domain.ok_or("it has no domain")?;
        let raw = meta
            .raw_spec
            .as_deref()
            .ok_or("it has no OpenAPI document")?;
        let spec = self
            .specs
            .get(&action.action_id, raw)
            .map_err(|e| e.to_string())?;
        domain::matches_server(&domain, &spec.server_url)?;
        if !domain::allowed(&domain, &self.allowed_domains) {
            return Err(format!(
                "its domain {domain} is not in actions.allowedDomains of librechat.yaml"
            ));
        }
        let open = |v: &Option<String>| -> Result<Option<String>, String> {
            v.as_deref()
                .map(|v| self.cipher.decrypt(v))
                .transpose()
                .map_err(|e| e.to_string())
        };
        let auth = meta.auth.unwrap_or_default();
        let credential = match auth.kind() {
            metadata::API_KEY => match open(&action.sealed.api_key)? {
                Some(key) => api_key(&auth, key, &spec)?,
                None => Credential::None,
            },
            metadata::OAUTH => match (
                open(&action.sealed.oauth_client_id)?,
                open(&action.sealed.oauth_client_secret)?,
            ) {
                (Some(id), Some(secret)) => Client::from(&auth, id, secret)
                    .map(Credential::OAuth)
                    .ok_or("its OAuth settings are incomplete")?,
                _ => Credential::None,
            },
            _ => Credential::None,
        };
        Ok((
            Bound {
                action_id: action.action_id.clone(),
                domain,
                server_url: spec.server_url.clone(),
                credential,
            },
            spec,
        ))
    }
}

/// An API key as its `authorization_type` sends it: `basic` and `bearer` in `Authorization`,
/// `custom` in the header it names (or in the query, when the document's `apiKey` security
/// scheme puts that name there), `query` (ours) in the query parameter it names.
fn api_key(auth: &Auth, key: String, spec: &Spec) -> Result<Credential, String> {
    let header = |name: HeaderName, value: String| {
        HeaderValue::try_from(value)
            .map(|v| Credential::Header(name, v))
            .map_err(|_| "its API key cannot be sent in a header".to_owned())
    };
    let custom = auth.custom_auth_header.clone();
    Ok(match auth.authorization_type.as_deref() {
        Some("basic") => header(
            AUTHORIZATION,
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(&key)
            ),
        )?,
        Some("bearer") => header(AUTHORIZATION, format!("Bearer {key}"))?,
        Some("custom") => match custom {
            Some(name) if spec.query_keys.contains(&name) => Credential::Query(name, key),
            Some(name) => header(
                HeaderName::try_from(name.as_str())
                    .map_err(|_| "its API key header is not a header name")?,
                key,
            )?,
            None => Credential::None,
        },
        Some("query") => {
            let name = custom
                .or_else(|| spec.query_keys.first().cloned())
                .unwrap_or_else(|| "api_key".to_owned());
            Credential::Query(name, key)
        }
        _ => Credential::None,
    })
}
