//! `librechat import FILE --user EMAIL`: the web app's importer from the command line, for
//! files too large to upload comfortably.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{anyhow, bail};
use clap::Args;

use crate::chat::import;
use crate::config::{Env, Overrides, Settings};
use crate::db::users;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Whose conversations these become (an account's email)
    #[arg(long, value_name = "EMAIL")]
    user: String,
    /// ChatGPT's or Claude's conversations.json, or a LibreChat export
    file: PathBuf,
}

pub fn run(env: Env, overrides: Overrides, args: ImportArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    let settings = Settings::load(&env, &overrides, false)?;
    super::check_database(&settings)?;
    let len = std::fs::metadata(&args.file)
        .map_err(|e| anyhow!("cannot read {}: {e}", args.file.display()))?
        .len();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let db = super::open_database(&settings).await?;
        let email = args.user.clone();
        let user = db
            .read(move |c| users::find_by_email(c, &email))
            .await?
            .ok_or_else(|| anyhow!("no account with the email {}", args.user))?;
        let read = Arc::new(AtomicU64::new(0));
        let bar = Arc::new(super::progress::Progress::new("importing", len, true));
        let ticker = {
            let (bar, read) = (bar.clone(), read.clone());
            tokio::spawn(async move {
                loop {
                    bar.set(read.load(Ordering::Relaxed));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        let result = import::import_file(&db, &user.id, &args.file, read).await;
        ticker.abort();
        bar.finish();
        db.close().await?;
        let report = result?;
        for s in &report.skipped {
            println!(
                "skipped conversation {}{}: {}",
                s.index,
                s.title
                    .as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default(),
                s.reason
            );
        }
        if report.skipped_count > report.skipped.len() {
            println!(
                "... and {} more skipped",
                report.skipped_count - report.skipped.len()
            );
        }
        println!(
            "imported {} conversation(s) with {} message(s) for {}{}",
            report.conversations,
            report.messages,
            user.email,
            if report.formats.is_empty() {
                String::new()
            } else {
                format!(" from {}", report.formats.join(", "))
            }
        );
        if report.conversations == 0 {
            bail!("nothing was imported");
        }
        Ok(ExitCode::SUCCESS)
    })
}
