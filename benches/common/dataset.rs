//! The benchmark data set: `users` users × 100 conversations × 10 messages, plus one
//! 5,000-message conversation for the first user (`bench@example.org`, password
//! `benchmark password`), written straight into a fresh database.

use std::path::Path;
use std::time::Instant;

use rusqlite::params;

pub const ROOT: &str = "00000000-0000-0000-0000-000000000000";
pub const EMAIL: &str = "bench@example.org";
pub const PASSWORD: &str = "benchmark password";

/// Words for message texts, most common first; [`word`] picks them with a Zipf-like skew so
/// the texts have common words (in most messages) and rare ones (in a few).
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
    "telescope",
    "harpsichord",
    "quokka",
    "zeppelin",
    "xylophone",
    "marzipan",
];

/// A pseudo-random number stream (xorshift), so every run generates the same data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// A word, the first ones far more often than the last.
pub fn word(rng: &mut Rng) -> &'static str {
    // Squaring a uniform number skews it toward 0.
    let u = (rng.next() % 10_000) as f64 / 10_000.0;
    WORDS[((u * u * u) * WORDS.len() as f64) as usize]
}

/// A message text of `n` words.
pub fn text(rng: &mut Rng, n: usize) -> String {
    let mut out = String::with_capacity(n * 8);
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word(rng));
    }
    out
}

/// Writes the data set; returns (conversations, messages).
pub fn generate(db_path: &Path, users: usize) -> (usize, usize) {
    librechat::db::Db::open(db_path).unwrap();
    let started = Instant::now();
    let mut conn = rusqlite::Connection::open(db_path).unwrap();
    conn.execute_batch("PRAGMA synchronous = OFF;").unwrap();
    let hash = librechat::auth::password::hash(PASSWORD);
    let mut rng = Rng::new(42);
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
            EMAIL.to_owned()
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
                        format!("{} {} {}", word(&mut rng), word(&mut rng), c),
                        ts()
                    ])
                    .unwrap();
                let mut parent = ROOT.to_owned();
                for m in 0..10 {
                    let mid = format!("{cid}-m{m}");
                    let len = 8 + (rng.next() % 40) as usize;
                    let mut body = text(&mut rng, len);
                    // A rare word: in about one message in 500.
                    if rng.next().is_multiple_of(500) {
                        body.push_str(" quasar");
                    }
                    msg.execute(params![
                        mid,
                        cid,
                        uid,
                        parent,
                        if m % 2 == 0 { "User" } else { "GPT-4o" },
                        m % 2 == 0,
                        body,
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
    // The index is built by `librechat search reindex` or at the server's start, not from
    // a million outbox rows.
    conn.execute_batch(
        "DELETE FROM search_outbox; PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE);",
    )
    .unwrap();
    let (convos, messages) = (users * 100 + 1, users * 1000 + 5000);
    println!(
        "generated {users} users, {convos} conversations, {messages} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (convos, messages)
}

/// Signs in the bench user; returns the access token.
pub fn login(port: u16) -> String {
    super::people::login_as(port, EMAIL)
}
