//! `librechat migrate-from-librechat DIR`: imports a LibreChat deployment from its MongoDB
//! backup into this server's data folder (see `src/from_librechat`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::config::{Env, Overrides, Settings};
use crate::from_librechat::{self, Options, creds::LibreChatKeys};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// A `mongodump` folder (gzipped or not) or a folder of `mongoexport` JSON files
    dir: PathBuf,
    /// LibreChat's .env, for its CREDS_KEY and CREDS_IV (2FA secrets, stored keys)
    #[arg(long, value_name = "FILE")]
    librechat_env: Option<PathBuf>,
    /// Read and check everything, write nothing (imports into a scratch copy)
    #[arg(long)]
    dry_run: bool,
    /// Also write the report as JSON to FILE
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// LibreChat's `uploads/` folder, where the bytes of its local files are
    #[arg(long, value_name = "DIR")]
    uploads: Option<PathBuf>,
    /// LibreChat's `client/public/images/` folder, where its local images and avatars are
    #[arg(long, value_name = "DIR")]
    images: Option<PathBuf>,
    /// Leave rebuilding the search index to the server's next start
    #[arg(long)]
    no_reindex: bool,
}

pub fn run(env: Env, overrides: Overrides, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    // Secrets are kept (made if missing): what is sealed now must open when the server starts.
    // A dry run writes nothing, not even them.
    let settings = Settings::load(&env, &overrides, !args.dry_run)?;
    if !args.dry_run {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("cannot create {}", settings.data_dir.display()))?;
    }
    // The server must not run meanwhile: the import writes under it.
    let _lock = if settings.data_dir.is_dir() {
        Some(super::serve::lock_data_dir(&settings.data_dir)?)
    } else {
        None
    };
    let keys = match &args.librechat_env {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(LibreChatKeys::from_env_text(&text).with_context(|| path.display().to_string())?)
        }
        None => None,
    };
    let opts = Options {
        dir: args.dir,
        database: settings.database_path(),
        keys,
        creds_key: settings.secrets.creds_key.value.expose().to_owned(),
        dry_run: args.dry_run,
        uploads: args.uploads,
        images: args.images,
        file_store: settings.file_store.clone(),
        files_dir: settings.files_dir(),
        search_dir: settings.search_dir(),
    };
    let mut report = from_librechat::run(&opts)?;
    if !args.dry_run {
        if args.no_reindex {
            report
                .notes
                .push("search: the index is rebuilt when the server starts".into());
        } else {
            let note = super::search::reindex_blocking(&settings.data_dir)?;
            report.notes.push(format!("search: {note}"));
        }
    }
    print!("{}", report.text());
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
