//! File search benchmark (not a test): `cargo bench --bench file_search`.
//!
//! Makes `BENCH_FILES` documents (10,000 by default) of `BENCH_PAGES` pages each (2) uploaded
//! for file search, of words drawn from a small vocabulary, rebuilds the search index from the
//! database (chunking included: pages/s is the indexing rate, the peak RSS is the process's),
//! then prints p50/p99 of `search_files` for three-word questions scoped as the tool scopes
//! them: the 20 files of one conversation or agent, and 1,000 (the most one agent lists).
//!
//! Then dense retrieval: random unit vectors of `BENCH_DIMS` dimensions (1,536 by default,
//! text-embedding-3-small's) for every chunk of the first 1,000 files (`BENCH_PAGES=10` makes
//! that 10,000 chunks), and the time of `VectorStore::nearest` over those files: the first
//! scan (read from SQLite) and p50/p99 of the next ones (vectors kept in memory).

use std::time::{Duration, Instant};

use librechat::db::Db;
use librechat::db::chunk_vectors::{self as vectors, NewVector};
use librechat::db::files::File;
use librechat::search::SearchIndex;
use librechat::search::vectors::VectorStore;

#[path = "../tests/support/filler.rs"]
mod filler;
use filler::Filler;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident memory of this process, in MB (Linux).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let (files, pages) = (env("BENCH_FILES", 10_000), env("BENCH_PAGES", 2));
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("librechat.db")).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rng = Filler::new(7);
    let texts: Vec<String> = (0..files)
        .map(|_| {
            (0..pages)
                .map(|_| format!("{}.\n\n{}.", rng.words(60), rng.words(60)))
                .collect::<Vec<_>>()
                .join("\u{c}")
        })
        .collect();
    let ids: Vec<String> = (0..files).map(|i| format!("file-{i:06}")).collect();
    let rows = ids.clone();
    runtime
        .block_on(db.write(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO users (id, email, name, password, email_verified, created_at, \
                 updated_at) VALUES ('u1', 'bench@example.org', 'Bench', '', 1, '', '')",
                [],
            )?;
            for (id, text) in rows.iter().zip(texts) {
                let f = File {
                    file_id: id.clone(),
                    user_id: "u1".into(),
                    filename: format!("{id}.txt"),
                    filepath: String::new(),
                    storage_key: id.clone(),
                    mime: "text/plain".into(),
                    source: "local".into(),
                    embedded: true,
                    text: Some(text),
                    ..File::default()
                };
                librechat::db::files::insert(&tx, &f)?;
            }
            tx.commit()?;
            Ok(())
        }))
        .unwrap();

    let index = std::sync::Arc::new(SearchIndex::open(&dir.path().join("search")).unwrap());
    let started = Instant::now();
    let i = index.clone();
    let done = runtime
        .block_on(db.read(move |c| {
            i.rebuild(c, &|_| {})
                .map_err(|e| librechat::db::DbError::Io(e.to_string()))
        }))
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "indexed {files} documents, {} pages, {} chunks in {secs:.1} s: {:.0} pages/s; peak RSS {:.0} MB",
        files * pages,
        done.documents,
        (files * pages) as f64 / secs,
        peak_rss_mb()
    );

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for scope in [20usize, 1000] {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..1000 {
            let start = rng.number() % files.saturating_sub(scope).max(1);
            let within: Vec<String> = ids[start..(start + scope).min(files)].to_vec();
            let question = rng.words(3);
            let t = Instant::now();
            found += index.search_files(&within, &question, 10).unwrap().len();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "search in {scope:>4} files: p50 {:.2} ms, p99 {:.2} ms ({:.1} chunks found on average, 1,000 questions)",
            ms(times[500]),
            ms(times[990]),
            found as f64 / 1000.0
        );
    }
    dense(&runtime, &db, &ids[..files.min(1000)], &mut rng, ms);
}

fn unit(rng: &mut Filler, dims: usize) -> Vec<f32> {
    let v: Vec<f32> = (0..dims)
        .map(|_| (rng.number() % 2001) as f32 / 1000.0 - 1.0)
        .collect();
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::MIN_POSITIVE);
    v.into_iter().map(|x| x / norm).collect()
}

fn dense(
    runtime: &tokio::runtime::Runtime,
    db: &Db,
    scope: &[String],
    rng: &mut Filler,
    ms: impl Fn(Duration) -> f64,
) {
    const MODEL: &str = "bench-embed";
    let dims = env("BENCH_DIMS", 1536);
    let mut chunks = 0;
    for id in scope {
        let id = id.clone();
        let mut seed = Filler::new(rng.number() as u64);
        chunks += runtime
            .block_on(db.write(move |c| {
                let doc = vectors::file_text(c, &id)?.expect("the file");
                let rows: Vec<NewVector> = librechat::files::chunks::split(&doc.text)
                    .into_iter()
                    .zip(0u32..)
                    .map(|(chunk, n)| NewVector {
                        chunk: n,
                        page: chunk.page,
                        text: chunk.text,
                        vector: unit(&mut seed, dims),
                    })
                    .collect();
                let n = rows.len() as u32;
                vectors::store(c, &id, &doc.updated_at, MODEL, &rows)?;
                vectors::complete(c, &id, MODEL, n)?;
                Ok(n as usize)
            }))
            .unwrap();
    }
    let store = VectorStore::new(db.clone());
    let mut times = Vec::new();
    for _ in 0..101 {
        let q = unit(rng, dims);
        let t = Instant::now();
        let found = runtime
            .block_on(store.nearest(MODEL, scope, q, 50))
            .unwrap();
        times.push(t.elapsed());
        assert!(!found.is_empty());
    }
    let first = times.remove(0);
    times.sort();
    println!(
        "dense scan of {chunks} chunks ({dims} dimensions) in {} files: first {:.1} ms (from SQLite), then p50 {:.2} ms, p99 {:.2} ms",
        scope.len(),
        ms(first),
        ms(times[50]),
        ms(times[99])
    );
}
