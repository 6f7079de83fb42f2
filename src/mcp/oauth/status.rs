//! What the MCP routes ask of sign-ins: start one for a person on a server, and the
//! connection states LibreChat reports for OAuth servers (`authorizationState`).

use serde_json::{Value, json};

use super::{FlowStatus, Started, flow_id};
use crate::db::users::User;
use crate::mcp::Mcp;
use crate::mcp::manager::Status;
use crate::mcp::resolve::{Values, resolve};

impl Mcp {
    /// Starts (or takes up again) `user`'s sign-in to `server`.
    pub async fn start_sign_in(&self, server: &str, user: &User) -> Result<Started, String> {
        let config = self
            .config
            .get(server)
            .ok_or("the server is not configured")?;
        let oauth = self.oauth().ok_or("sign-ins are not kept here")?;
        let url = resolve(config, &Values::for_user(user))
            .url
            .ok_or("the server has no URL to sign in to")?;
        self.net
            .check_domain(server, &url)
            .map_err(|e| e.to_string())?;
        oauth.start(&user.id, config, &url).await
    }

    /// `(connectionState, authorizationState)` of `user_id`'s connection to an OAuth server
    /// (LibreChat's status algorithm): a live connection is authorized; without one, a failed
    /// or expired sign-in is an error, one in progress is authorizing, stored tokens are
    /// authorized, and nothing is `needs_authorization`.
    pub async fn sign_in_state(
        &self,
        user_id: &str,
        server: &str,
        now: Status,
    ) -> (&'static str, &'static str) {
        match now {
            Status::Connected => return ("connected", "authorized"),
            Status::Connecting => return ("connecting", "authorizing"),
            Status::Error | Status::Disconnected => {}
        }
        let Some(oauth) = self.oauth() else {
            return ("disconnected", "needs_authorization");
        };
        if let Some(view) = oauth.view(&flow_id(user_id, server)).await {
            let cancelled = view.error.as_deref() == Some("User cancelled OAuth flow");
            match view.status {
                FlowStatus::Failed if !cancelled => return ("error", "error"),
                FlowStatus::Pending if view.expired => return ("error", "error"),
                FlowStatus::Pending => return ("connecting", "authorizing"),
                _ => {}
            }
        }
        if oauth.signed_in(user_id, server).await {
            return ("connected", "authorized");
        }
        if now == Status::Error {
            return ("error", "error");
        }
        ("disconnected", "needs_authorization")
    }

    /// [`statuses_listing`](Self::statuses_listing) with the OAuth servers' states as
    /// [`sign_in_state`](Self::sign_in_state) tells them.
    pub async fn statuses_with_sign_in(&self, user_id: &str) -> Value {
        let mut listing = self.statuses_listing(user_id);
        for (name, now) in self.statuses(user_id) {
            if !self.config.get(&name).is_some_and(|s| s.requires_oauth) {
                continue;
            }
            let (conn, auth) = self.sign_in_state(user_id, &name, now).await;
            listing[&name]["connectionState"] = json!(conn);
            listing[&name]["authorizationState"] = json!(auth);
        }
        listing
    }
}
