//! `/api/agents/actions`: agents' actions (LibreChat's `routes/agents/actions.js`). Listing
//! needs the role's `AGENTS.USE` and answers the actions of the agents the caller may edit;
//! saving and deleting need `AGENTS.CREATE` and EDIT on the agent (a 404 for an agent the
//! caller cannot see, a 403 for one they may only use), checked by the store in the same
//! transaction as the change. Secrets are never answered.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::agent_shapes::{self as shapes, denied, refused};
use crate::access;
use crate::agents::Builder;
use crate::agents::actions::{SaveError, valid_id};
use crate::db::actions::Action;
use crate::server::middleware::permission::{CreateAgents, Permitted, UseAgents};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(save))
        .routes(routes!(delete))
}

/// LibreChat's `Action` document, its secrets left out (the store keeps them apart).
pub(super) fn shape(a: &Action) -> Value {
    json!({
        "_id": a.object_id,
        "action_id": a.action_id,
        "agent_id": a.agent_id,
        "user": a.user_id,
        "type": "action_prototype",
        "metadata": a.metadata,
    })
}

/// A refusal of the actions service, as the client hears it.
fn save_error(e: SaveError) -> ApiError {
    match e {
        SaveError::Agent(d) => denied(d),
        SaveError::OtherAgent => ApiError::Forbidden(e.to_string()),
        SaveError::NoAction => ApiError::NotFound(e.to_string()),
        SaveError::Changed => ApiError::Conflict(e.to_string()),
        SaveError::SpecTooLarge => ApiError::PayloadTooLarge(e.to_string()),
        SaveError::Db(db) => ApiError::from(db),
        other => ApiError::BadRequest(other.to_string()),
    }
}

fn checked(id: &str, what: &str) -> Result<(), ApiError> {
    if valid_id(id.strip_prefix("agent_").unwrap_or(id)) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!("{what} is not valid")))
    }
}

/// The actions of every agent the caller may edit.
#[utoipa::path(get, path = "/api/agents/actions", operation_id = "actions_list", summary = "The actions of the agents the caller may edit", tag = "agents", responses((status = 200, description = "`[Action]`: `{_id, action_id, agent_id, user, type, metadata}`, no secrets"), (status = 403, description = "The role may not use agents")))]
async fn list(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UseAgents>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let actions = state.actions.editable(access::viewer(&user)).await?;
    Ok(Json(actions.iter().map(shape).collect()))
}

/// Creates or updates an action of an agent the caller may edit; the agent's tools follow. The
/// operations may be left for the server to read from the document (`Actions::save`).
#[utoipa::path(post, path = "/api/agents/actions/{agent_id}", operation_id = "actions_save", summary = "Create or update an agent's action", tag = "agents", params(("agent_id" = String, Path)), request_body(content = Object, description = "`{functions?, action_id?, metadata: {domain?, raw_spec, auth?, api_key?, oauth_client_id?, oauth_client_secret?, privacy_policy_url?}}`. LibreChat's client sends `functions` (its `openapiToFunction` of the document) and `domain`. Without `functions` the server reads them from `raw_spec`: every operation, named by its `operationId` or `<method>_<path>` with all but letters, digits, `_` and `-` left out; and a `domain` not given is the document's first server's `protocol//hostname` (the stored one on an edit while the server is still on it). `functions: []` is refused as LibreChat refuses it. Secrets left out of an edit are kept while the action calls the same place."), responses((status = 200, description = "`[Agent, Action]`: the agent's `tools` hold `<operation>_action_<encoded domain>` for each function"), (status = 400, description = "No functions (or a document without operations), a bad document, a domain that is not the document's or not allowed, a private address, or a change of target without the secrets"), (status = 403, description = "No EDIT permission, the action is another agent's, or the builder is off"), (status = 404, description = "No such agent"), (status = 413, description = "The document is too large")))]
async fn save(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreateAgents>,
    Path(agent_id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    builder(&state).open().map_err(refused)?;
    checked(&agent_id, "agent_id")?;
    let (agent, action) = state
        .actions
        .save(access::viewer(&user), agent_id, &body)
        .await
        .map_err(save_error)?;
    // LibreChat's client reads the pair: the agent with its new tools, and the action.
    Ok(Json(json!([
        shapes::full(&agent, &user.id, None),
        shape(&action)
    ]))
    .into_response())
}

/// Deletes an action of an agent the caller may edit, and its tools.
#[utoipa::path(delete, path = "/api/agents/actions/{agent_id}/{action_id}", operation_id = "actions_delete", summary = "Delete an agent's action", tag = "agents", params(("agent_id" = String, Path), ("action_id" = String, Path)), responses((status = 200, description = "`{message}`"), (status = 403, description = "No EDIT permission, or the builder is off"), (status = 404, description = "No such agent or action")))]
async fn delete(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreateAgents>,
    Path((agent_id, action_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    builder(&state).open().map_err(refused)?;
    checked(&agent_id, "agent_id")?;
    checked(&action_id, "action_id")?;
    state
        .actions
        .delete(access::viewer(&user), agent_id, action_id)
        .await
        .map_err(save_error)?;
    Ok(Json(json!({"message": "Action deleted successfully"})))
}

fn builder(state: &AppState) -> Builder<'_> {
    Builder {
        config: &state.settings.agents,
        endpoints: &state.settings.endpoints,
    }
}
