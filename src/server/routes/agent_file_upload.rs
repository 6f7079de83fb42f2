//! An agent's own files through LibreChat's file routes: `POST /api/files` with `agent_id` and
//! `tool_resource` (the Agent Builder's "File Context" uploads), and `DELETE /api/files` with
//! them, which takes files out of the agent. Both need EDIT on the agent, answered as
//! LibreChat answers (a 404 for no such agent, a 403 otherwise). `context` (and the legacy
//! `ocr`, filed as `context`) is served: its documents' text is given to the agent in chat
//! (`crate::chat::start`); so is `file_search`: its documents are cut into chunks and indexed
//! for the agent's `file_search` tool (`crate::search::chunks`). Code execution and image
//! editing are not, and are refused with LibreChat's words for a capability that is off.
//!
//! A chat's upload for file search (LibreChat's client sends `tool_resource: file_search`
//! with `message_file: true`, or without an agent) is a message's file, stored and indexed
//! for its owner: [`for_chat_search`].

use axum::Json;
use axum::http::StatusCode;
use serde_json::json;

use crate::access;
use crate::config::agents::AgentsConfig;
use crate::db::agent_files::{self, FilesRefused, MAX_FILES};
use crate::db::users::User;
use crate::files::Received;
use crate::files::intake::{self, Meta};
use crate::server::{ApiError, AppState};
use crate::shapes::TFile;

/// What the upload form says of an agent (`agent_id`, `tool_resource`, `message_file`).
#[derive(Debug, Default)]
pub(super) struct AgentForm {
    pub agent_id: Option<String>,
    pub tool_resource: Option<String>,
    /// `true`: a file for a message, even when the form names an agent.
    pub message_file: bool,
}

/// An agent's tool resource, as LibreChat names them (`EToolResources`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resource {
    /// `context` ("File Context": documents read as text), and the legacy `ocr`.
    Context,
    FileSearch,
    ExecuteCode,
    ImageEdit,
}

impl Resource {
    /// The resource LibreChat's routes accept by this name (`AGENT_TOOL_RESOURCE_KEYS`).
    pub fn parse(name: &str) -> Result<Self, ApiError> {
        Ok(match name {
            "context" | "ocr" => Self::Context,
            "file_search" => Self::FileSearch,
            "execute_code" => Self::ExecuteCode,
            "image_edit" => Self::ImageEdit,
            _ => return Err(ApiError::BadRequest("Invalid agent tool resource".into())),
        })
    }

    /// The resource's key in `tool_resources` (an `ocr` file is filed as `context`, as
    /// LibreChat converts `ocr` whenever an agent is saved).
    pub fn key(self) -> &'static str {
        match self {
            Self::Context => "context",
            Self::FileSearch => "file_search",
            Self::ExecuteCode => "execute_code",
            Self::ImageEdit => "image_edit",
        }
    }

    /// Why an upload for it is refused here: the capabilities this server does not serve, or
    /// that librechat.yaml turned off (LibreChat's words when they are off).
    fn unserved(self, agents: &AgentsConfig) -> Option<&'static str> {
        match self {
            Self::Context => None,
            Self::FileSearch if agents.serves("file_search") => None,
            Self::FileSearch => Some(SEARCH_OFF),
            Self::ExecuteCode => Some("Code execution is not enabled for Agents"),
            Self::ImageEdit => Some("Image editing is not enabled for Agents"),
        }
    }
}

/// LibreChat's words when file search is off.
const SEARCH_OFF: &str = "File search is not enabled for Agents";

/// Whether a message's upload is meant for file search (`tool_resource: file_search` and no
/// agent's resource: see [`target`]); refused when file search is off.
pub(super) fn for_chat_search(form: &AgentForm, agents: &AgentsConfig) -> Result<bool, ApiError> {
    if form.tool_resource.as_deref() != Some("file_search") {
        return Ok(false);
    }
    if !agents.serves("file_search") {
        return Err(ApiError::Forbidden(SEARCH_OFF.into()));
    }
    Ok(true)
}

/// The agent and resource an upload is for, or none for a message's file. As in LibreChat,
/// `message_file` makes it a message's file whatever else the form says, and an agent
/// without a resource is refused.
pub(super) fn target(form: &AgentForm) -> Result<Option<(String, Resource)>, ApiError> {
    let Some(agent_id) = form.agent_id.as_deref().filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    if form.message_file {
        return Ok(None);
    }
    let Some(resource) = form.tool_resource.as_deref().filter(|r| !r.is_empty()) else {
        return Err(ApiError::BadRequest(
            "No tool resource provided for agent file upload".into(),
        ));
    };
    Ok(Some((agent_id.to_owned(), Resource::parse(resource)?)))
}

/// A refusal of the upload route, as LibreChat's `checkAgentUploadAuth` answers.
fn upload_refused(r: FilesRefused) -> ApiError {
    let (status, error, message) = match r {
        FilesRefused::NotFound => (StatusCode::NOT_FOUND, "Not Found", "Agent not found"),
        FilesRefused::Forbidden => (
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Insufficient permissions to upload files to this agent",
        ),
        FilesRefused::Full => {
            return ApiError::BadRequest(format!(
                "An agent's tool resource holds at most {MAX_FILES} files"
            ));
        }
    };
    ApiError::Shaped {
        status,
        body: json!({ "error": error, "message": message }),
    }
}

/// Takes an upload for the agent `agent_id`'s `resource`: the caller must be able to edit
/// the agent (asked before the file is read, and again as it is recorded); the document's
/// text is read as a message's would be; the file is recorded and added to the agent in one
/// transaction (a new version of it). On any refusal nothing is stored.
pub(super) async fn take(
    state: &AppState,
    user: &User,
    mut meta: Meta,
    received: Received,
    agent_id: String,
    resource: Resource,
) -> Result<Json<TFile>, ApiError> {
    let (v, id) = (access::viewer(user), agent_id.clone());
    state
        .db
        .read(move |c| agent_files::may_edit(c, &v, &id))
        .await?
        .map_err(upload_refused)?;
    if let Some(message) = resource.unserved(&state.settings.agents) {
        return Err(ApiError::Forbidden(message.into()));
    }
    meta.for_agent = true;
    meta.file_search = resource == Resource::FileSearch;
    let record = intake::prepare(&state.files, &state.settings.files, meta, received).await?;
    let key = record.storage_key.clone();
    let v = access::viewer(user);
    let done = state
        .db
        .write(move |c| agent_files::add_file(c, &v, &agent_id, resource.key(), &record))
        .await
        .map_err(ApiError::from)
        .and_then(|r| r.map_err(upload_refused));
    let saved = match done {
        Ok(saved) => saved,
        Err(e) => {
            let _ = state.files.remove(&key).await;
            return Err(e);
        }
    };
    tracing::info!(file.id = %saved.file_id, resource = resource.key(), "agent file uploaded");
    let mut body = crate::chat::present::file(&saved);
    body.extra.insert(
        "message".into(),
        json!("Agent file uploaded and processed successfully"),
    );
    Ok(Json(body))
}

/// `DELETE /api/files` with `agent_id` and `tool_resource`: takes the files out of the
/// agent's resource (for `context` and `ocr`, out of both), as LibreChat does: the files
/// stay their owners', the agent gets no new version. Needs EDIT on the agent.
pub(super) async fn remove(
    state: &AppState,
    user: &User,
    agent_id: String,
    resource: &str,
    file_ids: Vec<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let keys: &'static [&'static str] = match Resource::parse(resource)? {
        Resource::Context => &["context", "ocr"],
        Resource::FileSearch => &["file_search"],
        Resource::ExecuteCode => &["execute_code"],
        Resource::ImageEdit => &["image_edit"],
    };
    let v = access::viewer(user);
    let ids = file_ids.clone();
    let done = state
        .db
        .write(move |c| agent_files::remove_files(c, &v, &agent_id, keys, &ids))
        .await?;
    match done {
        Ok(_) => Ok(Json(
            json!({"message": "File associations removed successfully from agent"}),
        )),
        Err(FilesRefused::NotFound) => Err(ApiError::Shaped {
            status: StatusCode::NOT_FOUND,
            body: json!({"message": "Agent not found"}),
        }),
        Err(_) => Err(ApiError::Shaped {
            status: StatusCode::FORBIDDEN,
            body: json!({
                "message": "You can only delete files you have access to",
                "unauthorizedFiles": file_ids,
            }),
        }),
    }
}
