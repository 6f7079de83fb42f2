//! The chat engine. So far: the message tree and its forks; providers, streaming and titles
//! join here with the chat engine issue.

pub mod context;
pub mod engine;
pub mod export;
pub mod import;
pub mod jobs;
pub mod render;
pub mod tokens;
pub mod tree;
