//! `librechat config check`: load everything and print the effective settings, secrets masked.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use crate::config::{Env, Overrides, Settings};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate .env, the environment and librechat.yaml, then print the effective settings
    #[command(after_help = "Examples:\n  librechat config check\n  \
librechat config check --config /etc/librechat/librechat.yaml")]
    Check,
}

pub fn run(env: Env, overrides: Overrides, cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    match cmd {
        ConfigCommand::Check => {
            // Nothing is written: secrets not yet generated show as `generated`.
            let settings = Settings::load(&env, &overrides, false)?;
            let text = serde_saphyr::to_string(&settings).context("printing the settings")?;
            print!("{text}");
            for warning in &settings.yaml_warnings {
                eprintln!("warning: {warning}");
            }
            for note in &settings.yaml_unsupported {
                eprintln!("note: {note}");
            }
            eprintln!("configuration is valid");
            Ok(ExitCode::SUCCESS)
        }
    }
}
