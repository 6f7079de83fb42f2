//! Prompts and sharing benchmark (not a test): `cargo bench --bench prompts`.
//!
//! Generates 1,000 users, 100 groups of 20 members, and 10,000 prompt groups (two versions
//! each) straight into a fresh database, each owned by its author, a fifth shared with a group,
//! a tenth with another user, one in twenty with everyone; and one group that is given every
//! prompt group. Starts the release server on it and prints p50/p99 of:
//! `GET /api/prompts/all` for a typical user (bench@example.org, in three groups) and for a user
//! who sees all 10,000 (in the group given everything), `GET /api/prompts/groups?pageSize=10`,
//! and the effective-permission routes (one resource, and `effective/all`).
//! `BENCH_PROMPT_GROUPS` (default 10000) scales the library; `BENCH_DB_OUT` keeps a copy of
//! the database there.

mod common;

use std::path::Path;
use std::time::Instant;

use common::dataset::{self, Rng};
use common::people::{self, Clock, GROUPS, Grant, USERS, WIDE_EMAIL, gid, login_as, uid};
use common::start_server;
use common::stream::measure;
use rusqlite::params;

fn main() {
    let prompts: usize = std::env::var("BENCH_PROMPT_GROUPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join("librechat.db");
    let some_prompt = generate(&db, prompts);
    if let Ok(out) = std::env::var("BENCH_DB_OUT") {
        std::fs::copy(&db, out).unwrap();
    }

    let (mut server, port) =
        start_server(dir.path(), &[("LOGIN_MAX", "1000"), ("SEARCH", "false")]);
    let typical = dataset::login(port);
    let wide = login_as(port, WIDE_EMAIL);

    let n = |body: &str| body.matches("\"productionPrompt\"").count();
    measure(
        port,
        &typical,
        "/api/prompts/all (typical user)",
        "/api/prompts/all",
        "items",
        n,
    );
    measure(
        port,
        &wide,
        "/api/prompts/all (sees all)",
        "/api/prompts/all",
        "items",
        n,
    );
    measure(
        port,
        &wide,
        "/api/prompts/groups?pageSize=10 (sees all)",
        "/api/prompts/groups?pageSize=10",
        "items",
        n,
    );
    let one = format!("/api/permissions/promptGroup/{some_prompt}/effective");
    measure(
        port,
        &typical,
        "effective, one resource",
        &one,
        "items",
        |b| b.contains("permissionBits") as usize,
    );
    let all = "/api/permissions/promptGroup/effective/all";
    measure(
        port,
        &typical,
        "effective/all (typical user)",
        all,
        "items",
        |b| b.matches(':').count(),
    );
    measure(port, &wide, "effective/all (sees all)", all, "items", |b| {
        b.matches(':').count()
    });
    let _ = server.kill();
    let _ = server.wait();
}

/// Writes the data set; returns the id of a prompt group the bench user can see.
fn generate(db: &Path, prompts: usize) -> String {
    librechat::db::Db::open(db).unwrap();
    let started = Instant::now();
    let mut conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch("PRAGMA synchronous = OFF;").unwrap();
    let mut rng = Rng::new(7);
    let mut clock = Clock::new();
    let tx = conn.transaction().unwrap();
    people::write(&tx, &mut rng, &mut clock);
    let mut visible_to_bench = None;
    for p in 0..prompts {
        let id = format!("p{p:023x}");
        let author = rng.next() as usize % USERS;
        let (v1, v2, now) = (format!("{id}-1"), format!("{id}-2"), clock.next());
        tx.execute(
            "INSERT INTO prompt_groups (id, name, oneliner, category, command, production_id, author, author_name, number_of_generations, created_at, updated_at) VALUES (?1, ?2, '', ?3, ?4, ?5, ?6, 'Bench', ?7, ?8, ?8)",
            params![id, format!("{} {} {p}", dataset::word(&mut rng), dataset::word(&mut rng)),
                    ["code", "write", "idea", "misc"][p % 4], format!("cmd-{p}"), v2,
                    uid(author), (rng.next() % 50) as i64, now],
        )
        .unwrap();
        for v in [&v1, &v2] {
            let text = dataset::text(&mut rng, 60);
            let now = clock.next();
            tx.execute(
                "INSERT INTO prompts (id, group_id, author, prompt, type, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'text', ?5, ?5)",
                params![v, id, uid(author), text, now],
            )
            .unwrap();
        }
        let mut give = |principal: &str, who: &str, role: &str, bits: u8| {
            let g = Grant {
                kind: "promptGroup",
                resource: &id,
                principal,
                who,
                role,
                bits,
            };
            people::grant(&tx, g, &mut clock);
        };
        give("user", &uid(author), "promptGroup_owner", 15);
        give("group", &gid(0), "promptGroup_viewer", 1);
        match rng.next() % 20 {
            0 => give("public", "", "promptGroup_viewer", 1),
            1..=4 => {
                let g = 1 + rng.next() as usize % GROUPS;
                if g <= 3 {
                    visible_to_bench.get_or_insert(id.clone());
                }
                give("group", &gid(g), "promptGroup_viewer", 1);
            }
            5 | 6 => give(
                "user",
                &uid(rng.next() as usize % USERS),
                "promptGroup_editor",
                3,
            ),
            _ => {}
        }
    }
    tx.commit().unwrap();
    conn.execute_batch("PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    println!(
        "generated {USERS} users, {GROUPS} groups, {prompts} prompt groups in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    visible_to_bench.unwrap_or_else(|| "p0".into())
}
