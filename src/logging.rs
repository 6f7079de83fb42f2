//! Logs through `tracing`, to stderr: readable on a terminal, plain under a service manager,
//! JSON lines with `CONSOLE_JSON=true`. The level comes from `LOG_LEVEL` (a level or a full
//! filter such as `info,librechat=debug`), or `DEBUG_LOGGING=true` for debug.
//! Nothing logs secrets or tokens: settings print masked, requests log their path only.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::Env;

/// Installs the global subscriber. `default_level` applies when the environment names none.
pub fn init(env: &Env, default_level: &str) -> Result<(), String> {
    let debug = env.bool("DEBUG_LOGGING").map_err(|e| e.to_string())?;
    let directive = match (env.get("LOG_LEVEL"), debug) {
        (Some(level), _) => level.to_owned(),
        (None, Some(true)) => "debug".to_owned(),
        _ => default_level.to_owned(),
    };
    let filter = EnvFilter::try_new(&directive)
        .map_err(|e| format!("LOG_LEVEL={directive:?} is not valid: {e}"))?;
    let json = env
        .bool("CONSOLE_JSON")
        .map_err(|e| e.to_string())?
        .unwrap_or(false);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if json {
        builder.json().flatten_event(true).try_init()
    } else if std::io::stderr().is_terminal() {
        builder.pretty().try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
    // Already installed (tests start several servers in one process): keep the first.
    let _ = result;
    Ok(())
}
