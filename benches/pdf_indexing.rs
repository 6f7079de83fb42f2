//! File search indexing of one long document (not a test): `cargo bench --bench pdf_indexing`,
//! against the release server.
//!
//! Uploads a PDF of `BENCH_PDF_PAGES` (1,000) pages of text for file search in a chat, as
//! LibreChat's client does, then waits until the search index has taken every chunk (the
//! server's change log, `search_outbox`, is empty). Prints the time the upload took to answer
//! (the file stored and read as text), the time until its chunks were searchable, the
//! indexing rate in pages per second over the whole, and the peak resident memory of the
//! server, and of the server with its PDF-reading child, sampled every 10 ms.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::stream::rss_mb;

/// The server's resident memory, and its children's (the document reader) added.
fn tree_rss_mb(pid: u32) -> (f64, f64) {
    let own = rss_mb(pid);
    let children: f64 = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
                .collect::<Vec<_>>()
        })
        .map(rss_mb)
        .sum();
    (own, own + children)
}

fn database(dir: &Path) -> PathBuf {
    dir.join("data").join("librechat.db")
}

fn outbox(db: &Path) -> i64 {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    c.query_row("SELECT count(*) FROM search_outbox", [], |r| r.get(0))
        .unwrap()
}

fn main() {
    let pages: usize = std::env::var("BENCH_PDF_PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = common::start_server(
        dir.path(),
        &[
            ("OPENAI_API_KEY", "bench"),
            ("OPENAI_MODELS", "gpt-4o"),
            ("REGISTER_MAX", "10000"),
            ("LOGIN_MAX", "10000"),
        ],
    );
    let pid = server.id();
    let base = format!("http://127.0.0.1:{port}");
    let pdf = common::pdf::text_pages(pages);
    println!(
        "{pages}-page PDF, {:.1} MB; server RSS idle {:.1} MB",
        pdf.len() as f64 / 1e6,
        rss_mb(pid)
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = database(dir.path());
    runtime.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let token = common::sign_up(&http, &base, "pdf@example.org").await;
        assert_eq!(outbox(&db), 0, "the index is idle before the upload");

        let sampling = Arc::new(AtomicBool::new(true));
        let sampler = {
            let sampling = sampling.clone();
            std::thread::spawn(move || {
                let (mut own, mut all) = (0.0f64, 0.0f64);
                while sampling.load(Ordering::Relaxed) {
                    let (o, a) = tree_rss_mb(pid);
                    (own, all) = (own.max(o), all.max(a));
                    std::thread::sleep(Duration::from_millis(10));
                }
                (own, all)
            })
        };
        let started = Instant::now();
        let form = reqwest::multipart::Form::new()
            .text("endpoint", "agents")
            .text("file_id", uuid::Uuid::new_v4().to_string())
            .text("message_file", "true")
            .text("tool_resource", "file_search")
            .part(
                "file",
                reqwest::multipart::Part::bytes(pdf)
                    .file_name("long.pdf")
                    .mime_str("application/pdf")
                    .unwrap(),
            );
        let resp = http
            .post(format!("{base}/api/files"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert!(status.is_success(), "{status}: {body}");
        let answered = started.elapsed();
        while outbox(&db) > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let indexed = started.elapsed();
        sampling.store(false, Ordering::Relaxed);
        let (own, all) = sampler.join().unwrap();
        println!(
            "upload answered in {:.2} s (stored and read as text); searchable after {:.2} s: \
             {:.0} pages/s in all",
            answered.as_secs_f64(),
            indexed.as_secs_f64(),
            pages as f64 / indexed.as_secs_f64()
        );
        println!(
            "peak RSS while indexing: server {own:.1} MB, server and its PDF reader {all:.1} MB"
        );
    });
    server.kill().ok();
    server.wait().ok();
}
