//! `GET /api/files/agent/{agent_id}`: the files an agent's builder shows (its File Context and
//! other tool resources), for those who may edit the agent.

use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access;
use crate::chat::present;
use crate::db::agent_refs;
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState};
use crate::shapes::TFile;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The agent's files, without their text. LibreChat's client asks as soon as its builder shows
/// an agent, whoever may see it: someone who may not edit the agent (or an agent that does not
/// exist) gets an empty list, as in LibreChat.
#[utoipa::path(get, path = "/api/files/agent/{agent_id}", operation_id = "files_of_agent", summary = "The files an agent's tool resources name", tag = "files", params(("agent_id" = String, Path, description = "`agent_...`")), responses((status = 200, description = "The agent's files (`TFile[]`); empty without EDIT on it", body = Vec<TFile>)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(agent_id): Path<String>,
) -> Result<Json<Vec<TFile>>, ApiError> {
    let v = access::viewer(&user);
    let found = state
        .db
        .read(move |c| agent_refs::files_of(c, &v, &agent_id))
        .await?;
    Ok(Json(found.iter().map(present::file).collect()))
}
