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

fn main() {
    let users: usize = std::env::var("BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    common::dataset::generate(&data.join("librechat.db"), users);

    // Search off: its first-start index build would compete for the CPU being measured
    // (benches/search.rs measures search).
    let (mut server, port) =
        start_server(dir.path(), &[("LOGIN_MAX", "1000"), ("SEARCH", "false")]);
    let token = common::dataset::login(port);

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
