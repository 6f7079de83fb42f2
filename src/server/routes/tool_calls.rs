//! `GET /api/agents/tools/calls?conversationId=`: the tool calls of the caller's answers in a
//! conversation, as LibreChat lists them (its `toolCall` documents).

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::chat::present;
use crate::db::tool_calls;
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState};
use crate::shapes::TToolCall;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    conversation_id: Option<String>,
}

/// The caller's calls in the conversation, oldest first; none without a conversation (where
/// LibreChat would list every call the person ever made).
#[utoipa::path(get, path = "/api/agents/tools/calls", operation_id = "tool_calls_list", summary = "The tool calls of the caller's answers in a conversation", tag = "agents", params(("conversationId" = Option<String>, Query)), responses((status = 200, description = "LibreChat's `toolCall` documents: `{_id, conversationId, messageId, toolId, user, result, partIndex, createdAt, updatedAt}`")))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(params): Query<Params>,
) -> Result<Json<Vec<TToolCall>>, ApiError> {
    let Some(conversation) = params.conversation_id.filter(|c| !c.is_empty()) else {
        return Ok(Json(Vec::new()));
    };
    let rows = state
        .db
        .read(move |c| tool_calls::list_by_conversation(c, &user.id, &conversation))
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(rows.into_iter().map(present::tool_call).collect()))
}
