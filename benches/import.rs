//! Import benchmark (not a test): `cargo bench --bench import`.
//!
//! 1. Writes a synthetic ChatGPT `conversations.json` of about 100 MB (`BENCH_IMPORT_MB`):
//!    conversations of 40 messages with a regenerated answer branch each, then runs the release
//!    `librechat import` on it and prints the wall time and the importer's peak resident memory
//!    (read from /proc while it runs).
//! 2. Uploads one LibreChat export of a single conversation of 50,000 messages
//!    (`BENCH_IMPORT_MESSAGES`, about 9.5 MB) to the release server, and prints the server's
//!    resident memory before, at its peak during the import, and once the import and its
//!    search indexing are done.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::dataset::{Rng, text};
use serde_json::json;

fn main() {
    let target_mb: usize = std::env::var("BENCH_IMPORT_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    common::dataset::generate(&data.join("librechat.db"), 1);

    // The export, written conversation by conversation.
    let file = dir.path().join("conversations.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    let mut rng = Rng::new(7);
    let (mut written, mut convos, mut messages) = (0usize, 0usize, 0usize);
    out.write_all(b"[").unwrap();
    while written < target_mb * 1_000_000 {
        let mut mapping = serde_json::Map::new();
        mapping.insert(
            "root".into(),
            json!({"id": "root", "message": null, "parent": null, "children": ["n0"]}),
        );
        let t0 = 1_700_000_000.0 + convos as f64 * 1000.0;
        for i in 0..40 {
            let id = format!("n{i}");
            let role = if i % 2 == 0 { "user" } else { "assistant" };
            let len = if i % 2 == 0 { 30 } else { 300 };
            let mut children = vec![json!(format!("n{}", i + 1))];
            if i == 1 {
                children.push(json!("alt"));
            }
            mapping.insert(id.clone(), json!({
                "id": id, "parent": if i == 0 { "root".to_owned() } else { format!("n{}", i - 1) },
                "children": if i == 39 { vec![] } else { children },
                "message": {"id": id, "author": {"role": role}, "create_time": t0 + i as f64,
                    "content": {"content_type": "text", "parts": [text(&mut rng, len)]},
                    "metadata": {"model_slug": "gpt-4o"}}
            }));
        }
        mapping.insert(
            "alt".into(),
            json!({"id": "alt", "parent": "n0", "children": [],
            "message": {"id": "alt", "author": {"role": "assistant"}, "create_time": t0 + 1.5,
                "content": {"content_type": "text", "parts": [text(&mut rng, 300)]}}}),
        );
        let convo = json!({"title": format!("Imported {convos}"), "create_time": t0,
            "update_time": t0 + 40.0, "mapping": mapping, "current_node": "n39"});
        if convos > 0 {
            out.write_all(b",").unwrap();
        }
        let bytes = serde_json::to_vec(&convo).unwrap();
        written += bytes.len();
        out.write_all(&bytes).unwrap();
        convos += 1;
        messages += 41;
    }
    out.write_all(b"]").unwrap();
    out.flush().unwrap();
    drop(out);
    println!(
        "export: {:.1} MB, {convos} conversations, {messages} messages",
        written as f64 / 1e6
    );

    let (report, secs, peak) = common::run_measured(
        dir.path(),
        &[
            "import",
            "conversations.json",
            "--user",
            common::dataset::EMAIL,
        ],
    );
    print!("{report}");
    println!(
        "import: {secs:.1} s ({:.1} MB/s, {:.0} messages/s), peak RSS {:.1} MB",
        written as f64 / 1e6 / secs,
        messages as f64 / secs,
        peak
    );

    one_large_conversation();
}

/// Part 2: one large conversation through the server, in a data folder of its own.
fn one_large_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    common::dataset::generate(&data.join("librechat.db"), 1);
    let n: usize = std::env::var("BENCH_IMPORT_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let mut rng = Rng::new(11);
    let mut parent = common::dataset::ROOT.to_owned();
    let messages: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let id = format!("msg-{i:06}");
            let mut body = text(&mut rng, 10);
            if i == n - 1 {
                body.push_str(" zeppelin");
            }
            let m = json!({"messageId": id, "parentMessageId": parent, "text": body,
                "isCreatedByUser": i % 2 == 0, "sender": if i % 2 == 0 { "User" } else { "GPT-4o" },
                "createdAt": "2024-03-01T10:00:00.000Z"});
            parent = id;
            m
        })
        .collect();
    let file = serde_json::to_vec(&json!({"conversationId": "large", "title": "Large",
        "endpoint": "openAI", "messages": messages}))
    .unwrap();
    drop(messages);
    println!(
        "one conversation: {:.1} MB, {n} messages, uploaded to the server",
        file.len() as f64 / 1e6
    );

    let (mut server, port) = common::start_server(dir.path(), &[("LOGIN_MAX", "1000")]);
    let token = common::dataset::login(port);
    let pid = server.id();
    // Let the start's work (indexing the data set) settle.
    std::thread::sleep(Duration::from_secs(2));
    let before = common::stream::rss_mb(pid);
    // The highest resident size seen, sampled every 5 ms (VmHWM misses memory given back
    // without unmapping it).
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                let kb = (common::stream::rss_mb(pid) * 1024.0) as u64;
                peak.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let started = Instant::now();
    let mut body = b"--BENCH\r\nContent-Disposition: form-data; name=\"file\"; filename=\"large.json\"\r\nContent-Type: application/json\r\n\r\n".to_vec();
    body.extend_from_slice(&file);
    body.extend_from_slice(b"\r\n--BENCH--\r\n");
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "POST /api/convos/import HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=BENCH\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
    s.write_all(&body).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 201"), "{resp}");
    let secs = started.elapsed().as_secs_f64();
    let after_import = common::stream::rss_mb(pid);
    let import_peak = peak.swap(0, std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0;
    // Indexed once the last message's rare word is found.
    while !common::request(port, "GET", "/api/search?q=zeppelin", Some(&token), "")
        .unwrap_or_default()
        .contains("zeppelin")
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    // The indexer gives memory back once it has been idle for a moment (up to ~2.5 s).
    std::thread::sleep(Duration::from_secs(4));
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    println!(
        "server: {before:.1} MB before; the import ({secs:.1} s) peaks at {import_peak:.1} MB and \
         leaves {after_import:.1} MB; indexing it peaks at {:.1} MB and leaves {:.1} MB",
        peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0,
        common::stream::rss_mb(pid)
    );
    let _ = server.kill();
    let _ = server.wait();
}
