//! The chat engine: the message tree and its forks, the jobs that generate answers and the
//! subscribers that follow them, the context sent to the model, token counts, rendering,
//! import and export.

pub mod artifacts;
pub mod attachments;
pub mod context;
pub mod engine;
pub mod export;
pub mod follow;
pub mod import;
pub mod input;
pub mod jobs;
pub mod memories;
pub mod memory_agent;
pub mod present;
pub mod render;
pub mod replay;
mod ring;
pub mod start;
pub mod title;
pub mod tokens;
pub mod tool_auth;
pub mod tree;
pub mod variables;
