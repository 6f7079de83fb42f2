//! Thin handlers, one file per resource; each file offers a `router()` merged in `router.rs`.

pub mod absent;
pub mod admin;
pub mod admin_groups;
pub mod auth;
pub mod avatar;
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
pub mod memories;
pub mod messages;
pub mod oauth;
mod oauth_flow;
pub mod openapi;
pub mod paging;
pub mod permissions;
pub mod presets;
pub mod projects;
mod prompt_shapes;
pub mod prompts;
pub mod render;
pub mod roles;
pub mod search;
pub mod shares;
pub mod tags;
pub mod two_factor;
pub mod user;

pub use crate::chat::input::reject_deep;
