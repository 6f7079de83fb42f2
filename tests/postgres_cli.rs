//! The admin commands with `DATABASE_URL=postgres://...`: they work on the PostgreSQL database
//! the server uses (no SQLite file is made), a server started on it sees what they wrote, a
//! `DATABASE_URL` naming another engine is refused naming the variable, the SQLite-only `db`
//! commands point to PostgreSQL's own tools, and `db copy` to a PostgreSQL that does not
//! answer fails in one line without printing the password. After the secrets were rotated on
//! every replica, `db accept-secrets` makes the new ones the ones replicas must have.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::{TestServer, assert_clean_failure, librechat, run, run_with_input, text};

const PW: &str = "correct horse battery";

/// `librechat ARGS` in `dir` (data in `dir/data`), with `DATABASE_URL=url`.
fn admin(dir: &Path, url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = librechat(dir);
    cmd.args(args)
        .env("LIBRECHAT_DATA_DIR", dir.join("data"))
        .env("DATABASE_URL", url);
    run_with_input(&mut cmd, stdin)
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[tokio::test]
async fn the_admin_commands_work_on_postgres() {
    let Some(url) = support::postgres::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let said = ok(admin(d, &url, &["db", "migrate"], None));
    assert!(said.contains("schema version"), "{said}");
    assert!(!said.contains("librechat.db"), "{said}");
    let said = ok(admin(
        d,
        &url,
        &[
            "user",
            "create",
            "alice@example.org",
            "--name",
            "Alice",
            "--password-stdin",
            "--admin",
        ],
        Some(&format!("{PW}\n")),
    ));
    assert!(said.contains("role ADMIN"), "{said}");
    ok(admin(
        d,
        &url,
        &["user", "create", "bob@example.org", "--password-stdin"],
        Some(&format!("{PW}\n")),
    ));
    let listed: Value =
        serde_json::from_str(&ok(admin(d, &url, &["user", "list", "--json"], None))).unwrap();
    let emails: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert_eq!(emails, ["alice@example.org", "bob@example.org"]);
    assert_clean_failure(
        &admin(
            d,
            &url,
            &["user", "create", "bob@example.org", "--password-stdin"],
            Some(&format!("{PW}\n")),
        ),
        "already exists",
    );
    ok(admin(d, &url, &["group", "create", "Marketing"], None));
    ok(admin(
        d,
        &url,
        &["group", "add", "Marketing", "bob@example.org"],
        None,
    ));
    let groups = ok(admin(d, &url, &["group", "list"], None));
    assert!(groups.contains("Marketing"), "{groups}");
    let said = ok(admin(
        d,
        &url,
        &["balance", "add", "bob@example.org", "500"],
        None,
    ));
    assert!(said.contains("now has"), "{said}");
    ok(admin(
        d,
        &url,
        &["banner", "set", "Maintenance tonight", "--public"],
        None,
    ));
    let banner = ok(admin(d, &url, &["banner", "show"], None));
    assert!(banner.contains("Maintenance tonight"), "{banner}");
    let agents = ok(admin(d, &url, &["agents", "list"], None));
    assert!(agents.trim().is_empty(), "{agents}");
    // Everything went to PostgreSQL: the data folder has no SQLite database.
    assert!(!d.join("data/librechat.db").exists());

    // A server on the same database (its own data folder) sees it all.
    let server = TestServer::builder()
        .env("DATABASE_URL", &url)
        .start()
        .await;
    assert!(server.state.db.is_postgres());
    let bob = server.login("bob@example.org", PW).await;
    let banner: Value = server.get_json("/api/banner", &bob.token).await;
    assert_eq!(banner["message"], "Maintenance tonight", "{banner}");
    let alice = server.login("alice@example.org", PW).await;
    assert_eq!(alice.user["role"], "ADMIN");
    drop(server);

    // The SQLite-only database commands say where to look instead.
    assert_clean_failure(&admin(d, &url, &["db", "check"], None), "pg_dump");
    assert_clean_failure(
        &admin(d, &url, &["db", "backup", "/tmp/never.db"], None),
        "DATABASE_URL",
    );
}

#[test]
fn a_database_url_for_another_engine_is_refused_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["user", "list"][..],
        &["db", "migrate"],
        &["balance", "list"],
    ] {
        let out = admin(
            dir.path(),
            "mysql://librechat:hunter2@db.internal/librechat",
            args,
            None,
        );
        assert_clean_failure(&out, "DATABASE_URL");
        let err = text(&out.stderr);
        assert!(err.contains("postgres://"), "{err}");
        assert!(
            !err.contains("hunter2"),
            "the password is not printed: {err}"
        );
    }
    assert!(!dir.path().join("data/librechat.db").exists());
}

#[test]
fn db_copy_to_a_postgres_that_does_not_answer_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut migrate = librechat(d);
    migrate
        .args(["db", "migrate"])
        .env("LIBRECHAT_DATA_DIR", d.join("data"));
    assert!(run(&mut migrate).status.success());
    // Nothing listens on port 1.
    let mut copy = librechat(d);
    copy.args([
        "db",
        "copy",
        "--to",
        "postgres://librechat:hunter2@127.0.0.1:1/librechat",
    ])
    .env("LIBRECHAT_DATA_DIR", d.join("data"));
    let out = run(&mut copy);
    assert_clean_failure(&out, "127.0.0.1:1");
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        !said.contains("hunter2"),
        "the password is not printed: {said}"
    );
    // An admin command on that URL fails the same way.
    let out = admin(
        d,
        "postgres://librechat:hunter2@127.0.0.1:1/librechat",
        &["user", "list"],
        None,
    );
    assert_clean_failure(&out, "127.0.0.1:1");
    assert!(!text(&out.stderr).contains("hunter2"));
}

/// Whether a server with `secrets` (over the shared test ones) starts on `url`.
async fn starts_with(url: &str, secrets: &[(&str, &str)]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = TestServer::builder().env("DATABASE_URL", url);
    for (k, v) in secrets {
        builder = builder.env(k, v);
    }
    let settings = builder.settings(dir.path()).unwrap();
    std::fs::create_dir_all(&settings.data_dir).unwrap();
    librechat::server::AppState::init(settings)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn rotated_secrets_are_accepted_once_then_required_of_every_replica() {
    let Some(url) = support::postgres::fresh_database() else {
        return;
    };
    let rotated = [
        (
            "JWT_SECRET",
            "rotated-jwt-secret-0123456789abcdef-after-a-leak",
        ),
        (
            "JWT_REFRESH_SECRET",
            "rotated-refresh-secret-0123456789abcdef-after-a-leak",
        ),
        (
            "CREDS_KEY",
            "aa3f9e1d2b4a6c8e0f1a3b5c7d9e2f4a6b8c0d2e4f6a8b1c3d5e7f9a0b2c4d6e",
        ),
        ("CREDS_IV", "bb1b2c3d4e5f60718293a4b5c6d7e8f9"),
    ];
    // The first replica records the old secrets; one with the rotated ones is refused.
    starts_with(&url, &[]).await.unwrap();
    let refused = starts_with(&url, &rotated).await.unwrap_err();
    assert!(refused.contains("librechat db accept-secrets"), "{refused}");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Not all four given: refused, naming those missing, and nothing changes.
    let mut cmd = librechat(d);
    cmd.args(["db", "accept-secrets"])
        .env("LIBRECHAT_DATA_DIR", d.join("data"))
        .env("DATABASE_URL", &url)
        .env("JWT_SECRET", rotated[0].1);
    assert_clean_failure(
        &run(&mut cmd),
        "JWT_REFRESH_SECRET, CREDS_KEY, CREDS_IV not set",
    );
    assert!(starts_with(&url, &rotated).await.is_err());
    // All four: accepted, and printed nowhere.
    let mut cmd = librechat(d);
    cmd.args(["db", "accept-secrets"])
        .env("LIBRECHAT_DATA_DIR", d.join("data"))
        .env("DATABASE_URL", &url)
        .envs(rotated);
    let said = ok(run(&mut cmd));
    assert!(
        said.contains("are now the ones every replica must have"),
        "{said}"
    );
    assert!(rotated.iter().all(|(_, v)| !said.contains(v)), "{said}");
    starts_with(&url, &rotated).await.unwrap();
    let old = starts_with(&url, &[]).await.unwrap_err();
    assert!(
        old.contains("do not match"),
        "a replica still on the old secrets: {old}"
    );
    // Without PostgreSQL there is nothing to accept.
    let mut cmd = librechat(d);
    cmd.args(["db", "accept-secrets"])
        .env("LIBRECHAT_DATA_DIR", d.join("data"))
        .envs(rotated);
    assert_clean_failure(&run(&mut cmd), "nothing to accept");
}
