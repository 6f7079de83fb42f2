//! The data folder: created on first start, reused after, refused when it holds a newer schema.

mod support;

use std::os::unix::fs::PermissionsExt;

use librechat::config::SECRETS_FILE;
use librechat::db::{self, DbError};
use librechat::server::AppState;
use support::TestServer;

#[tokio::test]
async fn first_start_creates_the_data_folder_with_private_secrets() {
    let server = TestServer::start().await;
    let data = server.data_dir();
    assert!(data.join("librechat.db").is_file());
    assert!(data.join("search").is_dir());
    assert!(data.join("files").is_dir());
    let secrets = data.join(SECRETS_FILE);
    let mode = std::fs::metadata(&secrets).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "secrets must be private");
    for (path, expected) in [(data.clone(), 0o700), (data.join("librechat.db"), 0o600)] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, expected, "{} must be private", path.display());
    }
    let text = std::fs::read_to_string(&secrets).unwrap();
    for key in [
        "JWT_SECRET=",
        "JWT_REFRESH_SECRET=",
        "CREDS_KEY=",
        "CREDS_IV=",
    ] {
        assert!(text.contains(key), "{key} missing");
    }
    // The database is in WAL mode with foreign keys enforced.
    let (mode, fk): (String, i64) = server
        .state
        .db
        .read(|c| {
            Ok((
                c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(fk, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_restart_reuses_secrets_and_identity_and_migrates_once() {
    let first = TestServer::start().await;
    let secrets = first.state.settings.secrets.clone();
    let instance = first.state.instance_id.clone();
    let dir = first.stop().await;

    let second = TestServer::builder().in_dir(dir).start().await;
    let again = &second.state.settings.secrets;
    assert_eq!(again.jwt_secret.value, secrets.jwt_secret.value);
    assert_eq!(
        again.jwt_refresh_secret.value,
        secrets.jwt_refresh_secret.value
    );
    assert_eq!(again.creds_key.value, secrets.creds_key.value);
    assert_eq!(again.creds_iv.value, secrets.creds_iv.value);
    assert_eq!(second.state.instance_id, instance);
    let version = second
        .state
        .db
        .read(|c| db::schema_version(c.as_sqlite().expect("SQLite")))
        .await
        .unwrap();
    assert_eq!(version, db::SCHEMA_VERSION);
    second.stop().await;
}

#[tokio::test]
async fn secrets_from_the_environment_win_over_stored_ones() {
    let first = TestServer::start().await;
    let dir = first.stop().await;
    let second = TestServer::builder()
        .in_dir(dir)
        .env("JWT_SECRET", "operator-chosen-signing-key-0123456789")
        .start()
        .await;
    assert_eq!(
        second.state.settings.secrets.jwt_secret.value.expose(),
        "operator-chosen-signing-key-0123456789"
    );
    second.stop().await;
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let conn = rusqlite::Connection::open(data.join("librechat.db")).unwrap();
    conn.execute_batch("PRAGMA user_version = 999").unwrap();
    drop(conn);
    let settings = support::Builder::default().settings(dir.path()).unwrap();
    let err = match AppState::init(settings).await {
        Err(e) => e,
        Ok(_) => panic!("a newer database was accepted"),
    };
    assert!(matches!(err, DbError::TooNew { found: 999, .. }), "{err}");
    // Nothing was changed: the version is still the newer one.
    let conn = rusqlite::Connection::open(data.join("librechat.db")).unwrap();
    assert_eq!(db::schema_version(&conn).unwrap(), 999);
}
