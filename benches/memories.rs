//! What memory injection adds to a chat turn (not a test): `cargo bench --bench memories`.
//!
//! A chat turn with memories does two things more than one without: it reads the person's
//! memories (a SQLite read, run while the message is being saved) and the model's context has
//! a longer system prompt to count. Both are measured here in-process on a real database, for
//! a person with 0, 10 and 50 memories (about 20 tokens each: 50 is about LibreChat's
//! suggested `tokenLimit` of 1,000-2,000), against the same turn's context without them.

use std::time::{Duration, Instant};

use librechat::chat::{context, memories};
use librechat::config::memory::MemoryConfig;
use librechat::db::Db;
use librechat::db::messages::Message;

const RUNS: usize = 400;

fn percentiles(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    (at(0.5).as_secs_f64() * 1e3, at(0.99).as_secs_f64() * 1e3)
}

/// A 20-message branch, as a conversation a few turns in.
fn branch() -> Vec<Message> {
    (0..20)
        .map(|i| Message {
            message_id: format!("m{i}"),
            text: format!("Message {i}: a question and an answer about travel plans and budgets. ")
                .repeat(6),
            is_created_by_user: i % 2 == 0,
            ..Message::default()
        })
        .collect()
}

async fn fill(db: &Db, user: &str, n: usize) {
    let user = user.to_owned();
    db.write(move |c| {
        c.execute("DELETE FROM memories WHERE user_id = ?1", [&user])?;
        for i in 0..n {
            let key = format!(
                "fact_{}{}",
                (b'a' + (i / 26) as u8) as char,
                (b'a' + (i % 26) as u8) as char
            );
            let value = format!(
                "Fact number {i}: prefers short answers, works as a nurse, lives near the river."
            );
            let pool = librechat::db::memories::POOL;
            librechat::db::memories::insert(c, &user, pool, &key, &value, 20)?;
        }
        Ok(())
    })
    .await
    .unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("librechat.db")).unwrap();
    let user = "000000000000000000000001";
    db.write(move |c| {
        c.execute(
            "INSERT INTO users (id, email, name, created_at, updated_at) VALUES (?1, 'b@example.org', 'B', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
            [user],
        )?;
        Ok(())
    })
    .await
    .unwrap();
    let config = MemoryConfig::default();
    let branch = branch();
    let prefix = "You are a helpful assistant. Answer briefly.";
    // Loads the tokenizer.
    context::build("gpt-4o", &branch, Some(prefix), 100_000);

    let mut base = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        context::build("gpt-4o", &branch, Some(prefix), 100_000);
        base.push(t.elapsed());
    }
    let (b50, b99) = percentiles(base);
    println!("context without memories: p50 {b50:.3} ms, p99 {b99:.3} ms");

    for n in [0, 10, 50] {
        fill(&db, user, n).await;
        let (mut read, mut build) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let t = Instant::now();
            let memory = memories::prompt_context(&db, Some(&config), user, "", false)
                .await
                .unwrap();
            read.push(t.elapsed());
            let system = match memory {
                Some(m) => format!("{prefix}\n\n{m}"),
                None => prefix.to_owned(),
            };
            let t = Instant::now();
            context::build("gpt-4o", &branch, Some(&system), 100_000);
            build.push(t.elapsed());
        }
        let (r50, r99) = percentiles(read);
        let (c50, c99) = percentiles(build);
        println!(
            "{n:>2} memories: reading them p50 {r50:.3} ms, p99 {r99:.3} ms (beside the message's save); \
             context p50 {c50:.3} ms, p99 {c99:.3} ms (+{:.3} ms at p50)",
            c50 - b50
        );
    }
}
