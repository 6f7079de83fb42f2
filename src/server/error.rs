//! The one error type of the HTTP layer: every failure becomes `{"message": "..."}` with a status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// Banned: 403 with the ban's end, as LibreChat's `checkBan` answers.
    #[error("Your account has been temporarily banned due to violations of our service.")]
    Banned { expires_at: String },
    #[error("the request took too long and was stopped")]
    Timeout,
    #[error("{0}")]
    Unavailable(String),
    /// A refusal with LibreChat's error `type` for the client to act on: 400 with `{message,
    /// type}` (`no_user_key`, `expired_user_key`, `moderation`).
    #[error("{message}")]
    Typed { kind: &'static str, message: String },
    /// A refusal whose body LibreChat shapes its own way (`{error}`, `{message, error}`, ...),
    /// answered as it is.
    #[error("{status}")]
    Shaped {
        status: StatusCode,
        body: serde_json::Value,
    },
    /// Anything unexpected. The cause is logged with the request's id and never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Banned { .. } => StatusCode::FORBIDDEN,
            Self::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Typed { .. } => StatusCode::BAD_REQUEST,
            Self::Shaped { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    /// A failure of the file storage: 503 when the S3 store refused or did not answer (its
    /// words go to the log, not to the client), otherwise an internal error.
    pub fn storage(e: std::io::Error) -> Self {
        if crate::files::storage::is_store_failure(&e) {
            tracing::warn!(error = %e, "the file store failed");
            return Self::Unavailable(
                "The file storage is not available right now; try again later".into(),
            );
        }
        Self::internal(e)
    }

    /// A stored file that could not be opened to send: 404 when its bytes are missing (logged,
    /// as a record without bytes is a fault), 503 when the store failed.
    pub fn unopened(e: std::io::Error, file_id: &str, what: &str) -> Self {
        if crate::files::storage::is_store_failure(&e) {
            return Self::storage(e);
        }
        tracing::warn!(error = %e, file.id = %file_id, "a recorded file's bytes are missing");
        Self::NotFound(format!("{what} not found"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(cause) = &self {
            // Inside the request span, so the log line carries the request id.
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        match &self {
            Self::Banned { expires_at } => (
                status,
                Json(
                    json!({ "message": self.to_string(), "type": "ban", "expiresAt": expires_at }),
                ),
            )
                .into_response(),
            Self::TooManyRequests {
                retry_after_secs, ..
            } => (
                status,
                [(
                    axum::http::header::RETRY_AFTER,
                    retry_after_secs.to_string(),
                )],
                Json(json!({ "message": self.to_string() })),
            )
                .into_response(),
            Self::Typed { kind, message } => {
                (status, Json(json!({ "message": message, "type": kind }))).into_response()
            }
            Self::Shaped { body, .. } => (status, Json(body.clone())).into_response(),
            _ => (status, Json(json!({ "message": self.to_string() }))).into_response(),
        }
    }
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(e: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError as A;
        match e {
            A::Invalid(m) => Self::BadRequest(m),
            A::Forbidden(m) => Self::Forbidden(m),
            A::Unauthorized(m) => Self::Unauthorized(m),
            // 400 as LibreChat answers a missing 2FA code; `type` says which proof to send.
            A::ProofRequired(needed) => Self::Typed {
                kind: needed.kind(),
                message: needed.message().into(),
            },
            A::Db(e) => e.into(),
        }
    }
}

impl From<crate::chat::input::Invalid> for ApiError {
    fn from(e: crate::chat::input::Invalid) -> Self {
        Self::BadRequest(e.0)
    }
}

impl From<crate::shapes::read::Refused> for ApiError {
    fn from(e: crate::shapes::read::Refused) -> Self {
        Self::BadRequest(e.0)
    }
}

impl From<crate::chat::start::StartError> for ApiError {
    fn from(e: crate::chat::start::StartError) -> Self {
        use crate::chat::start::StartError as S;
        let message = e.to_string();
        match e {
            S::Invalid(e) => e.into(),
            S::TooManyMessages { retry_after_secs } => Self::TooManyRequests {
                message,
                retry_after_secs,
            },
            S::TooMany(_) => Self::TooManyRequests {
                message,
                retry_after_secs: 1,
            },
            // LibreChat's error `type`s, which its client acts on.
            S::NoUserKey(_) => Self::Typed {
                kind: "no_user_key",
                message,
            },
            S::ExpiredUserKey(_) => Self::Typed {
                kind: "expired_user_key",
                message,
            },
            S::NoBaseUrl(_) => Self::Typed {
                kind: "no_base_url",
                message,
            },
            S::Flagged(_) => Self::Typed {
                kind: "moderation",
                message,
            },
            S::Files(refused) => {
                use crate::chat::attachments::FilesRefused as F;
                match refused {
                    F::NotFound(_) => Self::NotFound(message),
                    F::Disabled(_) => Self::Forbidden(message),
                    F::TooMany(_) | F::Blind(_) => Self::BadRequest(message),
                    F::TooLarge(_) => Self::PayloadTooLarge(message),
                    F::Unsupported { .. } => Self::UnsupportedMediaType(message),
                }
            }
            S::Busy | S::IdTaken => Self::Conflict(message),
            S::ConversationNotFound | S::AgentNotFound => Self::NotFound(message),
            S::Db(e) => e.into(),
            S::Internal(e) => Self::Internal(e),
            S::EndpointNotConfigured(_)
            | S::ModelRequired
            | S::ModelNotOffered { .. }
            | S::BadBaseUrl(_)
            | S::BlockedBaseUrl { .. }
            | S::InvalidId(_)
            | S::NoContinueId
            | S::TextRequired
            | S::NoRegenerateTarget
            | S::NoContinueTarget
            | S::Cycle
            | S::AgentRequired => Self::BadRequest(message),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::NotFound("not found".into()),
            other => Self::Internal(other.into()),
        }
    }
}

impl ApiError {
    /// A store error where "not found" should read as `{what} not found` (a 404).
    pub fn or_not_found(e: DbError, what: &str) -> Self {
        match e {
            DbError::NotFound => Self::NotFound(format!("{what} not found")),
            other => other.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let resp =
            ApiError::internal(anyhow::anyhow!("disk /secret/path exploded")).into_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], br#"{"message":"internal error"}"#);
    }
}
