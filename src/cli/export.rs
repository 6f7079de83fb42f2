//! `librechat export --user EMAIL DIR`: every conversation of one user as LibreChat export JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Args;

use crate::chat::export;
use crate::config::{Env, Overrides, Settings};
use crate::db::conversations::{self, ListFilter};
use crate::db::{messages, users};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Whose conversations to export (an account's email)
    #[arg(long, value_name = "EMAIL")]
    user: String,
    /// Folder to write `<conversationId>.json` files into (created if missing)
    dir: PathBuf,
}

pub fn run(env: Env, overrides: Overrides, args: ExportArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    let settings = Settings::load(&env, &overrides, false)?;
    super::check_database(&settings)?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let db = super::open_database(&settings).await?;
        let email = args.user.clone();
        let user = db
            .read(move |c| users::find_by_email(c, &email))
            .await?
            .ok_or_else(|| anyhow!("no account with the email {}", args.user))?;
        let mut written = 0usize;
        for archived in [false, true] {
            let mut cursor = None;
            loop {
                let (uid, filter) = (
                    user.id.clone(),
                    ListFilter {
                        archived,
                        ..ListFilter::default()
                    },
                );
                let after = cursor.clone();
                let (page, next) = db
                    .read(move |c| conversations::list(c, &uid, &filter, after.as_ref(), 100))
                    .await?;
                for convo in page {
                    let (uid, cid) = (user.id.clone(), convo.conversation_id.clone());
                    let all = db.read(move |c| messages::list(c, &uid, &cid)).await?;
                    let doc = export::to_json(&convo, &all);
                    let file = args
                        .dir
                        .join(format!("{}.json", safe_name(&convo.conversation_id)));
                    std::fs::write(&file, serde_json::to_vec_pretty(&doc)?)
                        .with_context(|| format!("cannot write {}", file.display()))?;
                    written += 1;
                }
                match next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        db.close().await?;
        println!(
            "exported {written} conversation(s) of {} to {}",
            user.email,
            args.dir.display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Conversation ids come from clients: file names keep to safe characters, and an id that had
/// to be changed gets a hash of the original, so two ids never share a file.
fn safe_name(id: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if !id.is_empty() && id.chars().all(safe) {
        return id.to_owned();
    }
    let cleaned: String = id
        .chars()
        .map(|c| if safe(c) { c } else { '_' })
        .take(100)
        .collect();
    let hash = crate::auth::tokens::token_hash(id);
    format!("{cleaned}.{}", &hash[..12])
}
