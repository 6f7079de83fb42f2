//! `/api/permissions`: who may use a shared resource (LibreChat's `accessPermissions` routes),
//! and the people picker.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::sharing::{self, Change, PrincipalType, ShareError};
use crate::access::{self, ResourceType, bits};
use crate::db::users::User;
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_principals))
        .routes(routes!(roles))
        .routes(routes!(entries, update))
        .routes(routes!(effective))
        .routes(routes!(effective_all))
}

/// A refusal shaped as LibreChat's middlewares shape theirs (`{error, message}`).
fn refuse(status: StatusCode, error: &str, message: String) -> ApiError {
    ApiError::Shaped {
        status,
        body: json!({ "error": error, "message": message }),
    }
}

/// The resource type of the path; LibreChat's message for one it does not know.
fn resource_type(s: &str) -> Result<ResourceType, ApiError> {
    ResourceType::parse(s).ok_or_else(|| {
        let valid: Vec<_> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
        ApiError::BadRequest(format!(
            "Invalid resourceType: {s}. Valid types: {}",
            valid.join(", ")
        ))
    })
}

/// Refuses unless the user holds SHARE on the resource: a resource they cannot see is not
/// found (LibreChat answers 403 for one that exists), one they see without SHARE is forbidden.
async fn require_share(
    state: &AppState,
    user: &User,
    rt: ResourceType,
    id: &str,
) -> Result<(), ApiError> {
    let have = access::effective(&state.db, user, rt, id).await?;
    if have & bits::VIEW == 0 {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            "Not Found",
            format!("{} not found", rt.as_str()),
        ));
    }
    if have & bits::SHARE == 0 {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("Insufficient permissions to access this {}", rt.as_str()),
        ));
    }
    Ok(())
}

/// The access roles of a resource type.
#[utoipa::path(get, path = "/api/permissions/{resource_type}/roles", operation_id = "permissions_roles", summary = "The access roles of a resource type", tag = "permissions", params(("resource_type" = String, Path)), responses((status = 200, description = "`[{accessRoleId, name, description, permBits}]`"), (status = 400, description = "Unknown resource type")))]
async fn roles(
    AuthUser(_): AuthUser,
    Path(resource_type): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let rt = self::resource_type(&resource_type)?;
    let list: Vec<Value> = access::roles_of(rt)
        .map(|r| {
            json!({"accessRoleId": r.id, "name": r.name, "description": r.description,
                   "permBits": r.bits})
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

/// The entries of a resource, as LibreChat's share dialog reads them (needs SHARE on it).
#[utoipa::path(get, path = "/api/permissions/{resource_type}/{resource_id}", operation_id = "permissions_entries", summary = "Who may use a resource", tag = "permissions", params(("resource_type" = String, Path), ("resource_id" = String, Path)), responses((status = 200, description = "`{resourceType, resourceId, principals, public, publicAccessRoleId?}`"), (status = 403, description = "No SHARE permission on it"), (status = 404, description = "Not found")))]
async fn entries(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((resource_type, resource_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let rt = self::resource_type(&resource_type)?;
    require_share(&state, &user, rt, &resource_id).await?;
    let mut principals = Vec::new();
    let mut public_role = None;
    for e in sharing::entries(&state.db, rt, &resource_id).await? {
        let mut p = Map::new();
        match e.principal_type.as_str() {
            "public" => {
                public_role = Some(e.role_id);
                continue;
            }
            "role" => {
                p.insert("name".into(), json!(e.principal_id));
                p.insert(
                    "description".into(),
                    json!(format!("System role: {}", e.principal_id)),
                );
            }
            // A principal that is gone is left out, as LibreChat's lookup leaves it.
            _ if e.name.is_none() => continue,
            kind => {
                p.insert("name".into(), json!(e.name));
                p.insert("email".into(), json!(e.email));
                p.insert("avatar".into(), json!(e.avatar));
                p.insert(
                    "source".into(),
                    json!(e.source.as_deref().unwrap_or("local")),
                );
                p.insert("idOnTheSource".into(), json!(e.principal_id));
                if kind == "group" {
                    p.insert("description".into(), json!(e.description));
                }
            }
        }
        p.insert("type".into(), json!(e.principal_type));
        p.insert("id".into(), json!(e.principal_id));
        p.insert("accessRoleId".into(), json!(e.role_id));
        p.retain(|_, v| !v.is_null());
        principals.push(Value::Object(p));
    }
    let mut out = json!({
        "resourceType": rt.as_str(),
        "resourceId": resource_id,
        "principals": principals,
        "public": public_role.is_some(),
    });
    if let Some(r) = public_role {
        out["publicAccessRoleId"] = json!(r);
    }
    Ok(Json(out))
}

/// LibreChat's `TUpdateResourcePermissionsRequest`.
#[derive(Debug, Deserialize)]
struct UpdateBody {
    #[serde(default)]
    updated: Vec<Value>,
    #[serde(default)]
    removed: Vec<Value>,
    public: Option<bool>,
    #[serde(rename = "publicAccessRoleId")]
    public_access_role_id: Option<String>,
}

/// A principal of the body: its type, id (none for everyone) and access role.
fn principal(v: &Value) -> Result<sharing::Principal, ApiError> {
    let bad = || ApiError::BadRequest(format!("not a principal: {v}"));
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .and_then(PrincipalType::parse)
        .ok_or_else(bad)?;
    let id = match kind {
        PrincipalType::Public => String::new(),
        _ => match v.get("id") {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 200 => s.clone(),
            _ => return Err(bad()),
        },
    };
    Ok(sharing::Principal {
        kind,
        id,
        access_role_id: v
            .get("accessRoleId")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// Grants, changes and removes entries of a resource. Needs SHARE on it and the role's
/// `SHARE` of its type; sharing with everyone also needs `SHARE_PUBLIC`. A principal that does
/// not exist refuses the whole change (LibreChat skips it and answers 200).
#[utoipa::path(put, path = "/api/permissions/{resource_type}/{resource_id}", operation_id = "permissions_update", summary = "Change who may use a resource", tag = "permissions", params(("resource_type" = String, Path), ("resource_id" = String, Path)), request_body(content = Object, description = "`{updated: [principal], removed: [principal], public, publicAccessRoleId}`"), responses((status = 200, description = "`{message, results: {principals, public?, publicAccessRoleId?}}`"), (status = 400, description = "Unknown principal or access role"), (status = 403, description = "Not allowed to share (publicly)"), (status = 404, description = "Not found")))]
async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((resource_type, resource_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    let rt = self::resource_type(&resource_type)?;
    require_share(&state, &user, rt, &resource_id).await?;
    let kind = access::permission_type(rt);
    if !state.roles.allows(&user.role, kind, "SHARE") {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "You do not have permission to share {} resources",
                rt.as_str()
            ),
        ));
    }
    let mut change = Change::default();
    for v in &body.updated {
        change.grant.push(principal(v)?);
    }
    for v in &body.removed {
        change.revoke.push(principal(v)?);
    }
    match (body.public, &body.public_access_role_id) {
        (Some(true), Some(role)) => change.grant.push(sharing::Principal {
            kind: PrincipalType::Public,
            id: String::new(),
            access_role_id: Some(role.clone()),
        }),
        (Some(false), _) => change.revoke.push(sharing::Principal {
            kind: PrincipalType::Public,
            id: String::new(),
            access_role_id: None,
        }),
        _ => {}
    }
    let public = change.grant.iter().any(|p| p.kind == PrincipalType::Public);
    if public && !state.roles.allows(&user.role, kind, "SHARE_PUBLIC") {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "You do not have permission to share {} resources publicly",
                rt.as_str()
            ),
        ));
    }
    let roles = state.roles.clone();
    let granted = sharing::apply(&state.db, rt, &resource_id, change, &user.id, |r| {
        roles.exists(r)
    })
    .await
    .map_err(|e| match e {
        ShareError::Db(e) => e.into(),
        refused => ApiError::Shaped {
            status: StatusCode::BAD_REQUEST,
            body: json!({"error": "Failed to update permissions", "details": refused.to_string(),
                         "message": refused.to_string()}),
        },
    })?;
    let principals: Vec<Value> = granted
        .iter()
        .map(|p| {
            let id = (p.kind != PrincipalType::Public).then(|| p.id.clone());
            json!({"type": p.kind.as_str(), "id": id, "accessRoleId": p.access_role_id})
        })
        .collect();
    let mut results = json!({ "principals": principals });
    if let Some(public) = body.public {
        results["public"] = json!(public);
        if public {
            results["publicAccessRoleId"] = json!(body.public_access_role_id);
        }
    }
    Ok(Json(
        json!({"message": "Permissions updated successfully", "results": results}),
    ))
}

/// The caller's permission bits on one resource (0 when they have none, or it does not exist).
#[utoipa::path(get, path = "/api/permissions/{resource_type}/{resource_id}/effective", operation_id = "permissions_effective", summary = "The caller's permission bits on a resource", tag = "permissions", params(("resource_type" = String, Path), ("resource_id" = String, Path)), responses((status = 200, description = "`{permissionBits}`"), (status = 400, description = "Unknown resource type")))]
async fn effective(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((resource_type, resource_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let rt = self::resource_type(&resource_type)?;
    let have = access::effective(&state.db, &user, rt, &resource_id).await?;
    Ok(Json(json!({ "permissionBits": have })))
}

/// The caller's permission bits on every resource of a type they can see, by id.
#[utoipa::path(get, path = "/api/permissions/{resource_type}/effective/all", operation_id = "permissions_effective_all", summary = "The caller's permission bits on every resource of a type", tag = "permissions", params(("resource_type" = String, Path)), responses((status = 200, description = "`{resourceId: bits}`"), (status = 400, description = "Unknown resource type")))]
async fn effective_all(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(resource_type): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let rt = self::resource_type(&resource_type)?;
    let all = access::effective_all(&state.db, &user, rt).await?;
    let map: Map<String, Value> = all.into_iter().map(|(id, b)| (id, json!(b))).collect();
    Ok(Json(Value::Object(map)))
}

/// The longest people-picker query read.
const MAX_QUERY: usize = 200;

/// Users, groups and roles to share with, by name or email (LibreChat's people picker). Each
/// kind needs its `PEOPLE_PICKER` permission.
#[utoipa::path(get, path = "/api/permissions/search-principals", operation_id = "permissions_search_principals", summary = "Find users, groups and roles to share with", tag = "permissions", params(("q" = String, Query), ("limit" = Option<u32>, Query), ("types" = Option<String>, Query, description = "user,group,role")), responses((status = 200, description = "`{query, limit, types, results, count, sources}`"), (status = 400, description = "No query, or under 2 characters"), (status = 403, description = "The role may not search for that kind")))]
async fn search_principals(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let mut asked: Vec<PrincipalType> = Vec::new();
    for (k, v) in &pairs {
        if k == "type" || k == "types" || k == "types[]" {
            for t in v.split(',').filter_map(PrincipalType::parse) {
                if t != PrincipalType::Public && !asked.contains(&t) {
                    asked.push(t);
                }
            }
        }
    }
    let may = |p: &str| state.roles.allows(&user.role, "PEOPLE_PICKER", p);
    let allowed = [
        (PrincipalType::User, may("VIEW_USERS"), "users"),
        (PrincipalType::Group, may("VIEW_GROUPS"), "groups"),
        (PrincipalType::Role, may("VIEW_ROLES"), "roles"),
    ];
    for (t, ok, what) in allowed {
        if asked.contains(&t) && !ok {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!("Insufficient permissions to search for {what}"),
            ));
        }
    }
    if asked.is_empty() && allowed.iter().all(|(_, ok, _)| !ok) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Insufficient permissions to search for users, groups, or roles".into(),
        ));
    }
    let query = get("q").unwrap_or("").trim();
    let bad = |m: &str| ApiError::Shaped {
        status: StatusCode::BAD_REQUEST,
        body: json!({ "error": m, "message": m }),
    };
    if query.is_empty() {
        return Err(bad(
            "Query parameter \"q\" is required and must not be empty",
        ));
    }
    if query.chars().count() < 2 {
        return Err(bad("Query must be at least 2 characters long"));
    }
    if query.len() > MAX_QUERY {
        return Err(bad("Query is too long"));
    }
    let limit = get("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .filter(|l| *l != 0)
        .unwrap_or(10)
        .clamp(1, 50) as usize;
    // Without `types`, every kind the role may search (LibreChat searches all and lets the
    // middleware refuse only what was asked; a kind the role may not see is left out here).
    let kinds: Vec<PrincipalType> = if asked.is_empty() {
        allowed
            .iter()
            .filter(|(_, ok, _)| *ok)
            .map(|(t, _, _)| *t)
            .collect()
    } else {
        asked.clone()
    };
    let role_names = state.roles.names();
    let found = sharing::search(&state.db, query, limit, &kinds, role_names).await?;
    let results: Vec<Value> = found.iter().map(found_json).collect();
    let types = (!asked.is_empty()).then(|| asked.iter().map(|t| t.as_str()).collect::<Vec<_>>());
    Ok(Json(json!({
        "query": query,
        "limit": limit,
        "types": types,
        "count": results.len(),
        "sources": { "local": results.len(), "entra": 0 },
        "results": results,
    })))
}

fn found_json(f: &sharing::Found) -> Value {
    let mut v = json!({
        "id": f.id, "type": f.kind.as_str(), "name": f.name, "email": f.email,
        "username": f.username, "avatar": f.avatar, "provider": f.provider,
        "description": f.description, "source": f.source, "memberCount": f.member_count,
        "idOnTheSource": f.id_on_the_source,
    });
    if let Some(o) = v.as_object_mut() {
        o.retain(|_, v| !v.is_null());
    }
    v
}
