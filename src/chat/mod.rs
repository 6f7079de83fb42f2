//! The chat engine. So far: the message tree and its forks; providers, streaming and titles
//! join here with the chat engine issue.

pub mod export;
pub mod import;
pub mod tokens;
pub mod tree;
