//! `/api/mcp/servers`: the MCP servers a person may use, and those people add themselves, as
//! LibreChat answers (`api/server/controllers/mcp.js`). Reading needs the role's
//! `MCP_SERVERS.USE`; adding, changing and deleting also `CREATE`, and each server's access
//! entries (VIEW to read, EDIT to change, DELETE to delete). A server the caller may not see is
//! not found; one only an agent gives them (`consumeOnly`) is listed, and refused by name.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::{self, ResourceType, roles};
use crate::db::mcp_servers::{self, Denied};
use crate::db::users::User;
use crate::mcp::config::ServerConfig;
use crate::mcp::user_input;
use crate::mcp::user_servers::user_listing;
use crate::mcp::{McpError, tool::normalize_server_name};
use crate::server::middleware::{AuthUser, permission};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one, update, remove))
}

fn may_use(state: &AppState, user: &User) -> Result<(), ApiError> {
    permission::require(state, user, "MCP_SERVERS", &["USE"])
}

fn may_create(state: &AppState, user: &User) -> Result<(), ApiError> {
    permission::require(state, user, "MCP_SERVERS", &["USE", "CREATE"])
}

fn shaped(status: StatusCode, body: Value) -> ApiError {
    ApiError::Shaped { status, body }
}

/// LibreChat's `canAccessMCPServerResource` answers.
fn denied(d: Denied) -> ApiError {
    match d {
        Denied::NotFound => shaped(
            StatusCode::NOT_FOUND,
            json!({"error": "Not Found", "message": "mcpServer not found"}),
        ),
        Denied::Forbidden => shaped(
            StatusCode::FORBIDDEN,
            json!({"error": "Forbidden", "message": "Insufficient permissions to access this mcpServer"}),
        ),
    }
}

/// The body's `config`, checked; the role must have `CONFIGURE_OBO` to set `obo`.
fn checked(state: &AppState, user: &User, body: &Map<String, Value>) -> Result<Value, ApiError> {
    let c = user_input::check(body.get("config")).map_err(|errors| {
        shaped(
            StatusCode::BAD_REQUEST,
            json!({"message": "Invalid configuration", "errors": errors}),
        )
    })?;
    if c.obo
        && !state
            .roles
            .allows(&user.role, "MCP_SERVERS", "CONFIGURE_OBO")
    {
        return Err(shaped(
            StatusCode::FORBIDDEN,
            json!({"message": "Forbidden: Insufficient permissions to configure OBO"}),
        ));
    }
    Ok(c.config)
}

/// Connects to the server as LibreChat's inspection does, under a name of its own; refused
/// with LibreChat's error codes.
async fn inspect(state: &AppState, config: &Value) -> Result<(), ApiError> {
    let name = format!("temp_server_{}", uuid::Uuid::new_v4());
    let failed = |why: String| {
        shaped(
            StatusCode::BAD_REQUEST,
            json!({"error": "MCP_INSPECTION_FAILED", "message": why}),
        )
    };
    let server = crate::mcp::config::parse_server(&name, config).map_err(failed)?;
    match state.mcp.inspect(&server).await {
        Ok(()) => Ok(()),
        Err(e @ McpError::Blocked { .. }) => Err(shaped(
            StatusCode::FORBIDDEN,
            json!({"error": "MCP_DOMAIN_NOT_ALLOWED", "message": e.to_string()}),
        )),
        Err(e) => Err(failed(format!("Failed to inspect MCP server: {e}"))),
    }
}

/// The stored row as a configuration; a row that no longer reads is an internal fault.
fn config_of(state: &AppState, row: &mcp_servers::McpServer) -> Result<ServerConfig, ApiError> {
    state
        .mcp
        .server_config(row)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a stored MCP server does not read")))
}

#[utoipa::path(get, path = "/api/mcp/servers", operation_id = "mcp_servers", summary = "The MCP servers the caller may use, by name, without their secrets: librechat.yaml's and those added and shared (their address only for who may edit them)", tag = "mcp", responses((status = 200, description = "Success"), (status = 403, description = "The role may not use MCP servers")))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Value>, ApiError> {
    may_use(&state, &user)?;
    let admin = user.role == crate::auth::permissions::ADMIN;
    let mut out = match state.mcp.servers_listing(&user.id, admin) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let yaml: Vec<String> = out.keys().map(|k| normalize_server_name(k)).collect();
    for row in state.mcp.user_servers(&user).await {
        // librechat.yaml wins a name both use (LibreChat's merge).
        if out.contains_key(&row.server_name)
            || yaml.contains(&normalize_server_name(&row.server_name))
        {
            continue;
        }
        if let Some(c) = state.mcp.server_config(&row) {
            out.insert(
                row.server_name.clone(),
                user_listing(&state.mcp, &row, &c, &user.id),
            );
        }
    }
    Ok(Json(Value::Object(out)))
}

/// Adds a server, named from its title; the caller becomes its owner.
#[utoipa::path(post, path = "/api/mcp/servers", operation_id = "mcp_servers_create", summary = "Add an MCP server (streamable HTTP, SSE or websocket), checked by connecting to it", tag = "mcp", request_body(content = Object, description = "`{config: {type, url, title, description?, iconPath?, headers?, apiKey?, oauth?}}`"), responses((status = 201, description = "`{serverName, ...config}`"), (status = 400, description = "Invalid configuration, or MCP_INSPECTION_FAILED"), (status = 403, description = "The role may not add servers, or MCP_DOMAIN_NOT_ALLOWED")))]
async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    may_create(&state, &user)?;
    let config = checked(&state, &user, &body)?;
    inspect(&state, &config).await?;
    let base = match config["title"].as_str() {
        Some(t) => user_input::slug(t),
        None => format!("mcp-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]),
    };
    // librechat.yaml's names, as written and as tool keys spell them, are taken too.
    let mut reserved: Vec<String> = Vec::new();
    for s in &state.mcp.config.servers {
        reserved.push(s.name.clone());
        reserved.push(normalize_server_name(&s.name));
    }
    let owner = roles::owner_of(ResourceType::McpServer);
    let mut stored = config;
    state.mcp.seal(&mut stored);
    let v = access::viewer(&user);
    let row = state
        .db
        .write(move |c| {
            mcp_servers::create(
                c,
                &v,
                &base,
                &reserved,
                &stored,
                (owner.id, owner.bits),
                normalize_server_name,
            )
        })
        .await?;
    let mut out = user_listing(&state.mcp, &row, &config_of(&state, &row)?, &user.id);
    out["serverName"] = json!(row.server_name);
    Ok((StatusCode::CREATED, Json(out)))
}

/// One server as the list shows it (without `serverName`). As in LibreChat, a server of
/// librechat.yaml is there only for an administrator.
#[utoipa::path(get, path = "/api/mcp/servers/{server_name}", operation_id = "mcp_server", summary = "One MCP server's configuration, without secrets", tag = "mcp", params(("server_name" = String, Path)), responses((status = 200, description = "Success"), (status = 403, description = "A server only an agent gives the caller (consumeOnly)"), (status = 404, description = "No such server the caller may see")))]
async fn one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    may_use(&state, &user)?;
    let admin = user.role == crate::auth::permissions::ADMIN;
    if state.mcp.config.get(&name).is_some() {
        let listing = state.mcp.servers_listing(&user.id, admin);
        return match listing.get(&name) {
            Some(v) if admin => Ok(Json(v.clone())),
            _ => Err(denied(Denied::NotFound)),
        };
    }
    let row = state
        .mcp
        .user_server(&user, &name)
        .await
        .ok_or_else(|| denied(Denied::NotFound))?;
    // One an agent gives them is theirs to use, not to read (LibreChat checks VIEW on it).
    if row.bits & mcp_servers::VIEW == 0 {
        return Err(denied(Denied::Forbidden));
    }
    Ok(Json(user_listing(
        &state.mcp,
        &row,
        &config_of(&state, &row)?,
        &user.id,
    )))
}

/// Replaces a server's configuration (needs EDIT on it), checked again by connecting; the
/// caller's connection to it is made again on next use.
#[utoipa::path(patch, path = "/api/mcp/servers/{server_name}", operation_id = "mcp_server_update", summary = "Change an added MCP server", tag = "mcp", params(("server_name" = String, Path)), request_body(content = Object, description = "`{config: {...}}`, the whole configuration"), responses((status = 200, description = "The server as listed"), (status = 400, description = "Invalid configuration, or MCP_INSPECTION_FAILED"), (status = 403, description = "Not allowed, or MCP_DOMAIN_NOT_ALLOWED"), (status = 404, description = "No such server the caller may see")))]
async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    may_create(&state, &user)?;
    let existing = state
        .mcp
        .user_server(&user, &name)
        .await
        .ok_or_else(|| denied(Denied::NotFound))?;
    if existing.bits & mcp_servers::EDIT == 0 {
        return Err(denied(Denied::Forbidden));
    }
    let config = checked(&state, &user, &body)?;
    if existing.config.get("obo").is_some()
        && !state
            .roles
            .allows(&user.role, "MCP_SERVERS", "CONFIGURE_OBO")
        && !only_cosmetic(&existing.config, &config)
    {
        return Err(shaped(
            StatusCode::FORBIDDEN,
            json!({"message": "Forbidden: Insufficient permissions to configure OBO"}),
        ));
    }
    inspect(&state, &config).await?;
    let mut stored = config;
    state.mcp.seal(&mut stored);
    let v = access::viewer(&user);
    let row = state
        .db
        .write(move |c| mcp_servers::update(c, &v, &name, &stored))
        .await?
        .map_err(denied)?;
    state.mcp.forget(&row.server_name, &user.id);
    Ok(Json(user_listing(
        &state.mcp,
        &row,
        &config_of(&state, &row)?,
        &user.id,
    )))
}

/// Whether `new` differs from `old` only in title, description and icon (what a person
/// without `CONFIGURE_OBO` may change on an OBO server).
fn only_cosmetic(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| {
        let mut m = v.as_object().cloned().unwrap_or_default();
        for k in ["title", "description", "iconPath"] {
            m.remove(k);
        }
        m
    };
    strip(old) == strip(new)
}

#[utoipa::path(delete, path = "/api/mcp/servers/{server_name}", operation_id = "mcp_server_delete", summary = "Delete an added MCP server (needs DELETE on it)", tag = "mcp", params(("server_name" = String, Path)), responses((status = 200, description = "`{message}`"), (status = 403, description = "Not allowed"), (status = 404, description = "No such server the caller may see")))]
async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    may_create(&state, &user)?;
    let v = access::viewer(&user);
    let row = state
        .db
        .write(move |c| mcp_servers::delete(c, &v, &name))
        .await?
        .map_err(denied)?;
    state.mcp.forget(&row.server_name, &user.id);
    Ok(Json(json!({"message": "MCP server deleted successfully"})))
}
