//! `librechat search reindex`: rebuilds the search index from the database.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Subcommand;

use crate::config::{Env, Overrides, Settings};
use crate::db::{self, Db};
use crate::search::SearchIndex;

#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Rebuild the search index from the database (the server must be stopped)
    #[command(
        after_help = "Example:\n  librechat search reindex --data-dir /var/lib/librechat\n\n\
The server also rebuilds a missing or damaged index by itself at start, while it serves."
    )]
    Reindex,
}

pub fn run(env: Env, overrides: Overrides, cmd: SearchCommand) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    let SearchCommand::Reindex = cmd;
    let settings = Settings::load(&env, &overrides, false)?;
    let dir = settings.data_dir.clone();
    super::check_database(&settings)?;
    // The running server owns the index; rebuilding under it would fight its writer.
    let _lock = super::serve::lock_data_dir(&dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let note = runtime.block_on(async {
        let db = super::open_database(&settings).await?;
        reindex(db, &dir.join("search")).await
    })?;
    println!("{note}");
    Ok(ExitCode::SUCCESS)
}

/// Rebuilds the index of the data folder `dir` (its lock already held), saying what it did.
pub(super) fn reindex_blocking(dir: &Path) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let path = dir.join("librechat.db");
    runtime.block_on(async {
        let db = tokio::task::spawn_blocking(move || Db::open(&path)).await??;
        reindex(db, &dir.join("search")).await
    })
}

async fn reindex(db: Db, index_dir: &Path) -> anyhow::Result<String> {
    let d = index_dir.to_path_buf();
    let index = tokio::task::spawn_blocking(move || SearchIndex::open(&d))
        .await?
        .with_context(|| format!("cannot open the search index in {}", index_dir.display()))?;
    let total = db.read(db::search::count_all).await?;
    let bar = std::sync::Arc::new(super::progress::Progress::new("indexing", total, false));
    let started = Instant::now();
    let b = bar.clone();
    let index = std::sync::Arc::new(index);
    let i = index.clone();
    let done = db
        .read(move |c| {
            i.rebuild(c, &|n| b.set(n))
                .map_err(|e| db::DbError::Io(e.to_string()))
        })
        .await?;
    bar.finish();
    let replica = index.replica().to_owned();
    db.write(move |c| db::search::advance(c, &replica, done.up_to))
        .await?;
    index.close();
    db.close().await?;
    let secs = started.elapsed().as_secs_f64();
    Ok(format!(
        "indexed {} document(s) (messages, conversation titles and file chunks) in {secs:.1} s ({:.0}/s) into {}",
        done.documents,
        done.documents as f64 / secs.max(0.001),
        index_dir.display()
    ))
}
