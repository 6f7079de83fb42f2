//! Waiting for what the server does on its own schedule (saves, background jobs, dropped
//! connections), without timing assumptions: poll until it holds, or fail after 30 seconds.

use std::time::Duration;

/// Polls until `check` holds.
pub async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the condition never held");
}
