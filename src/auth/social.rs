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
use crate::config::SocialSettings;
use crate::db::identities::Provider;

#[derive(Debug, thiserror::Error)]
pub enum SocialError {
    #[error("The sign-in expired or was not started here. Please try again.")]
    UnknownState,
    #[error("The provider refused the sign-in: {0}")]
    Refused(String),
    #[error("Your account there has no verified email address.")]
    NoEmail,
    /// Logged in full; the person sees a short message.
    #[error("Sign-in with the provider failed.")]
    Failed(String),
}

#[derive(Clone)]
struct Pending {
    provider: Provider,
    verifier: String,
    redirect_uri: String,
}

pub struct Social {
    pub providers: Vec<SocialSettings>,
    http: reqwest::Client,
    pending: moka::sync::Cache<String, Pending>,
}

impl Social {
    pub fn new(providers: Vec<SocialSettings>) -> Self {
        Self {
            providers,
            http: super::external::provider_http(),
            pending: super::external::pending_sign_ins(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&SocialSettings> {
        self.providers.iter().find(|p| p.provider.name() == name)
    }

    /// Starts a sign-in with `s`: the provider's authorization URL.
    pub fn start(&self, s: &SocialSettings, origin: &str) -> Result<String, SocialError> {
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
        self.pending.insert(
            state.secret().clone(),
            Pending {
                provider: s.provider,
                verifier: verifier.secret().clone(),
                redirect_uri,
            },
        );
        Ok(url.to_string())
    }

    /// Finishes a sign-in with `s` from the callback's `code` and `state`.
    pub async fn finish(
        &self,
        s: &SocialSettings,
        code: &str,
        state: &str,
    ) -> Result<ExternalIdentity, SocialError> {
        // Each state works once, and only for the provider it was made for.
        let pending = self
            .pending
            .remove(state)
            .ok_or(SocialError::UnknownState)?;
        if pending.provider != s.provider {
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
        identity(s, &user, || self.primary_email(s, &access)).await
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

    /// GitHub: the primary verified address.
    async fn primary_email(&self, s: &SocialSettings, token: &str) -> Option<String> {
        let url = s.emails_url.as_ref()?;
        let list = self.get_json(url, token).await.ok()?;
        list.as_array()?
            .iter()
            .find(|e| e["primary"] == true && e["verified"] == true)
            .and_then(|e| e["email"].as_str())
            .map(str::to_owned)
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    match &v[key] {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Who signed in, from the provider's user API answer (each provider's documented fields).
async fn identity<F, Fut>(
    s: &SocialSettings,
    user: &Value,
    github_email: F,
) -> Result<ExternalIdentity, SocialError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Option<String>>,
{
    let missing = || SocialError::Failed("the user API gave no id".into());
    let (subject, email, verified, name, username, avatar) = match s.provider {
        Provider::Google => (
            text(user, "sub").ok_or_else(missing)?,
            text(user, "email"),
            user["email_verified"] == true,
            text(user, "name"),
            text(user, "given_name"),
            text(user, "picture"),
        ),
        Provider::Github => {
            let email = match text(user, "email") {
                Some(e) => Some(e),
                None => github_email().await,
            };
            (
                text(user, "id").ok_or_else(missing)?,
                email,
                // GitHub only shows verified addresses.
                true,
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
                user["verified"] == true,
                text(user, "global_name"),
                text(user, "username"),
                avatar,
            )
        }
        _ => (
            text(user, "id").ok_or_else(missing)?,
            text(user, "email"),
            true,
            text(user, "name"),
            None,
            user["picture"]["data"]["url"].as_str().map(str::to_owned),
        ),
    };
    let email = email.ok_or(SocialError::NoEmail)?;
    // An address the provider has not checked must not open an account that has it.
    if !verified {
        return Err(SocialError::NoEmail);
    }
    let username = username.unwrap_or_else(|| email.split('@').next().unwrap_or("").to_owned());
    Ok(ExternalIdentity {
        provider: s.provider,
        subject,
        name: name.unwrap_or_else(|| username.clone()),
        username,
        email,
        email_verified: true,
        avatar: avatar.filter(|a| a.starts_with("https://")),
        admin: false,
    })
}
