//! Conversations benchmark (not a test): `cargo bench --bench conversations`.
//!
//! Generates 1,000 users × 100 conversations × 10 messages (1,000,000 messages) plus one
//! 5,000-message conversation straight into a fresh database, starts the release server on it,
//! and prints: sidebar page latency (p50/p99 of `GET /api/convos?limit=25`), its requests per
//! second under `wrk` (when installed), and the time to load the 5,000-message conversation.
//! `BENCH_USERS` (default 1000) scales the data set down for a quick run.

mod common;

use common::{request, start_server};

use std::process::Command;
use std::time::{Duration, Instant};

use rusqlite::params;

const ROOT: &str = "00000000-0000-0000-0000-000000000000";

fn main() {
    let users: usize = std::env::var("BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db_path = data.join("librechat.db");
    librechat::db::Db::open(&db_path).unwrap();

    let started = Instant::now();
    let mut conn = rusqlite::Connection::open(&db_path).unwrap();
    conn.execute_batch("PRAGMA synchronous = OFF;").unwrap();
    let hash = librechat::auth::password::hash("benchmark password");
    let mut stamp = 0u64;
    let mut ts = || {
        stamp += 1;
        let t = time::OffsetDateTime::UNIX_EPOCH
            + time::Duration::days(20_000)
            + time::Duration::milliseconds(stamp as i64);
        librechat::db::to_rfc3339(t)
    };
    for u in 0..users {
        let tx = conn.transaction().unwrap();
        let uid = format!("{u:024x}");
        let email = if u == 0 {
            "bench@example.org".to_owned()
        } else {
            format!("user{u}@example.org")
        };
        let now = ts();
        tx.execute(
            "INSERT INTO users (id, email, name, password, email_verified, created_at, updated_at) VALUES (?1, ?2, 'Bench', ?3, 1, ?4, ?4)",
            params![uid, email, hash, now],
        )
        .unwrap();
        {
            let mut convo = tx.prepare("INSERT INTO conversations (conversation_id, user_id, title, endpoint, model, created_at, updated_at) VALUES (?1, ?2, ?3, 'openAI', 'gpt-4o', ?4, ?4)").unwrap();
            let mut msg = tx.prepare("INSERT INTO messages (message_id, conversation_id, user_id, parent_message_id, sender, is_created_by_user, text, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)").unwrap();
            for c in 0..100 {
                let cid = format!("{uid}-c{c}");
                convo
                    .execute(params![
                        cid,
                        uid,
                        format!("Conversation {c} about topic {}", (u * 7 + c) % 97),
                        ts()
                    ])
                    .unwrap();
                let mut parent = ROOT.to_owned();
                for m in 0..10 {
                    let mid = format!("{cid}-m{m}");
                    let text = format!(
                        "Message {m} of conversation {c}: some ordinary words about the weather, code and travel plans number {}",
                        u * 1000 + c * 10 + m
                    );
                    msg.execute(params![
                        mid,
                        cid,
                        uid,
                        parent,
                        if m % 2 == 0 { "User" } else { "GPT-4o" },
                        m % 2 == 0,
                        text,
                        ts()
                    ])
                    .unwrap();
                    parent = mid;
                }
            }
        }
        tx.commit().unwrap();
    }
    // One long conversation for the bench user.
    {
        let tx = conn.transaction().unwrap();
        let uid = format!("{:024x}", 0);
        tx.execute("INSERT INTO conversations (conversation_id, user_id, title, created_at, updated_at) VALUES ('long', ?1, 'Long', ?2, ?2)", params![uid, ts()]).unwrap();
        let mut parent = ROOT.to_owned();
        for m in 0..5000 {
            let mid = format!("long-m{m}");
            tx.execute(
                "INSERT INTO messages (message_id, conversation_id, user_id, parent_message_id, text, created_at, updated_at) VALUES (?1, 'long', ?2, ?3, ?4, ?5, ?5)",
                params![mid, uid, parent, format!("Long message number {m}, with a paragraph of text that a real answer could have."), ts()],
            )
            .unwrap();
            parent = mid;
        }
        tx.commit().unwrap();
    }
    conn.execute_batch("PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    drop(conn);
    println!(
        "generated {users} users, {} conversations, {} messages in {:.1} s",
        users * 100 + 1,
        users * 1000 + 5000,
        started.elapsed().as_secs_f64()
    );

    let (mut server, port) = start_server(dir.path(), &[("LOGIN_MAX", "1000")]);
    let login = request(
        port,
        "POST",
        "/api/auth/login",
        None,
        r#"{"email":"bench@example.org","password":"benchmark password"}"#,
    )
    .unwrap();
    let token = login
        .split(r#""token":""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    let mut times = Vec::new();
    for i in 0..500 {
        let t = Instant::now();
        let resp = request(port, "GET", "/api/convos?limit=25", Some(&token), "").unwrap();
        times.push(t.elapsed());
        if i == 0 {
            assert!(resp.contains("\"conversations\""), "{resp}");
        }
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "GET /api/convos?limit=25: p50 {:.2} ms, p99 {:.2} ms (500 sequential requests)",
        ms(times[250]),
        ms(times[495])
    );

    let mut loads = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let resp = request(port, "GET", "/api/messages/long", Some(&token), "").unwrap();
        loads.push(t.elapsed());
        assert!(resp.contains("Long message number 4999"));
    }
    loads.sort();
    println!(
        "GET /api/messages/long (5,000 messages): median {:.1} ms, max {:.1} ms",
        ms(loads[10]),
        ms(loads[19])
    );

    match Command::new("wrk")
        .args(["-t2", "-c32", "-d10s", "--latency", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("http://127.0.0.1:{port}/api/convos?limit=25"))
        .output()
    {
        Ok(out) => println!(
            "wrk GET /api/convos?limit=25:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ),
        Err(_) => println!("wrk not installed: skipped the throughput run"),
    }
    let _ = server.kill();
    let _ = server.wait();
}
