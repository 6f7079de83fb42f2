//! The figures behind search across replicas (README, "Search"): query latency of the tantivy
//! index each replica keeps against PostgreSQL's own full-text search over the same messages,
//! for one user among many, and what each finds. Not a test: ignored, run by hand:
//!
//! `cargo test --release --test search_engines -- --ignored --nocapture`
//!
//! (`BENCH_MESSAGES`, default 100,000, spread over 100 users; the first user's 1,000 are
//! searched). PostgreSQL's side: a `tsvector` column (`to_tsvector('simple', text)`, stored)
//! with a GIN index and an index on the owner, queried with `websearch_to_tsquery` (phrases,
//! `:*` for the prefix), ranked by `ts_rank`, counted like tantivy's total, through a prepared
//! statement over a local connection. tantivy's side: `SearchIndex::search` in process, as the
//! server calls it.

mod support;

use std::time::{Duration, Instant};

use librechat::search::{Kind, SearchIndex};
use rusqlite::params;

const USERS: usize = 100;

/// Words, the first far more often than the last (like benches/common/dataset.rs).
const WORDS: &[&str] = &[
    "the",
    "and",
    "code",
    "weather",
    "travel",
    "plan",
    "rust",
    "python",
    "server",
    "database",
    "question",
    "answer",
    "model",
    "token",
    "error",
    "function",
    "memory",
    "network",
    "budget",
    "recipe",
    "garden",
    "music",
    "history",
    "physics",
    "health",
    "running",
    "coffee",
    "market",
    "contract",
    "invoice",
    "holiday",
    "mountain",
    "river",
    "library",
    "keyboard",
    "printer",
    "camera",
    "battery",
    "satellite",
    "volcano",
    "glacier",
    "saxophone",
    "origami",
    "kayak",
    "zeppelin",
    "lighthouse",
    "harpsichord",
    "nebula",
    "tundra",
    "mosaic",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn word(&mut self) -> String {
        let u = (self.next() % 10_000) as f64 / 10_000.0;
        // One word in four from a long tail of 5,000 made-up ones, as real vocabularies have.
        if self.next().is_multiple_of(4) {
            format!("w{}", ((u * u) * 5000.0) as usize)
        } else {
            WORDS[((u * u * u) * WORDS.len() as f64) as usize].to_owned()
        }
    }

    fn text(&mut self) -> String {
        let n = 8 + (self.next() % 40) as usize;
        let mut words: Vec<String> = (0..n).map(|_| self.word()).collect();
        if self.next().is_multiple_of(500) {
            words.push("quasar".into());
        }
        // Some Chinese, written as it is: without spaces between the words.
        if self.next().is_multiple_of(50) {
            words.push("我们的数据库复制很快".into());
        }
        words.join(" ")
    }
}

fn percentile(times: &mut [Duration], p: f64) -> f64 {
    times.sort();
    let i = ((times.len() as f64 * p) as usize).min(times.len() - 1);
    times[i].as_secs_f64() * 1000.0
}

#[test]
#[ignore = "a benchmark: run by hand (see the file's header)"]
fn tantivy_per_replica_against_postgres_full_text_search() {
    let total: usize = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let Some(url) = support::postgres::fresh_database() else {
        eprintln!("PostgreSQL is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("librechat.db");
    drop(librechat::db::Db::open(&path).unwrap());
    let mut lite = rusqlite::Connection::open(&path).unwrap();
    lite.execute_batch("PRAGMA synchronous = OFF").unwrap();

    // The corpus, in SQLite (the index is rebuilt from it) and in PostgreSQL.
    let started = Instant::now();
    let mut rng = Rng(42);
    let mut rows = Vec::with_capacity(total);
    let tx = lite.transaction().unwrap();
    let per_user = total / USERS;
    for u in 0..USERS {
        let uid = format!("user{u:04}");
        tx.execute(
            "INSERT INTO users (id, email, created_at, updated_at) VALUES (?1, ?2, 't', 't')",
            params![uid, format!("{uid}@example.org")],
        )
        .unwrap();
        for c in 0..per_user.div_ceil(10) {
            let cid = format!("{uid}-c{c}");
            tx.execute(
                "INSERT INTO conversations (conversation_id, user_id, title, created_at, updated_at)
                 VALUES (?1, ?2, 'Bench', 't', 't')",
                params![cid, uid],
            )
            .unwrap();
            for m in 0..10.min(per_user - c * 10) {
                let mid = format!("{cid}-m{m}");
                let text = rng.text();
                tx.execute(
                    "INSERT INTO messages (message_id, conversation_id, user_id, text, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, 't', 't')",
                    params![mid, cid, uid, text],
                )
                .unwrap();
                rows.push((mid, uid.clone(), text));
            }
        }
    }
    tx.execute("DELETE FROM search_outbox", []).unwrap();
    tx.commit().unwrap();
    println!(
        "corpus: {} messages of {USERS} users, generated in {:.1} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let index = SearchIndex::open(&dir.path().join("search")).unwrap();
    let conn = librechat::db::sql::Connection::open(&path).unwrap();
    index.rebuild(&conn, &|_| {}).unwrap();
    println!(
        "tantivy: indexed in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut pg = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let started = Instant::now();
    pg.batch_execute(
        "CREATE TABLE bench_messages (message_id TEXT COLLATE \"C\", user_id TEXT COLLATE \"C\",
                                      text TEXT)",
    )
    .unwrap();
    {
        use std::io::Write;
        let mut w = pg
            .copy_in("COPY bench_messages (message_id, user_id, text) FROM STDIN")
            .unwrap();
        for (m, u, t) in &rows {
            writeln!(w, "{m}\t{u}\t{t}").unwrap();
        }
        w.finish().unwrap();
    }
    pg.batch_execute(
        "ALTER TABLE bench_messages
             ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED;
         CREATE INDEX bench_messages_tsv ON bench_messages USING GIN (tsv);
         CREATE INDEX bench_messages_user ON bench_messages (user_id);
         ANALYZE bench_messages;",
    )
    .unwrap();
    println!(
        "PostgreSQL: loaded and indexed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let plain = pg
        .prepare(
            "SELECT message_id, count(*) OVER () FROM bench_messages,
                    websearch_to_tsquery('simple', $2) q
              WHERE user_id = $1 AND tsv @@ q ORDER BY ts_rank(tsv, q) DESC LIMIT 25",
        )
        .unwrap();
    let prefix = pg
        .prepare(
            "SELECT message_id, count(*) OVER () FROM bench_messages,
                    to_tsquery('simple', $2) q
              WHERE user_id = $1 AND tsv @@ q ORDER BY ts_rank(tsv, q) DESC LIMIT 25",
        )
        .unwrap();

    let user = "user0000";
    let runs = 300;
    println!(
        "{:<18} {:>22} {:>22}",
        "query (user0000)", "tantivy p50/p99 (hits)", "PostgreSQL p50/p99 (hits)"
    );
    for (label, ours, theirs, theirs_prefix) in [
        ("common word", "weather", "weather", false),
        ("rare word", "quasar", "quasar", false),
        ("two words", "rust server", "rust server", false),
        ("phrase", "\"the code\"", "\"the code\"", false),
        ("prefix (typing)", "datab", "datab:*", true),
        ("CJK word", "数据库", "数据库", false),
        ("no match", "nonexistentword", "nonexistentword", false),
    ] {
        let mut t_times = Vec::with_capacity(runs);
        let mut t_hits = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let found = index.search(user, Kind::Message, ours, 0, 25).unwrap();
            t_times.push(t.elapsed());
            t_hits = found.total;
        }
        let mut p_times = Vec::with_capacity(runs);
        let mut p_hits = 0i64;
        let stmt = if theirs_prefix { &prefix } else { &plain };
        for _ in 0..runs {
            let t = Instant::now();
            let found = pg.query(stmt, &[&user, &theirs]).unwrap();
            p_times.push(t.elapsed());
            p_hits = found.first().map_or(0, |r| r.get(1));
        }
        println!(
            "{label:<18} {:>8.2} / {:>5.2} ms ({t_hits:>4}) {:>8.2} / {:>5.2} ms ({p_hits:>4})",
            percentile(&mut t_times, 0.5),
            percentile(&mut t_times, 0.99),
            percentile(&mut p_times, 0.5),
            percentile(&mut p_times, 0.99),
        );
    }
}
