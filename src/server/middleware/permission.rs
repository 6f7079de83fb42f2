//! Role permissions in the signature: `Permitted<UseBookmarks>` is the signed-in user whose role
//! allows bookmarks, as LibreChat's `generateCheckAccess` middleware checks before its routes.
//! Checks that depend on the body (a temporary chat, a second model) are one visible call,
//! [`require`].

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AuthUser;
use crate::db::users::User;
use crate::server::{ApiError, AppState};

/// A permission a route needs: LibreChat's permission type and the permissions of it, all of
/// which the role must have.
pub trait Needs {
    const TYPE: &'static str;
    const PERMISSIONS: &'static [&'static str];
}

/// `BOOKMARKS`/`USE`: every `/api/tags` route.
pub struct UseBookmarks;
impl Needs for UseBookmarks {
    const TYPE: &'static str = "BOOKMARKS";
    const PERMISSIONS: &'static [&'static str] = &["USE"];
}

/// `SHARED_LINKS`/`CREATE`: creating a shared link and updating one (which republishes it).
/// Deleting one is not gated, so an owner can always take a link back.
pub struct CreateSharedLinks;
impl Needs for CreateSharedLinks {
    const TYPE: &'static str = "SHARED_LINKS";
    const PERMISSIONS: &'static [&'static str] = &["CREATE"];
}

/// `PROMPTS`/`USE`: every `/api/prompts` route.
pub struct UsePrompts;
impl Needs for UsePrompts {
    const TYPE: &'static str = "PROMPTS";
    const PERMISSIONS: &'static [&'static str] = &["USE"];
}

/// `PROMPTS`/`USE` and `CREATE`: creating, changing and deleting prompts (LibreChat's
/// `checkPromptCreate`).
pub struct CreatePrompts;
impl Needs for CreatePrompts {
    const TYPE: &'static str = "PROMPTS";
    const PERMISSIONS: &'static [&'static str] = &["USE", "CREATE"];
}

/// `AGENTS`/`USE`: reading agents (LibreChat's `checkAgentAccess`).
pub struct UseAgents;
impl Needs for UseAgents {
    const TYPE: &'static str = "AGENTS";
    const PERMISSIONS: &'static [&'static str] = &["USE"];
}

/// `AGENTS`/`USE` and `CREATE`: creating, changing, copying and deleting agents (LibreChat's
/// `checkAgentCreate`).
pub struct CreateAgents;
impl Needs for CreateAgents {
    const TYPE: &'static str = "AGENTS";
    const PERMISSIONS: &'static [&'static str] = &["USE", "CREATE"];
}

/// The signed-in user, whose role has the permissions `N` names; else 403, LibreChat's
/// `{"message": "Forbidden: Insufficient permissions"}` (401 first without a valid token).
pub struct Permitted<N: Needs>(pub User, pub PhantomData<N>);

impl<N: Needs> FromRequestParts<AppState> for Permitted<N> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        require(state, &user, N::TYPE, N::PERMISSIONS)?;
        Ok(Permitted(user, PhantomData))
    }
}

/// Refuses the request unless the user's role has every one of `permissions` of `kind`
/// (e.g. `require(&state, &user, "TEMPORARY_CHAT", &["USE"])`). A feature this server does
/// not have is refused to every role.
pub fn require(
    state: &AppState,
    user: &User,
    kind: &str,
    permissions: &[&str],
) -> Result<(), ApiError> {
    if permissions
        .iter()
        .all(|p| state.roles.allows(&user.role, kind, p))
    {
        return Ok(());
    }
    tracing::warn!(
        user = %user.id,
        permission = %format!("{kind}/{}", permissions.join(",")),
        "refused: the role lacks the permission"
    );
    Err(ApiError::Forbidden(
        "Forbidden: Insufficient permissions".into(),
    ))
}

/// `MULTI_CONVO`/`USE`, for a chat that asks a second model (`addedConvo`), refused with
/// LibreChat's own body.
pub fn require_multi_convo(state: &AppState, user: &User) -> Result<(), ApiError> {
    if state.roles.allows(&user.role, "MULTI_CONVO", "USE") {
        return Ok(());
    }
    Err(ApiError::Shaped {
        status: axum::http::StatusCode::FORBIDDEN,
        body: serde_json::json!({
            "error": "Forbidden",
            "message": "Multi-conversation feature is not enabled",
        }),
    })
}
