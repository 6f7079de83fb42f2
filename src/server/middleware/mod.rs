//! Cross-cutting request handling, applied in `router.rs`.

pub mod client;
pub mod limits;
pub mod security;

pub use client::Client;
