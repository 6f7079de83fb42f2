//! librechat: a complete, self-hosted, multi-user AI chat service in one executable.
//!
//! It speaks LibreChat's HTTP API and reads LibreChat's `.env` and `librechat.yaml`, with every
//! external service LibreChat needs (MongoDB, Meilisearch, the RAG API) replaced by an embedded
//! part: SQLite for data, tantivy for search, in-process caches for limits and bans.
//!
//! Layers talk downward only: `cli` → `server` → (`auth`, `chat`, `search`, `files`) → `db`.

#![forbid(unsafe_code)]

pub mod access;
pub mod agents;
pub mod auth;
pub mod billing;
pub mod bounded;
pub mod cache;
pub mod chat;
pub mod cli;
pub mod config;
pub mod cookies;
pub mod db;
pub mod files;
pub mod from_librechat;
pub mod logging;
pub mod mail;
pub mod mcp;
pub mod memory;
pub mod metrics;
pub mod net;
pub mod providers;
pub mod search;
pub mod server;
pub mod shapes;
pub mod web;

/// The version and the commit it was built from, as `--version` shows them.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("LIBRECHAT_GIT_COMMIT"),
    ")"
);
