//! `GET /health`: answers `OK` while the server runs, for load balancers and systemd checks.
//! `GET /ready`: whether this replica can serve requests now (its database answers, and Redis
//! with `USE_REDIS`), for load balancers that take a replica out of rotation instead of sending
//! it requests that would fail.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::Db;
use crate::server::AppState;

/// How long the database may take to answer a readiness check.
const DATABASE_WAIT: Duration = Duration::from_secs(2);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

/// Answers `OK` while the server runs.
#[utoipa::path(get, path = "/health", operation_id = "health_health", tag = "health", responses((status = 200, description = "Success")))]
async fn health() -> &'static str {
    "OK"
}

/// `{"status":"ready","database":"ok"}` (with `"redis":"ok"` when Redis is used), or 503 with
/// `status: "unavailable"` and, for each part, `ok` or what failed. Both are asked at once.
#[utoipa::path(get, path = "/ready", operation_id = "health_ready", tag = "health", responses((status = 200, description = "Ready to serve"), (status = 503, description = "The database or Redis does not answer")))]
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let redis = async {
        match state.guard.shared() {
            Some(shared) => Some(shared.ping().await.map_err(|e| {
                tracing::warn!(error = %e, "not ready: Redis does not answer");
                "no answer".to_owned()
            })),
            None => None,
        }
    };
    let (database, redis) = tokio::join!(database(&state.db), redis);
    let ok = database.is_ok() && redis.as_ref().is_none_or(Result::is_ok);
    let word = |r: Result<(), String>| r.err().unwrap_or_else(|| "ok".into());
    let mut body = json!({
        "status": if ok { "ready" } else { "unavailable" },
        "database": word(database),
    });
    if let Some(redis) = redis {
        body["redis"] = word(redis).into();
    }
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// Whether the database answers a query within [`DATABASE_WAIT`]; what went wrong if not.
async fn database(db: &Db) -> Result<(), String> {
    let query = db.read(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)));
    match tokio::time::timeout(DATABASE_WAIT, query).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} s", DATABASE_WAIT.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_closed_database_is_not_ready() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("librechat.db");
        let db = tokio::task::spawn_blocking(move || crate::db::Db::open(&path))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(super::database(&db).await, Ok(()));
        db.close().await.unwrap();
        assert!(super::database(&db).await.is_err());
    }
}
