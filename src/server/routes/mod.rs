//! Thin handlers, one file per resource; each file offers a `router()` merged in `router.rs`.

pub mod auth;
pub mod config;
pub mod convos;
pub mod forks;
pub mod health;
pub mod messages;
pub mod presets;
pub mod roles;
pub mod search;
pub mod shares;
pub mod tags;
pub mod two_factor;
pub mod user;
