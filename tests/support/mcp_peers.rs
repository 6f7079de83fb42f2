//! MCP servers for tests/mcp_transports.rs: the real ones (npm's reference server, PyPI's
//! `mcp-server-time` behind tests/mcp/ws_bridge.py), started on free loopback ports and killed
//! when dropped, and hostile ones written here (an SSE stream and a websocket that say what
//! they are told).

use super::python;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};

/// Held while a peer picks a free port and starts listening on it.
static START: Mutex<()> = Mutex::new(());

/// A server process, killed when dropped.
pub struct Peer {
    child: Child,
    pub port: u16,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mcp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp")
}

/// A note and `None`, or a failure when `LIBRECHAT_REQUIRE_PEERS` says peers must be there.
fn skip<T>(why: &str) -> Option<T> {
    assert!(
        !super::smtp::peers_required(),
        "a required peer is missing: {why}"
    );
    eprintln!("skipped: {why}");
    None
}

/// npm's reference server (`mcp-server-everything`, installed by `npm ci` in tests/mcp), or
/// [`skip`]'s `None` when it is not there.
pub fn everything_bin() -> Option<PathBuf> {
    let bin = mcp_dir().join("node_modules/.bin/mcp-server-everything");
    if bin.exists() {
        Some(bin)
    } else {
        skip("tests/mcp/node_modules is missing (npm ci in tests/mcp)")
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Peer {
    /// The reference server in `mode` (`sse` or `streamableHttp`), listening on a free port.
    pub fn everything(mode: &str) -> Option<Peer> {
        let bin = everything_bin()?;
        let _one = START.lock().unwrap_or_else(|e| e.into_inner());
        // A port taken between its release and the server's bind makes the server exit:
        // then another is tried.
        for _ in 0..10 {
            let port = free_port();
            let child = Command::new("node")
                .arg(&bin)
                .arg(mode)
                .env("PORT", port.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let Ok(child) = child else {
                return skip("node is not installed");
            };
            let mut peer = Peer { child, port };
            if peer.listening() {
                return Some(peer);
            }
        }
        panic!("the reference MCP server did not start");
    }

    /// tests/mcp/ws_bridge.py in front of `python ARGS` (an MCP server over stdio).
    pub fn ws_bridge(args: &[&str]) -> Option<Peer> {
        let ok = Command::new(python())
            .args(["-c", "import websockets, mcp_server_time"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return skip("websockets or mcp-server-time is missing from LIBRECHAT_TEST_PYTHON");
        }
        let mut child = Command::new(python())
            .arg(mcp_dir().join("ws_bridge.py"))
            .arg("--")
            .arg(python())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python runs");
        // Its first line is its port, printed once it listens.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the bridge printed its port");
        Some(Peer { child, port })
    }

    /// Polls until the server accepts connections; false when it exited first.
    fn listening(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

/// An SSE server on a free port: `GET /sse` sends `chunks` and then stays open; `POST
/// /message` accepts anything. Returns its port.
pub async fn hostile_sse(chunks: Vec<String>) -> u16 {
    use axum::body::Body;
    use axum::routing::{get, post};
    let app = axum::Router::new()
        .route(
            "/sse",
            get(move || {
                let chunks = chunks.clone();
                async move {
                    let body = futures_util::stream::iter(chunks)
                        .map(Ok::<_, std::io::Error>)
                        .chain(futures_util::stream::pending());
                    (
                        [("content-type", "text/event-stream")],
                        Body::from_stream(body),
                    )
                }
            }),
        )
        .route(
            "/message",
            post(|| async { axum::http::StatusCode::ACCEPTED }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// A websocket server on a free port (subprotocol `mcp`) that answers the first message with
/// a text frame of `size` bytes, then stays open. Returns its port.
pub async fn hostile_ws(size: usize) -> u16 {
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                // tungstenite's callback type, not ours.
                #[allow(clippy::result_large_err)]
                let pick = |_: &Request, mut r: Response| {
                    r.headers_mut()
                        .insert("sec-websocket-protocol", "mcp".parse().unwrap());
                    Ok(r)
                };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, pick).await else {
                    return;
                };
                if ws.next().await.is_some() {
                    let _ = ws.send(Message::text("x".repeat(size))).await;
                }
                while ws.next().await.is_some() {}
            });
        }
    });
    port
}

/// A TLS server on a free port whose certificate (made with the openssl tool) is self-signed
/// for 127.0.0.1: what a `wss://` client must refuse. Returns its port, or `None` (after a note)
/// without openssl.
pub async fn self_signed_tls() -> Option<u16> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = tempfile::tempdir().unwrap();
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-keyout", "key.pem", "-out", "cert.pem"])
        .current_dir(dir.path())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        return skip("the openssl tool is missing");
    }
    let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(dir.path().join("cert.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.path().join("key.pem")).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = acceptor.accept(tcp).await;
        }
    });
    Some(port)
}
