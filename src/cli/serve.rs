//! `librechat serve`: start everything and run until SIGINT or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::config::{Env, Overrides, Settings};
use crate::server::{self, AppState};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [env: HOST] [default: localhost]
    #[arg(long)]
    host: Option<String>,
    /// Port to listen on; 0 picks a free one [env: PORT] [default: 3080]
    #[arg(long)]
    port: Option<u16>,
}

pub fn run(env: Env, mut overrides: Overrides, args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "info").map_err(anyhow::Error::msg)?;
    overrides.host = args.host;
    overrides.port = args.port;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(env, overrides))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(env: Env, overrides: Overrides) -> anyhow::Result<()> {
    let settings = Settings::load(&env, &overrides, true)?;
    for key in &settings.unknown_yaml_keys {
        tracing::warn!(key, "librechat.yaml: unknown key ignored");
    }
    if let Some(file) = &settings.config_file {
        tracing::info!(file = %file.display(), "configuration loaded");
    }
    let (host, port) = (settings.server.host.clone(), settings.server.port);
    let data_dir = settings.data_dir.clone();
    let state = AppState::init(settings).await?;
    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .with_context(|| {
            format!("cannot listen on {host}:{port} (set PORT or --port to use another port)")
        })?;
    let addr = listener.local_addr()?;
    tracing::info!(data_dir = %data_dir.display(), "listening on http://{addr}");
    let db = state.db.clone();
    let served = server::serve(listener, state, server::shutdown_signal()).await;
    db.close().await.context("closing the database")?;
    served.context("server error")?;
    tracing::info!("shutdown complete");
    Ok(())
}
