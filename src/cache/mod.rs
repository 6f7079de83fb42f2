//! In-process replacements for LibreChat's Redis-backed stores: rate limiters, violation
//! scores and bans. Declared once here; each route only names the [`LimitSpec`] it uses.
//!
//! [`LimitSpec`]: crate::config::LimitSpec

mod guard;
mod limiter;

pub use guard::{BanNotice, Guard};
pub use limiter::{Limited, RateLimiter};
