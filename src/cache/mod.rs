//! In-process replacements for LibreChat's Redis-backed stores: rate limiters, violation
//! scores and bans. Declared once here; each route only names the [`LimitSpec`] it uses.
//!
//! [`LimitSpec`]: crate::config::LimitSpec

mod address;
mod guard;
mod limiter;

pub use address::{client_key, parse_client_key};

pub use guard::{BanNotice, Guard, ip_subject};
pub use limiter::{Limited, RateLimiter};
