//! A plain chat whose MCP menu names a server that wants the person's sign-in (OAuth) shows
//! the sign-in before the model runs, as LibreChat does: a step holding the call
//! `oauth_mcp_<server>`, whose delta carries the link (`auth`, `expires_at`). The turn waits
//! for the sign-in, at most as long as the link works and never past the answer being
//! stopped; then the server's tools join the turn. A sign-in that does not come leaves them
//! out, and the model answers without them.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::agents::actions::oauth::SIGN_IN_WAIT;
use crate::chat::engine::Turn;
use crate::chat::jobs::Job;
use crate::db::users::User;
use crate::mcp::Mcp;
use crate::mcp::tool::{ALL, key, normalize_server_name};
use crate::mcp::turn::TurnScope;

/// The servers of a turn that want the person's sign-in first.
pub(super) struct Pending {
    pub user: User,
    pub servers: Vec<String>,
}

/// Shows each pending server's sign-in in turn and waits for it; the tools of those signed
/// in join `turn`.
pub(super) async fn sign_in_first(
    mcp: &Arc<Mcp>,
    job: &Job,
    turn: &mut Turn,
    pending: Pending,
    scope: &TurnScope,
) {
    let Some(oauth) = mcp.oauth() else {
        return;
    };
    let user = &pending.user;
    for server in pending.servers {
        let started = match mcp.start_sign_in(&server, user).await {
            Ok(s) => s,
            Err(why) => {
                tracing::warn!(mcp.server = %server, why, "an MCP sign-in could not start; the server's tools are left out");
                continue;
            }
        };
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        let wait = started.expires_in.min(SIGN_IN_WAIT);
        let step = format!("step_oauth_login_{server}");
        let call = json!({
            "id": format!("{}:{server}:{now_ms}", user.id),
            "name": format!("oauth_mcp_{}", normalize_server_name(&server)),
            "args": "",
            "type": "tool_call_chunk",
        });
        job.emit(json!({"event": "on_run_step", "data": {
            "runId": "USE_PRELIM_RESPONSE_MESSAGE_ID",
            "id": step,
            "type": "tool_calls",
            "index": 0,
            "stepDetails": {"type": "tool_calls", "tool_calls": [call]},
        }}));
        let delta = |auth: Option<(&str, i64)>| {
            let mut d = json!({"type": "tool_calls", "tool_calls": [call]});
            if let Some((url, at)) = auth {
                d["auth"] = Value::from(url);
                d["expires_at"] = Value::from(at);
            }
            json!({"event": "on_run_step_delta", "data": {"id": step, "delta": d}})
        };
        let expires_at = now_ms + wait.as_millis() as i64;
        job.emit(delta(Some((&started.url, expires_at))));
        let signed_in = tokio::select! {
            ok = oauth.wait(&started.flow_id, wait) => ok,
            () = job.aborted() => false,
        };
        // The link is taken away, signed in or not (LibreChat's end of the step).
        job.emit(delta(None));
        if !signed_in {
            tracing::info!(mcp.server = %server, "no MCP sign-in came; the server's tools are left out of the turn");
            continue;
        }
        let chosen = mcp.tools_for(user, &[key(ALL, &server)], scope).await;
        turn.tools = std::mem::take(&mut turn.tools).with(chosen.tools);
        turn.system = super::graph::join(turn.system.take(), chosen.instructions);
    }
}
