//! `librechat agents list|promote|demote`: the administrator's side of the marketplace.
//! LibreChat has no route to promote an agent (its administrators edit the database); here it
//! is a command. Safe while the server runs.

use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;

use crate::config::{Env, Overrides, Settings};
use crate::db::{Db, agents};

#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// List every agent: id, promoted, category, author and name
    List,
    /// Show an agent first in the marketplace (its "Promoted" tab)
    #[command(after_help = "Example:\n  librechat agents promote agent_V1StGXR8Z5jdHi6BmyTqZ")]
    Promote {
        /// The agent's id (`agent_...`)
        id: String,
    },
    /// Take an agent out of the "Promoted" tab
    Demote {
        /// The agent's id (`agent_...`)
        id: String,
    },
}

pub fn run(env: Env, overrides: Overrides, cmd: AgentsCommand) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    let settings = Settings::load(&env, &overrides, false)?;
    super::check_database(&settings)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let db = super::open_database(&settings).await?;
        match cmd {
            AgentsCommand::List => {
                for a in db.read(agents::all).await? {
                    let promoted = if a.is_promoted { "promoted" } else { "-" };
                    println!(
                        "{}\t{promoted}\t{}\t{}\t{}",
                        a.id, a.category, a.author_email, a.name
                    );
                }
            }
            AgentsCommand::Promote { id } => set(&db, id, true).await?,
            AgentsCommand::Demote { id } => set(&db, id, false).await?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

async fn set(db: &Db, id: String, promoted: bool) -> anyhow::Result<()> {
    let i = id.clone();
    if !db
        .write(move |c| agents::set_promoted(c, &i, promoted))
        .await?
    {
        bail!("no agent {id}");
    }
    let done = if promoted {
        "promoted"
    } else {
        "no longer promoted"
    };
    println!("{id} is {done}");
    Ok(())
}
