//! Keeps the storage and the `files` table in step: attachments never sent, and avatars their
//! account no longer shows, are removed after [`UNATTACHED_FOR`], and bytes with no record (a crash between storing and recording, or
//! between deleting an account and removing its files) after [`UNRECORDED_FOR`].

use std::time::Duration;

use super::Storage;
use crate::db::{self, Db, DbError};

/// An upload for a message that was never sent is removed this long after it came.
pub const UNATTACHED_FOR: Duration = Duration::from_secs(24 * 60 * 60);
/// Stored bytes nothing refers to are removed once this old (longer than any upload takes
/// between being stored and being recorded).
pub const UNRECORDED_FOR: Duration = Duration::from_secs(60 * 60);
/// Records deleted per transaction, so the writer is never held long.
const BATCH: u32 = 500;

/// What one pass removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Attachments never sent.
    pub unattached: usize,
    /// Avatars replaced (by a social sign-in's picture: an upload removes the one before), and
    /// pictures of agents that are gone.
    pub avatars: usize,
    /// Stored bytes with no record.
    pub unrecorded: usize,
}

/// Why a pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("listing the stored files failed: {0}")]
    Storage(#[from] std::io::Error),
}

/// One pass.
pub async fn sweep(db: &Db, storage: &Storage) -> Result<Swept, SweepError> {
    let mut swept = Swept::default();
    let before = db::to_rfc3339(time::OffsetDateTime::now_utc() - UNATTACHED_FOR);
    swept.unattached =
        delete_in_batches(db, storage, &before, db::files::delete_unattached).await?;
    swept.avatars = delete_in_batches(db, storage, &before, db::avatars::delete_unshown).await?;
    swept.avatars += delete_in_batches(
        db,
        storage,
        &before,
        db::agent_pictures::delete_orphan_pictures,
    )
    .await?;
    let stale = storage.stale_keys(UNRECORDED_FOR).await?;
    for key in stale {
        let k = key.clone();
        if db.read(move |c| db::files::key_known(c, &k)).await? {
            continue;
        }
        if storage.remove(&key).await.is_ok() {
            swept.unrecorded += 1;
        }
    }
    Ok(swept)
}

/// Runs `delete(conn, before, BATCH)` until it finds no more, removing the bytes of what it
/// deleted; how many that was.
async fn delete_in_batches(
    db: &Db,
    storage: &Storage,
    before: &str,
    delete: fn(&mut crate::db::sql::Connection, &str, u32) -> Result<Vec<String>, DbError>,
) -> Result<usize, SweepError> {
    let mut n = 0;
    loop {
        let b = before.to_owned();
        let keys = db.write(move |c| delete(c, &b, BATCH)).await?;
        for key in &keys {
            if let Err(e) = storage.remove(key).await {
                tracing::warn!(error = %e, "removing a swept file's bytes failed");
            }
        }
        n += keys.len();
        if keys.len() < BATCH as usize {
            return Ok(n);
        }
    }
}

/// Removes the stored bytes of `keys` (an account's, after it was deleted); failures are
/// logged and left to [`sweep`].
pub async fn remove_all(storage: &Storage, keys: &[String]) {
    for key in keys {
        if let Err(e) = storage.remove(key).await {
            tracing::warn!(error = %e, "removing a deleted file failed; the sweeper will retry");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::files::File;
    use crate::db::users::{self, NewUser};

    async fn setup() -> (tempfile::TempDir, Db, Storage, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("librechat.db");
        let db = tokio::task::spawn_blocking(move || Db::open(&path))
            .await
            .unwrap()
            .unwrap();
        let storage = Storage::local(dir.path().join("files")).unwrap();
        let user = db
            .write(|c| {
                let new = NewUser {
                    email: "a@example.org".into(),
                    name: "A".into(),
                    username: "a".into(),
                    password: None,
                    provider: "local".into(),
                    email_verified: true,
                    role: None,
                };
                Ok(users::create(c, &new)?.expect("new").id)
            })
            .await
            .unwrap();
        (dir, db, storage, user)
    }

    async fn upload(db: &Db, storage: &Storage, user: &str, context: &str) -> File {
        let key = storage.put_bytes(b"bytes".to_vec()).await.unwrap();
        let file_id = uuid::Uuid::new_v4().to_string();
        let f = File {
            filepath: format!("/images/{user}/{file_id}.png"),
            file_id,
            user_id: user.into(),
            filename: "a.txt".into(),
            storage_key: key,
            bytes: 5,
            mime: "text/plain".into(),
            source: "local".into(),
            context: Some(context.into()),
            ..File::default()
        };
        db.write(move |c| db::files::insert(c, &f)).await.unwrap()
    }

    /// Backdates a record, as if uploaded `ago` earlier.
    async fn age(db: &Db, file_id: &str, ago: Duration) {
        let (id, at) = (
            file_id.to_owned(),
            db::to_rfc3339(time::OffsetDateTime::now_utc() - ago),
        );
        db.write(move |c| {
            c.execute(
                "UPDATE files SET created_at = ?2 WHERE file_id = ?1",
                [&id, &at],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn unsent_uploads_and_replaced_avatars_go_after_a_day_and_everything_else_stays() {
        let (_dir, db, storage, user) = setup().await;
        let sent = upload(&db, &storage, &user, "message_attachment").await;
        let unsent = upload(&db, &storage, &user, "message_attachment").await;
        let fresh = upload(&db, &storage, &user, "message_attachment").await;
        // The account shows `avatar`; `replaced` was its picture before a social sign-in's.
        let replaced = upload(&db, &storage, &user, "avatar").await;
        let avatar = upload(&db, &storage, &user, "avatar").await;
        let (u, shown) = (user.clone(), format!("{}?manual=true", avatar.filepath));
        db.write(move |c| {
            c.execute("UPDATE users SET avatar = ?2 WHERE id = ?1", [&u, &shown])?;
            Ok(())
        })
        .await
        .unwrap();
        let (u, id) = (user.clone(), sent.file_id.clone());
        db.write(move |c| db::files::attach(c, &u, &[id], "conv", "msg"))
            .await
            .unwrap();
        for f in [&sent, &unsent, &avatar, &replaced] {
            age(&db, &f.file_id, UNATTACHED_FOR + Duration::from_secs(60)).await;
        }
        let swept = sweep(&db, &storage).await.unwrap();
        assert_eq!((swept.unattached, swept.avatars), (1, 1));
        assert!(storage.read(&unsent.storage_key).await.is_err());
        assert!(storage.read(&replaced.storage_key).await.is_err());
        for kept in [&sent, &fresh, &avatar] {
            assert_eq!(storage.read(&kept.storage_key).await.unwrap(), b"bytes");
            let (u, id) = (user.clone(), kept.file_id.clone());
            assert!(
                db.read(move |c| db::files::get(c, &u, &id))
                    .await
                    .unwrap()
                    .is_some()
            );
        }
    }

    #[tokio::test]
    async fn a_deleted_account_takes_its_files_along() {
        let (_dir, db, storage, user) = setup().await;
        let f = upload(&db, &storage, &user, "message_attachment").await;
        let id = user.clone();
        let keys = db.write(move |c| users::delete(c, &id)).await.unwrap();
        assert_eq!(keys, vec![f.storage_key.clone()]);
        remove_all(&storage, &keys).await;
        assert!(storage.read(&f.storage_key).await.is_err());
    }

    #[tokio::test]
    async fn bytes_nothing_records_go_once_old() {
        let (dir, db, storage, _user) = setup().await;
        let stray = storage.put_bytes(b"stray".to_vec()).await.unwrap();
        // Young: left alone (it may be an upload about to be recorded).
        assert_eq!(sweep(&db, &storage).await.unwrap(), Swept::default());
        assert!(storage.read(&stray).await.is_ok());
        let old = std::time::SystemTime::now() - UNRECORDED_FOR - Duration::from_secs(60);
        let path = dir.path().join("files").join(&stray);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_eq!(sweep(&db, &storage).await.unwrap().unrecorded, 1);
        assert!(storage.read(&stray).await.is_err());
    }
}
