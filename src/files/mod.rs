//! Files people upload: where the bytes live ([`storage`]) and the housekeeping that keeps the
//! storage and the `files` table in step ([`sweep`]).

pub mod storage;
pub mod sweep;

pub use storage::{Incoming, PutError, Received, Storage};
