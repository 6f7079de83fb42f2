//! `librechat user ...` and `librechat terms reset` against a data folder, also while the
//! server runs on it.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{ServeProcess, assert_clean_failure, librechat, run, run_with_input, text};

const PW: &str = "correct horse battery";

fn user(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut cmd = librechat(dir);
    cmd.arg("user").args(args);
    run_with_input(&mut cmd, stdin)
}

/// Blocking JSON POST/GET against a child server.
fn call(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut req = client.request(method.parse().unwrap(), url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    })
}

#[test]
fn create_list_set_role_reset_password_delete() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        run(librechat(dir.path()).args(["db", "migrate"]))
            .status
            .success()
    );

    let out = user(
        dir.path(),
        &[
            "create",
            "alice@example.org",
            "--name",
            "Alice",
            "--password-stdin",
            "--admin",
        ],
        Some(&format!("{PW}\n")),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("role ADMIN"));
    let out = user(
        dir.path(),
        &[
            "create",
            "bob@example.org",
            "--password-stdin",
            "--email-verified",
        ],
        Some(&format!("{PW}\n")),
    );
    assert!(out.status.success());
    assert_clean_failure(
        &user(
            dir.path(),
            &["create", "bob@example.org", "--password-stdin"],
            Some(&format!("{PW}\n")),
        ),
        "already exists",
    );
    assert_clean_failure(
        &user(
            dir.path(),
            &["create", "carol@example.org", "--password-stdin"],
            Some("short\n"),
        ),
        "at least 8",
    );
    assert_clean_failure(
        &user(
            dir.path(),
            &["create", "not-an-email", "--password-stdin"],
            Some(&format!("{PW}\n")),
        ),
        "valid email",
    );
    assert_clean_failure(
        &user(dir.path(), &["create", "carol@example.org"], None),
        "--password-stdin",
    );

    let table = text(&user(dir.path(), &["list"], None).stdout);
    assert!(
        table.starts_with("ID")
            && table.contains("alice@example.org")
            && table.contains("bob@example.org"),
        "{table}"
    );
    let listed: Value =
        serde_json::from_str(&text(&user(dir.path(), &["list", "--json"], None).stdout)).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[1]["email"], "bob@example.org");
    assert_eq!(listed[1]["role"], "USER");
    assert_eq!(listed[1]["emailVerified"], true);
    assert_eq!(
        listed[1]["name"], "bob",
        "name defaults to the email's local part"
    );
    assert!(
        !listed.to_string().contains("argon2"),
        "no hashes in listings"
    );

    assert!(
        user(dir.path(), &["set-role", "bob@example.org", "admin"], None)
            .status
            .success()
    );
    assert_clean_failure(
        &user(dir.path(), &["set-role", "bob@example.org", "OWNER"], None),
        "no role OWNER",
    );
    assert_clean_failure(
        &user(
            dir.path(),
            &["set-role", "nobody@example.org", "USER"],
            None,
        ),
        "no account",
    );
    let listed: Value =
        serde_json::from_str(&text(&user(dir.path(), &["list", "--json"], None).stdout)).unwrap();
    assert_eq!(listed[1]["role"], "ADMIN");

    // The new password works against the real server, the old one no longer does.
    let out = user(
        dir.path(),
        &["reset-password", "bob@example.org", "--password-stdin"],
        Some("a brand new passphrase\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = ServeProcess::start(librechat(dir.path()));
    let login = |pw: &str| {
        call(
            "POST",
            &format!("{}/api/auth/login", server.base),
            None,
            Some(json!({"email": "bob@example.org", "password": pw})),
        )
    };
    assert_eq!(login(PW).0, 401);
    assert_eq!(login("a brand new passphrase").0, 200);
    drop(server);

    assert_clean_failure(
        &user(dir.path(), &["delete", "bob@example.org"], None),
        "--yes",
    );
    assert!(
        user(dir.path(), &["delete", "bob@example.org", "--yes"], None)
            .status
            .success()
    );
    let listed: Value =
        serde_json::from_str(&text(&user(dir.path(), &["list", "--json"], None).stdout)).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_clean_failure(
        &user(dir.path(), &["delete", "bob@example.org", "--yes"], None),
        "no account",
    );
}

#[test]
fn a_reset_password_ends_the_running_servers_sessions_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(librechat(dir.path()));
    let base = server.base.clone();
    let (status, _) = call(
        "POST",
        &format!("{base}/api/auth/register"),
        None,
        Some(
            json!({"name": "Bob", "email": "bob@example.org", "password": PW, "confirm_password": PW}),
        ),
    );
    assert_eq!(status, 200);
    let (status, body) = call(
        "POST",
        &format!("{base}/api/auth/login"),
        None,
        Some(json!({"email": "bob@example.org", "password": PW})),
    );
    assert_eq!(status, 200);
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        call("GET", &format!("{base}/api/user"), Some(&token), None).0,
        200
    );
    let out = user(
        dir.path(),
        &["reset-password", "bob@example.org", "--password-stdin"],
        Some("a brand new passphrase\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // No cache to wait for: the next request already finds the session gone.
    assert_eq!(
        call("GET", &format!("{base}/api/user"), Some(&token), None).0,
        401
    );
}

#[test]
fn ban_and_unban_reach_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    // Polling the login route below must not trip its limiter.
    let mut cmd = librechat(dir.path());
    cmd.env("LOGIN_MAX", "1000");
    let server = ServeProcess::start(cmd);
    let base = server.base.clone();
    let (status, _) = call(
        "POST",
        &format!("{base}/api/auth/register"),
        None,
        Some(
            json!({"name": "Mallory", "email": "mallory@example.org", "password": PW, "confirm_password": PW}),
        ),
    );
    assert_eq!(status, 200);
    let login = || {
        call(
            "POST",
            &format!("{base}/api/auth/login"),
            None,
            Some(json!({"email": "mallory@example.org", "password": PW})),
        )
    };
    let (status, body) = login();
    assert_eq!(status, 200);
    let token = body["token"].as_str().unwrap().to_owned();

    let out = user(dir.path(), &["ban", "mallory@example.org", "30"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The ban ended the sessions: the access token is refused at once.
    let (status, _) = call("GET", &format!("{base}/api/user"), Some(&token), None);
    assert!(status == 401 || status == 403, "{status}");
    // The server trusts a ban lookup for a few seconds; wait (bounded) until it asks again.
    let mut status = 0;
    for _ in 0..600 {
        status = call("GET", &format!("{base}/api/user"), Some(&token), None).0;
        if status == 403 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        status, 403,
        "the running server honours a ban made by the CLI"
    );
    assert_clean_failure(
        &user(dir.path(), &["ban", "mallory@example.org", "0"], None),
        "between 1 and",
    );

    assert!(
        user(dir.path(), &["unban", "mallory@example.org"], None)
            .status
            .success()
    );
    let mut status = 0;
    for _ in 0..600 {
        status = login().0;
        if status == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status, 200, "unbanned");
    assert!(
        text(&user(dir.path(), &["unban", "mallory@example.org"], None).stdout).contains("no ban")
    );

    // An invite prints a registration link whose token registers that email (the closed-
    // registration case is covered in tests/accounts.rs).
    let out = user(dir.path(), &["invite", "carol@example.org"], None);
    let link = text(&out.stdout).trim().to_owned();
    assert!(
        link.starts_with("http://localhost:3080/register?token="),
        "{link}"
    );
    let invite = link.split("token=").nth(1).unwrap();
    let (status, _) = call(
        "POST",
        &format!("{base}/api/auth/register"),
        None,
        Some(
            json!({"name": "Carol", "email": "carol@example.org", "password": PW, "confirm_password": PW, "token": invite}),
        ),
    );
    assert_eq!(status, 200);

    let stats = text(&user(dir.path(), &["stats"], None).stdout);
    assert!(
        stats.contains("CONVERSATIONS")
            && stats.contains("ACTIVE SESSIONS")
            && stats.contains("carol@example.org"),
        "{stats}"
    );
    let out = run(librechat(dir.path()).args(["terms", "reset"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("user(s) will be asked"));
    // Nothing secret reached the log: not the password, the tokens, or the invite.
    let (exit, log) = server.signal_and_wait("TERM");
    assert!(exit.success());
    for secret in [PW, token.as_str(), invite] {
        assert!(!log.contains(secret), "logged: {secret}");
    }
    assert!(
        log.contains("user registered"),
        "the log does record events: {log}"
    );
}

#[test]
fn user_commands_need_a_database() {
    let dir = tempfile::tempdir().unwrap();
    assert_clean_failure(&user(dir.path(), &["list"], None), "no database");
}

#[test]
fn bans_on_addresses_are_listed_and_lifted() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        run(librechat(dir.path()).args(["db", "migrate"]))
            .status
            .success()
    );
    let out = user(
        dir.path(),
        &["create", "bob@example.org", "--password-stdin"],
        Some(&format!("{PW}\n")),
    );
    assert!(out.status.success());
    assert!(
        user(dir.path(), &["ban", "bob@example.org", "60"], None)
            .status
            .success()
    );
    // An automatic ban on an address, as the server writes it.
    let conn = rusqlite::Connection::open(dir.path().join("data/librechat.db")).unwrap();
    conn.execute(
        "INSERT INTO bans (subject, kind, violation_count, expires_at, created_at)
         VALUES ('ip:203.0.113.9', 'logins', 20, '2999-01-01T00:00:00.000Z', 'now')",
        [],
    )
    .unwrap();
    let list = text(&user(dir.path(), &["bans"], None).stdout);
    assert!(
        list.contains("bob@example.org") && list.contains("203.0.113.9") && list.contains("logins"),
        "{list}"
    );
    assert!(
        text(&user(dir.path(), &["unban", "203.0.113.9"], None).stdout)
            .contains("unbanned 203.0.113.9")
    );
    assert!(
        text(&user(dir.path(), &["unban", "bob@example.org"], None).stdout).contains("unbanned")
    );
    let list = text(&user(dir.path(), &["bans"], None).stdout);
    assert_eq!(list.lines().count(), 1, "only the header is left: {list}");
    assert_clean_failure(
        &user(dir.path(), &["ban", "bob@example.org", "9999999999"], None),
        "ten years",
    );
}

#[test]
fn unlink_forgets_one_identity_at_a_provider() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        run(librechat(dir.path()).args(["db", "migrate"]))
            .status
            .success()
    );
    let out = user(
        dir.path(),
        &["create", "alice@example.org", "--password-stdin", "--admin"],
        Some(&format!("{PW}\n")),
    );
    assert!(out.status.success());
    // Bound at two providers, as single sign-on leaves an account.
    let db = dir.path().join("data/librechat.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE users SET openid_id = 'old-subject', saml_id = 'alice@idp'",
        [],
    )
    .unwrap();
    let identities = || {
        conn.query_row("SELECT openid_id, saml_id FROM users", [], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
            ))
        })
        .unwrap()
    };

    let out = user(dir.path(), &["unlink", "alice@example.org", "OpenID"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("no longer linked to OpenID subject old-subject"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(identities(), (None, Some("alice@idp".to_owned())));
    // Nothing left to forget there: said, not an error.
    let out = user(dir.path(), &["unlink", "alice@example.org", "openid"], None);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("has no OpenID identity"));
    assert_clean_failure(
        &user(
            dir.path(),
            &["unlink", "alice@example.org", "myspace"],
            None,
        ),
        "no provider myspace (providers: openid, saml, ldap, google, github, discord, facebook, apple)",
    );
    assert_clean_failure(
        &user(dir.path(), &["unlink", "nobody@example.org", "saml"], None),
        "no account with the email nobody@example.org",
    );
    assert_eq!(identities(), (None, Some("alice@idp".to_owned())));
}
