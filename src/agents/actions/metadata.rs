//! What a person writes of an action (LibreChat's `ActionMetadata`): its domain, its OpenAPI
//! document, how to authenticate, and the secrets that go with that; read leniently as
//! LibreChat's client sends it (a `null` or empty value is no value), checked strictly.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::SaveError;

/// `auth.type`: none.
pub const NONE: &str = "none";
/// `auth.type`: an API key (LibreChat's `service_http`).
pub const API_KEY: &str = "service_http";
/// `auth.type`: OAuth's authorization code flow.
pub const OAUTH: &str = "oauth";

/// The longest domain, URL or header name read.
const MAX_TEXT: usize = 2048;
/// The longest secret read.
const MAX_SECRET: usize = 8 * 1024;

/// How to authenticate (LibreChat's `ActionAuth`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auth {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// With an API key: `bearer`, `basic`, `custom` (the key in the header
    /// `custom_auth_header`), or `query` (ours: in the query parameter `custom_auth_header`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_auth_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_content_type: Option<String>,
    /// OAuth: where the person signs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_url: Option<String>,
    /// OAuth: the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `default_post` (client id and secret in the form) or `basic_auth_header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_exchange_method: Option<String>,
}

impl Auth {
    /// The type, `none` when unset.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or(NONE)
    }

    /// The fields whose change makes the saved secrets useless (LibreChat's auth boundary).
    fn boundary(&self) -> [&Option<String>; 7] {
        [
            &self.kind,
            &self.authorization_type,
            &self.custom_auth_header,
            &self.authorization_url,
            &self.client_url,
            &self.scope,
            &self.token_exchange_method,
        ]
    }
}

/// An action's metadata without its secrets: what is stored in the clear and answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_spec: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_policy_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
}

impl Metadata {
    /// The stored form, as the store keeps it.
    pub fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    /// Reads the stored form (what does not read is left out).
    pub fn from_map(m: &Map<String, Value>) -> Self {
        serde_json::from_value(Value::Object(m.clone())).unwrap_or_default()
    }
}

/// Secrets as written, in the clear: never logged, never answered.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    pub api_key: Option<String>,
    pub oauth_client_id: Option<String>,
    pub oauth_client_secret: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

/// A save's metadata as sent: the fields and which of them were there at all (an update
/// changes only those).
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub metadata: Metadata,
    pub secrets: Secrets,
}

fn invalid(message: impl Into<String>) -> SaveError {
    SaveError::Invalid(message.into())
}

/// A text field: absent, `null` and `""` are none; anything else but text is refused.
fn text(m: &Map<String, Value>, key: &str, max: usize) -> Result<Option<String>, SaveError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s.len() > max => Err(invalid(format!(
            "metadata.{key} is longer than {max} bytes"
        ))),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("metadata.{key} must be text"))),
    }
}

fn one_of(value: &Option<String>, key: &str, allowed: &[&str]) -> Result<(), SaveError> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(invalid(format!(
            "metadata.auth.{key} must be one of {}",
            allowed.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// Reads `metadata` of a save body.
pub fn incoming(v: Option<&Value>) -> Result<Incoming, SaveError> {
    let m = match v {
        None | Some(Value::Null) => return Ok(Incoming::default()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(invalid("metadata must be an object")),
    };
    let spec_max = super::spec::MAX_SPEC_BYTES;
    let raw_spec = match m.get("raw_spec") {
        Some(Value::String(s)) if s.len() > spec_max => {
            return Err(SaveError::SpecTooLarge);
        }
        _ => text(m, "raw_spec", spec_max)?,
    };
    let auth = match m.get("auth") {
        None | Some(Value::Null) => None,
        Some(Value::Object(a)) => {
            let auth = Auth {
                kind: text(a, "type", MAX_TEXT)?,
                authorization_type: text(a, "authorization_type", MAX_TEXT)?,
                custom_auth_header: text(a, "custom_auth_header", MAX_TEXT)?,
                authorization_content_type: text(a, "authorization_content_type", MAX_TEXT)?,
                authorization_url: text(a, "authorization_url", MAX_TEXT)?,
                client_url: text(a, "client_url", MAX_TEXT)?,
                scope: text(a, "scope", MAX_TEXT)?,
                token_exchange_method: text(a, "token_exchange_method", MAX_TEXT)?,
            };
            one_of(&auth.kind, "type", &[NONE, API_KEY, OAUTH])?;
            one_of(
                &auth.authorization_type,
                "authorization_type",
                &["bearer", "basic", "custom", "query"],
            )?;
            one_of(
                &auth.token_exchange_method,
                "token_exchange_method",
                &["default_post", "basic_auth_header"],
            )?;
            if let Some(h) = &auth.custom_auth_header
                && (h.len() > 128
                    || !h
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            {
                return Err(invalid(
                    "metadata.auth.custom_auth_header must be a header name (letters, digits, - and _)",
                ));
            }
            Some(auth)
        }
        Some(_) => return Err(invalid("metadata.auth must be an object")),
    };
    Ok(Incoming {
        metadata: Metadata {
            domain: text(m, "domain", MAX_TEXT)?.map(|d| d.trim().to_owned()),
            raw_spec,
            privacy_policy_url: text(m, "privacy_policy_url", MAX_TEXT)?,
            auth,
        },
        secrets: Secrets {
            api_key: text(m, "api_key", MAX_SECRET)?,
            oauth_client_id: text(m, "oauth_client_id", MAX_SECRET)?,
            oauth_client_secret: text(m, "oauth_client_secret", MAX_SECRET)?,
        },
    })
}

/// What happens to one stored secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// Keep what is stored (if anything).
    Keep,
    /// Store this new value.
    Set(String),
    /// Forget what is stored.
    Drop,
}

/// The metadata after an update, and what happens to each secret.
#[derive(Debug, Clone)]
pub struct Merged {
    pub metadata: Metadata,
    pub api_key: Secret,
    pub oauth_client_id: Secret,
    pub oauth_client_secret: Secret,
    /// The action now calls another place (domain, server or auth settings changed).
    pub target_changed: bool,
}

/// Which secrets are stored now.
#[derive(Debug, Clone, Copy, Default)]
pub struct Held {
    pub api_key: bool,
    pub oauth_client_id: bool,
    pub oauth_client_secret: bool,
}

/// `scheme://host[:port]` of a domain (`https://` when none is written).
fn domain_target(d: Option<&str>) -> String {
    let Some(d) = d else {
        return String::new();
    };
    let with = if d.contains("://") {
        d.to_owned()
    } else {
        format!("https://{d}")
    };
    match url::Url::parse(&with) {
        Ok(u) => format!(
            "{}://{}{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Err(_) => d
            .trim()
            .to_ascii_lowercase()
            .trim_end_matches('/')
            .to_owned(),
    }
}

/// The spec's server, as a target: scheme, host, path (no trailing `/`) and query.
fn server_target(raw_spec: Option<&str>) -> String {
    let Some(url) = raw_spec
        .and_then(|s| super::spec::parse(s).ok())
        .map(|s| s.server_url)
    else {
        return String::new();
    };
    match url::Url::parse(&url) {
        Ok(u) => {
            format!(
                "{}://{}{}{}",
                u.scheme(),
                u.host_str().unwrap_or(""),
                u.port().map(|p| format!(":{p}")).unwrap_or_default(),
                u.path().trim_end_matches('/'),
            ) + &u.query().map(|q| format!("?{q}")).unwrap_or_default()
        }
        Err(_) => url.trim().to_ascii_lowercase(),
    }
}

/// An update's metadata over the stored one (LibreChat's `mergeActionMetadataForUpdate`): the
/// fields sent replace the stored ones. When the action now calls another place, secrets not
/// sent again are forgotten, and a change that would keep a stored secret without sending
/// it is refused (the secret was given for the old place).
pub fn merge(stored: &Metadata, held: Held, incoming: Incoming) -> Result<Merged, SaveError> {
    let new = &incoming.metadata;
    let domain_changed = new.domain.is_some()
        && domain_target(stored.domain.as_deref()) != domain_target(new.domain.as_deref());
    let server_changed = new.raw_spec.is_some()
        && server_target(stored.raw_spec.as_deref()) != server_target(new.raw_spec.as_deref());
    let auth_changed = new.auth.as_ref().is_some_and(|a| {
        let old = stored.auth.clone().unwrap_or_default();
        a.boundary() != old.boundary()
    });
    let target_changed = domain_changed || server_changed || auth_changed;
    let kind = new
        .auth
        .as_ref()
        .or(stored.auth.as_ref())
        .map(|a| a.kind().to_owned())
        .unwrap_or_else(|| NONE.to_owned());
    let s = &incoming.secrets;
    if target_changed {
        let missing = match kind.as_str() {
            API_KEY => held.api_key && s.api_key.is_none(),
            OAUTH => {
                (held.oauth_client_id && s.oauth_client_id.is_none())
                    || (held.oauth_client_secret && s.oauth_client_secret.is_none())
            }
            _ => false,
        };
        if missing {
            return Err(SaveError::CredentialsNeeded);
        }
    }
    let secret = |v: &Option<String>| match v {
        Some(v) => Secret::Set(v.clone()),
        None if target_changed => Secret::Drop,
        None => Secret::Keep,
    };
    let metadata = Metadata {
        domain: new.domain.clone().or_else(|| stored.domain.clone()),
        raw_spec: new.raw_spec.clone().or_else(|| stored.raw_spec.clone()),
        privacy_policy_url: new
            .privacy_policy_url
            .clone()
            .or_else(|| stored.privacy_policy_url.clone()),
        auth: new.auth.clone().or_else(|| stored.auth.clone()),
    };
    Ok(Merged {
        metadata,
        api_key: secret(&s.api_key),
        oauth_client_id: secret(&s.oauth_client_id),
        oauth_client_secret: secret(&s.oauth_client_secret),
        target_changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: &str =
        r#"{"servers":[{"url":"https://a.example.com/v1"}],"paths":{"/x":{"get":{}}}}"#;

    fn stored() -> Metadata {
        Metadata {
            domain: Some("https://a.example.com".into()),
            raw_spec: Some(SPEC.into()),
            privacy_policy_url: None,
            auth: Some(Auth {
                kind: Some(API_KEY.into()),
                authorization_type: Some("bearer".into()),
                ..Auth::default()
            }),
        }
    }

    fn held() -> Held {
        Held {
            api_key: true,
            ..Held::default()
        }
    }

    #[test]
    fn reads_what_the_client_sends_and_refuses_the_rest() {
        let i = incoming(Some(&json!({
            "domain": " https://a.example.com ", "raw_spec": SPEC, "api_key": "k", "oauth_client_id": "",
            "auth": {"type": "service_http", "authorization_type": "custom", "custom_auth_header": "X-Key"},
            "privacy_policy_url": null,
        })))
        .unwrap();
        assert_eq!(i.metadata.domain.as_deref(), Some("https://a.example.com"));
        assert_eq!(i.secrets.api_key.as_deref(), Some("k"));
        assert_eq!(i.secrets.oauth_client_id, None);
        assert!(!format!("{i:?}").contains("\"k\""));
        for bad in [
            json!("x"),
            json!({"auth": {"type": "magic"}}),
            json!({"auth": {"authorization_type": "digest"}}),
            json!({"auth": {"custom_auth_header": "X-Key\r\nEvil: 1"}}),
            json!({"domain": 5}),
        ] {
            assert!(
                matches!(incoming(Some(&bad)), Err(SaveError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_update_keeps_secrets_while_the_target_stays() {
        let same = Incoming {
            metadata: Metadata {
                domain: Some("a.example.com".into()),
                raw_spec: Some(SPEC.into()),
                ..Metadata::default()
            },
            secrets: Secrets::default(),
        };
        let m = merge(&stored(), held(), same).unwrap();
        assert!(!m.target_changed);
        assert_eq!(m.api_key, Secret::Keep);
        assert_eq!(m.metadata.auth, stored().auth);
    }

    #[test]
    fn a_new_target_needs_the_secrets_again() {
        let moved = |api_key: Option<&str>| Incoming {
            metadata: Metadata {
                domain: Some("https://b.example.com".into()),
                ..Metadata::default()
            },
            secrets: Secrets {
                api_key: api_key.map(str::to_owned),
                ..Secrets::default()
            },
        };
        assert!(matches!(
            merge(&stored(), held(), moved(None)),
            Err(SaveError::CredentialsNeeded)
        ));
        let m = merge(&stored(), held(), moved(Some("new"))).unwrap();
        assert!(m.target_changed);
        assert_eq!(m.api_key, Secret::Set("new".into()));
        assert_eq!(m.oauth_client_id, Secret::Drop);
        // Auth removed: no secret is needed, and the old one goes.
        let none = Incoming {
            metadata: Metadata {
                auth: Some(Auth {
                    kind: Some(NONE.into()),
                    ..Auth::default()
                }),
                ..Metadata::default()
            },
            secrets: Secrets::default(),
        };
        let m = merge(&stored(), held(), none).unwrap();
        assert_eq!(m.api_key, Secret::Drop);
    }
}
