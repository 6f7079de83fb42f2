//! The data in PostgreSQL (`DATABASE_URL`), against a real PostgreSQL started for this test
//! binary: a server signs people up, chats and lists from it; a second server on another data
//! folder sees the same data; replicas starting together migrate once; and `librechat db copy`
//! moves a SQLite deployment over, verified, after which the same person signs in from
//! PostgreSQL.

mod support;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

/// A fresh database on the shared cluster, or `None` (skipped) when PostgreSQL is not
/// installed and peers are not required.
fn database() -> Option<String> {
    support::postgres::fresh_database()
}

async fn server_on(fake: &FakeOpenAi, url: Option<&str>) -> TestServer {
    let mut b = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .env("LIMIT_MESSAGE_IP", "false");
    // Empty: SQLite in the data folder, even under LIBRECHAT_TEST_DATABASE=postgres.
    b = b.env("DATABASE_URL", url.unwrap_or(""));
    b.start().await
}

async fn conversations(server: &TestServer, s: &Session) -> Vec<Value> {
    let page: Value = server.get_json("/api/convos?limit=25", &s.token).await;
    page["conversations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_server_on_postgres_keeps_its_data_there() {
    let Some(url) = database() else { return };
    let fake = FakeOpenAi::start().await;
    let a = server_on(&fake, Some(&url)).await;
    assert!(a.state.db.is_postgres());
    let s = a.signed_in("alice@example.org", PW).await;
    let done = a
        .chat(&s, "openAI", json!({"text": "hi there", "model": "gpt-4o"}))
        .await;
    assert_eq!(done["responseMessage"]["text"], "Echo: hi there");
    let convo = done["conversation"]["conversationId"]
        .as_str()
        .expect("a conversation id")
        .to_owned();
    let listed = conversations(&a, &s).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["conversationId"], convo.as_str());
    let messages: Value = a
        .get_json(&format!("/api/messages/{convo}"), &s.token)
        .await;
    assert_eq!(messages.as_array().map(Vec::len), Some(2), "{messages}");

    // Another replica, with its own (empty) data folder, serves the same person and data.
    let b = server_on(&fake, Some(&url)).await;
    let s2 = b.login("alice@example.org", PW).await;
    let seen = conversations(&b, &s2).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["conversationId"], convo.as_str());
    // Someone else sees none of it.
    let bob = b.signed_in("bob@example.org", PW).await;
    assert!(conversations(&b, &bob).await.is_empty());
    let resp = b
        .get_as(&format!("/api/messages/{convo}"), &bob.token)
        .await;
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(
        body.as_array().is_none_or(Vec::is_empty),
        "a stranger read the messages: {body}"
    );
    // Nothing was written to the data folders' SQLite files.
    assert!(!a.data_dir().join("librechat.db").exists());
    assert!(!b.data_dir().join("librechat.db").exists());
    // Ready names the database as answering.
    let ready: Value = a.get("/ready").await.json().await.unwrap();
    assert_eq!(ready["database"], "ok", "{ready}");
}

#[tokio::test]
async fn replicas_starting_together_migrate_once() {
    let Some(url) = database() else { return };
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || librechat::db::Db::open_postgres(&url).map(|(_, n)| n))
        })
        .collect();
    let applied: Vec<usize> = runs
        .into_iter()
        .map(|t| t.join().unwrap().expect("opens"))
        .collect();
    assert_eq!(applied.iter().filter(|n| **n > 0).count(), 1, "{applied:?}");
}

#[tokio::test]
async fn db_copy_moves_a_sqlite_deployment_over_and_proves_it() {
    let Some(url) = database() else { return };
    // The test cluster trusts everyone; the password is there to be kept out of the output.
    let url = url.replacen("postgres@", "postgres:secret@", 1);
    let fake = FakeOpenAi::start().await;
    let sqlite = server_on(&fake, None).await;
    let s = sqlite.signed_in("carol@example.org", PW).await;
    let done = sqlite
        .chat(&s, "openAI", json!({"text": "keep me", "model": "gpt-4o"}))
        .await;
    let convo = done["conversation"]["conversationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = sqlite
        .send("POST", "/api/tags", &s.token, json!({"tag": "Keep"}))
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let dir = sqlite.stop().await;
    let data = dir.path().join("data");
    // Many more rows than one INSERT carries (the copy sends them in batches): 1,200 more
    // messages, and as many rows the search outbox's trigger queues for them.
    let file = rusqlite::Connection::open(data.join("librechat.db")).unwrap();
    let added = file
        .execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
             INSERT INTO messages (message_id, conversation_id, user_id, parent_message_id,
                 sender, text, created_at, updated_at)
             SELECT 'bulk-' || i, m.conversation_id, m.user_id, m.message_id, 'User',
                 'bulk note ' || i, m.created_at, m.updated_at
             FROM n, (SELECT * FROM messages LIMIT 1) m",
            [],
        )
        .unwrap();
    assert_eq!(added, 1200);
    drop(file);

    let out = support::run(
        support::librechat(dir.path())
            .args(["db", "copy", "--to", &url])
            .env("LIBRECHAT_DATA_DIR", &data),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("counts and checksums match"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("messages ") && l.contains(" 1202 rows")),
        "{stdout}"
    );
    assert!(
        !stdout.contains("secret"),
        "the URL's password is not printed"
    );

    // A second copy into the same (no longer empty) database is refused.
    let again = support::run(
        support::librechat(dir.path())
            .args(["db", "copy", "--to", &url])
            .env("LIBRECHAT_DATA_DIR", &data),
    );
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already has data"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // The same person signs in from PostgreSQL and finds the conversation and the bookmark.
    let pg = server_on(&fake, Some(&url)).await;
    let s = pg.login("carol@example.org", PW).await;
    let listed = conversations(&pg, &s).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["conversationId"], convo.as_str());
    let tags: Value = pg.get_json("/api/tags", &s.token).await;
    assert!(
        tags.as_array()
            .is_some_and(|t| t.iter().any(|t| t["tag"] == "Keep")),
        "{tags}"
    );
    // New rows get new ids past the copied ones (identity counters moved on).
    let more = pg
        .chat(&s, "openAI", json!({"text": "and more", "model": "gpt-4o"}))
        .await;
    assert_eq!(more["responseMessage"]["text"], "Echo: and more");
}

#[tokio::test]
async fn a_replica_with_other_secrets_is_refused() {
    let Some(url) = database() else { return };
    let fake = FakeOpenAi::start().await;
    // The first replica records its secrets' fingerprints.
    let a = server_on(&fake, Some(&url)).await;
    let s = a.signed_in("dan@example.org", PW).await;
    // One given another signing key would refuse A's tokens (and A its): it does not start.
    let dir = tempfile::tempdir().unwrap();
    let settings = TestServer::builder()
        .env("DATABASE_URL", &url)
        .env(
            "JWT_SECRET",
            "another-replicas-signing-key-0123456789abcdef",
        )
        .settings(dir.path())
        .unwrap();
    std::fs::create_dir_all(&settings.data_dir).unwrap();
    let refused = librechat::server::AppState::init(settings).await.err();
    let text = refused.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.contains("JWT_SECRET does not match"),
        "started with other secrets: {text}"
    );
    assert!(
        !text.contains("another-replicas-signing-key"),
        "the secret is not shown: {text}"
    );
    // One sharing the secrets starts and honours A's token.
    let b = server_on(&fake, Some(&url)).await;
    let resp = b.get_as("/api/user", &s.token).await;
    assert_eq!(resp.status(), 200, "a token of A is honoured by B");
}

#[tokio::test]
async fn over_tls_the_servers_certificate_is_verified() {
    // The server's certificate and key, where the postgres user can read them (and the key
    // private, or postgres refuses it).
    let certs = tempfile::tempdir().unwrap();
    support::ca_and_server_cert(certs.path());
    let file = |name: &str| certs.path().join(name).display().to_string();
    let owner = support::run(
        std::process::Command::new("sh").args([
            "-c",
            "id -u postgres >/dev/null 2>&1 && [ \"$(id -u)\" = 0 ] && chown -R postgres \"$0\"; chmod 600 \"$0/server.key\"; chmod 755 \"$0\"",
            &certs.path().display().to_string(),
        ]),
    );
    assert!(owner.status.success());
    let cert = format!("ssl_cert_file={}", file("server.pem"));
    let key = format!("ssl_key_file={}", file("server.key"));
    let Some(pg) = support::postgres::Postgres::start_with(&["ssl=on", &cert, &key]) else {
        return;
    };
    let url = pg.fresh_database();
    // Opening connects at once, blocking: off the test's runtime.
    let open = |u: String| {
        std::thread::spawn(move || librechat::db::Db::open_postgres(&u))
            .join()
            .unwrap()
    };

    // Verified against the CA given in sslrootcert: the session is encrypted.
    let tls_url = format!("{url}?sslmode=verify-full&sslrootcert={}", file("ca.pem"));
    let (db, _) = open(tls_url).expect("opens over TLS");
    let encrypted: i64 = db
        .read(|c| {
            c.query_row(
                "SELECT CASE WHEN ssl THEN 1 ELSE 0 END FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                [],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(encrypted, 1, "the session is encrypted");
    // A server whose certificate nobody vouches for is refused, even with plain `require`.
    let untrusted = open(format!("{url}?sslmode=require")).err();
    let text = untrusted.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.to_lowercase().contains("certificate"),
        "connected to an unverified server: {text}"
    );
    // An sslmode libpq does not know is refused by name.
    let bad = open(format!("{url}?sslmode=sometimes")).err();
    assert!(
        bad.map(|e| e.to_string())
            .unwrap_or_default()
            .contains("sslmode=sometimes")
    );
}
