//! `MaybeUser`: the signed-in user when the request carries a valid token, else nobody. For
//! routes that anyone may read but that show more, or allow more, to users.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AuthUser;
use crate::db::users::User;
use crate::server::AppState;

#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(MaybeUser(
            AuthUser::from_request_parts(parts, state)
                .await
                .ok()
                .map(|AuthUser(u)| u),
        ))
    }
}
