//! Where uploaded bytes live: the data folder's `files/`, one file per upload under a name made
//! here (`ab/ab12…`: a random id, sharded by its first two characters), never the uploader's.
//!
//! An upload is written to `files/tmp/` as it streams in ([`Incoming`]), counted against its
//! limit as it goes, and becomes a stored object only when complete ([`Storage::keep`]): a
//! broken or refused upload leaves nothing behind, and nothing is ever held whole in memory.
//!
//! One implementation, local disk. The storage is an enum so that a second (S3-compatible, for
//! deployments of several replicas) can be added beside it without touching the callers.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::io::AsyncWriteExt;

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

/// The file storage.
#[derive(Debug, Clone)]
pub enum Storage {
    Local(LocalDisk),
}

impl Storage {
    /// The local disk storage under `root` (made if missing, private to this user).
    pub fn local(root: PathBuf) -> io::Result<Self> {
        Ok(Storage::Local(LocalDisk::new(root)?))
    }

    /// Starts receiving an upload of at most `max` bytes.
    pub async fn incoming(&self, max: u64) -> io::Result<Incoming> {
        match self {
            Storage::Local(d) => d.incoming(max).await,
        }
    }

    /// Keeps a received upload as it is; returns its key.
    pub async fn keep(&self, received: Received) -> io::Result<String> {
        match self {
            Storage::Local(d) => d.keep(received).await,
        }
    }

    /// Stores `bytes` (made here: a resized image, an avatar); returns the key.
    pub async fn put_bytes(&self, bytes: Vec<u8>) -> io::Result<String> {
        match self {
            Storage::Local(d) => d.put_bytes(bytes).await,
        }
    }

    /// The stored bytes of `key`, whole (images and documents are bounded in size).
    pub async fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        match self {
            Storage::Local(d) => tokio::fs::read(d.path_of(key)?).await,
        }
    }

    /// Opens `key` for streaming it out.
    pub async fn open(&self, key: &str) -> io::Result<tokio::fs::File> {
        match self {
            Storage::Local(d) => tokio::fs::File::open(d.path_of(key)?).await,
        }
    }

    /// Removes `key`; one already gone is not an error.
    pub async fn remove(&self, key: &str) -> io::Result<()> {
        match self {
            Storage::Local(d) => match tokio::fs::remove_file(d.path_of(key)?).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// Stores what `from` reads, streamed (never held whole); returns the key and the size.
    /// Blocking: for the command line (`migrate-from-librechat`), not for request handlers.
    pub fn copy_in(&self, from: &mut dyn io::Read) -> io::Result<(String, u64)> {
        match self {
            Storage::Local(d) => d.copy_in(from),
        }
    }

    /// Removes `key` (blocking); one already gone is not an error.
    pub fn discard(&self, key: &str) -> io::Result<()> {
        match self {
            Storage::Local(d) => match std::fs::remove_file(d.path_of(key)?) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// Keys stored longer ago than `age`, and leftover partial uploads that old (removed
    /// here). Blocking: for the sweeper's thread.
    pub fn stale_keys(&self, age: Duration) -> io::Result<Vec<String>> {
        match self {
            Storage::Local(d) => d.stale_keys(age),
        }
    }
}

/// Uploads on the local disk.
#[derive(Debug, Clone)]
pub struct LocalDisk {
    root: PathBuf,
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

impl LocalDisk {
    fn new(root: PathBuf) -> io::Result<Self> {
        std::fs::create_dir_all(root.join("tmp"))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(LocalDisk { root })
    }

    fn path_of(&self, key: &str) -> io::Result<PathBuf> {
        if !valid_key(key) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a storage key",
            ));
        }
        Ok(self.root.join(key))
    }

    async fn incoming(&self, max: u64) -> io::Result<Incoming> {
        let path = self
            .root
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let file = tokio::fs::File::create(&path).await?;
        Ok(Incoming {
            file,
            received: Received {
                path: Some(path),
                bytes: 0,
                head: Vec::new(),
            },
            max,
        })
    }

    async fn place(&self, from: &Path) -> io::Result<String> {
        let key = new_key();
        let to = self.root.join(&key);
        if let Some(dir) = to.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::rename(from, &to).await?;
        Ok(key)
    }

    async fn keep(&self, mut received: Received) -> io::Result<String> {
        let from = received
            .path
            .take()
            .expect("a received upload has its file");
        match self.place(&from).await {
            Ok(key) => Ok(key),
            Err(e) => {
                let _ = tokio::fs::remove_file(&from).await;
                Err(e)
            }
        }
    }

    async fn put_bytes(&self, bytes: Vec<u8>) -> io::Result<String> {
        let mut incoming = self.incoming(u64::MAX).await?;
        incoming.write(&bytes).await.map_err(|e| match e {
            PutError::Io(e) => e,
            PutError::TooLarge(_) => unreachable!("no limit"),
        })?;
        let received = incoming.finish().await?;
        self.keep(received).await
    }

    fn copy_in(&self, from: &mut dyn io::Read) -> io::Result<(String, u64)> {
        let tmp = self
            .root
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let copied = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            let n = io::copy(from, &mut file)?;
            file.sync_all()?;
            let key = new_key();
            let to = self.root.join(&key);
            if let Some(dir) = to.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::rename(&tmp, &to)?;
            Ok((key, n))
        })();
        if copied.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        copied
    }

    fn stale_keys(&self, age: Duration) -> io::Result<Vec<String>> {
        let old = |p: &Path| -> bool {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|d| d >= age)
        };
        let mut keys = Vec::new();
        for shard in std::fs::read_dir(&self.root)? {
            let shard = shard?;
            let name = shard.file_name().to_string_lossy().into_owned();
            if name == "tmp" {
                // Partial uploads of a process that died mid-upload.
                for f in std::fs::read_dir(shard.path())? {
                    let p = f?.path();
                    if old(&p) {
                        let _ = std::fs::remove_file(&p);
                    }
                }
                continue;
            }
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(shard.path())? {
                let f = f?;
                let key = format!("{name}/{}", f.file_name().to_string_lossy());
                if valid_key(&key) && old(&f.path()) {
                    keys.push(key);
                }
            }
        }
        Ok(keys)
    }
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
