//! Titles being written: a new conversation is named after its first answer, a moment after
//! that answer ends. From the moment that answer starts, a client that asks for the title
//! waits for it instead of being told there is none (LibreChat's
//! `GET /api/convos/gen_title/:id` waits, too).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

/// How long a request waits for a title being written before giving up: LibreChat's polls
/// (0.5 + 1 + 2 + 4 + 8 seconds).
pub const WAIT: Duration = Duration::from_millis(15_500);

/// The titles being written, by user and conversation.
#[derive(Debug, Default)]
pub struct Titles {
    pending: Mutex<HashMap<String, watch::Sender<()>>>,
}

/// Held while a title is on its way; dropping it (title saved, or given up) wakes the waiters.
#[must_use = "the title counts as pending only while this lives"]
pub struct Writing {
    titles: Arc<Titles>,
    key: String,
}

fn key(user_id: &str, conversation_id: &str) -> String {
    format!("{user_id}\u{1f}{conversation_id}")
}

impl Titles {
    /// Marks the conversation's title as on its way, until the guard is dropped.
    pub fn writing(self: &Arc<Self>, user_id: &str, conversation_id: &str) -> Writing {
        let key = key(user_id, conversation_id);
        let (tx, _) = watch::channel(());
        self.lock().insert(key.clone(), tx);
        Writing {
            titles: self.clone(),
            key,
        }
    }

    /// Waits (at most `limit`) until the conversation's title is no longer being written.
    /// Returns at once when it is not.
    pub async fn settled(&self, user_id: &str, conversation_id: &str, limit: Duration) {
        let rx = self
            .lock()
            .get(&key(user_id, conversation_id))
            .map(watch::Sender::subscribe);
        if let Some(mut rx) = rx {
            // Ends when the sender goes, which is when the guard is dropped.
            let _ =
                tokio::time::timeout(limit, async { while rx.changed().await.is_ok() {} }).await;
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

impl Drop for Writing {
    fn drop(&mut self) {
        self.titles.lock().remove(&self.key);
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
