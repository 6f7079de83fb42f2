//! Starting a chat turn: the request as LibreChat's client sends it, read and checked, and
//! the turn's starting point saved.

mod error;
mod keys;
mod prepare;
mod request;

pub use error::StartError;
pub use keys::{UserValues, user_values};
pub use prepare::{Again, Prepare, PreparedTurn, checked_id, prepare};
pub use request::{StartRequest, Unused};
