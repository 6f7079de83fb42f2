//! Cross-cutting request handling, applied in `router.rs`.

pub mod auth;
pub mod client;
pub mod limits;
pub mod security;

pub use auth::{AdminUser, AuthUser, require_permission};
pub use client::Client;
