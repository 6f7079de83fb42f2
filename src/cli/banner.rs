//! `librechat banner set|show|delete`: the site banner, as LibreChat's `update-banner` and
//! `delete-banner` scripts. Safe while the server runs (it reads the banner on each request).

use std::process::ExitCode;

use anyhow::anyhow;
use clap::Subcommand;

use crate::config::{Env, Overrides, Settings};
use crate::db::banner::{self, BannerInput};

#[derive(Debug, Subcommand)]
pub enum BannerCommand {
    /// Show a banner (replacing any other)
    #[command(
        after_help = "Examples:\n  librechat banner set 'Maintenance on Sunday 10:00 UTC' --public\n  \
librechat banner set 'New models' --from 2027-01-01T00:00:00Z --to 2027-01-08T00:00:00Z"
    )]
    Set {
        message: String,
        /// When it starts showing (ISO 8601; default now)
        #[arg(long)]
        from: Option<String>,
        /// When it stops showing (ISO 8601; default never)
        #[arg(long)]
        to: Option<String>,
        /// Also show it to people who are not signed in
        #[arg(long)]
        public: bool,
        /// People cannot dismiss it
        #[arg(long)]
        persistable: bool,
    },
    /// Print the banner
    Show,
    /// Remove the banner
    Delete,
}

pub fn run(env: Env, overrides: Overrides, cmd: BannerCommand) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    let settings = Settings::load(&env, &overrides, false)?;
    super::check_database(&settings)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let db = super::open_database(&settings).await?;
        match cmd {
            BannerCommand::Set {
                message,
                from,
                to,
                public,
                persistable,
            } => {
                let b = BannerInput {
                    message,
                    display_from: from,
                    display_to: to,
                    kind: None,
                    is_public: public,
                    persistable,
                }
                .validate()
                .map_err(|e| anyhow!(e))?;
                let shown = b.clone();
                db.write(move |c| banner::set(c, &b)).await?;
                println!(
                    "banner set, from {} {}",
                    shown.display_from,
                    shown
                        .display_to
                        .map_or("until removed".into(), |t| format!("to {t}"))
                );
            }
            BannerCommand::Show => match db.read(banner::get).await? {
                Some(b) => println!(
                    "{}\nfrom {} to {}{}",
                    b.message,
                    b.display_from,
                    b.display_to.as_deref().unwrap_or("(until removed)"),
                    if b.is_public { ", public" } else { "" }
                ),
                None => println!("no banner"),
            },
            BannerCommand::Delete => {
                let removed = db.write(|c| banner::delete(c)).await?;
                println!(
                    "{}",
                    if removed {
                        "banner removed"
                    } else {
                        "no banner"
                    }
                );
            }
        }
        db.close().await?;
        Ok(ExitCode::SUCCESS)
    })
}
