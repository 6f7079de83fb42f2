//! `librechat serve`: start everything and run until SIGINT or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::config::{Env, Overrides, Secrets, Settings, prepare_data_dir};
use crate::server::{self, AppState};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [env: HOST] [default: localhost]
    #[arg(long)]
    host: Option<String>,
    /// Port to listen on; 0 picks a free one [env: PORT] [default: 3080]
    #[arg(long)]
    port: Option<u16>,
    /// Serve LibreChat's own web client from this folder (a client build, with index.html)
    /// instead of the bundled app [env: CLIENT_DIR]
    #[arg(long, value_name = "DIR")]
    client_dir: Option<std::path::PathBuf>,
}

pub fn run(env: Env, mut overrides: Overrides, args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "info").map_err(anyhow::Error::msg)?;
    overrides.host = args.host;
    overrides.port = args.port;
    overrides.client_dir = args.client_dir;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        // Blocking work is SQLite (one writer, a few readers), search and token counting:
        // a small pool is enough, and each thread costs memory (stack, allocator arena).
        .max_blocking_threads(32)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(env, overrides))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(env: Env, overrides: Overrides) -> anyhow::Result<()> {
    // Validate everything before touching the disk; then claim the data folder, and only then
    // generate secrets into it, so two first starts cannot write different ones.
    let mut settings = Settings::load(&env, &overrides, false)?;
    prepare_data_dir(&settings.data_dir)?;
    let _lock = lock_data_dir(&settings.data_dir)?;
    settings.secrets = Secrets::resolve(&env, &settings.data_dir, true)?;
    for warning in &settings.yaml_warnings {
        tracing::warn!("{warning}");
    }
    for note in &settings.yaml_unsupported {
        tracing::warn!("{note}");
    }
    if let Some(file) = &settings.config_file {
        tracing::info!(file = %file.display(), "configuration loaded");
    }
    if let Some(dir) = &settings.server.client_dir {
        tracing::info!(folder = %dir.display(), "serving LibreChat's web client (CLIENT_DIR)");
    }
    let (host, port) = (settings.server.host.clone(), settings.server.port);
    let data_dir = settings.data_dir.clone();
    // `localhost` means the IPv4 loopback: predictable for curl and scripts, and browsers
    // opening http://localhost fall back to it from ::1 on their own.
    let bind_host = if host.eq_ignore_ascii_case("localhost") {
        "127.0.0.1"
    } else {
        host.as_str()
    };
    let listener = match tokio::net::TcpListener::bind((bind_host, port)).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => anyhow::bail!(
            "cannot listen on {host}:{port}: the port is in use (set PORT or --port to use another)"
        ),
        Err(e) => anyhow::bail!("cannot listen on {host}:{port}: {e} (check HOST or --host)"),
    };
    // After the port is ours: a busy port fails before anything starts in the background.
    let state = AppState::init(settings).await?;
    // Before anyone is told the server is up (see `shutdown_signal`).
    let signalled = server::shutdown_signal();
    let metrics = server::bind_metrics(&state).await?;
    let addr = listener.local_addr()?;
    tracing::info!(data_dir = %data_dir.display(), "listening on http://{addr}");
    let (db, search, jobs) = (state.db.clone(), state.search.clone(), state.jobs.clone());
    // Under systemd (Type=notify): ready now that the port is bound and the database is open.
    server::notify::notify(&format!("READY=1\nSTATUS=listening on http://{addr}"));
    let stop = async {
        signalled.await;
        server::notify::notify("STOPPING=1");
    };
    let served = server::serve_bound(listener, metrics, state, stop).await;
    // Whatever is still generating is stopped and saved before the database closes.
    jobs.stop(std::time::Duration::ZERO).await;
    if let Some(search) = search {
        // Whatever the index has not committed stays in the outbox for the next start.
        tokio::task::spawn_blocking(move || search.close()).await?;
    }
    db.close().await.context("closing the database")?;
    served.context("server error")?;
    tracing::info!("shutdown complete");
    Ok(())
}

/// Holds `<data>/.lock` for as long as the returned file lives, so that two servers (or a
/// server and `db migrate`) never run on one data folder at once. The operating system
/// releases the lock when the process ends, however it ends.
pub(super) fn lock_data_dir(dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let path = dir.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "the data folder {} is in use by another running librechat; stop it first",
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(anyhow::Error::new(e).context(format!("cannot lock {}", path.display())))
        }
    }
}
