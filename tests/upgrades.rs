//! Upgrades and recovery: a database left by each earlier schema version
//! (`tests/fixtures/schema/v*.sql`, made by `make.py` there) migrates forward with its data
//! intact and serves it; `librechat db restore` puts a backup back, keeping the database it
//! replaces, and refuses while the server runs, a file that is not a database, and a newer one.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::{ServeProcess, assert_clean_failure, librechat, run, text};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema");

/// A data folder holding the fixture database of schema version `v`.
fn data_dir_at(v: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let sql = std::fs::read_to_string(format!("{FIXTURES}/v{v}.sql")).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("data/librechat.db")).unwrap();
    conn.execute_batch(&sql).unwrap();
    dir
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn every_earlier_schema_migrates_forward_with_its_data() {
    let versions = std::fs::read_dir(FIXTURES)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count();
    let current = librechat::db::SCHEMA_VERSION;
    assert_eq!(
        versions,
        current - 1,
        "one fixture per earlier version: run make.py"
    );
    for v in 1..current {
        let dir = data_dir_at(v);
        let out = run(librechat(dir.path()).args(["db", "migrate"]));
        let said = text(&out.stdout);
        assert!(
            said.contains(&format!(
                "schema version {current} ({} migration(s) applied)",
                current - v
            )),
            "v{v}: {said}"
        );
        let out = run(librechat(dir.path()).args(["db", "check"]));
        assert!(text(&out.stdout).contains("integrity: ok"), "v{v}");
        if v < 2 {
            continue; // no accounts yet at version 1
        }
        // The migrated data, served: the account logs in, its conversation and preset are there.
        let server = ServeProcess::start(librechat(dir.path()));
        let http = client();
        let login = http
            .post(format!("{}/api/auth/login", server.base))
            .json(&json!({"email": "fixture@example.org", "password": "fixture password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200, "v{v}: login");
        let token = login.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let get = |path: &str| {
            http.get(format!("{}{path}", server.base))
                .bearer_auth(&token)
                .send()
        };
        if v >= 3 {
            let convos: Value = get("/api/convos").await.unwrap().json().await.unwrap();
            assert_eq!(
                convos["conversations"][0]["title"], "Fixture conversation",
                "v{v}: {convos}"
            );
            let id = convos["conversations"][0]["conversationId"]
                .as_str()
                .unwrap();
            let messages: Value = get(&format!("/api/messages/{id}"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let texts: Vec<&str> = messages
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["text"].as_str().unwrap())
                .collect();
            assert_eq!(
                texts,
                ["What is a fixture?", "Data kept to test against."],
                "v{v}"
            );
        }
        if v >= 3 {
            // Archived before archive times were kept (migration 0011): listed, by creation.
            let archived: Value =
                get("/api/convos?isArchived=true&sortBy=archivedAt&sortDirection=desc")
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
            let titles: Vec<&str> = archived["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["title"].as_str().unwrap())
                .collect();
            assert_eq!(titles, ["Archived second", "Archived first"], "v{v}");
        }
        if v >= 4 {
            let presets: Value = get("/api/presets").await.unwrap().json().await.unwrap();
            assert_eq!(presets[0]["title"], "Fixture preset", "v{v}: {presets}");
            // Bookmarks made before they had ids get one each (migration 0011): 24 hex digits,
            // all different.
            let tags: Value = get("/api/tags").await.unwrap().json().await.unwrap();
            let mut ids: Vec<&str> = tags
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["_id"].as_str().unwrap())
                .collect();
            assert_eq!(ids.len(), 2, "v{v}: {tags}");
            assert!(
                ids.iter()
                    .all(|id| id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit())),
                "v{v}: {tags}"
            );
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), 2, "v{v}: {tags}");
            let oceans = tags
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["tag"] == "Oceans");
            assert_eq!(oceans.unwrap()["count"], 1, "v{v}: {tags}");
        }
        let (exit, log) = server.signal_and_wait("TERM");
        assert!(exit.success(), "v{v}: {log}");
    }
}

fn count_users(db: &Path) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn restore_puts_a_backup_back_and_keeps_what_it_replaced() {
    let dir = data_dir_at(librechat::db::SCHEMA_VERSION - 1);
    run(librechat(dir.path()).args(["db", "migrate"]));
    let backup = dir.path().join("backup.db");
    run(librechat(dir.path()).arg("db").arg("backup").arg(&backup));
    // After the backup, another account; and a search index to be made stale.
    let stdin_pw = "another long passphrase\n";
    support::run_with_input(
        librechat(dir.path()).args(["user", "create", "later@example.org", "--password-stdin"]),
        Some(stdin_pw),
    );
    std::fs::create_dir_all(dir.path().join("data/search")).unwrap();
    let db = dir.path().join("data/librechat.db");
    assert_eq!(count_users(&db), 2);

    // Not while a server runs on the folder.
    let server = ServeProcess::start(librechat(dir.path()));
    let out = librechat(dir.path())
        .arg("db")
        .arg("restore")
        .arg(&backup)
        .output()
        .unwrap();
    assert_clean_failure(&out, "in use by another running librechat");
    let (exit, _) = server.signal_and_wait("TERM");
    assert!(exit.success());
    // The search index the server made is rebuilt after the restore.
    assert!(dir.path().join("data/search").exists());

    let out = run(librechat(dir.path()).arg("db").arg("restore").arg(&backup));
    let said = text(&out.stdout);
    assert!(said.contains("restored"), "{said}");
    assert_eq!(count_users(&db), 1, "the backup's accounts");
    assert!(
        !dir.path().join("data/search").exists(),
        "the stale index is gone"
    );
    let kept: Vec<_> = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("librechat.db.before-restore-")
        })
        .collect();
    assert_eq!(kept.len(), 1, "{said}");
    assert_eq!(
        count_users(&kept[0]),
        2,
        "the replaced database is kept whole"
    );
    let out = run(librechat(dir.path()).args(["db", "check"]));
    assert!(text(&out.stdout).contains("integrity: ok"));

    // Files that are not a backup to restore.
    let junk = dir.path().join("junk.db");
    std::fs::write(
        &junk,
        "not a database at all, just some text that is long enough",
    )
    .unwrap();
    let out = librechat(dir.path())
        .arg("db")
        .arg("restore")
        .arg(&junk)
        .output()
        .unwrap();
    assert_clean_failure(&out, "not a readable SQLite database");
    let empty = dir.path().join("empty.db");
    rusqlite::Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let out = librechat(dir.path())
        .arg("db")
        .arg("restore")
        .arg(&empty)
        .output()
        .unwrap();
    assert_clean_failure(&out, "not a librechat database");
    let newer = dir.path().join("newer.db");
    std::fs::copy(&backup, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 999")
        .unwrap();
    let out = librechat(dir.path())
        .arg("db")
        .arg("restore")
        .arg(&newer)
        .output()
        .unwrap();
    assert_clean_failure(&out, "newer librechat");
    let out = librechat(dir.path())
        .args(["db", "restore", "/no/such/backup.db"])
        .output()
        .unwrap();
    assert_clean_failure(&out, "no backup at /no/such/backup.db");
    assert_eq!(count_users(&db), 1, "refused restores changed nothing");
}
