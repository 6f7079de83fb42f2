//! OpenID Connect sign-in (LibreChat's openid strategy) with the `openidconnect` crate:
//! discovery from `OPENID_ISSUER`, the authorization code flow with state, nonce and optional
//! PKCE, the ID token checked against the provider's keys (fetched again when it names a key
//! not seen yet), the userinfo claims, claims mapping, a required role and the admin role.
//! Requests go through reqwest 0.13 with redirects off (a redirect would be a way to make the
//! server fetch other addresses).

use std::time::Duration;

use axum::http;
use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde_json::Value;
use tokio::sync::RwLock;

use super::external::ExternalIdentity;
use super::sign_in_state::{NotPending, PendingSignIns};
use crate::access::external_groups::ProviderGroups;
use crate::config::{OpenIdSettings, RoleRule, TokenKind};
use crate::db::identities::Provider;
use crate::net::PROVIDER_JSON_LIMIT;

/// Why an OpenID sign-in failed; shown to the person on the login page.
#[derive(Debug, thiserror::Error)]
pub enum OpenIdError {
    #[error("The sign-in expired or was not started here. Please try again.")]
    UnknownState,
    #[error("{}", super::sign_in_state::OTHER_BROWSER)]
    OtherBrowser,
    /// The shared state (Redis) cannot be reached.
    #[error("{}", super::sign_in_state::UNAVAILABLE)]
    Unavailable,
    #[error("You do not have the role needed to use this app.")]
    MissingRole,
    #[error("The identity provider gave no email address.")]
    NoEmail,
    #[error("The identity provider refused the sign-in: {0}")]
    Refused(String),
    /// Logged in full; the person sees a short message.
    #[error("Sign-in with the identity provider failed.")]
    Failed(String),
}

/// How long the provider's userinfo, keys or logout discovery may take to arrive in all.
const PROVIDER_JSON_TIME: Duration = Duration::from_secs(30);

/// A sign-in started and not yet finished.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Pending {
    nonce: String,
    pkce_verifier: Option<String>,
    redirect_uri: String,
}

pub struct OpenId {
    pub settings: OpenIdSettings,
    http: reqwest::Client,
    metadata: RwLock<Option<CoreProviderMetadata>>,
    /// The provider's signing keys for bearer tokens, and when they were fetched.
    keys: RwLock<Option<(std::time::Instant, jsonwebtoken::jwk::JwkSet)>>,
    pending: PendingSignIns<Pending>,
}

/// Sends an `oauth2`/`openidconnect` request with reqwest 0.13.
pub(crate) async fn send(
    client: reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let resp = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut out = http::Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        out = out.header(k, v);
    }
    let body = resp.bytes().await?.to_vec();
    Ok(out.body(body).expect("a response rebuilt from a valid one"))
}

/// The claims of a JWT, read without checking it (for a token that came straight from the
/// provider's token endpoint, or one already checked).
fn jwt_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The value at a dotted path (`realm_access.roles`).
fn at_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}

/// Whether `rule`'s token holds one of its roles (a list, or a single string).
fn has_role(rule: &RoleRule, tokens: &Tokens) -> bool {
    let source = match rule.kind {
        TokenKind::Id => &tokens.id,
        TokenKind::Access => &tokens.access,
        TokenKind::Userinfo => &tokens.userinfo,
    };
    let found: Vec<&str> = match at_path(source, &rule.path) {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    };
    rule.roles.iter().any(|r| found.contains(&r.as_str()))
}

/// The three sets of claims a sign-in has.
struct Tokens {
    id: Value,
    access: Value,
    userinfo: Value,
}

impl Tokens {
    /// A claim from userinfo, else the ID token.
    fn claim(&self, name: &str) -> Option<String> {
        [&self.userinfo, &self.id]
            .into_iter()
            .find_map(|c| c.get(name))
            .and_then(|v| match v {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                _ => None,
            })
    }
}

impl OpenId {
    pub fn new(settings: OpenIdSettings) -> Self {
        Self {
            settings,
            http: super::external::provider_http(),
            metadata: RwLock::new(None),
            keys: RwLock::new(None),
            pending: PendingSignIns::default(),
        }
    }

    /// The provider's metadata (and keys), discovered once, or again when `refresh`.
    async fn metadata(&self, refresh: bool) -> Result<CoreProviderMetadata, OpenIdError> {
        if !refresh && let Some(m) = self.metadata.read().await.clone() {
            return Ok(m);
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| OpenIdError::Failed(format!("OPENID_ISSUER: {e}")))?;
        let http = self.http.clone();
        let fetch = move |req| send(http.clone(), req);
        let m = CoreProviderMetadata::discover_async(issuer, &fetch)
            .await
            .map_err(|e| OpenIdError::Failed(format!("discovery failed: {e}")))?;
        *self.metadata.write().await = Some(m.clone());
        Ok(m)
    }

    fn client(
        &self,
        metadata: CoreProviderMetadata,
        redirect_uri: &str,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        OpenIdError,
    > {
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| OpenIdError::Failed(format!("callback URL: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// Keeps sign-ins in flight in Redis, shared with the other replicas.
    pub fn share(&self, shared: &crate::cache::shared::Shared) {
        self.pending.share(shared, "openid");
    }

    /// Where the callback is: the configured URL, or the path on `origin` (`DOMAIN_SERVER`, or
    /// without it the address the request came to).
    pub fn redirect_uri(&self, origin: &str) -> String {
        super::external::callback_url(&self.settings.callback_url, origin)
    }

    /// Starts a sign-in in `browser` (its id): the provider's authorization URL to send it to.
    pub async fn start(&self, origin: &str, browser: &str) -> Result<String, OpenIdError> {
        let redirect_uri = self.redirect_uri(origin);
        let client = self.client(self.metadata(false).await?, &redirect_uri)?;
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for s in &self.settings.scopes {
            if s != "openid" {
                request = request.add_scope(Scope::new(s.clone()));
            }
        }
        let mut verifier = None;
        if self.settings.use_pkce {
            let (challenge, v) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            verifier = Some(v.secret().clone());
        }
        let (url, state, nonce) = request.url();
        self.pending
            .insert(
                state.secret().clone(),
                browser,
                Pending {
                    nonce: nonce.secret().clone(),
                    pkce_verifier: verifier,
                    redirect_uri,
                },
            )
            .await
            .map_err(|_| OpenIdError::Unavailable)?;
        Ok(url.to_string())
    }

    /// Finishes a sign-in from the callback's `code` and `state`, in `browser` (the id its
    /// cookie carries): who signed in.
    pub async fn finish(
        &self,
        code: &str,
        state: &str,
        browser: Option<&str>,
    ) -> Result<ExternalIdentity, OpenIdError> {
        // Each state works once, in the browser that started it; the code is not used otherwise.
        let pending = self
            .pending
            .take(state, browser)
            .await
            .map_err(|e| match e {
                NotPending::Unknown => OpenIdError::UnknownState,
                NotPending::OtherBrowser => OpenIdError::OtherBrowser,
                NotPending::Unavailable => OpenIdError::Unavailable,
            })?;
        let metadata = self.metadata(false).await?;
        let userinfo_url = metadata.userinfo_endpoint().map(|u| u.url().to_string());
        let client = self.client(metadata, &pending.redirect_uri)?;
        let http = self.http.clone();
        let fetch = move |req| send(http.clone(), req);
        let mut exchange = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OpenIdError::Failed(format!("token endpoint: {e}")))?;
        if let Some(v) = &pending.pkce_verifier {
            exchange = exchange.set_pkce_verifier(PkceCodeVerifier::new(v.clone()));
        }
        let tokens = exchange.request_async(&fetch).await.map_err(|e| {
            OpenIdError::Refused(match &e {
                openidconnect::RequestTokenError::ServerResponse(r) => r.error().to_string(),
                other => other.to_string(),
            })
        })?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| OpenIdError::Failed("no ID token in the token response".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        // The signature, issuer, audience, expiry and nonce; a key not seen yet makes us fetch
        // the provider's keys again, once.
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(c) => c.clone(),
            Err(first) => {
                let fresh = self.client(self.metadata(true).await?, &pending.redirect_uri)?;
                id_token
                    .claims(&fresh.id_token_verifier(), &nonce)
                    .map_err(|_| OpenIdError::Failed(format!("ID token rejected: {first}")))?
                    .clone()
            }
        };
        let access = tokens.access_token().secret().clone();
        let userinfo = match userinfo_url {
            Some(url) => {
                let resp = self.http.get(url).bearer_auth(&access).send().await;
                match resp {
                    Ok(r) if r.status().is_success() => {
                        crate::net::json_bounded(r, PROVIDER_JSON_LIMIT, PROVIDER_JSON_TIME)
                            .await
                            .unwrap_or(Value::Null)
                    }
                    _ => Value::Null,
                }
            }
            None => Value::Null,
        };
        let all = Tokens {
            id: jwt_claims(&id_token.to_string()).unwrap_or(Value::Null),
            access: jwt_claims(&access).unwrap_or(Value::Null),
            userinfo,
        };
        // The userinfo must be about the same person.
        if all
            .userinfo
            .get("sub")
            .and_then(Value::as_str)
            .is_some_and(|s| s != claims.subject().as_str())
        {
            return Err(OpenIdError::Failed("userinfo is about someone else".into()));
        }
        if let Some(rule) = &self.settings.required_role
            && !has_role(rule, &all)
        {
            return Err(OpenIdError::MissingRole);
        }
        let s = &self.settings;
        let email = s
            .email_claim
            .as_deref()
            .and_then(|c| all.claim(c))
            .or_else(|| all.claim("email"))
            .ok_or(OpenIdError::NoEmail)?;
        let username = s
            .username_claim
            .as_deref()
            .and_then(|c| all.claim(c))
            .or_else(|| all.claim("preferred_username"))
            .or_else(|| all.claim("username"))
            .unwrap_or_else(|| email.split('@').next().unwrap_or("").to_owned());
        let name = s
            .name_claim
            .as_deref()
            .and_then(|c| all.claim(c))
            .or_else(|| all.claim("name"))
            .or_else(|| {
                let parts: Vec<String> = ["given_name", "family_name"]
                    .iter()
                    .filter_map(|c| all.claim(c))
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            })
            .unwrap_or_else(|| username.clone());
        let verified = [&all.userinfo, &all.id]
            .into_iter()
            .find_map(|c| c.get("email_verified"))
            .is_some_and(|v| v == &Value::Bool(true) || v == "true");
        let subject = claims.subject().as_str().to_owned();
        // The groups claim from the userinfo, else the ID token, else the access token.
        let groups = s.groups_claim.as_deref().map(|path| {
            let found = [&all.userinfo, &all.id, &all.access]
                .into_iter()
                .find_map(|t| at_path(t, path));
            ProviderGroups::from_claim(found, s.groups_include.as_ref(), &subject)
        });
        Ok(ExternalIdentity {
            provider: Provider::Openid,
            subject,
            email,
            email_verified: verified,
            name,
            username,
            avatar: all.claim("picture").filter(|p| p.starts_with("https://")),
            // Given or taken back at each sign-in, as the token says now.
            admin: self.settings.admin_role.as_ref().map(|r| has_role(r, &all)),
            // Set again at each sign-in, as the tokens say now.
            groups,
        })
    }

    /// The provider's keys: cached for an hour, fetched again sooner when `refresh` (a key id
    /// not seen yet), but not more than every half minute, so made-up key ids cannot make us
    /// hammer the provider.
    async fn keys(&self, refresh: bool) -> Option<jsonwebtoken::jwk::JwkSet> {
        let fresh_for = |age: Duration| {
            if refresh {
                age < Duration::from_secs(30)
            } else {
                age < Duration::from_secs(3600)
            }
        };
        if let Some((at, keys)) = self.keys.read().await.as_ref()
            && fresh_for(at.elapsed())
        {
            return Some(keys.clone());
        }
        let metadata = self.metadata(false).await.ok()?;
        let url = metadata.jwks_uri().url().to_string();
        let keys: jsonwebtoken::jwk::JwkSet = match self.http.get(url).send().await {
            Ok(r) if r.status().is_success() => {
                crate::net::json_bounded(r, PROVIDER_JSON_LIMIT, PROVIDER_JSON_TIME).await?
            }
            _ => return None,
        };
        *self.keys.write().await = Some((std::time::Instant::now(), keys.clone()));
        Some(keys)
    }

    /// A bearer token the provider issued (LibreChat's openIdJwt strategy, only with
    /// `OPENID_REUSE_TOKENS`): its subject when the signature (one of the provider's keys,
    /// never a shared secret), issuer, audience (`OPENID_AUDIENCE` or the client id) and expiry
    /// check out, and the token itself holds `OPENID_REQUIRED_ROLE` when one is set (read at
    /// its path whatever token kind the rule names: there is no other token to read it from).
    ///
    /// ID tokens are accepted as well as access tokens: LibreChat's reuse mode hands the ID
    /// token to the web app as its bearer token, and many providers' access tokens are opaque
    /// or meant for another audience. What such a token may do is limited by the caller (see
    /// `server::middleware::auth`).
    pub async fn verify_bearer(&self, token: &str) -> Option<String> {
        if !self.settings.reuse_tokens {
            return None;
        }
        let claims = self.bearer_claims(token).await?;
        if let Some(rule) = &self.settings.required_role {
            let own = Tokens {
                id: claims.clone(),
                access: claims.clone(),
                userinfo: claims.clone(),
            };
            if !has_role(rule, &own) {
                return None;
            }
        }
        claims["sub"].as_str().map(str::to_owned)
    }

    /// The claims of a bearer token the provider signed, for us, unexpired.
    async fn bearer_claims(&self, token: &str) -> Option<Value> {
        use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
        let header = decode_header(token).ok()?;
        if matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            return None;
        }
        let audience = self
            .settings
            .audience
            .clone()
            .unwrap_or_else(|| self.settings.client_id.clone());
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[
            self.settings.issuer.trim_end_matches('/'),
            &self.settings.issuer,
        ]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 60;
        for refresh in [false, true] {
            let keys = self.keys(refresh).await?;
            let candidates: Vec<&jsonwebtoken::jwk::Jwk> = match &header.kid {
                Some(kid) => keys.find(kid).into_iter().collect(),
                None => keys.keys.iter().collect(),
            };
            for jwk in &candidates {
                let Ok(key) = DecodingKey::from_jwk(jwk) else {
                    continue;
                };
                if let Ok(data) = decode::<Value>(token, &key, &validation) {
                    return Some(data.claims);
                }
            }
            // Known keys that do not verify it: fetching again will not help.
            if !candidates.is_empty() {
                return None;
            }
        }
        None
    }

    /// The provider's end-session URL, when `OPENID_USE_END_SESSION_ENDPOINT` is on and the
    /// provider has one.
    pub async fn end_session_url(&self) -> Option<String> {
        if !self.settings.use_end_session {
            return None;
        }
        // Not among the core metadata the client keeps: read from the discovery document.
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            self.settings.issuer.trim_end_matches('/')
        );
        let response = self.http.get(discovery).send().await.ok()?;
        let doc: Value =
            crate::net::json_bounded(response, PROVIDER_JSON_LIMIT, PROVIDER_JSON_TIME).await?;
        let endpoint = doc.get("end_session_endpoint")?.as_str()?;
        let mut url = url::Url::parse(endpoint).ok()?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.client_id);
        if let Some(back) = &self.settings.post_logout_redirect_uri {
            url.query_pairs_mut()
                .append_pair("post_logout_redirect_uri", back);
        }
        Some(url.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roles_are_read_at_their_path_in_the_right_token() {
        let tokens = Tokens {
            id: json!({"roles": ["user"], "realm_access": {"roles": ["admin", "chat"]}}),
            access: json!({"groups": "chat"}),
            userinfo: json!({}),
        };
        let rule = |roles: &[&str], kind, path: &str| RoleRule {
            roles: roles.iter().map(|r| r.to_string()).collect(),
            kind,
            path: path.into(),
        };
        assert!(has_role(&rule(&["user"], TokenKind::Id, "roles"), &tokens));
        assert!(has_role(
            &rule(&["x", "chat"], TokenKind::Id, "realm_access.roles"),
            &tokens
        ));
        assert!(!has_role(
            &rule(&["admin"], TokenKind::Id, "roles"),
            &tokens
        ));
        assert!(has_role(
            &rule(&["chat"], TokenKind::Access, "groups"),
            &tokens
        ));
        assert!(!has_role(
            &rule(&["chat"], TokenKind::Userinfo, "groups"),
            &tokens
        ));
        assert!(!has_role(
            &rule(&["chat"], TokenKind::Id, "realm_access.roles.x"),
            &tokens
        ));
        assert_eq!(jwt_claims("not a jwt"), None);
        assert_eq!(jwt_claims("a.eyJzdWIiOiJ4In0.b"), Some(json!({"sub": "x"})));
    }
}
