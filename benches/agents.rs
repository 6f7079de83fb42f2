//! Agents benchmark (not a test): `cargo bench --bench agents`.
//!
//! Against the release server and a local OpenAI-compatible provider (this program, run again
//! as a separate process, answering at once):
//! - the server time added per tool round: a chat whose model calls the calculator 5 times
//!   before answering, against one that answers at once; the difference per round, less one
//!   provider round trip measured directly, is what the server adds (run steps, the tool, the
//!   save of the round, the next request);
//! - resident memory with 200 agent runs at once (`BENCH_RUNS`), each doing 5 tool rounds and
//!   then held open by the provider;
//! - `GET /api/agents` with 10,000 agents (`BENCH_AGENTS`) shared across 1,000 users and 100
//!   groups, for a typical user and for one who sees them all: p50/p99.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::dataset::{self, Rng};
use common::people::{self, Clock, GROUPS, Grant, USERS, WIDE_EMAIL, gid, login_as, uid};
use common::stream::{ChatServer, measure, pct, peak_rss_mb, read_until, rss_mb};
use rusqlite::params;
use serde_json::{Value, json};

fn main() {
    if std::env::var_os("BENCH_FAKE_PROVIDER").is_some() {
        common::fake_llm::serve_forever();
        return;
    }
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (runs, agents) = (env("BENCH_RUNS", 200), env("BENCH_AGENTS", 10_000));
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(tool_rounds(runs));
    agent_list(agents);
}

/// A chat body for `model`, with the calculator offered.
fn ask(model: &str) -> Value {
    json!({"text": "What is 1 + 1, five times?", "model": model, "tools": ["calculator"]})
}

/// Starts a chat; its stream, subscribed.
async fn start(http: &reqwest::Client, base: &str, token: &str, model: &str) -> reqwest::Response {
    let started: Value = http
        .post(format!("{base}/api/agents/chat/openAI"))
        .bearer_auth(token)
        .json(&ask(model))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["streamId"]
        .as_str()
        .unwrap_or_else(|| panic!("{started}"));
    http.get(format!("{base}/api/agents/chat/stream/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A whole chat, POST to final frame.
async fn whole(http: &reqwest::Client, base: &str, token: &str, model: &str) -> Duration {
    let t = Instant::now();
    let mut resp = start(http, base, token, model).await;
    let mut buf = String::new();
    let mut calls = 0;
    read_until(&mut resp, &mut buf, |v| {
        if v["event"] == "on_run_step_completed" {
            calls += 1;
        }
        v["final"] == true
    })
    .await;
    let want: usize = model
        .strip_prefix("calc-")
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert_eq!(calls, want, "{model}: tool rounds");
    t.elapsed()
}

async fn tool_rounds(runs: usize) {
    let fake = common::fake_llm::Fake::spawn();
    let cs = ChatServer::start(&fake.base, "calc-0,calc-5,calc-5-hold").await;
    let (base, http, token) = (cs.base.clone(), cs.http.clone(), cs.token.clone());
    let server = &cs.server;

    // One provider round trip, directly: a request that carries results, answered by a call.
    let mut direct = Vec::new();
    let history = json!([{"role": "user", "content": "hi"}]);
    for _ in 0..200 {
        let t = Instant::now();
        let mut resp = http
            .post(format!("{}/chat/completions", fake.base))
            .json(&json!({"model": "calc-5", "stream": true, "messages": history}))
            .send()
            .await
            .unwrap();
        while resp.chunk().await.unwrap().is_some() {}
        direct.push(t.elapsed());
    }
    direct.sort();
    let (mut none, mut five) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        none.push(whole(&http, &base, &token, "calc-0").await);
        five.push(whole(&http, &base, &token, "calc-5").await);
    }
    none.sort();
    five.sort();
    let per_round = (pct(&five, 0.5) - pct(&none, 0.5)) / 5.0;
    println!(
        "chat with no tool call: p50 {:.2} ms; with 5 calculator rounds: p50 {:.2} ms, p99 {:.2} ms",
        pct(&none, 0.5),
        pct(&five, 0.5),
        pct(&five, 0.99)
    );
    println!(
        "per tool round: {per_round:.2} ms, of which one provider round trip (measured directly) {:.2} ms: server time added per round {:.2} ms (p50, 100 chats each)",
        pct(&direct, 0.5),
        per_round - pct(&direct, 0.5)
    );

    // Many at once: each does its 5 rounds, then its answer is held by the provider.
    let idle = rss_mb(server.id());
    let t = Instant::now();
    let mut subs = Vec::with_capacity(runs);
    for _ in 0..runs {
        subs.push((
            start(&http, &base, &token, "calc-5-hold").await,
            String::new(),
        ));
    }
    while fake.held(&http).await < runs {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let busy = rss_mb(server.id());
    println!(
        "{runs} agent runs at once, each after 5 tool rounds with its answer open: server RSS {busy:.1} MB, peak {:.1} MB (idle before: {idle:.1} MB; all reached their answer in {:.1} s)",
        peak_rss_mb(server.id()),
        t.elapsed().as_secs_f64()
    );
    fake.release(&http, runs).await;
    for (resp, buf) in subs.iter_mut() {
        read_until(resp, buf, |v| v["final"] == true).await;
    }
    drop(subs);
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "server RSS after they finished: {:.1} MB",
        rss_mb(server.id())
    );
    cs.stop();
}

fn agent_list(agents: usize) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    generate(&data.join("librechat.db"), agents);
    let (mut server, port) = common::start_server(
        dir.path(),
        &[
            ("LOGIN_MAX", "1000"),
            ("SEARCH", "false"),
            ("OPENAI_API_KEY", "bench"),
        ],
    );
    let typical = dataset::login(port);
    let wide = login_as(port, WIDE_EMAIL);
    let n = |body: &str| body.matches("\"author\"").count();
    for (who, token) in [("typical user", &typical), ("sees all", &wide)] {
        for path in [
            "/api/agents?requiredPermission=1&limit=20",
            "/api/agents?requiredPermission=1&limit=100&category=it",
            "/api/agents?requiredPermission=1&limit=20&search=river",
        ] {
            measure(
                port,
                token,
                &format!("{path} ({who})"),
                path,
                "agents on the page",
                n,
            );
        }
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// 10,000 agents, each owned by its author and given to group 0; a twentieth public, a fifth
/// given to a group, a tenth to another user as editor.
fn generate(db: &Path, agents: usize) {
    librechat::db::Db::open(db).unwrap();
    let started = Instant::now();
    let mut conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch("PRAGMA synchronous = OFF;").unwrap();
    let mut rng = Rng::new(11);
    let mut clock = Clock::new();
    let tx = conn.transaction().unwrap();
    people::write(&tx, &mut rng, &mut clock);
    let categories = [
        "general",
        "hr",
        "rd",
        "finance",
        "it",
        "sales",
        "aftersales",
    ];
    for a in 0..agents {
        let object_id = format!("a{a:023x}");
        let author = rng.next() as usize % USERS;
        let now = clock.next();
        let name = format!(
            "{} {} {a}",
            dataset::word(&mut rng),
            dataset::word(&mut rng)
        );
        tx.execute(
            "INSERT INTO agents (object_id, id, name, description, instructions, provider, model, tools, category, author, version_count, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'openAI', 'gpt-4o', '[\"calculator\"]', ?6, ?7, 1, ?8, ?8)",
            params![object_id, format!("agent_{a:021}"), name, dataset::text(&mut rng, 12),
                    dataset::text(&mut rng, 80), categories[a % categories.len()], uid(author), now],
        )
        .unwrap();
        let mut give = |principal: &str, who: &str, role: &str, bits: u8| {
            let g = Grant {
                kind: "agent",
                resource: &object_id,
                principal,
                who,
                role,
                bits,
            };
            people::grant(&tx, g, &mut clock);
        };
        give("user", &uid(author), "agent_owner", 15);
        give("group", &gid(0), "agent_viewer", 1);
        match rng.next() % 20 {
            0 => give("public", "", "agent_viewer", 1),
            1..=4 => give(
                "group",
                &gid(1 + rng.next() as usize % GROUPS),
                "agent_viewer",
                1,
            ),
            5 | 6 => give("user", &uid(rng.next() as usize % USERS), "agent_editor", 3),
            _ => {}
        }
    }
    tx.commit().unwrap();
    conn.execute_batch("PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    println!(
        "generated {USERS} users, {GROUPS} groups, {agents} agents in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
