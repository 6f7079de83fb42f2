//! The invalidation channel: every replica subscribes to `<prefix>invalidate` and passes what
//! it hears to its local caches (through a broadcast channel), so a ban or a lifted ban on one
//! replica reaches the caches of all at once.
//!
//! Messages sent while this replica was not subscribed are lost, so each time the subscription
//! is (re)made, [`EVERYTHING`] is passed on: the local caches drop all they hold and ask again.
//!
//! The same subscription hears `<prefix>jobs:abort`: requests to stop an answer, which another
//! replica received for a job this one runs (see `chat::jobs::shared`).

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{broadcast, watch};

/// Passed to the local caches when they must forget everything (a (re)subscription).
pub const EVERYTHING: &str = "*";

/// Listens on `channel` until `closed` says the shared state is gone, reconnecting after a
/// failure (once a second; a failure is logged once per minute).
pub async fn run(
    client: redis::Client,
    channel: String,
    events: broadcast::Sender<String>,
    aborts: (String, broadcast::Sender<String>),
    mut closed: watch::Receiver<()>,
    ready: watch::Sender<bool>,
) {
    let mut last_warned: Option<tokio::time::Instant> = None;
    loop {
        let listening = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&[&channel, &aborts.0]).await?;
            let _ = events.send(EVERYTHING.to_owned());
            let _ = ready.send(true);
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                let Ok(text) = message.get_payload::<String>() else {
                    continue;
                };
                if message.get_channel_name() == aborts.0 {
                    let _ = aborts.1.send(text);
                } else {
                    let _ = events.send(text);
                }
            }
            Ok::<(), redis::RedisError>(())
        };
        let outcome = tokio::select! {
            outcome = listening => outcome,
            _ = closed.changed() => return,
        };
        let _ = ready.send(false);
        let now = tokio::time::Instant::now();
        if last_warned.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(60)) {
            last_warned = Some(now);
            match outcome {
                Ok(()) => tracing::warn!("Redis: the invalidation channel closed; reconnecting"),
                Err(e) => {
                    tracing::warn!(error = %e, "Redis: cannot listen on the invalidation channel")
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = closed.changed() => return,
        }
    }
}
