//! Cross-cutting request handling, applied in `router.rs`.

pub mod auth;
pub mod client;
pub mod limits;
pub mod maybe_user;
pub mod permission;
pub mod proof;
pub mod security;
pub mod slots;

pub use auth::{AdminUser, AuthSession, AuthUser};
pub use client::Client;
pub use maybe_user::MaybeUser;
pub use permission::Permitted;
pub use proof::RecentProof;
