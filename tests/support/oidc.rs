//! A real OpenID Connect provider for tests: PyPI's `oidc-provider-mock` (from
//! `$LIBRECHAT_TEST_PYTHON`'s environment) on a free loopback port, with users given as claims.
//! Its authorization endpoint signs in whoever the form names (`sub`), so tests drive the
//! whole code flow with plain HTTP. Skipped with a note where it is missing, unless
//! `LIBRECHAT_REQUIRE_PEERS=1`.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::smtp::peers_required;

pub struct OidcProvider {
    child: Child,
    /// The issuer: `http://127.0.0.1:PORT`.
    pub issuer: String,
}

fn executable() -> Option<PathBuf> {
    let python = std::env::var("LIBRECHAT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let bin = PathBuf::from(&python).parent()?.join("oidc-provider-mock");
    bin.exists().then_some(bin)
}

impl OidcProvider {
    /// Starts the provider with these users (JSON claims, each with `sub`).
    pub fn start(users: &[serde_json::Value]) -> Option<Self> {
        let Some(bin) = executable() else {
            assert!(
                !peers_required(),
                "oidc-provider-mock is required (LIBRECHAT_REQUIRE_PEERS=1) but is not installed next to LIBRECHAT_TEST_PYTHON"
            );
            eprintln!(
                "skipped: oidc-provider-mock is not installed (pip install oidc-provider-mock, or run .ci/run)"
            );
            return None;
        };
        for _ in 0..10 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut cmd = Command::new(&bin);
            cmd.args([
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "--require-nonce",
                "true",
            ]);
            for u in users {
                cmd.args(["--user-claims", &u.to_string()]);
            }
            let mut child = cmd
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn oidc-provider-mock");
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(Self {
                        child,
                        issuer: format!("http://127.0.0.1:{port}"),
                    });
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("oidc-provider-mock did not start");
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
