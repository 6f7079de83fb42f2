//! The HTTP server: routes, middleware and the serve loop.

pub mod error;
mod json_body;
pub mod metrics;
pub mod middleware;
pub mod notify;
pub mod router;
pub mod routes;
pub mod state;
pub mod sweeper;

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;

pub use error::ApiError;
pub use json_body::JsonBody;
pub use state::AppState;

/// Timing of the serve loop.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// How long running requests may finish after the shutdown signal.
    pub grace: Duration,
    /// How long a client may take to send a request's headers (also the first request of a
    /// connection that sends nothing at all). Without it a slow or silent client holds a
    /// connection, and a shutdown, for as long as it likes.
    pub header_timeout: Duration,
}

/// Binds the metrics listener when `METRICS_ADDR` asks for one (before the server is
/// announced, so a port in use fails the start).
pub async fn bind_metrics(state: &AppState) -> std::io::Result<Option<TcpListener>> {
    let (Some(addr), Some(m)) = (state.settings.server.metrics_addr, &state.metrics) else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on METRICS_ADDR={addr}: {e}"),
        )
    })?;
    let bound = listener.local_addr()?;
    let _ = m.bound.set(bound);
    tracing::info!("metrics on http://{bound}/metrics");
    Ok(Some(listener))
}

/// Serves until `shutdown` resolves, then stops accepting connections and lets running requests
/// finish for up to `SHUTDOWN_TIMEOUT_MS` before returning. The caller closes the database.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let metrics = bind_metrics(&state).await?;
    serve_bound(listener, metrics, state, shutdown).await
}

/// [`serve`], with the metrics listener (if any) already bound by [`bind_metrics`].
pub async fn serve_bound(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let server = &state.settings.server;
    let options = ServeOptions {
        grace: Duration::from_millis(server.shutdown_timeout_ms),
        header_timeout: Duration::from_millis(server.headers_timeout_ms),
    };
    // Answers being generated get most of the grace period to finish; the rest are stopped
    // and saved as unfinished, which also ends their event streams so the connections close.
    let jobs = state.jobs.clone();
    let grace = options.grace;
    let shutdown = async move {
        shutdown.await;
        tokio::spawn(async move { jobs.stop(grace.mul_f64(0.8)).await });
    };
    // Metrics, on their own listener; it ends with the app.
    let metrics = metrics_listener.map(|l| {
        tokio::spawn(serve_router(
            l,
            metrics::router(state.clone()),
            std::future::pending::<()>(),
            options,
        ))
    });
    let mcp = state.mcp.clone();
    let served = serve_router(listener, router::build(state), shutdown, options).await;
    if let Some(task) = metrics {
        task.abort();
    }
    // stdio MCP servers end with us.
    mcp.shutdown().await;
    served
}

/// The serve loop itself, for any router: [`serve`] with the application's.
///
/// Written on hyper-util rather than `axum::serve` for the header read timeout, which
/// `axum::serve` does not offer. (WebSocket upgrades would need `serve_connection_with_upgrades`;
/// nothing here uses them: answers stream as server-sent events.)
pub async fn serve_router(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    use hyper::server::conn::http1::Builder;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    // HTTP/1.1 only: browsers speak HTTP/2 only over TLS, which a reverse proxy in front of us
    // terminates; and guessing the version first would wait on silent clients with no timeout.
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Events are small writes that must leave at once, not wait to be coalesced.
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(
            move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(addr));
                req
            },
        );
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Errors here are the client's doing (reset, timeout, bad request): debug only.
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; waiting for running requests");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(options.grace) => {
            tracing::warn!(
                grace_ms = options.grace.as_millis() as u64,
                "requests still running after the shutdown grace period; closing them"
            );
        }
    }
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (systemd, docker, kill). The handlers are installed
/// when this is called, not when the future is first polled: call it before announcing that
/// the server is up, so a signal sent right after (as systemd may, once told READY=1) stops it
/// gracefully instead of killing it. Needs a Tokio runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    let wait = |s: Option<Signal>| async move {
        match s {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    async move {
        tokio::select! {
            () = wait(term) => {},
            () = wait(int) => {},
        }
    }
}
