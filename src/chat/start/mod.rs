//! Starting a chat turn: the request as LibreChat's client sends it, read and checked.

mod request;

pub use request::{StartRequest, Unused};
