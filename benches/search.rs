//! Search benchmark (not a test): `cargo bench --bench search`.
//!
//! Generates the data set of `benches/common/dataset.rs` (1,000 users × 100 conversations ×
//! 10 messages, 1,000,000 messages; `BENCH_USERS` scales it), rebuilds the index with the
//! release `librechat search reindex` (its messages/s is the reindex rate), starts the server
//! and prints p50/p99 of `GET /api/messages?search=` for a common word, a rare word, a
//! two-word query, a phrase and a prefix, as the first user (1,000 messages of their own in a
//! million).

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
    let (_, messages) = common::dataset::generate(&data.join("librechat.db"), users);

    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_librechat"))
        .args(["search", "reindex"])
        .current_dir(dir.path())
        .env_clear()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secs = started.elapsed().as_secs_f64();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    println!(
        "reindex: {messages} messages (+ titles) in {secs:.1} s wall, {:.0} messages/s",
        messages as f64 / secs
    );
    let size: u64 = std::fs::read_dir(data.join("search"))
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("index size: {:.1} MB", size as f64 / 1e6);

    let (mut server, port) = start_server(dir.path(), &[("LOGIN_MAX", "1000")]);
    let token = common::dataset::login(port);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for (label, q) in [
        ("common word", "weather"),
        ("less common word", "zeppelin"),
        ("rare word", "quasar"),
        ("two words", "rust%20server"),
        ("phrase", "%22the%20code%22"),
        ("prefix (typing)", "datab"),
        ("no match", "nonexistentword"),
    ] {
        let mut times = Vec::new();
        let path = format!("/api/messages?search={q}");
        for i in 0..300 {
            let t = Instant::now();
            let resp = request(port, "GET", &path, Some(&token), "").unwrap();
            times.push(t.elapsed());
            if i == 0 {
                assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
                let hits = resp.matches("\"messageId\"").count();
                print!("{label:>17} ({q}): {hits:>2} hits on page 1; ");
            }
        }
        times.sort();
        println!(
            "p50 {:.2} ms, p99 {:.2} ms (300 sequential requests)",
            ms(times[150]),
            ms(times[296])
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}
