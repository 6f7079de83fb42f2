//! `librechat files to-bucket`: copies the uploads kept in the data folder's `files/` into the
//! S3-compatible bucket the settings name, before a deployment moves to `fileStrategy: s3`
//! (several replicas share the bucket, and cannot share one machine's folder).
//!
//! Keys stay the same (the object `files/{key}` holds what `files/{key}` held), so the
//! database needs no change: once the servers start with `fileStrategy: s3`, every upload,
//! image and avatar is read from the bucket. An object already there with the same size is
//! left alone, so the command can run again (with the server stopped, right before the
//! switch) to copy only what came since. Each object's size is checked after it is sent. The
//! local files are never removed: that is the administrator's step once all is well.

use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;

use crate::config::file_store::FileStore;
use crate::config::{Env, Overrides, Settings};
use crate::files::storage::{LocalDisk, S3Store};

#[derive(Debug, Subcommand)]
pub enum FilesCommand {
    /// Copy the uploads of the data folder into the S3 bucket (fileStrategy: s3, AWS_*)
    #[command(
        name = "to-bucket",
        after_help = "Example:\n  librechat files to-bucket --data-dir /var/lib/librechat \\\n    --config /etc/librechat/librechat.yaml --env-file /etc/librechat/librechat.env\n\n\
Run it with the settings that name the bucket. Objects already there with the same size are \
skipped, so run it again with the server stopped right before switching. The local files stay."
    )]
    ToBucket,
}

/// What one copy did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Copied {
    pub sent: u64,
    pub bytes: u64,
    pub already_there: u64,
    /// Each key that could not be copied, with the reason.
    pub failed: Vec<(String, String)>,
}

pub fn run(env: Env, overrides: Overrides, cmd: FilesCommand) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    let FilesCommand::ToBucket = cmd;
    let settings = Settings::load(&env, &overrides, false)?;
    let FileStore::S3(s3) = &settings.file_store else {
        bail!(
            "there is no bucket to copy to: set `fileStrategy: s3` in librechat.yaml, with \
             AWS_REGION, AWS_BUCKET_NAME, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
             (and AWS_ENDPOINT_URL for a store other than AWS)"
        );
    };
    let dir = settings.files_dir();
    if !dir.is_dir() {
        println!("no uploads to copy: {} does not exist", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let local = LocalDisk::new(dir.clone())?;
    let bucket = S3Store::new(s3, dir.clone())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let copied = runtime.block_on(to_bucket(&local, &bucket))?;
    println!(
        "copied {} file(s) ({} bytes) from {} to the bucket; {} already there",
        copied.sent,
        copied.bytes,
        dir.display(),
        copied.already_there
    );
    if copied.failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for (key, why) in &copied.failed {
        eprintln!("not copied: {key}: {why}");
    }
    eprintln!(
        "{} file(s) were not copied; run the command again once the store answers",
        copied.failed.len()
    );
    Ok(ExitCode::FAILURE)
}

/// Sends every key of `local` that `bucket` lacks (or holds with another size), one after
/// the other, and checks each one's size in the bucket afterwards. A store that does not
/// answer at all stops the copy; a refusal of one object is noted and the copy goes on.
pub async fn to_bucket(local: &LocalDisk, bucket: &S3Store) -> anyhow::Result<Copied> {
    let keys = local.keys()?;
    let total: u64 = keys.iter().map(|(_, n)| n).sum();
    let bar = super::progress::Progress::new("copying", total, true);
    let mut copied = Copied::default();
    let mut through = 0;
    for (key, len) in keys {
        through += len;
        if bucket.size(&key).await? == Some(len) {
            copied.already_there += 1;
            bar.set(through);
            continue;
        }
        let path = local.path_of(&key)?;
        let sent = match bucket.put_file(&key, &path, len).await {
            Ok(()) => bucket.size(&key).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(Some(n)) if n == len => {
                copied.sent += 1;
                copied.bytes += len;
            }
            Ok(n) => copied.failed.push((
                key,
                format!("the bucket holds {} bytes of {len}", n.unwrap_or(0)),
            )),
            Err(e) => copied.failed.push((key, e.to_string())),
        }
        bar.set(through);
    }
    bar.finish();
    Ok(copied)
}
