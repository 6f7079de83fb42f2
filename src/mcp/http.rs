//! Streamable HTTP (`type: streamable-http` or `http`): rmcp's client on the guarded reqwest
//! client, with the server's headers, and every JSON answer and SSE event within
//! [`super::MAX_MESSAGE_BYTES`].

use std::collections::HashMap;

use reqwest::header::{HeaderName, HeaderValue};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

use super::resolve::Resolved;
use super::{McpError, Net};

/// Headers the transport sets itself; configured ones with these names are ignored.
const OWN_HEADERS: [&str; 4] = [
    "accept",
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
];

/// The transport to `server`'s resolved URL, with its resolved headers.
pub fn transport(
    server: &str,
    net: &Net,
    resolved: &Resolved,
) -> Result<StreamableHttpClientTransport<reqwest::Client>, McpError> {
    let url = resolved.url.as_deref().unwrap_or_default();
    let (url, client) = net.client_for(server, url)?;
    let mut headers = HashMap::new();
    for (name, value) in &resolved.headers {
        if OWN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            tracing::warn!(mcp.server = server, header = %name, "a configured header the transport sets itself is ignored");
            continue;
        }
        let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) else {
            return Err(McpError::Connect {
                server: server.to_owned(),
                why: format!("its header `{name}` is not a valid HTTP header"),
            });
        };
        headers.insert(n, v);
    }
    let mut config =
        StreamableHttpClientTransportConfig::with_uri(url.as_str()).custom_headers(headers);
    config.max_json_response_size = super::MAX_MESSAGE_BYTES;
    config.max_sse_event_size = super::MAX_MESSAGE_BYTES;
    Ok(StreamableHttpClientTransport::with_client(client, config))
}
