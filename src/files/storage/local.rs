//! Uploads on the local disk: the data folder's `files/`, one file per key.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{Incoming, PutError, Received, new_key, valid_key};

/// Uploads on the local disk.
#[derive(Debug, Clone)]
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    pub fn new(root: PathBuf) -> io::Result<Self> {
        std::fs::create_dir_all(root.join("tmp"))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(LocalDisk { root })
    }

    pub fn path_of(&self, key: &str) -> io::Result<PathBuf> {
        if !valid_key(key) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a storage key",
            ));
        }
        Ok(self.root.join(key))
    }

    pub(super) async fn incoming(&self, max: u64) -> io::Result<Incoming> {
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

    pub(super) async fn keep(&self, mut received: Received) -> io::Result<String> {
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

    pub(super) async fn put_bytes(&self, bytes: Vec<u8>) -> io::Result<String> {
        let mut incoming = self.incoming(u64::MAX).await?;
        incoming.write(&bytes).await.map_err(|e| match e {
            PutError::Io(e) => e,
            PutError::TooLarge(_) => unreachable!("no limit"),
        })?;
        let received = incoming.finish().await?;
        self.keep(received).await
    }

    /// Receives what `from` reads into `tmp/` (blocking); its `head` is not kept.
    pub(super) fn receive_blocking(&self, from: &mut dyn io::Read) -> io::Result<Received> {
        let path = self
            .root
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let mut received = Received {
            path: Some(path.clone()),
            bytes: 0,
            head: Vec::new(),
        };
        let mut file = std::fs::File::create(&path)?;
        received.bytes = io::copy(from, &mut file)?;
        file.sync_all()?;
        Ok(received)
    }

    pub(super) fn copy_in(&self, from: &mut dyn io::Read) -> io::Result<(String, u64)> {
        let mut received = self.receive_blocking(from)?;
        let tmp = received
            .path
            .take()
            .expect("a received upload has its file");
        let key = new_key();
        let to = self.root.join(&key);
        let placed = match to.parent() {
            Some(dir) => std::fs::create_dir_all(dir),
            None => Ok(()),
        }
        .and_then(|()| std::fs::rename(&tmp, &to));
        if let Err(e) = placed {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok((key, received.bytes))
    }

    /// Every stored key with its size, in key order (not the uploads still arriving in `tmp/`).
    pub fn keys(&self) -> io::Result<Vec<(String, u64)>> {
        let mut keys = Vec::new();
        for shard in std::fs::read_dir(&self.root)? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            let name = shard.file_name().to_string_lossy().into_owned();
            for f in std::fs::read_dir(shard.path())? {
                let f = f?;
                let key = format!("{name}/{}", f.file_name().to_string_lossy());
                if valid_key(&key) && f.file_type()?.is_file() {
                    keys.push((key, f.metadata()?.len()));
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    pub(super) fn stale_keys(&self, age: Duration) -> io::Result<Vec<String>> {
        let old = |p: &Path| -> bool {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|d| d >= age)
        };
        // Partial uploads of a process that died mid-upload.
        if let Ok(partial) = std::fs::read_dir(self.root.join("tmp")) {
            for f in partial {
                let p = f?.path();
                if old(&p) {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
        let mut keys = self.keys()?;
        keys.retain(|(key, _)| self.path_of(key).is_ok_and(|p| old(&p)));
        Ok(keys.into_iter().map(|(key, _)| key).collect())
    }
}
