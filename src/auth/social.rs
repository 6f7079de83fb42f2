//! Social sign-in with the `oauth2` crate (LibreChat's Google, GitHub, Discord and Facebook
//! strategies): the authorization code flow with state and PKCE, then the provider's user
//! API for who signed in. Accounts come from the shared linking rule; new ones only with
//! `ALLOW_SOCIAL_REGISTRATION`.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde_json::Value;

use super::external::ExternalIdentity;
use super::sign_in_state::{NotPending, PendingSignIns};
use crate::config::SocialSettings;
use crate::db::identities::Provider;

#[derive(Debug, thiserror::Error)]
pub enum SocialError {
    #[error("The sign-in expired or was not started here. Please try again.")]
    UnknownState,
    #[error("{}", super::sign_in_state::OTHER_BROWSER)]
    OtherBrowser,
    /// The shared state (Redis) cannot be reached.
    #[error("{}", super::sign_in_state::UNAVAILABLE)]
    Unavailable,
    #[error("The provider refused the sign-in: {0}")]
    Refused(String),
    #[error("Your account there has no verified email address.")]
    NoEmail,
    /// Logged in full; the person sees a short message.
    #[error("Sign-in with the provider failed.")]
    Failed(String),
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Pending {
    /// The provider's name (`Provider::name`).
    provider: String,
    verifier: String,
    redirect_uri: String,
}

pub struct Social {
    pub providers: Vec<SocialSettings>,
    http: reqwest::Client,
    pending: PendingSignIns<Pending>,
}

impl Social {
    pub fn new(providers: Vec<SocialSettings>) -> Self {
        Self {
            providers,
            http: super::external::provider_http(),
            pending: PendingSignIns::default(),
        }
    }

    /// Keeps sign-ins in flight in Redis, shared with the other replicas.
    pub fn share(&self, shared: &crate::cache::shared::Shared) {
        self.pending.share(shared, "social");
    }

    pub fn get(&self, name: &str) -> Option<&SocialSettings> {
        self.providers.iter().find(|p| p.provider.name() == name)
    }

    /// Starts a sign-in with `s` in `browser` (its id): the provider's authorization URL.
    /// `origin` is where the callback path is taken (`DOMAIN_SERVER`, or the request's address).
    pub async fn start(
        &self,
        s: &SocialSettings,
        origin: &str,
        browser: &str,
    ) -> Result<String, SocialError> {
        let redirect_uri = super::external::callback_url(&s.callback_url, origin);
        let bad = |e: oauth2::url::ParseError| SocialError::Failed(e.to_string());
        let client = BasicClient::new(ClientId::new(s.client_id.clone()))
            .set_auth_uri(AuthUrl::new(s.authorize_url.clone()).map_err(bad)?)
            .set_redirect_uri(RedirectUrl::new(redirect_uri.clone()).map_err(bad)?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(s.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge)
            .url();
        self.pending
            .insert(
                state.secret().clone(),
                browser,
                Pending {
                    provider: s.provider.name().to_owned(),
                    verifier: verifier.secret().clone(),
                    redirect_uri,
                },
            )
            .await
            .map_err(|_| SocialError::Unavailable)?;
        Ok(url.to_string())
    }

    /// Finishes a sign-in with `s` from the callback's `code` and `state`, in `browser` (the
    /// id its cookie carries).
    pub async fn finish(
        &self,
        s: &SocialSettings,
        code: &str,
        state: &str,
        browser: Option<&str>,
    ) -> Result<ExternalIdentity, SocialError> {
        // Each state works once, in the browser that started it, and only for the provider it
        // was made for.
        let pending = self
            .pending
            .take(state, browser)
            .await
            .map_err(|e| match e {
                NotPending::Unknown => SocialError::UnknownState,
                NotPending::OtherBrowser => SocialError::OtherBrowser,
                NotPending::Unavailable => SocialError::Unavailable,
            })?;
        if pending.provider != s.provider.name() {
            return Err(SocialError::UnknownState);
        }
        let bad = |e: oauth2::url::ParseError| SocialError::Failed(e.to_string());
        let client = BasicClient::new(ClientId::new(s.client_id.clone()))
            .set_client_secret(ClientSecret::new(s.client_secret.clone()))
            .set_token_uri(TokenUrl::new(s.token_url.clone()).map_err(bad)?)
            .set_redirect_uri(RedirectUrl::new(pending.redirect_uri.clone()).map_err(bad)?);
        let http = self.http.clone();
        let fetch = move |req| super::openid::send(http.clone(), req);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&fetch)
            .await
            .map_err(|e| {
                SocialError::Refused(match &e {
                    oauth2::RequestTokenError::ServerResponse(r) => r.error().to_string(),
                    other => other.to_string(),
                })
            })?;
        let access = token.access_token().secret().clone();
        let user = self.get_json(&s.user_url, &access).await?;
        identity(s, &user, || self.github_emails(s, &access)).await
    }

    async fn get_json(&self, url: &str, token: &str) -> Result<Value, SocialError> {
        let resp = self
            .http
            .get(url)
            .bearer_auth(token)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| SocialError::Failed(format!("user API: {e}")))?;
        if !resp.status().is_success() {
            return Err(SocialError::Failed(format!(
                "user API answered {}",
                resp.status()
            )));
        }
        resp.json()
            .await
            .map_err(|e| SocialError::Failed(format!("user API: {e}")))
    }

    /// GitHub: the person's addresses with their `primary` and `verified` flags (none when
    /// the list cannot be read: then no address counts as verified).
    async fn github_emails(&self, s: &SocialSettings, token: &str) -> Vec<Value> {
        let Some(url) = s.emails_url.as_ref() else {
            return Vec::new();
        };
        match self.get_json(url, token).await {
            Ok(Value::Array(list)) => list,
            _ => Vec::new(),
        }
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    match &v[key] {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// GitHub's address for the person and whether GitHub verified it: the profile's public
/// address (checked against the address list), else the primary verified one.
fn github_email(user: &Value, emails: &[Value]) -> (Option<String>, Option<bool>) {
    let listed = |addr: &str| {
        emails.iter().find(|e| {
            e["email"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(addr))
        })
    };
    match text(user, "email") {
        Some(e) => {
            let verified = listed(&e).is_some_and(|x| x["verified"] == true);
            (Some(e), Some(verified))
        }
        None => emails
            .iter()
            .find(|e| e["primary"] == true && e["verified"] == true)
            .and_then(|e| e["email"].as_str())
            .map_or((None, Some(false)), |e| (Some(e.to_owned()), Some(true))),
    }
}

/// Who signed in, from the provider's user API answer (each provider's documented fields).
/// Each provider's own word on the address: Google's `email_verified`, GitHub's address list
/// (`verified`), Discord's `verified`. Facebook's Graph API says nothing about it, so a
/// Facebook address never links to an existing account.
async fn identity<F, Fut>(
    s: &SocialSettings,
    user: &Value,
    github_emails: F,
) -> Result<ExternalIdentity, SocialError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Vec<Value>>,
{
    let missing = || SocialError::Failed("the user API gave no id".into());
    // `verified`: Some(the provider's word), or None when it gives none.
    let (subject, email, verified, name, username, avatar) = match s.provider {
        Provider::Google => (
            text(user, "sub").ok_or_else(missing)?,
            text(user, "email"),
            Some(user["email_verified"] == true),
            text(user, "name"),
            text(user, "given_name"),
            text(user, "picture"),
        ),
        Provider::Github => {
            let subject = text(user, "id").ok_or_else(missing)?;
            let (email, verified) = github_email(user, &github_emails().await);
            (
                subject,
                email,
                verified,
                text(user, "name"),
                text(user, "login"),
                text(user, "avatar_url"),
            )
        }
        Provider::Discord => {
            let id = text(user, "id").ok_or_else(missing)?;
            let avatar = text(user, "avatar")
                .map(|a| format!("https://cdn.discordapp.com/avatars/{id}/{a}.png"));
            (
                id,
                text(user, "email"),
                Some(user["verified"] == true),
                text(user, "global_name"),
                text(user, "username"),
                avatar,
            )
        }
        _ => (
            text(user, "id").ok_or_else(missing)?,
            text(user, "email"),
            None,
            text(user, "name"),
            None,
            user["picture"]["data"]["url"].as_str().map(str::to_owned),
        ),
    };
    let email = email.ok_or(SocialError::NoEmail)?;
    // An address the provider says it has not checked opens nothing.
    if verified == Some(false) {
        return Err(SocialError::NoEmail);
    }
    let username = username.unwrap_or_else(|| email.split('@').next().unwrap_or("").to_owned());
    Ok(ExternalIdentity {
        provider: s.provider,
        subject,
        name: name.unwrap_or_else(|| username.clone()),
        username,
        email,
        email_verified: verified == Some(true),
        avatar: avatar.filter(|a| a.starts_with("https://")),
        admin: None,
        groups: None,
    })
}
