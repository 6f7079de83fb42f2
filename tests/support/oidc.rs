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

/// Whether an OpenID provider answers discovery on `port`.
fn discovery_answers(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let request =
        format!("GET /.well-known/openid-configuration HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    reply.contains(&format!("\"issuer\": \"http://127.0.0.1:{port}\""))
        || reply.contains(&format!("\"issuer\":\"http://127.0.0.1:{port}\""))
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
        // One start at a time in this test binary: two tests that picked the same free port
        // would otherwise both see the first provider to listen on it as their own.
        let _one = super::PEER_START.lock().unwrap_or_else(|e| e.into_inner());
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
                // Ours answering, not something else that took the port meanwhile.
                if discovery_answers(port) && matches!(child.try_wait(), Ok(None)) {
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

impl OidcProvider {
    /// Sets what the provider says of `sub` from now on (oidc-provider-mock's
    /// `PUT /users/{sub}`).
    pub async fn set_claims(&self, sub: &str, claims: serde_json::Value) {
        let resp = super::sso::no_redirects()
            .put(format!("{}/users/{sub}", self.issuer))
            .json(&claims)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
    }
}

/// Goes from `server` to the provider and back as `sub` in a new browser: the callback URL the
/// provider sent back, and that browser's sign-in cookie.
pub async fn to_provider_and_back(server: &super::TestServer, sub: &str) -> (String, String) {
    use super::sso::{location, no_redirects, sign_in_cookie};
    let http = no_redirects();
    let start = http.get(server.url("/oauth/openid")).send().await.unwrap();
    assert_eq!(start.status(), 302);
    let cookie = sign_in_cookie(&start);
    let authorize = location(&start);
    assert!(
        authorize.contains("nonce=") && authorize.contains("state="),
        "{authorize}"
    );
    let resp = http
        .post(&authorize)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("sub={sub}"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let back = location(&resp);
    assert!(back.contains("/oauth/openid/callback?"), "{back}");
    (back, cookie)
}
