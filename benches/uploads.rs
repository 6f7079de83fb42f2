//! Uploads benchmark (not a test): `cargo bench --bench uploads`, against the release server.
//!
//! Prints:
//! - upload throughput and the server's peak resident memory while ten 100 MB uploads stream
//!   in at once (text files: after the last byte each is refused as over the 15 MB a text may
//!   have, so every byte is received and written as any upload's is);
//! - the time to read a 100-page PDF as text, through `POST /api/files`, and the reading
//!   child's own time and peak memory (`librechat read-document`);
//! - the time to the first token of an answer, for a message with one image and without
//!   (`gpt-4o`, a vision model; the fake provider streams 500 tokens for any model).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const UPLOADS: usize = 10;
const UPLOAD_MB: usize = 100;

fn main() {
    if std::env::var_os("BENCH_FAKE_PROVIDER").is_some() {
        common::fake_llm::serve_forever();
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
}

/// Resident memory of a process now, in MB.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn form(name: &str, mime: &str, part: reqwest::multipart::Part) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("endpoint", "openAI")
        .text("file_id", uuid::Uuid::new_v4().to_string())
        .part(
            "file",
            part.file_name(name.to_owned()).mime_str(mime).unwrap(),
        )
}

async fn run() {
    let fake = common::fake_llm::Fake::spawn();
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = common::start_server(
        dir.path(),
        &[
            ("OPENAI_API_KEY", "bench"),
            ("OPENAI_REVERSE_PROXY", &fake.base),
            ("OPENAI_MODELS", "gpt-4o"),
            ("TITLE_CONVO", "false"),
            ("LIMIT_CONCURRENT_MESSAGES", "false"),
            ("LIMIT_MESSAGE_IP", "false"),
            ("FILE_UPLOAD_IP_MAX", "100000"),
            ("FILE_UPLOAD_USER_MAX", "100000"),
            // Ten accounts from one address.
            ("REGISTER_MAX", "10000"),
            ("LOGIN_MAX", "10000"),
            ("SEARCH", "false"),
        ],
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let pid = server.id();
    println!("server RSS idle: {:.1} MB", rss_mb(pid));

    // Ten 100 MB uploads at once, each from its own account (an account streams 4 at a time).
    let mut tokens = Vec::new();
    for i in 0..UPLOADS {
        tokens.push(common::sign_up(&http, &base, &format!("up{i}@example.org")).await);
    }
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut peak = 0.0f64;
            while sampling.load(Ordering::Relaxed) {
                peak = peak.max(rss_mb(pid));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        })
    };
    let t = Instant::now();
    let mut tasks = Vec::new();
    for token in tokens.clone() {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let chunks = futures_util::stream::iter(
                (0..UPLOAD_MB).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 1024 * 1024])),
            );
            let body = reqwest::Body::wrap_stream(chunks);
            let part = reqwest::multipart::Part::stream_with_length(body, (UPLOAD_MB << 20) as u64);
            let resp = http
                .post(format!("{base}/api/files"))
                .bearer_auth(&token)
                .multipart(form("big.txt", "text/plain", part))
                .send()
                .await
                .unwrap();
            resp.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let elapsed = t.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    println!(
        "{UPLOADS} uploads of {UPLOAD_MB} MB at once: {:.0} MB/s in all ({elapsed:.1} s), server peak RSS {peak:.1} MB (answers {statuses:?})",
        (UPLOADS * UPLOAD_MB) as f64 / elapsed
    );

    // A 100-page PDF, through the server, then its reader alone.
    let token = &tokens[0];
    let pdf = common::pdf::text_pages(100);
    let mut times = Vec::new();
    for _ in 0..5 {
        let part = reqwest::multipart::Part::bytes(pdf.clone());
        let t = Instant::now();
        let resp = http
            .post(format!("{base}/api/files"))
            .bearer_auth(token)
            .multipart(form("hundred.pdf", "application/pdf", part))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let t = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_librechat"))
        .args(["read-document", "pdf"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    let alone = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "100-page PDF ({} KB, {} KB of text): upload read as text median {:.0} ms over 5; the reader alone {alone:.0} ms, peak RSS {:.1} MB",
        pdf.len() / 1024,
        out.stdout.len() / 1024,
        times[2],
        children_peak_mb()
    );

    // First token with one image, and with none.
    let png = {
        let img = image::RgbImage::from_fn(1600, 1200, |x, y| {
            image::Rgb([(x / 7) as u8, (y / 5) as u8, ((x ^ y) % 256) as u8])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let part = reqwest::multipart::Part::bytes(png);
    let image: Value = http
        .post(format!("{base}/api/files/images"))
        .bearer_auth(token)
        .multipart(form("photo.png", "image/png", part))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let file_id = image["file_id"].as_str().unwrap().to_owned();
    for (label, files) in [
        ("no image", json!([])),
        ("one image", json!([{"file_id": file_id}])),
    ] {
        let mut firsts = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            let started: Value = http
                .post(format!("{base}/api/agents/chat/openAI"))
                .bearer_auth(token)
                .json(
                    &json!({"text": "What is in the picture?", "model": "gpt-4o", "files": files}),
                )
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = started["streamId"]
                .as_str()
                .unwrap_or_else(|| panic!("{started}"));
            let mut resp = http
                .get(format!("{base}/api/agents/chat/stream/{id}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let mut seen = String::new();
            let mut first = None;
            while let Some(chunk) = resp.chunk().await.unwrap() {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if first.is_none() && seen.contains("on_message_delta") {
                    first = Some(t.elapsed());
                }
                if seen.contains("\"final\":true") {
                    break;
                }
            }
            firsts.push(first.expect("a first token").as_secs_f64() * 1000.0);
        }
        firsts.sort_by(f64::total_cmp);
        println!(
            "first token, {label}: p50 {:.2} ms, p90 {:.2} ms",
            firsts[25], firsts[45]
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// The peak resident memory of the largest finished child of this process, in MB.
fn children_peak_mb() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}
