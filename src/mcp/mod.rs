//! MCP: tools from Model Context Protocol servers, for agents and plain chats.
//!
//! Servers come from `mcpServers` in librechat.yaml (and, later, from the people who add their
//! own). Each is reached over stdio (a supervised child process), streamable HTTP, SSE or a
//! websocket; its tools join the agent tool loop as `<tool>_mcp_<server>`, LibreChat's names.

pub mod transport;
