//! Servers using the chat request's values (`{{LIBRECHAT_BODY_CONVERSATIONID}}`,
//! `..._PARENTMESSAGEID}}`, `..._MESSAGEID}}`; see [`request_scoped`]): each chat turn connects
//! to them afresh with its own values, once for all its agents, and closes the connections when
//! it ends. Such a connection is never kept for another turn (LibreChat's request-scoped
//! connections).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::config::ServerConfig;
use super::connection::Connection;
use super::resolve::Turn;
#[cfg(doc)]
use super::resolve::request_scoped;
use super::{Mcp, McpError};
use crate::db::users::User;

/// One chat turn's connections to request-scoped servers, by server.
#[derive(Default)]
pub struct TurnScope {
    pub turn: Turn,
    conns: tokio::sync::Mutex<BTreeMap<String, Arc<Connection>>>,
}

impl TurnScope {
    pub fn new(turn: Turn) -> Self {
        TurnScope {
            turn,
            conns: Default::default(),
        }
    }

    /// `config`'s connection in this turn, made on first use (one at a time: the turn's
    /// agents share it).
    pub(super) async fn connection(
        &self,
        mcp: &Mcp,
        config: &ServerConfig,
        user: &User,
    ) -> Result<Arc<Connection>, McpError> {
        let mut conns = self.conns.lock().await;
        if let Some(c) = conns.get(&config.name).filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let conn = Arc::new(mcp.open_for_turn(config, user, &self.turn).await?);
        conns.insert(config.name.clone(), conn.clone());
        Ok(conn)
    }

    /// Closes the turn's connections, once its tools are gone (a connection still held
    /// elsewhere ends when its last holder drops it).
    pub async fn close(self) {
        for (server, conn) in self.conns.into_inner() {
            match Arc::try_unwrap(conn) {
                Ok(conn) => conn.close().await,
                Err(_) => {
                    tracing::debug!(mcp.server = %server, "a chat turn's MCP connection is still held; it closes when dropped");
                }
            }
        }
    }
}
