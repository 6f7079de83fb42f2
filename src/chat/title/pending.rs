//! Titles being written: a new conversation is named after its first answer, a moment after
//! that answer ends. From the moment that answer starts, a client that asks for the title
//! waits for it instead of being told there is none (LibreChat's
//! `GET /api/convos/gen_title/:id` waits, too).
//!
//! With replicas sharing Redis ([`Titles::share`]), a title on its way is also marked there
//! (`title:<user>:<conversation>`, for at most two minutes, LibreChat's `GEN_TITLE` lifetime)
//! and its end announced on the invalidation channel, so a client asking another replica waits
//! for it too. When Redis cannot be reached, that replica answers at once, as without Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cache::shared::{EVERYTHING, Shared};

/// How long a title is marked in Redis at most (a replica that died keeps no one waiting long).
const MARKED_FOR: Duration = Duration::from_secs(120);

/// How long a request waits for a title being written before giving up: LibreChat's polls
/// (0.5 + 1 + 2 + 4 + 8 seconds).
pub const WAIT: Duration = Duration::from_millis(15_500);

/// The titles being written, by user and conversation.
#[derive(Debug, Default)]
pub struct Titles {
    pending: Mutex<HashMap<String, watch::Sender<()>>>,
    shared: OnceLock<Shared>,
}

/// Held while a title is on its way; dropping it (title saved, or given up) wakes the waiters.
#[must_use = "the title counts as pending only while this lives"]
pub struct Writing {
    titles: Arc<Titles>,
    key: String,
    /// Marking it in Redis, when shared: unmarking waits for it.
    marking: Option<JoinHandle<()>>,
}

fn key(user_id: &str, conversation_id: &str) -> String {
    format!("{user_id}:{conversation_id}")
}

impl Titles {
    /// Shares titles on their way with the other replicas from now on.
    pub fn share(&self, shared: &Shared) {
        let _ = self.shared.set(shared.clone());
    }

    /// Marks the conversation's title as on its way, until the guard is dropped.
    pub fn writing(self: &Arc<Self>, user_id: &str, conversation_id: &str) -> Writing {
        let key = key(user_id, conversation_id);
        let (tx, _) = watch::channel(());
        self.lock().insert(key.clone(), tx);
        let marking = self.shared.get().cloned().map(|shared| {
            let name = format!("title:{key}");
            tokio::spawn(async move {
                if let Err(e) = shared.put(&name, "1", MARKED_FOR).await {
                    shared.degraded("titles", "other replicas do not wait for titles", &e);
                }
            })
        });
        Writing {
            titles: self.clone(),
            key,
            marking,
        }
    }

    /// Waits (at most `limit`) until the conversation's title is no longer being written, here
    /// or, when shared, on another replica. Returns at once when it is not.
    pub async fn settled(&self, user_id: &str, conversation_id: &str, limit: Duration) {
        let key = key(user_id, conversation_id);
        let rx = self.lock().get(&key).map(watch::Sender::subscribe);
        if let Some(mut rx) = rx {
            // Ends when the sender goes, which is when the guard is dropped.
            let _ =
                tokio::time::timeout(limit, async { while rx.changed().await.is_ok() {} }).await;
        } else if let Some(shared) = self.shared.get() {
            let _ = tokio::time::timeout(limit, elsewhere(shared, &key)).await;
        }
    }

    /// How many requests are waiting for the conversation's title right now.
    pub fn waiting(&self, user_id: &str, conversation_id: &str) -> usize {
        self.lock()
            .get(&key(user_id, conversation_id))
            .map_or(0, watch::Sender::receiver_count)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Sender<()>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Returns when the title `key` is not (or no longer) on its way on another replica.
async fn elsewhere(shared: &Shared, key: &str) {
    use tokio::sync::broadcast::error::RecvError;
    // Listening before looking, so an end announced in between is not missed.
    let mut events = shared.invalidations();
    if !shared
        .exists(&format!("title:{key}"))
        .await
        .unwrap_or(false)
    {
        return;
    }
    let ended = format!("title {key}");
    loop {
        match events.recv().await {
            Ok(m) if m == ended || m == EVERYTHING => return,
            Ok(_) => {}
            Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
        }
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        self.titles.lock().remove(&self.key);
        // Outside a runtime (never while serving) there is no one to tell.
        let runtime = tokio::runtime::Handle::try_current();
        if let (Some(shared), Ok(runtime)) = (self.titles.shared.get().cloned(), runtime) {
            let (key, marking) = (std::mem::take(&mut self.key), self.marking.take());
            runtime.spawn(async move {
                if let Some(marking) = marking {
                    let _ = marking.await;
                }
                let unmarked = shared.remove(&format!("title:{key}")).await;
                if let Err(e) = unmarked.and(shared.publish(&format!("title {key}")).await) {
                    shared.degraded("titles", "other replicas do not wait for titles", &e);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiter_wakes_when_the_title_is_written() {
        let titles = Arc::new(Titles::default());
        let writing = titles.writing("u", "c");
        let waiter = {
            let titles = titles.clone();
            tokio::spawn(async move { titles.settled("u", "c", Duration::from_secs(600)).await })
        };
        tokio::task::yield_now().await;
        drop(writing);
        waiter.await.unwrap();
        // Nothing pending: no wait at all.
        titles.settled("u", "c", Duration::from_secs(600)).await;
    }
}
