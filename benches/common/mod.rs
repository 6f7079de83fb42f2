//! What the benchmark programs share: a minimal HTTP client for the server under test.

use std::io::{Read, Write};
use std::net::TcpStream;

/// One HTTP/1.1 request to 127.0.0.1:`port`; the whole response, or None if the server is not up.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).ok()?;
    Some(String::from_utf8_lossy(&resp).into_owned())
}
