//! `/api/auth/2fa/*`: enrolling, checking and turning off two-factor authentication, and the
//! second step of a login (`verify-temp`).

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::signed_in;
use crate::auth::sensitive::Confirmation;
use crate::auth::two_factor::Proof;
use crate::db::users::{self, User};
use crate::server::middleware::auth::check_ban;
use crate::server::middleware::proof::{Sensitive, checked};
use crate::server::middleware::{AuthUser, Client, RecentProof};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // Older LibreChat clients use GET, newer ones POST.
        .routes(routes!(enable, enable_post))
        .routes(routes!(verify))
        .routes(routes!(confirm))
        .routes(routes!(disable))
        .routes(routes!(regenerate))
        .routes(routes!(verify_temp))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
struct CodeBody {
    token: Option<String>,
    #[serde(rename = "backupCode")]
    backup_code: Option<String>,
    #[serde(rename = "tempToken")]
    temp_token: Option<String>,
}

impl CodeBody {
    fn proof(&self) -> Result<Proof, ApiError> {
        Ok(Proof::from_body(
            self.token.as_deref(),
            self.backup_code.as_deref(),
        )?)
    }
}

/// Starting enrolment is a sensitive change: a stolen token could otherwise tie the account
/// to the thief's authenticator and lock the owner out. It needs recent proof
/// ([`crate::auth::sensitive`]): a sign-in within `REAUTH_WINDOW`, or (POST only) the password.
#[utoipa::path(get, path = "/api/auth/2fa/enable", operation_id = "two_factor_enable", summary = "Begin two-factor enrolment (secret, QR code, backup codes)", tag = "two_factor", responses((status = 200, description = "Success")))]
async fn enable(
    State(state): State<AppState>,
    RecentProof { session, .. }: RecentProof<Enrolment>,
) -> Result<Json<Value>, ApiError> {
    start_enrolment(&state, &session.user).await
}

/// The same as the GET, for clients that POST (LibreChat's, with no body), and the way to
/// send the password when the sign-in is older than `REAUTH_WINDOW`.
#[utoipa::path(post, path = "/api/auth/2fa/enable", operation_id = "two_factor_enable_post", request_body = Confirmation, summary = "Begin two-factor enrolment (as the GET)", tag = "two_factor", responses((status = 200, description = "Success")))]
async fn enable_post(
    State(state): State<AppState>,
    RecentProof { session, .. }: RecentProof<Enrolment>,
) -> Result<Json<Value>, ApiError> {
    start_enrolment(&state, &session.user).await
}

/// The proof that starts an enrolment. Only for an account without 2FA: LibreChat also lets
/// one with 2FA on enrol again with a code, which its client never offers (README).
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
struct Enrolment(Confirmation);

impl Sensitive for Enrolment {
    fn confirmation(&self) -> Confirmation {
        self.0.clone()
    }

    fn validate(&self, _: &AppState, user: &User) -> Result<(), ApiError> {
        if user.two_factor_enabled {
            return Err(ApiError::BadRequest(
                "Two-factor authentication is already enabled.".into(),
            ));
        }
        Ok(())
    }
}

async fn start_enrolment(state: &AppState, user: &User) -> Result<Json<Value>, ApiError> {
    let e = state.two_factor.enable(user).await?;
    // The web app shows the QR code as it comes (an SVG of dark squares, no script).
    let svg = qr_svg(&e.otpauth_url);
    Ok(Json(
        json!({ "otpauthUrl": e.otpauth_url, "backupCodes": e.backup_codes, "qrCodeSvg": svg }),
    ))
}

/// `text` as a QR code in SVG, or nothing if it does not fit one.
fn qr_svg(text: &str) -> Option<String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color>()
            .min_dimensions(200, 200)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

#[utoipa::path(post, path = "/api/auth/2fa/verify", operation_id = "two_factor_verify", request_body = CodeBody, summary = "Check a two-factor code", tag = "two_factor", responses((status = 200, description = "Success")))]
async fn verify(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Json<Value>, ApiError> {
    let proof = body.proof()?;
    checked(
        &state,
        &user.id,
        &client,
        state.two_factor.verify(&user, &proof),
    )
    .await?;
    Ok(Json(json!({ "message": "The code is valid." })))
}

#[utoipa::path(post, path = "/api/auth/2fa/confirm", operation_id = "two_factor_confirm", request_body = CodeBody, summary = "Confirm two-factor enrolment with a code", tag = "two_factor", responses((status = 200, description = "Success")))]
async fn confirm(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Json<Value>, ApiError> {
    let code = body.token.as_deref().unwrap_or("");
    checked(
        &state,
        &user.id,
        &client,
        state.two_factor.confirm(&user, code),
    )
    .await?;
    Ok(Json(
        json!({ "message": "Two-factor authentication is now enabled." }),
    ))
}

#[utoipa::path(post, path = "/api/auth/2fa/disable", operation_id = "two_factor_disable", request_body = CodeBody, summary = "Turn two-factor off", tag = "two_factor", responses((status = 200, description = "Success")))]
async fn disable(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Json<Value>, ApiError> {
    let proof = body.proof()?;
    checked(
        &state,
        &user.id,
        &client,
        state.two_factor.disable(&user, &proof),
    )
    .await?;
    Ok(Json(
        json!({ "message": "Two-factor authentication is disabled." }),
    ))
}

#[utoipa::path(post, path = "/api/auth/2fa/backup/regenerate", operation_id = "two_factor_regenerate", request_body = CodeBody, summary = "New backup codes", tag = "two_factor", responses((status = 200, description = "Success")))]
async fn regenerate(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Json<Value>, ApiError> {
    let proof = body.proof()?;
    let codes = checked(
        &state,
        &user.id,
        &client,
        state.two_factor.regenerate(&user, &proof),
    )
    .await?;
    Ok(Json(json!({ "backupCodes": codes })))
}

/// The second step of a login: the temp token from `/api/auth/login` plus a code.
#[utoipa::path(post, path = "/api/auth/2fa/verify-temp", operation_id = "two_factor_verify_temp", request_body = CodeBody, tag = "two_factor", responses((status = 200, description = "Success")))]
async fn verify_temp(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Response, ApiError> {
    check_ban(&state, None, &client).await?;
    let temp = body.temp_token.as_deref().unwrap_or("");
    let claims = state
        .accounts
        .tokens
        .verify_temp(temp)
        .ok_or_else(|| ApiError::Unauthorized("Invalid or expired temporary token.".into()))?;
    check_ban(&state, Some(&claims.user_id), &client).await?;
    let id = claims.user_id.clone();
    let user = state
        .db
        .read(move |c| users::find_by_id(c, &id))
        .await?
        .filter(|u| u.two_factor_enabled)
        .ok_or_else(|| ApiError::Unauthorized("Invalid or expired temporary token.".into()))?;
    let proof = body.proof()?;
    checked(
        &state,
        &claims.user_id,
        &client,
        state.two_factor.verify(&user, &proof),
    )
    .await?;
    let signed = state.accounts.start_session(user).await?;
    Ok(signed_in(&state, &client, &signed))
}
