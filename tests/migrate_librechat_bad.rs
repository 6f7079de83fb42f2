//! `librechat migrate-from-librechat` on damaged and hostile backups: every bad document is
//! reported with its reason, its neighbours still come over, a cut file keeps what it holds,
//! a second run adds nothing, and a dry run writes nothing.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};

use bson::{Bson, DateTime, Document, doc, oid::ObjectId};
use support::librechat_dump::migration::{counts, migrate, reasons, write_bson};
use support::{librechat, run, text};

struct Dump {
    _home: tempfile::TempDir,
    home: PathBuf,
    dump: PathBuf,
    alice: ObjectId,
}

fn damaged_dump() -> Dump {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().to_path_buf();
    std::fs::write(path.join("librechat.yaml"), "version: 1.2.8\n").unwrap();
    let dump = path.join("dump").join("LibreChat");
    std::fs::create_dir_all(&dump).unwrap();
    let alice = ObjectId::new();
    let hash = bcrypt::hash("alice password", 4).unwrap();
    let user = doc! {"_id": alice, "email": "Alice@Example.org", "password": &hash,
    "provider": "local", "role": "USER", "name": "Alice", "username": "alice",
    "createdAt": DateTime::now(), "updatedAt": DateTime::now()};
    write_bson(
        &dump.join("users.bson"),
        &[
            user.clone(),
            // The same document twice: the second is already there.
            user,
            doc! {"_id": ObjectId::new(), "name": "No email"},
            doc! {"_id": ObjectId::new(), "email": 42},
            // Another account with Alice's email (case differs): refused, not merged.
            doc! {"_id": ObjectId::new(), "email": "alice@example.org"},
        ],
    );
    let convo = "c0000000-0000-4000-8000-000000000001";
    write_bson(
        &dump.join("conversations.bson"),
        &[
            doc! {"conversationId": convo, "user": alice.to_hex(), "title": "Kept",
            "endpoint": "openAI", "createdAt": DateTime::now()},
            doc! {"conversationId": "c-orphan", "user": ObjectId::new().to_hex(), "title": "Orphan"},
            doc! {"conversationId": 42, "user": alice.to_hex()},
        ],
    );
    let message = |i: u32, parent: &str| {
        doc! {"_id": ObjectId::new(), "messageId": format!("m{i}"), "conversationId": convo,
        "user": alice.to_hex(), "parentMessageId": parent, "text": format!("message {i}"),
        "isCreatedByUser": i.is_multiple_of(2), "createdAt": DateTime::now()}
    };
    let mut bytes = write_bson(
        &dump.join("messages.bson"),
        &[
            message(1, "00000000-0000-0000-0000-000000000000"),
            message(2, "m1"),
            doc! {"_id": ObjectId::new(), "messageId": "m-lost", "conversationId": "c-missing",
            "user": alice.to_hex(), "text": "no conversation"},
            doc! {"_id": ObjectId::new(), "messageId": Bson::Int32(7), "conversationId": convo,
            "user": alice.to_hex()},
            message(3, "m2"),
        ],
    );
    // The last document is cut in the middle, as a dump interrupted while copying.
    let mut tail = Vec::new();
    message(4, "m3").to_writer(&mut tail).unwrap();
    bytes.extend_from_slice(&tail[..tail.len() / 2]);
    std::fs::write(dump.join("messages.bson"), &bytes).unwrap();
    write_bson(&dump.join("foo.bson"), &[doc! {"a": 1}, doc! {"a": 2}]);
    write_bson(&dump.join("sessions.bson"), &[doc! {"user": alice}]);
    std::fs::write(
        dump.join("users.metadata.json"),
        r#"{"options":{},"indexes":[],"collectionName":"users"}"#,
    )
    .unwrap();
    Dump {
        _home: home,
        home: path,
        dump: path_parent(&dump),
        alice,
    }
}

fn path_parent(p: &Path) -> PathBuf {
    p.parent().unwrap().to_path_buf()
}

#[test]
fn bad_documents_are_reported_and_their_neighbours_come_over() {
    let d = damaged_dump();
    let report = migrate(&d.home, &d.dump, &["--no-reindex"]);
    assert_eq!(counts(&report, "users"), (5, 1, 1, 3), "{report}");
    let why = reasons(&report, "users");
    assert!(why.contains("email is missing"), "{why}");
    assert!(why.contains("already belongs to someone else"), "{why}");
    assert_eq!(counts(&report, "conversations"), (3, 1, 0, 2), "{report}");
    let why = reasons(&report, "conversations");
    assert!(why.contains("does not exist"), "{why}");
    assert!(why.contains("conversationId is a number"), "{why}");
    assert_eq!(counts(&report, "messages"), (5, 3, 0, 2), "{report}");
    let why = reasons(&report, "messages");
    assert!(why.contains("c-missing was not imported"), "{why}");
    let stopped = report["collections"]["messages"]["stopped"]
        .as_str()
        .unwrap();
    assert!(stopped.contains("truncated"), "{stopped}");
    assert_eq!(report["notImported"]["foo"]["documents"], 2, "{report}");
    assert_eq!(report["notImported"]["sessions"]["documents"], 1);
    assert!(d.alice.to_hex().len() == 24);

    // Again: nothing new, nothing doubled.
    let again = migrate(&d.home, &d.dump, &["--no-reindex"]);
    assert_eq!(counts(&again, "users"), (5, 0, 2, 3), "{again}");
    assert_eq!(counts(&again, "messages"), (5, 0, 3, 2), "{again}");
    let db = rusqlite::Connection::open(d.home.join("data/librechat.db")).unwrap();
    let n: i64 = db
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 3);
}

#[test]
fn a_dry_run_writes_nothing_and_reports_what_a_run_would() {
    let d = damaged_dump();
    let dry = migrate(&d.home, &d.dump, &["--dry-run"]);
    assert_eq!(dry["dryRun"], true);
    assert_eq!(counts(&dry, "messages"), (5, 3, 0, 2), "{dry}");
    assert!(!d.home.join("data/librechat.db").exists());
    // On an existing database: its bytes do not change.
    migrate(&d.home, &d.dump, &["--no-reindex"]);
    let db = d.home.join("data/librechat.db");
    let checkpoint = rusqlite::Connection::open(&db).unwrap();
    checkpoint
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    drop(checkpoint);
    let before = std::fs::read(&db).unwrap();
    let dry = migrate(&d.home, &d.dump, &["--dry-run"]);
    assert_eq!(counts(&dry, "messages"), (5, 0, 3, 2), "{dry}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn gzipped_dumps_and_exports_read_the_same() {
    let d = damaged_dump();
    let users = std::fs::read(d.dump.join("LibreChat/users.bson")).unwrap();
    let gz_dir = d.home.join("gz");
    std::fs::create_dir_all(&gz_dir).unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(gz_dir.join("users.bson.gz")).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(&users).unwrap();
    gz.finish().unwrap();
    let report = migrate(&d.home, &gz_dir, &["--no-reindex", "--dry-run"]);
    assert_eq!(counts(&report, "users"), (5, 1, 1, 3), "{report}");

    // mongoexport, canonical Extended JSON, one document per line, plus a garbage line.
    let export = d.home.join("export");
    std::fs::create_dir_all(&export).unwrap();
    let mut lines = String::new();
    let mut input = &users[..];
    while !input.is_empty() {
        let doc = Document::from_reader(&mut input).unwrap();
        lines.push_str(&Bson::Document(doc).into_canonical_extjson().to_string());
        lines.push('\n');
    }
    lines.push_str("{not json\n");
    std::fs::write(export.join("users.json"), lines).unwrap();
    let report = migrate(&d.home, &export, &["--no-reindex", "--dry-run"]);
    assert_eq!(counts(&report, "users"), (6, 1, 1, 4), "{report}");
    assert!(reasons(&report, "users").contains("not JSON"));
}

#[test]
fn an_archive_file_and_an_empty_folder_are_refused_with_words() {
    let d = damaged_dump();
    let archive = d.home.join("dump.archive");
    std::fs::write(&archive, b"not a folder").unwrap();
    for (path, needle) in [
        (archive, "mongodump --archive"),
        (d.home.join("data-empty"), "cannot read"),
    ] {
        let out = run(librechat(&d.home)
            .arg("migrate-from-librechat")
            .arg(&path)
            .env("LIBRECHAT_DATA_DIR", d.home.join("data"))
            .env("CONFIG_PATH", d.home.join("librechat.yaml")));
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(needle), "{}", text(&out.stderr));
    }
}
