//! Migration benchmark (not a test): `cargo bench --bench migrate`.
//!
//! Writes a `mongodump` of a LibreChat deployment with 1,000,000 messages
//! (`BENCH_MIGRATE_MESSAGES`): 1,000 users, conversations of 40 messages each (every tenth
//! answer regenerated, so the trees branch), text of a few hundred characters, half the answers
//! with content parts; written document by document with the `bson` crate, as `mongodump`
//! writes them. Then runs the release `librechat migrate-from-librechat` on it and prints the
//! import rate of the messages pass and the import's peak resident memory (read from /proc
//! while it runs), then the same for the search rebuild (`librechat search reindex`), and the
//! time from starting the server on the migrated data to the first successful login.

mod common;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use bson::{Bson, DateTime, doc, oid::ObjectId};
use common::dataset::{EMAIL, PASSWORD, Rng, text};

const USERS: usize = 1000;
const PER_CONVERSATION: usize = 40;

fn main() {
    let messages: usize = std::env::var("BENCH_MIGRATE_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump").join("LibreChat");
    std::fs::create_dir_all(&dump).unwrap();
    let started = Instant::now();
    let bytes = write_dump(&dump, messages);
    println!(
        "dump: {messages} messages, {:.0} MB of BSON, written in {:.1} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let report_file = dir.path().join("report.json");
    let (out, whole, peak) = common::run_measured(
        dir.path(),
        &[
            "migrate-from-librechat",
            "dump",
            "--data-dir",
            "data",
            "--no-reindex",
            "--report",
            report_file.to_str().unwrap(),
        ],
    );
    print!("{out}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
    let m = &report["collections"]["messages"];
    let (imported, secs) = (
        m["imported"].as_u64().unwrap(),
        m["seconds"].as_f64().unwrap(),
    );
    assert_eq!(imported as usize, messages, "every message comes over");
    println!(
        "messages pass: {imported} in {secs:.1} s = {:.0} messages/s; the import {whole:.1} s \
         in all; peak RSS {peak:.1} MB",
        imported as f64 / secs,
    );
    let (out, whole, peak) =
        common::run_measured(dir.path(), &["search", "reindex", "--data-dir", "data"]);
    print!("{out}");
    println!("search rebuild: {whole:.1} s, peak RSS {peak:.1} MB");

    let started = Instant::now();
    let (mut server, port) = common::start_server(dir.path(), &[]);
    let token = common::people::login_as(port, EMAIL);
    assert!(!token.is_empty());
    println!(
        "first login after the import: {:.2} s from starting the server",
        started.elapsed().as_secs_f64()
    );
    let _ = server.kill();
    let _ = server.wait();
}

/// Writes users, conversations and messages; returns the bytes written.
fn write_dump(dir: &Path, messages: usize) -> u64 {
    let hash = bcrypt::hash(PASSWORD, 10).unwrap();
    let mut users = Writer::new(&dir.join("users.bson"));
    let user_ids: Vec<ObjectId> = (0..USERS).map(|_| ObjectId::new()).collect();
    for (i, id) in user_ids.iter().enumerate() {
        let email = if i == 0 {
            EMAIL.to_owned()
        } else {
            format!("user{i}@example.org")
        };
        users.put(doc! {
            "_id": id, "name": format!("User {i}"), "username": format!("user{i}"),
            "email": email, "emailVerified": true, "password": &hash, "avatar": Bson::Null,
            "provider": "local", "role": "USER", "plugins": [], "termsAccepted": true,
            "createdAt": DateTime::now(), "updatedAt": DateTime::now(), "__v": 0,
        });
    }
    let mut convos = Writer::new(&dir.join("conversations.bson"));
    let mut msgs = Writer::new(&dir.join("messages.bson"));
    let mut rng = Rng::new(11);
    let t0 = 1_700_000_000_000i64;
    let mut written = 0usize;
    let mut c = 0usize;
    while written < messages {
        let user = user_ids[c % USERS].to_hex();
        let convo = format!("c{c:08}-0000-4000-8000-000000000000");
        let at = DateTime::from_millis(t0 + c as i64 * 60_000);
        convos.put(doc! {
            "_id": ObjectId::new(), "conversationId": &convo, "user": &user,
            "title": format!("Conversation {c}"), "endpoint": "openAI", "model": "gpt-4o",
            "isArchived": false, "tags": [], "temperature": 0.7, "messages": [],
            "createdAt": at, "updatedAt": at, "__v": 0,
        });
        let mut parent = "00000000-0000-0000-0000-000000000000".to_owned();
        for i in 0..PER_CONVERSATION.min(messages - written) {
            let id = format!("m{c:08}-{i:04}-4000-8000-000000000000");
            let by_user = i % 2 == 0;
            // Every tenth answer was regenerated: a sibling under the same question.
            let parent_of_this = if !by_user && i % 10 == 9 && i + 1 < PER_CONVERSATION {
                parent.clone()
            } else {
                std::mem::replace(&mut parent, id.clone())
            };
            let body = text(&mut rng, if by_user { 60 } else { 400 });
            let mut d = doc! {
                "_id": ObjectId::new(), "messageId": &id, "conversationId": &convo,
                "user": &user, "parentMessageId": parent_of_this,
                "sender": if by_user { "User" } else { "GPT-4o" }, "isCreatedByUser": by_user,
                "text": &body, "model": "gpt-4o", "endpoint": "openAI",
                "tokenCount": (body.len() / 4) as i32, "error": false, "unfinished": false,
                "createdAt": DateTime::from_millis(t0 + c as i64 * 60_000 + i as i64 * 1000),
                "updatedAt": DateTime::from_millis(t0 + c as i64 * 60_000 + i as i64 * 1000),
                "__v": 0,
            };
            if !by_user && i % 4 == 1 {
                d.insert(
                    "content",
                    vec![Bson::Document(doc! {"type": "text", "text": &body})],
                );
                d.insert("text", "");
            }
            msgs.put(d);
            written += 1;
            if written == messages {
                break;
            }
        }
        c += 1;
    }
    users.bytes + convos.finish() + msgs.finish()
}

struct Writer {
    out: BufWriter<std::fs::File>,
    bytes: u64,
    buf: Vec<u8>,
}

impl Writer {
    fn new(path: &Path) -> Self {
        Self {
            out: BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap()),
            bytes: 0,
            buf: Vec::new(),
        }
    }
    fn put(&mut self, d: bson::Document) {
        self.buf.clear();
        d.to_writer(&mut self.buf).unwrap();
        self.out.write_all(&self.buf).unwrap();
        self.bytes += self.buf.len() as u64;
    }
    fn finish(mut self) -> u64 {
        self.out.flush().unwrap();
        self.bytes
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}
