//! Where bans are looked up and recorded: the database is their record (a restart does not
//! lift them), with a short in-memory cache in front, which also picks up bans made by
//! `librechat user ban` within seconds.
//!
//! With Redis, a ban is also kept there (`ban:<subject>`, expiring with the ban), and a lookup
//! asks Redis first, every time (one GET, as LibreChat's `checkBan` does), so a ban made on
//! one replica is enforced by every replica from the next request on. Only the database's
//! answers are cached; a ban made or lifted is announced on the invalidation channel
//! (`ban <subject>`) so every replica drops its cached answer for that subject (a lifted ban
//! is forgotten within milliseconds, and at most [`CACHE_TTL`] later). When Redis cannot be
//! reached, lookups go to the database alone (fail open to the record: other replicas then
//! see a new ban when their cached answer expires, within [`CACHE_TTL`]).

use std::sync::{Arc, Weak};
use std::time::Duration;

use serde_json::{Value, json};

use super::shared::{EVERYTHING, Shared, SharedError};
use crate::bounded::BoundedCache;
use crate::db::{self, Db, DbError, bans::Ban};

/// How long a ban lookup is trusted before Redis or the database is asked again.
pub const CACHE_TTL: Duration = Duration::from_secs(5);

/// What is logged when Redis cannot be reached for bans.
const FALLBACK: &str = "bans are read from the database alone until it is back";

pub struct Bans {
    db: Db,
    /// `user:<id>` / `ip:<addr>` → the ban in force, if any.
    cache: Arc<BoundedCache<Option<Ban>>>,
    shared: Option<Shared>,
}

impl Bans {
    pub fn new(db: Db, shared: Option<Shared>) -> Self {
        let cache = Arc::new(
            BoundedCache::builder(200_000)
                .time_to_live(CACHE_TTL)
                .build(),
        );
        if let Some(shared) = &shared {
            tokio::spawn(forget_announced(
                shared.invalidations(),
                Arc::downgrade(&cache),
            ));
        }
        Self { db, cache, shared }
    }

    /// The ban in force on `subject`, from Redis, or the database (through the cache).
    pub async fn live(&self, subject: String) -> Result<Option<Ban>, DbError> {
        let ban = match self.in_redis(&subject).await {
            Some(ban) => Some(ban),
            None => match self.cache.get(&subject) {
                Some(cached) => cached,
                None => {
                    let key = subject.clone();
                    let found = self.db.read(move |c| db::bans::find_live(c, &key)).await?;
                    self.cache.insert(subject, found.clone());
                    found
                }
            },
        };
        Ok(ban.filter(|ban| ban.expires_at > db::now()))
    }

    async fn in_redis(&self, subject: &str) -> Option<Ban> {
        let shared = self.shared.as_ref()?;
        match shared.get(&format!("ban:{subject}")).await {
            Ok(found) => found.and_then(|text| parse(subject, &text)),
            Err(e) => {
                shared.degraded("bans", FALLBACK, &e);
                None
            }
        }
    }

    /// Records `bans` in the database (ending `user`'s sessions in the same transaction), then
    /// makes every replica enforce them.
    pub async fn record(&self, bans: Vec<Ban>, user: Option<String>) -> Result<(), DbError> {
        let stored = bans.clone();
        self.db
            .write(move |conn| {
                let tx = conn.transaction()?;
                for ban in &stored {
                    db::bans::upsert(&tx, ban)?;
                }
                if let Some(u) = &user {
                    db::sessions::delete_for_user(&tx, u)?;
                }
                tx.commit()?;
                Ok(())
            })
            .await?;
        for ban in bans {
            tracing::warn!(subject = %ban.subject, until = %ban.expires_at, violation = %ban.kind, "banned");
            self.cache.insert(ban.subject.clone(), Some(ban.clone()));
            if let Some(shared) = &self.shared
                && let Err(e) = share(shared, &ban).await
            {
                shared.degraded("bans", FALLBACK, &e);
            }
        }
        Ok(())
    }

    /// Forgets `subject`'s ban here and, with Redis, everywhere (after the database's row is
    /// gone). An error means Redis still holds the ban: the caller must say so.
    pub async fn lift(&self, subject: &str) -> Result<(), SharedError> {
        self.cache.invalidate(subject);
        match &self.shared {
            Some(shared) => lift(shared, subject).await,
            None => Ok(()),
        }
    }
}

/// Puts `ban` in Redis until it ends and tells every replica.
pub async fn share(shared: &Shared, ban: &Ban) -> Result<(), SharedError> {
    let left = time::OffsetDateTime::parse(
        &ban.expires_at,
        &time::format_description::well_known::Rfc3339,
    )
    .map(|end| end - time::OffsetDateTime::now_utc())
    .unwrap_or_default();
    let Ok(left) = Duration::try_from(left) else {
        return Ok(());
    };
    let value = json!({
        "kind": ban.kind,
        "violationCount": ban.violation_count,
        "expiresAt": ban.expires_at,
    });
    shared
        .put(&format!("ban:{}", ban.subject), &value.to_string(), left)
        .await?;
    shared.publish(&format!("ban {}", ban.subject)).await
}

/// Removes `subject`'s ban from Redis and tells every replica.
pub async fn lift(shared: &Shared, subject: &str) -> Result<(), SharedError> {
    shared.remove(&format!("ban:{subject}")).await?;
    shared.publish(&format!("ban {subject}")).await
}

fn parse(subject: &str, text: &str) -> Option<Ban> {
    let v: Value = serde_json::from_str(text).ok()?;
    Some(Ban {
        subject: subject.to_owned(),
        kind: v["kind"].as_str()?.to_owned(),
        violation_count: v["violationCount"].as_u64()?.try_into().ok()?,
        expires_at: v["expiresAt"].as_str()?.to_owned(),
    })
}

/// Drops the cached answer for each subject announced on the invalidation channel, until the
/// cache is gone.
async fn forget_announced(
    mut events: tokio::sync::broadcast::Receiver<String>,
    cache: Weak<BoundedCache<Option<Ban>>>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let event = events.recv().await;
        let Some(cache) = cache.upgrade() else {
            return;
        };
        match event {
            Ok(message) if message == EVERYTHING => cache.clear(),
            Ok(message) => {
                if let Some(subject) = message.strip_prefix("ban ") {
                    cache.invalidate(subject);
                }
            }
            // Fell behind: some messages were lost, so nothing cached can be trusted.
            Err(RecvError::Lagged(_)) => cache.clear(),
            Err(RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_ban_reads_back() {
        let text =
            json!({"kind": "logins", "violationCount": 20, "expiresAt": "2030-01-01T00:00:00Z"});
        let ban = parse("ip:10.0.0.1", &text.to_string()).unwrap();
        assert_eq!(ban.kind, "logins");
        assert_eq!(ban.violation_count, 20);
        assert!(parse("ip:10.0.0.1", "{}").is_none());
        assert!(parse("ip:10.0.0.1", "not json").is_none());
    }
}
