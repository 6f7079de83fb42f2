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
        .routes(routes!(token_config))
}

/// LibreChat's `TEndpointsConfig`: each endpoint's order, type and whether users bring keys;
/// `agents` (after OpenAI's, as LibreChat orders it) with the builder's settings.
#[utoipa::path(get, path = "/api/endpoints", operation_id = "endpoints_endpoints", tag = "endpoints", responses((status = 200, description = "Success")))]
async fn endpoints(State(state): State<AppState>, AuthUser(_): AuthUser) -> Json<Value> {
    let mut out = Map::new();
    let agents = &state.settings.agents;
    let list = &state.settings.endpoints.list;
    let agents_at = list.iter().take_while(|e| e.name == "openAI").count();
    for (i, e) in list.iter().enumerate() {
        if i == agents_at && agents.listed {
            out.insert("agents".into(), agents_entry(&state, agents_at));
        }
        let order = i + usize::from(agents.listed && i >= agents_at);
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
    if agents.listed && !out.contains_key("agents") {
        out.insert("agents".into(), agents_entry(&state, agents_at));
    }
    Json(Value::Object(out))
}

/// LibreChat's `agents` entry: no key of its own, the builder's switch, its capabilities and
/// the providers agents may use (when `allowedProviders` names them).
fn agents_entry(state: &AppState, order: usize) -> Value {
    let agents = &state.settings.agents;
    let memory = state
        .settings
        .yaml
        .memory
        .as_ref()
        .is_some_and(|m| !m.is_disabled());
    let mut v = json!({
        "order": order,
        "userProvide": false,
        "disableBuilder": agents.disable_builder,
        "capabilities": agents.served_capabilities(memory),
    });
    if let Some(allowed) = &agents.allowed_providers {
        v["allowedProviders"] = json!(allowed);
    }
    v
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

/// LibreChat's `TTokenConfigMap`: for each endpoint's models, the context window this server
/// fits conversations into, and with `interface.contextCost` the price per million tokens
/// (prompt, completion, cache writes and reads) that balances are charged at.
#[utoipa::path(get, path = "/api/endpoints/token-config", operation_id = "endpoints_token_config", summary = "Context windows (and prices) of every model offered", tag = "endpoints", responses((status = 200, description = "Success")))]
async fn token_config(State(state): State<AppState>, AuthUser(_): AuthUser) -> Json<Value> {
    use crate::billing::rates::{self, TokenType};
    let pricing = state
        .settings
        .yaml
        .interface
        .as_ref()
        .and_then(|i| i.context_cost)
        .unwrap_or(false);
    let mut out = Map::new();
    for e in &state.settings.endpoints.list {
        let listed = state.models.get(&state.http, e).await;
        if listed.is_empty() {
            continue;
        }
        let own = e.token_config.as_ref();
        let mut models = Map::new();
        for model in listed {
            let configured = own.and_then(|c| c.get(&model));
            let context = configured
                .and_then(|c| c.get("context"))
                .and_then(Value::as_u64)
                .unwrap_or_else(|| crate::chat::context::window(&model));
            let mut entry = json!({ "context": context });
            if pricing {
                entry["prompt"] = json!(rates::rate(&model, TokenType::Prompt, own));
                entry["completion"] = json!(rates::rate(&model, TokenType::Completion, own));
                if configured.is_none()
                    && let Some((write, read)) = rates::cache_rates(&model)
                {
                    entry["cacheWrite"] = json!(write);
                    entry["cacheRead"] = json!(read);
                }
            }
            models.insert(model, entry);
        }
        out.insert(e.name.clone(), Value::Object(models));
    }
    Json(Value::Object(out))
}
