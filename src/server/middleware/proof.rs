//! Sensitive changes in the signature: `RecentProof<B>` is the signed-in session and its body
//! `B`, let through only with the recent proof of identity `B` needs
//! ([`crate::auth::sensitive`]), and [`checked`], which makes guessing that proof slow.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::Method;
use serde::de::DeserializeOwned;

use super::auth::limit;
use super::{AuthSession, Client};
use crate::auth::AuthError;
use crate::auth::sensitive::{Confirmation, Rule};
use crate::db::users::User;
use crate::server::{ApiError, AppState, JsonBody};

/// The body of a sensitive change: what it proves identity with, and its own checks.
pub trait Sensitive: DeserializeOwned + Default + Send {
    /// The proof it takes.
    const RULE: Rule = Rule::Recent;

    /// The proof the body carries.
    fn confirmation(&self) -> Confirmation;

    /// Refuses what the change itself does not allow (the feature is off, the new password is
    /// too short, ...). Runs before the proof is weighed, so such a mistake costs none of the
    /// guesses the limiter allows, and no single-use backup code.
    fn validate(&self, _state: &AppState, _user: &User) -> Result<(), ApiError> {
        Ok(())
    }
}

/// A plain proof, for changes with nothing else to say.
impl Sensitive for Confirmation {
    fn confirmation(&self) -> Confirmation {
        self.clone()
    }
}

/// The signed-in session, and the body of its sensitive change, once the proof was accepted.
/// A request without a body reads as `{}` (LibreChat's client sends none to start enrolment,
/// or to delete an account without 2FA), and a GET's body is not read: a GET proves nothing
/// but a recent sign-in.
pub struct RecentProof<B: Sensitive = Confirmation> {
    /// Who asked, and the session of their access token.
    pub session: AuthSession,
    /// The request's body, checked ([`Sensitive::validate`]).
    pub body: B,
}

impl<B: Sensitive> FromRequest<AppState> for RecentProof<B> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let session = AuthSession::from_request_parts(&mut parts, state).await?;
        let client = Client::from_request_parts(&mut parts, state)
            .await
            .unwrap_or_else(|e| match e {});
        let body = if parts.method == Method::GET {
            B::default()
        } else {
            JsonBody::<B>::from_request(Request::from_parts(parts, body), state)
                .await?
                .0
        };
        body.validate(state, &session.user)?;
        let given = body.confirmation();
        let user = &session.user;
        let proof = state.accounts.confirm(
            &state.two_factor,
            user,
            session.session_id.as_deref(),
            &given,
            B::RULE,
        );
        checked(state, &user.id, &client, proof).await?;
        Ok(Self { session, body })
    }
}

/// Guessing six digits (or a password, where a sensitive change takes one) must be slow:
/// wrong answers count against the login limiter (per user), and once it is used up every
/// check is refused until the window ends. Right answers cost nothing, and neither does a
/// request that only hears which proof to send, so enrolling and logging in never trip it.
/// `attempt` must check nothing but the proof: any error it returns counts as a wrong guess.
pub async fn checked<T>(
    state: &AppState,
    user_id: &str,
    client: &Client,
    attempt: impl std::future::Future<Output = Result<T, AuthError>>,
) -> Result<T, ApiError> {
    let spec = &state.settings.limits.login;
    let message = "Too many 2FA attempts, please try again later.";
    if let Some(limited) = state.guard.exhausted(spec, "2fa", user_id).await {
        return Err(ApiError::TooManyRequests {
            message: message.into(),
            retry_after_secs: limited.retry_after.as_secs().max(1),
        });
    }
    match attempt.await {
        Ok(v) => Ok(v),
        Err(e @ AuthError::ProofRequired(_)) => Err(e.into()),
        Err(e) => {
            limit(state, spec, "2fa", Some(user_id), client, message).await?;
            Err(e.into())
        }
    }
}
