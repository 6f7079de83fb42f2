//! Graceful shutdown: running requests finish, new ones are refused, and a stuck one cannot hold
//! the process forever.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use librechat::server::serve_router;
use tokio::sync::{Notify, oneshot};

async fn start(
    router: Router,
    grace: Duration,
) -> (
    String,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_router(
        listener,
        router,
        async {
            let _ = rx.await;
        },
        grace,
    ));
    (base, tx, task)
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
    let (base, stop, task) = start(router, Duration::from_secs(600)).await;
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
    for _ in 0..10_000 {
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
    task.await.unwrap().unwrap();
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
    let (base, stop, task) = start(router, Duration::from_millis(200)).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let _request = tokio::spawn(async move { client.get(format!("{base}/stuck")).send().await });
    entered.notified().await;
    stop.send(()).unwrap();
    // Returns once the grace period is over even though the handler never finishes.
    task.await.unwrap().unwrap();
}
