//! `librechat balance add|set|list`: token credits, as LibreChat's `add-balance`,
//! `set-balance` and `list-balances` scripts. Each change is recorded as a transaction.

use std::process::ExitCode;

use anyhow::anyhow;
use clap::Subcommand;

use crate::config::{Env, Overrides, Settings};
use crate::db::balances;
use crate::db::users;

#[derive(Debug, Subcommand)]
pub enum BalanceCommand {
    /// Add credits to an account (1,000,000 credits = $1; negative takes them away)
    #[command(after_help = "Example:\n  librechat balance add alice@example.org 1000000")]
    Add {
        email: String,
        #[arg(allow_negative_numbers = true)]
        amount: i64,
    },
    /// Set an account's credits
    #[command(after_help = "Example:\n  librechat balance set alice@example.org 5000000")]
    Set {
        email: String,
        #[arg(allow_negative_numbers = true)]
        amount: i64,
    },
    /// List every balance
    List,
}

pub fn run(env: Env, overrides: Overrides, cmd: BalanceCommand) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    let settings = Settings::load(&env, &overrides, false)?;
    super::check_database(&settings)?;
    if !settings.features.balance_enabled {
        eprintln!(
            "note: balances are not enabled (balance.enabled in librechat.yaml, or CHECK_BALANCE=true)"
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let set = matches!(cmd, BalanceCommand::Set { .. });
    runtime.block_on(async {
        let db = super::open_database(&settings).await?;
        let result = match cmd {
            BalanceCommand::List => {
                let rows = db.read(balances::list).await?;
                for (email, credits) in &rows {
                    println!("{credits:>14}  {email}");
                }
                if rows.is_empty() {
                    println!("no balances yet");
                }
                Ok(ExitCode::SUCCESS)
            }
            BalanceCommand::Add { email, amount } | BalanceCommand::Set { email, amount } => {
                let e = email.clone();
                let user = db
                    .read(move |c| users::find_by_email(c, &e))
                    .await?
                    .ok_or_else(|| anyhow!("no account with the email {email}"))?;
                let billing = crate::billing::Billing::new(db.clone(), &settings);
                let now = billing.adjust(&user.id, amount, set).await?;
                println!("{} now has {now} credits", user.email);
                Ok(ExitCode::SUCCESS)
            }
        };
        db.close().await?;
        result
    })
}
