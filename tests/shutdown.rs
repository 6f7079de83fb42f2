//! The serve loop: running requests finish after the shutdown signal, a stuck one cannot hold
//! the process forever, and slow or silent clients are cut off.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use librechat::server::{ServeOptions, serve_router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// A bound for things that must end by themselves, so a regression fails instead of hanging.
const MUST_END: Duration = Duration::from_secs(60);

async fn start(
    router: Router,
    options: ServeOptions,
) -> (String, oneshot::Sender<()>, JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_router(
        listener,
        router,
        async {
            let _ = rx.await;
        },
        options,
    ));
    (base, tx, task)
}

fn options(grace: Duration, header_timeout: Duration) -> ServeOptions {
    ServeOptions {
        grace,
        header_timeout,
    }
}

#[tokio::test]
async fn a_running_request_finishes_after_the_signal() {
    let entered = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let (e, r) = (entered.clone(), release.clone());
    let router = Router::new().route(
        "/work",
        get(move || {
            let (e, r) = (e.clone(), r.clone());
            async move {
                e.notify_one();
                r.notified().await;
                "done"
            }
        }),
    );
    // A grace period no test run reaches: the request must finish on its own terms.
    let (base, stop, task) = start(
        router,
        options(Duration::from_secs(600), Duration::from_secs(600)),
    )
    .await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let request = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/work");
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    });
    entered.notified().await;
    stop.send(()).unwrap();
    // Wait until the server has acted on the signal (it stops accepting) while the request is
    // still running, so the order of events is certain rather than hoped for.
    let addr = base.trim_start_matches("http://").to_owned();
    let mut refused = false;
    for _ in 0..6_000 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "the server kept accepting after the signal");
    assert!(!request.is_finished());
    release.notify_one();
    assert_eq!(request.await.unwrap(), "done");
    tokio::time::timeout(MUST_END, task)
        .await
        .expect("server ended")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_stuck_request_does_not_outlive_the_grace_period() {
    let entered = Arc::new(Notify::new());
    let e = entered.clone();
    let router = Router::new().route(
        "/stuck",
        get(move || {
            let e = e.clone();
            async move {
                e.notify_one();
                std::future::pending::<&'static str>().await
            }
        }),
    );
    let (base, stop, task) = start(
        router,
        options(Duration::from_millis(200), Duration::from_secs(600)),
    )
    .await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let _request = tokio::spawn(async move { client.get(format!("{base}/stuck")).send().await });
    entered.notified().await;
    stop.send(()).unwrap();
    // Returns once the grace period is over even though the handler never finishes.
    tokio::time::timeout(MUST_END, task)
        .await
        .expect("server ended")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn slow_and_silent_clients_are_cut_off() {
    let router = Router::new().route("/health", get(|| async { "OK" }));
    let (base, stop, task) = start(
        router,
        options(Duration::from_secs(600), Duration::from_millis(300)),
    )
    .await;
    let addr = base.trim_start_matches("http://").to_owned();

    // Half a request, then nothing: the server closes the connection instead of waiting.
    let mut half = tokio::net::TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // A connection that never says anything.
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    for conn in [&mut half, &mut silent] {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(MUST_END, conn.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "the server kept a slow connection open");
    }

    // Neither holds up the shutdown, whose grace period here is ten minutes.
    let mut lingering = tokio::net::TcpStream::connect(&addr).await.unwrap();
    lingering
        .write_all(b"GET /health HTTP/1.1\r\n")
        .await
        .unwrap();
    stop.send(()).unwrap();
    tokio::time::timeout(MUST_END, task)
        .await
        .expect("server ended")
        .unwrap()
        .unwrap();
}
