//! `librechat balance add|set|list`: token credits, as LibreChat's `add-balance`,
//! `set-balance` and `list-balances` scripts. Each change is recorded as a transaction.

use std::process::ExitCode;

use anyhow::{anyhow, bail};
use clap::Subcommand;

use crate::config::{Env, Overrides, Settings};
use crate::db::balances::{self, Policy};
use crate::db::{Db, users};

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
    let path = settings.database_path();
    if !path.is_file() {
        bail!("no database at {}", path.display());
    }
    if !settings.features.balance_enabled {
        eprintln!(
            "note: balances are not enabled (balance.enabled in librechat.yaml, or CHECK_BALANCE=true)"
        );
    }
    let b = settings.yaml.balance.clone().unwrap_or_default();
    let policy = Policy {
        start_balance: settings.features.start_balance as i64,
        auto_refill_enabled: b.auto_refill_enabled.unwrap_or(false),
        refill_interval_value: b.refill_interval_value.unwrap_or(30) as i64,
        refill_interval_unit: b
            .refill_interval_unit
            .map(|u| format!("{u:?}").to_ascii_lowercase())
            .unwrap_or_else(|| "days".into()),
        refill_amount: b.refill_amount.unwrap_or(0) as i64,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let set = matches!(cmd, BalanceCommand::Set { .. });
    runtime.block_on(async {
        let db = tokio::task::spawn_blocking(move || Db::open(&path)).await??;
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
                let id = user.id.clone();
                let now = db
                    .write(move |c| {
                        let tx = c.transaction()?;
                        balances::ensure(&tx, &id, &policy)?;
                        if set {
                            balances::set(&tx, &id, amount)?;
                        } else {
                            balances::add(&tx, &id, amount, "admin")?;
                        }
                        let b = balances::get(&tx, &id)?.ok_or(crate::db::DbError::NotFound)?;
                        tx.commit()?;
                        Ok(b.token_credits)
                    })
                    .await?;
                println!("{} now has {now} credits", user.email);
                Ok(ExitCode::SUCCESS)
            }
        };
        db.close().await?;
        result
    })
}
