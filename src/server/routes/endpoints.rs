//! `/api/endpoints` and `/api/models`: which AI endpoints and models this server offers.

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::providers::endpoints::Key;
use crate::server::AppState;
use crate::server::middleware::AuthUser;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(endpoints))
        .routes(routes!(models))
}

/// LibreChat's `TEndpointsConfig`: each endpoint's order, type and whether users bring keys.
#[utoipa::path(get, path = "/api/endpoints", operation_id = "endpoints_endpoints", tag = "endpoints", responses((status = 200, description = "Success")))]
async fn endpoints(State(state): State<AppState>, AuthUser(_): AuthUser) -> Json<Value> {
    let mut out = Map::new();
    for (order, e) in state.settings.endpoints.list.iter().enumerate() {
        let mut v = json!({
            "order": order,
            "userProvide": e.key == Key::UserProvided,
            "userProvideURL": e.user_base_url,
        });
        if e.custom {
            v["type"] = json!("custom");
        }
        if let Some(label) = &e.model_display_label {
            v["modelDisplayLabel"] = json!(label);
        }
        if let Some(icon) = &e.icon_url {
            v["iconURL"] = json!(icon);
        }
        out.insert(e.name.clone(), v);
    }
    Json(Value::Object(out))
}

/// `{endpoint: [model, ...]}`.
#[utoipa::path(get, path = "/api/models", operation_id = "endpoints_models", tag = "endpoints", responses((status = 200, description = "Success")))]
async fn models(State(state): State<AppState>, AuthUser(_): AuthUser) -> Json<Value> {
    let mut out = Map::new();
    for e in &state.settings.endpoints.list {
        out.insert(
            e.name.clone(),
            json!(state.models.get(&state.http, e).await),
        );
    }
    Json(Value::Object(out))
}
