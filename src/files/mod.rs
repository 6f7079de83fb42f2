//! Files people upload: where the bytes live ([`storage`]) and the housekeeping that keeps the
//! storage and the `files` table in step ([`sweep`]), and the chunks file search indexes
//! ([`chunks`]).

pub mod avatar;
pub mod chunks;
pub mod documents;
pub mod embeddings;
pub mod images;
pub mod intake;
pub mod kinds;
pub mod storage;
pub mod sweep;
pub mod text;

pub use storage::{Incoming, PutError, Received, Storage};
