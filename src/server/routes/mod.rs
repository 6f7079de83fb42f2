//! Thin handlers, one file per resource; each file offers a `router()` merged in `router.rs`.

pub mod absent;
pub mod admin;
pub mod auth;
pub mod balance;
pub mod banner;
pub mod chat;
pub mod config;
pub mod convos;
pub mod endpoints;
pub mod favorites;
pub mod files;
pub mod forks;
pub mod health;
pub mod imports;
pub mod keys;
pub mod messages;
pub mod oauth;
mod oauth_flow;
pub mod openapi;
pub mod paging;
pub mod presets;
pub mod render;
pub mod roles;
pub mod search;
pub mod shares;
pub mod tags;
pub mod two_factor;
pub mod user;

/// How deeply a client's JSON may nest. Stored values are read back, and wrapped in snapshots
/// and exports, by parsers that stop at 128 levels: refusing more than 32 at the door keeps
/// every later read working.
pub const MAX_JSON_DEPTH: usize = 32;

/// 400 for JSON nested deeper than [`MAX_JSON_DEPTH`]. Iterative, so it cannot overflow.
pub fn reject_deep(v: &serde_json::Value) -> Result<(), crate::server::ApiError> {
    let mut stack = vec![(v, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        if depth > MAX_JSON_DEPTH {
            return Err(crate::server::ApiError::BadRequest(format!(
                "the request nests deeper than {MAX_JSON_DEPTH} levels"
            )));
        }
        match value {
            serde_json::Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            serde_json::Value::Object(map) => stack.extend(map.values().map(|i| (i, depth + 1))),
            _ => {}
        }
    }
    Ok(())
}
