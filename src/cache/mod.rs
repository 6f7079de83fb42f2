//! LibreChat's Redis-backed stores: rate limiters, violation scores and bans, in process by
//! default, or shared by several replicas on Redis ([`shared`], `USE_REDIS`). Declared once
//! here; each route only names the [`LimitSpec`] it uses.
//!
//! [`LimitSpec`]: crate::config::LimitSpec

mod address;
pub mod bans;
mod guard;
mod limiter;
pub mod shared;

pub use address::{client_key, parse_client_key};

pub use guard::{BanNotice, Guard, ip_subject};
pub use limiter::{Limited, RateLimiter};
