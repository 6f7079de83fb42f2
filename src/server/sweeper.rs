//! Background housekeeping: deletes temporary chats when their time is up (and, in passing,
//! expired sessions, tokens and bans), and uploads never sent or no longer recorded
//! (`files::sweep`). Runs at start and then every few minutes.

use std::time::Duration;

use crate::db::{self, Db};

const EVERY: Duration = Duration::from_secs(5 * 60);
/// Uploads are swept every this many passes.
const FILES_EVERY: u64 = 12;

/// Starts the sweeper on the runtime; it stops when the database closes.
pub fn spawn(db: Db, files: crate::files::Storage) {
    tokio::spawn(async move {
        for pass in 0u64.. {
            match sweep(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(conversations = n, "expired temporary chats deleted"),
                Err(db::DbError::Closed) => return,
                Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
            }
            // Uploads once an hour: it lists the whole storage.
            let swept = match pass % FILES_EVERY {
                0 => crate::files::sweep::sweep(&db, &files).await,
                _ => Ok(crate::files::sweep::Swept::default()),
            };
            match swept {
                Ok(s) if s == crate::files::sweep::Swept::default() => {}
                Ok(s) => tracing::info!(
                    unsent = s.unattached,
                    unrecorded = s.unrecorded,
                    "unused uploads removed"
                ),
                Err(crate::files::sweep::SweepError::Db(db::DbError::Closed)) => return,
                Err(e) => tracing::warn!(error = %e, "sweeping uploads failed"),
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
