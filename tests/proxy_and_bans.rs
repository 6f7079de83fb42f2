//! One anonymous client must never lock everyone out: an address ban stops anonymous
//! requests from that address, never another account that is signed in; IPv6 clients are
//! counted per /64; a proxy that is not believed is reported (log and `doctor`); the packaged
//! configuration believes the proxy it is made for.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{ServeProcess, TestServer, librechat, run, text};

const PW: &str = "correct horse battery";

async fn bad_login(server: &TestServer, forwarded: Option<&str>) -> u16 {
    let mut req = server
        .client
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": "nobody@example.org", "password": "wrong password"}));
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn an_address_ban_stops_anonymous_requests_not_other_signed_in_accounts() {
    let server = TestServer::builder()
        .env("LOGIN_MAX", "3")
        .env("BAN_INTERVAL", "2")
        .start()
        .await;
    // Colleagues behind the same address (as behind a proxy without TRUST_PROXY), signed in.
    let bob = server.signed_in("bob@example.org", PW).await;
    // Someone at that address fails to log in until the address is banned.
    let mut statuses = Vec::new();
    while statuses.last() != Some(&403) && statuses.len() < 10 {
        statuses.push(bad_login(&server, None).await);
    }
    assert_eq!(statuses.last(), Some(&403), "{statuses:?}");

    // Bob's session goes on: his requests, and renewing his access token.
    assert_eq!(server.get_as("/api/user", &bob.token).await.status(), 200);
    let renewed = server.refresh(&bob.refresh).await;
    assert_eq!(renewed.status(), 200);
    let token = renewed.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(server.get_as("/api/convos", &token).await.status(), 200);

    // Anonymous requests from the address are refused: logging in, registering.
    let login = server
        .post_json(
            "/api/auth/login",
            json!({"email": "bob@example.org", "password": PW}),
        )
        .await;
    assert_eq!(login.status(), 403);
    assert_eq!(login.json::<Value>().await.unwrap()["type"], "ban");
    let register = server
        .post_json(
            "/api/auth/register",
            json!({"name": "C", "email": "c@example.org", "password": PW, "confirm_password": PW}),
        )
        .await;
    assert_eq!(register.status(), 403);
    // A refresh that proves no account is anonymous too.
    assert_eq!(server.refresh("not-a-token").await.status(), 403);
    server.stop().await;
}

#[tokio::test]
async fn ipv6_clients_are_limited_and_banned_per_64() {
    let server = TestServer::builder()
        .env("TRUST_PROXY", "1")
        .env("LOGIN_MAX", "1")
        .env("BAN_INTERVAL", "2")
        .start()
        .await;
    // New addresses of one /64 share its budget.
    assert_eq!(bad_login(&server, Some("2001:db8:1:2::1")).await, 401);
    assert_eq!(bad_login(&server, Some("2001:db8:1:2::2")).await, 429);
    assert_eq!(
        bad_login(&server, Some("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).await,
        429,
        "the second violation bans the /64"
    );
    assert_eq!(bad_login(&server, Some("2001:db8:1:2::3")).await, 403);
    assert_eq!(
        bad_login(&server, Some("[2001:db8:1:2::4]:5555")).await,
        403
    );
    // Another /64, and IPv4 clients, are counted apart.
    assert_eq!(bad_login(&server, Some("2001:db8:1:3::1")).await, 401);
    assert_eq!(bad_login(&server, Some("203.0.113.7")).await, 401);
    assert_eq!(bad_login(&server, Some("::ffff:203.0.113.8")).await, 401);
    assert_eq!(
        bad_login(&server, Some("203.0.113.8")).await,
        429,
        "an IPv4 address seen as IPv6 is that IPv4 address"
    );
    server.stop().await;

    // `librechat user unban` takes an address of the /64.
    let dir = server_dir_with_ban().await;
    let out = run(librechat(dir.path())
        .args(["user", "unban", "2001:db8:9:9::77"])
        .env("LIBRECHAT_DATA_DIR", dir.path().join("data")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("unbanned"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn one_signed_in_abuser_is_banned_alone_not_the_address() {
    // Nowhere to send answers: the message limiter counts before any provider is asked.
    let yaml = "version: 1.2.8\nendpoints:\n  custom:\n    - name: Nowhere\n      apiKey: k\n      baseURL: 'http://127.0.0.1:9/v1'\n      models:\n        default: [m]\n";
    let server = TestServer::builder()
        .yaml(yaml)
        .env("MESSAGE_IP_MAX", "2")
        .env("CONCURRENT_MESSAGE_MAX", "100")
        .env("BAN_INTERVAL", "2")
        .start()
        .await;
    server.register("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    // Bob, signed in, sends messages from the shared address until he is banned.
    let mut statuses = Vec::new();
    while statuses.last() != Some(&403) && statuses.len() < 10 {
        let resp = server
            .send(
                "POST",
                "/api/agents/chat/Nowhere",
                &bob.token,
                json!({"text": "hi", "model": "m"}),
            )
            .await;
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429, 429, 403]);
    assert_eq!(server.get_as("/api/user", &bob.token).await.status(), 403);
    // The address is not banned: a colleague there still signs in.
    let login = server
        .post_json(
            "/api/auth/login",
            json!({"email": "alice@example.org", "password": PW}),
        )
        .await;
    assert_eq!(login.status(), 200, "{}", login.text().await.unwrap());
    server.stop().await;
}

#[tokio::test]
async fn a_ban_kept_for_a_single_ipv6_address_is_still_found_and_lifted() {
    // A ban made before IPv6 clients were counted per /64 names the address itself.
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let server = TestServer::builder()
        .in_dir(dir.clone())
        .env("TRUST_PROXY", "1")
        .start()
        .await;
    let ban = librechat::db::bans::Ban {
        subject: "ip:2001:db8:5:6::77".into(),
        kind: "logins".into(),
        violation_count: 20,
        expires_at: librechat::db::to_rfc3339(
            time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        ),
    };
    server
        .state
        .db
        .write(move |c| librechat::db::bans::upsert(c, &ban))
        .await
        .unwrap();
    assert_eq!(bad_login(&server, Some("2001:db8:5:6::77")).await, 403);
    // Its neighbours in the /64 were never banned.
    assert_eq!(bad_login(&server, Some("2001:db8:5:6::78")).await, 401);
    server.stop().await;

    let out = run(librechat(dir.path())
        .args(["user", "unban", "2001:db8:5:6::77"])
        .env("LIBRECHAT_DATA_DIR", dir.path().join("data")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("unbanned"),
        "{}",
        text(&out.stdout)
    );
    let server = TestServer::builder()
        .in_dir(dir)
        .env("TRUST_PROXY", "1")
        .start()
        .await;
    assert_eq!(bad_login(&server, Some("2001:db8:5:6::77")).await, 401);
    server.stop().await;
}

/// A data folder whose database holds a ban on 2001:db8:9:9::/64.
async fn server_dir_with_ban() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let dir = std::sync::Arc::new(dir);
    let server = TestServer::builder().in_dir(dir.clone()).start().await;
    server
        .state
        .guard
        .ban(
            "manual",
            0,
            None,
            Some("2001:db8:9:9::1".parse().unwrap()),
            Duration::from_secs(3600),
        )
        .await
        .unwrap();
    server.stop().await;
    std::sync::Arc::try_unwrap(dir).expect("the server let go of the folder")
}

/// POST /api/auth/login to a child server with `X-Forwarded-For`.
fn forwarded_login(base: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .post(format!("{base}/api/auth/login"))
                .header("x-forwarded-for", "203.0.113.7")
                .json(&json!({"email": "x@example.org", "password": "wrong password"}))
                .send()
                .await
                .unwrap();
        });
}

#[test]
fn forwarded_headers_without_trust_proxy_are_reported_once() {
    const WARNING: &str = "forwarding headers but TRUST_PROXY is 0";
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(librechat(dir.path()));
    forwarded_login(&server.base);
    forwarded_login(&server.base);
    let (_, log) = server.signal_and_wait("TERM");
    assert_eq!(log.matches(WARNING).count(), 1, "{log}");

    // Believed: nothing to report.
    let mut cmd = librechat(dir.path());
    cmd.env("TRUST_PROXY", "1");
    let server = ServeProcess::start(cmd);
    forwarded_login(&server.base);
    let (_, log) = server.signal_and_wait("TERM");
    assert!(!log.contains(WARNING), "{log}");
}

#[test]
fn doctor_reports_a_proxy_that_is_not_believed() {
    let dir = tempfile::tempdir().unwrap();
    let doctor = |env: &[(&str, &str)]| {
        let mut cmd = librechat(dir.path());
        cmd.arg("doctor");
        for (k, v) in env {
            cmd.env(k, v);
        }
        text(&run(&mut cmd).stdout)
    };
    let report = doctor(&[("DOMAIN_CLIENT", "https://chat.example.com")]);
    let warning = report
        .lines()
        .find(|l| l.starts_with("warn") && l.contains("TRUST_PROXY is 0"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(warning.contains("https://chat.example.com"), "{warning}");
    assert!(report.contains("fix: set TRUST_PROXY=1"), "{report}");
    // On loopback under a public name: a proxy on the same machine.
    let report = doctor(&[("HOST", "127.0.0.1"), ("DOMAIN_SERVER", "http://chat.lan")]);
    assert!(report.contains("TRUST_PROXY is 0"), "{report}");
    // Believed, or nothing suggesting a proxy: no warning.
    for env in [
        &[
            ("DOMAIN_CLIENT", "https://chat.example.com"),
            ("TRUST_PROXY", "1"),
        ][..],
        &[][..],
    ] {
        let report = doctor(env);
        assert!(
            report.contains("ok    client addresses: TRUST_PROXY="),
            "{report}"
        );
    }
    // Believed while anyone can reach the port: a note.
    let report = doctor(&[("HOST", "0.0.0.0"), ("TRUST_PROXY", "1")]);
    assert!(
        report.contains("note  TRUST_PROXY=1 while listening on 0.0.0.0"),
        "{report}"
    );
}

#[test]
fn the_packaged_configuration_believes_its_proxy() {
    let env = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/config/librechat.env"),
    )
    .unwrap();
    let set: Vec<&str> = env
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    // Listening on loopback only, behind the proxy it tells to add X-Forwarded-For.
    assert!(set.contains(&"HOST=127.0.0.1"), "{env}");
    assert!(set.contains(&"TRUST_PROXY=1"), "{env}");
}
