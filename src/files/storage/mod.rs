//! Where uploaded bytes live: the data folder's `files/` ([`local`]), or an S3-compatible
//! bucket ([`s3`], `fileStrategy: s3`), one object per upload under a name made here
//! (`ab/ab12…`: a random id, sharded by its first two characters), never the uploader's.
//!
//! An upload is written to `files/tmp/` as it streams in ([`Incoming`]), counted against its
//! limit as it goes, and becomes a stored object only when complete ([`Storage::keep`]): a
//! broken or refused upload leaves nothing behind, and nothing is ever held whole in memory.
//! Callers see one [`Storage`] whichever holds the bytes.

mod local;
pub mod s3;
pub mod sigv4;

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::config::Settings;
use crate::config::file_store::FileStore;
pub use local::LocalDisk;
pub use s3::{S3Store, StoreError};

/// How many of an upload's first bytes are kept for recognizing its type.
pub const HEAD_BYTES: usize = 4096;

/// Why an upload was not taken.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// It passed its limit (bytes).
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// A stored file's bytes as they are read, to stream out.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<axum::body::Bytes>> + Send>>;

/// Whether `e` is the S3 store refusing or not answering (rather than this machine failing):
/// answered 503 with its words.
pub fn is_store_failure(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<StoreError>())
}

/// The file storage.
#[derive(Debug, Clone)]
pub enum Storage {
    Local(LocalDisk),
    S3(S3Store),
}

impl Storage {
    /// The local disk storage under `root` (made if missing, private to this user).
    pub fn local(root: PathBuf) -> io::Result<Self> {
        Ok(Storage::Local(LocalDisk::new(root)?))
    }

    /// The storage `settings` choose (`fileStrategy`); uploads arrive in the data folder's
    /// `files/tmp/` either way.
    pub fn from_settings(settings: &Settings) -> io::Result<Self> {
        Self::new(&settings.file_store, settings.files_dir())
    }

    /// The storage `store` names; uploads arrive in `files_dir/tmp/` (and stay in
    /// `files_dir` with local storage).
    pub fn new(store: &FileStore, files_dir: PathBuf) -> io::Result<Self> {
        match store {
            FileStore::Local => Self::local(files_dir),
            FileStore::S3(s3) => Ok(Storage::S3(S3Store::new(s3, files_dir)?)),
        }
    }

    /// Starts receiving an upload of at most `max` bytes.
    pub async fn incoming(&self, max: u64) -> io::Result<Incoming> {
        match self {
            Storage::Local(d) => d.incoming(max).await,
            Storage::S3(s) => s.spool.incoming(max).await,
        }
    }

    /// Keeps a received upload as it is; returns its key.
    pub async fn keep(&self, received: Received) -> io::Result<String> {
        match self {
            Storage::Local(d) => d.keep(received).await,
            Storage::S3(s) => s.keep(received).await,
        }
    }

    /// Stores `bytes` (made here: a resized image, an avatar); returns the key.
    pub async fn put_bytes(&self, bytes: Vec<u8>) -> io::Result<String> {
        match self {
            Storage::Local(d) => d.put_bytes(bytes).await,
            Storage::S3(s) => s.put_bytes(bytes).await,
        }
    }

    /// The stored bytes of `key`, whole (images and documents are bounded in size).
    pub async fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        match self {
            Storage::Local(d) => tokio::fs::read(d.path_of(key)?).await,
            Storage::S3(s) => s.read(key).await,
        }
    }

    /// Opens `key` for streaming it out; one that is not there is [`io::ErrorKind::NotFound`].
    pub async fn open(&self, key: &str) -> io::Result<ByteStream> {
        match self {
            Storage::Local(d) => {
                let file = tokio::fs::File::open(d.path_of(key)?).await?;
                Ok(tokio_util::io::ReaderStream::new(file).boxed())
            }
            Storage::S3(s) => s.open(key).await,
        }
    }

    /// Removes `key`; one already gone is not an error.
    pub async fn remove(&self, key: &str) -> io::Result<()> {
        match self {
            Storage::Local(d) => match tokio::fs::remove_file(d.path_of(key)?).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            Storage::S3(s) => s.remove(key).await,
        }
    }

    /// Stores what `from` reads, streamed (never held whole); returns the key and the size.
    /// Blocking: for the command line (`migrate-from-librechat`), never inside an async
    /// runtime (S3 requests then run on a runtime of the store's own).
    pub fn copy_in(&self, from: &mut dyn io::Read) -> io::Result<(String, u64)> {
        match self {
            Storage::Local(d) => d.copy_in(from),
            Storage::S3(s) => s.copy_in(from),
        }
    }

    /// Removes `key` (blocking, as [`Storage::copy_in`]); one already gone is not an error.
    pub fn discard(&self, key: &str) -> io::Result<()> {
        match self {
            Storage::Local(d) => match std::fs::remove_file(d.path_of(key)?) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            Storage::S3(s) => s.discard(key),
        }
    }

    /// A URL that gives `key`'s bytes to whoever holds it for a short while
    /// (`S3_URL_EXPIRY_SECONDS`), answered with `disposition` and `content_type` as its
    /// headers; `None` on the local disk, whose files only this server sends.
    pub fn download_url(
        &self,
        key: &str,
        disposition: &str,
        content_type: &str,
    ) -> io::Result<Option<url::Url>> {
        match self {
            Storage::Local(_) => Ok(None),
            Storage::S3(s) => s.download_url(key, disposition, content_type).map(Some),
        }
    }

    /// Keys stored longer ago than `age`, and leftover partial uploads that old (removed
    /// here).
    pub async fn stale_keys(&self, age: Duration) -> io::Result<Vec<String>> {
        match self {
            Storage::Local(d) => {
                let d = d.clone();
                tokio::task::spawn_blocking(move || d.stale_keys(age))
                    .await
                    .map_err(io::Error::other)?
            }
            Storage::S3(s) => s.stale_keys(age).await,
        }
    }
}

/// A key made here: two lowercase hex characters, a slash, 32 lowercase hex characters
/// starting with those two. Anything else is refused before it becomes a path.
fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 35
        && b[2] == b'/'
        && b[..2] == b[3..5]
        && key[..2]
            .bytes()
            .chain(key[3..].bytes())
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

fn new_key() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{}/{id}", &id[..2])
}

/// An upload being received.
pub struct Incoming {
    file: tokio::fs::File,
    received: Received,
    max: u64,
}

impl Incoming {
    /// Appends a piece; past the limit the upload is refused (and its partial file removed
    /// when this is dropped).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), PutError> {
        let r = &mut self.received;
        r.bytes += chunk.len() as u64;
        if r.bytes > self.max {
            return Err(PutError::TooLarge(self.max));
        }
        if r.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - r.head.len()).min(chunk.len());
            r.head.extend_from_slice(&chunk[..take]);
        }
        self.file.write_all(chunk).await?;
        Ok(())
    }

    /// The complete upload, flushed to disk.
    pub async fn finish(self) -> io::Result<Received> {
        let Incoming {
            mut file, received, ..
        } = self;
        file.flush().await?;
        file.sync_all().await?;
        Ok(received)
    }
}

/// A complete upload, not yet kept: dropped, its file is removed.
pub struct Received {
    path: Option<PathBuf>,
    /// Its size.
    pub bytes: u64,
    /// Its first bytes (up to [`HEAD_BYTES`]), to recognize its type.
    pub head: Vec<u8>,
}

impl Received {
    /// Its bytes, whole (for images and documents, which are bounded in size).
    pub async fn read(&self) -> io::Result<Vec<u8>> {
        tokio::fs::read(self.path.as_ref().expect("until kept")).await
    }

    /// Where it is, for work on a blocking thread.
    pub fn path(&self) -> &Path {
        self.path.as_deref().expect("until kept")
    }
}

impl Drop for Received {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_upload_is_kept_whole_or_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Storage::local(dir.path().join("files")).unwrap();
        let mut up = store.incoming(10).await.unwrap();
        up.write(b"hello").await.unwrap();
        let received = up.finish().await.unwrap();
        assert_eq!(
            (received.bytes, received.head.as_slice()),
            (5, &b"hello"[..])
        );
        let key = store.keep(received).await.unwrap();
        assert!(valid_key(&key), "{key}");
        assert_eq!(store.read(&key).await.unwrap(), b"hello");

        let mut big = store.incoming(4).await.unwrap();
        assert!(matches!(
            big.write(b"hello").await,
            Err(PutError::TooLarge(4))
        ));
        drop(big);
        let tmp: Vec<_> = std::fs::read_dir(dir.path().join("files/tmp"))
            .unwrap()
            .collect();
        assert!(tmp.is_empty(), "a refused upload leaves nothing");

        store.remove(&key).await.unwrap();
        store.remove(&key).await.unwrap();
        assert!(store.read(&key).await.is_err());
    }

    #[tokio::test]
    async fn keys_that_are_not_ours_never_become_paths() {
        let dir = tempfile::tempdir().unwrap();
        let store = Storage::local(dir.path().join("files")).unwrap();
        for key in [
            "../librechat.db",
            "ab/../../x",
            "/etc/passwd",
            "ab/cd0123456789abcdef0123456789abcd",
            "AB/AB0123456789ABCDEF0123456789ABCD",
        ] {
            let e = store.read(key).await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{key}");
        }
    }
}
