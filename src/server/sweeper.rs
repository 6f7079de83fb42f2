//! Background housekeeping: deletes temporary chats when their time is up (and, in passing,
//! expired sessions, tokens and bans). Runs at start and then every few minutes.

use std::time::Duration;

use crate::db::{self, Db};

const EVERY: Duration = Duration::from_secs(5 * 60);

/// Starts the sweeper on the runtime; it stops when the database closes.
pub fn spawn(db: Db) {
    tokio::spawn(async move {
        loop {
            match sweep(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(conversations = n, "expired temporary chats deleted"),
                Err(db::DbError::Closed) => return,
                Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
            }
            tokio::time::sleep(EVERY).await;
        }
    });
}

/// One pass; returns how many temporary chats were deleted.
pub async fn sweep(db: &Db) -> Result<usize, db::DbError> {
    db.write(|c| {
        let n = db::conversations::delete_expired(c)?;
        db::sessions::prune(c)?;
        db::tokens::prune(c)?;
        db::bans::prune(c)?;
        Ok(n)
    })
    .await
}
