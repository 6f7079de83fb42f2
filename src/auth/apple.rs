//! Sign in with Apple (LibreChat's apple strategy): the authorization code flow with state
//! and nonce and Apple's form-POST callback; the client secret is a short-lived ES256 JWT
//! signed with the team's key; the ID token is checked against Apple's published keys
//! (RS256, issuer `https://appleid.apple.com`, audience the Services ID, expiry, nonce).
//! Apple sends the person's name only on the first sign-in, in the callback's `user` field.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

use super::external::ExternalIdentity;
use super::sign_in_state::{HeldAnswers, NotPending, PendingSignIns};
use crate::config::AppleSettings;
use crate::config::apple_issuer;
use crate::db::identities::Provider;

#[derive(Debug, thiserror::Error)]
pub enum AppleError {
    #[error("The sign-in expired or was not started here. Please try again.")]
    UnknownState,
    #[error("{}", super::sign_in_state::OTHER_BROWSER)]
    OtherBrowser,
    /// The shared state (Redis) cannot be reached.
    #[error("{}", super::sign_in_state::UNAVAILABLE)]
    Unavailable,
    #[error("Apple refused the sign-in: {0}")]
    Refused(String),
    #[error("Your Apple ID gave no verified email address.")]
    NoEmail,
    #[error("Sign in with Apple failed.")]
    Failed(String),
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Pending {
    nonce: String,
    redirect_uri: String,
}

pub struct Apple {
    pub settings: AppleSettings,
    http: reqwest::Client,
    pending: PendingSignIns<Pending>,
    /// Apple's form posts, held for the browser's redirected GET (see `sign_in_state`).
    pub posted: HeldAnswers<ApplePost>,
}

/// What Apple's page posts back (`response_mode=form_post`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ApplePost {
    pub code: Option<String>,
    pub state: Option<String>,
    /// The person's name, sent on the first sign-in only.
    pub user: Option<String>,
    pub error: Option<String>,
}

impl ApplePost {
    fn weight(&self) -> u32 {
        [&self.code, &self.state, &self.user, &self.error]
            .iter()
            .map(|f| f.as_ref().map_or(0, String::len))
            .sum::<usize>()
            .try_into()
            .unwrap_or(u32::MAX)
    }
}

fn random() -> String {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).expect("the system's random source works");
    hex::encode(b)
}

impl Apple {
    pub fn new(settings: AppleSettings) -> Self {
        Self {
            settings,
            http: super::external::provider_http(),
            pending: PendingSignIns::default(),
            posted: HeldAnswers::new(ApplePost::weight),
        }
    }

    /// Keeps sign-ins in flight and posted answers in Redis, shared with the other replicas.
    pub fn share(&self, shared: &crate::cache::shared::Shared) {
        self.pending.share(shared, "apple");
        self.posted.share(shared, "apple");
    }

    /// Starts a sign-in in `browser` (its id): Apple's authorization URL. `origin` is where
    /// the callback path is taken (`DOMAIN_SERVER`, or the request's address).
    pub async fn start(&self, origin: &str, browser: &str) -> Result<String, AppleError> {
        let (state, nonce, redirect_uri) = (
            random(),
            random(),
            super::external::callback_url(&self.settings.callback_url, origin),
        );
        let mut url = url::Url::parse(&format!("{}/auth/authorize", self.settings.base_url))
            .expect("a URL checked at start");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("response_mode", "form_post")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", "name email")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce);
        self.pending
            .insert(
                state,
                browser,
                Pending {
                    nonce,
                    redirect_uri,
                },
            )
            .await
            .map_err(|_| AppleError::Unavailable)?;
        Ok(url.to_string())
    }

    /// The client secret Apple wants: an ES256 JWT from the team, good for five minutes.
    fn client_secret(&self) -> Result<String, AppleError> {
        let now = crate::auth::tokens::now_secs();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.settings.key_id.clone());
        let key = EncodingKey::from_ec_pem(self.settings.private_key_pem.as_bytes())
            .map_err(|e| AppleError::Failed(format!("the Apple key: {e}")))?;
        jsonwebtoken::encode(
            &header,
            &json!({
                "iss": self.settings.team_id,
                "iat": now,
                "exp": now + 300,
                "aud": apple_issuer(),
                "sub": self.settings.client_id,
            }),
            &key,
        )
        .map_err(|e| AppleError::Failed(format!("signing the client secret: {e}")))
    }

    /// Finishes a sign-in from the form Apple posted: `code`, `state` and, the first time,
    /// `user` (`{"name": {"firstName", "lastName"}}`), in `browser` (the id its cookie carries).
    pub async fn finish(
        &self,
        code: &str,
        state: &str,
        user: Option<&str>,
        browser: Option<&str>,
    ) -> Result<ExternalIdentity, AppleError> {
        let pending = self
            .pending
            .take(state, browser)
            .await
            .map_err(|e| match e {
                NotPending::Unknown => AppleError::UnknownState,
                NotPending::OtherBrowser => AppleError::OtherBrowser,
                NotPending::Unavailable => AppleError::Unavailable,
            })?;
        let secret = self.client_secret()?;
        let form = [
            ("client_id", self.settings.client_id.as_str()),
            ("client_secret", secret.as_str()),
            ("code", code),
            ("grant_type", "authorization_code"),
            ("redirect_uri", pending.redirect_uri.as_str()),
        ];
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let resp = self
            .http
            .post(format!("{}/auth/token", self.settings.base_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| AppleError::Failed(format!("token endpoint: {e}")))?;
        let status = resp.status();
        let tokens: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let why = tokens["error"]
                .as_str()
                .unwrap_or("unknown error")
                .to_owned();
            return Err(AppleError::Refused(why));
        }
        let id_token = tokens["id_token"]
            .as_str()
            .ok_or_else(|| AppleError::Failed("no ID token from Apple".into()))?;
        let claims = self.verify(id_token).await?;
        if claims["nonce"].as_str() != Some(pending.nonce.as_str()) {
            return Err(AppleError::Failed(
                "the ID token's nonce does not match".into(),
            ));
        }
        let subject = claims["sub"]
            .as_str()
            .ok_or_else(|| AppleError::Failed("no subject in the ID token".into()))?
            .to_owned();
        let email = claims["email"]
            .as_str()
            .map(str::to_owned)
            .ok_or(AppleError::NoEmail)?;
        // Apple sends "true" as a string or a boolean.
        let verified = claims["email_verified"] == true || claims["email_verified"] == "true";
        if !verified {
            return Err(AppleError::NoEmail);
        }
        let given: Value = user
            .and_then(|u| serde_json::from_str(u).ok())
            .unwrap_or(Value::Null);
        let name = [&given["name"]["firstName"], &given["name"]["lastName"]]
            .iter()
            .filter_map(|v| v.as_str())
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let username = email.split('@').next().unwrap_or("").to_owned();
        Ok(ExternalIdentity {
            provider: Provider::Apple,
            subject,
            name: if name.is_empty() {
                username.clone()
            } else {
                name
            },
            username,
            email,
            email_verified: true,
            avatar: None,
            admin: None,
            groups: None,
        })
    }

    /// The ID token's claims once Apple's signature, issuer, audience and expiry check out.
    async fn verify(&self, token: &str) -> Result<Value, AppleError> {
        let bad = |why: &str| AppleError::Failed(format!("ID token rejected: {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|_| bad("unreadable"))?;
        if header.alg != Algorithm::RS256 {
            return Err(bad("not RS256"));
        }
        let keys: jsonwebtoken::jwk::JwkSet = self
            .http
            .get(format!("{}/auth/keys", self.settings.base_url))
            .send()
            .await
            .map_err(|e| AppleError::Failed(format!("Apple's keys: {e}")))?
            .json()
            .await
            .map_err(|e| AppleError::Failed(format!("Apple's keys: {e}")))?;
        let jwk = match &header.kid {
            Some(kid) => keys.find(kid),
            None => keys.keys.first(),
        }
        .ok_or_else(|| bad("signed with a key Apple does not publish"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| bad("unusable key"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[apple_issuer()]);
        validation.set_audience(&[&self.settings.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 60;
        jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map(|d| d.claims)
            .map_err(|e| bad(&e.to_string()))
    }
}
