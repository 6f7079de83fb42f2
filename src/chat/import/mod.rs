//! Importing conversations from files: LibreChat's export, ChatGPT's and Claude's
//! `conversations.json`.
//!
//! A file is read twice, streaming, so memory stays at about one conversation however large
//! the file is: first only to check that it is complete, well-formed JSON whose every string
//! and number can be read (a truncated or corrupt upload must not import half of itself), then
//! conversation by conversation, each converted,
//! checked ([`model::prepare`]) and stored in its own transaction, so a conversation is
//! imported whole or not at all. The [`Report`] says how many conversations and messages were
//! imported and which conversations were skipped and why.

pub mod formats;
pub mod model;
pub mod reader;
pub mod stream;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::db::{self, Db, DbError};
use model::Prepared;

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub conversations: usize,
    pub messages: usize,
    /// The first [`MAX_LISTED_SKIPS`] conversations skipped, with the reason.
    pub skipped: Vec<Skipped>,
    /// How many were skipped in all.
    #[serde(rename = "skippedCount")]
    pub skipped_count: usize,
    /// The formats found, e.g. `["ChatGPT"]`.
    pub formats: Vec<&'static str>,
}

/// A conversation that was not imported.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    /// Its position in the file, from 1.
    pub index: usize,
    pub title: Option<String>,
    pub reason: String,
}

/// Why a file could not be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not complete, valid JSON: {0}")]
    NotJson(String),
    #[error(
        "the file is not a conversation export (expected ChatGPT's or Claude's conversations.json, or a LibreChat export)"
    )]
    Unrecognized,
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Counts the bytes read, for progress bars.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// How many skipped conversations a report lists by name (it counts them all).
pub const MAX_LISTED_SKIPS: usize = 100;
/// After this many elements in a row that are not conversations, with nothing imported yet,
/// the file is taken for something else and reading stops.
const MAX_UNRECOGNIZED_RUN: usize = 1_000;

/// Imports `path` into `user_id`'s conversations. `read` counts the bytes of the second
/// (importing) pass, for a progress bar.
pub async fn import_file(
    db: &Db,
    user_id: &str,
    path: &Path,
    read: Arc<AtomicU64>,
) -> Result<Report, ImportError> {
    let len = std::fs::metadata(path)
        .map_err(|e| ImportError::Io(e.to_string()))?
        .len();
    if len == 0 {
        return Err(ImportError::Empty);
    }
    type Item = (Result<Prepared, Skipped>, Option<&'static str>);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Item>(8);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let (p, user) = (path.to_path_buf(), user_id.to_owned());
    // A thread of its own: nested exports recurse deeply while they are parsed.
    std::thread::Builder::new()
        .name("import".into())
        .stack_size(reader::STACK_BYTES)
        .spawn(move || {
            let result = (|| {
                let file = File::open(&p).map_err(|e| ImportError::Io(e.to_string()))?;
                let scan = reader::scan(BufReader::with_capacity(256 * 1024, file))?;
                let file = File::open(&p).map_err(|e| ImportError::Io(e.to_string()))?;
                let reader = BufReader::with_capacity(256 * 1024, Counting { inner: file, read });
                let now = db::now();
                let mut unrecognized_run = 0;
                let mut any = false;
                let mut stopped: Option<ImportError> = None;
                let result = reader::each_conversation(reader, &scan.refused, |index, v| {
                    let (title, format, item) = match v {
                        Err(too_big) => (None, None, Err(too_big.to_string())),
                        Ok(c) => {
                            let (title, format) = (c.title(), c.format());
                            let item = c.into_convo().and_then(|c| model::prepare(c, &user, &now));
                            (title, format, item)
                        }
                    };
                    if format.is_some() {
                        unrecognized_run = 0;
                        any = true;
                    } else {
                        unrecognized_run += 1;
                        if !any && unrecognized_run >= MAX_UNRECOGNIZED_RUN {
                            stopped = Some(ImportError::Unrecognized);
                            return Err("not a conversation export".to_owned());
                        }
                    }
                    let item = item.map_err(|reason| Skipped {
                        index,
                        title,
                        reason,
                    });
                    tx.blocking_send((item, format.map(formats::Format::name)))
                        .map_err(|_| {
                            stopped = Some(ImportError::Io("the import was stopped".into()));
                            "the import was stopped".to_owned()
                        })
                });
                match stopped {
                    Some(e) => Err(e),
                    None => result,
                }
            })();
            let _ = done_tx.send(result);
        })
        .map_err(|e| ImportError::Io(e.to_string()))?;

    let mut report = Report::default();
    while let Some((item, format)) = rx.recv().await {
        if let Some(f) = format
            && !report.formats.contains(&f)
        {
            report.formats.push(f);
        }
        match item {
            Ok(prepared) => {
                let n = prepared.len();
                db.write(move |c| db::imports::insert(c, prepared)).await?;
                report.conversations += 1;
                report.messages += n;
            }
            Err(skipped) => {
                report.skipped_count += 1;
                if report.skipped.len() < MAX_LISTED_SKIPS {
                    report.skipped.push(skipped);
                }
            }
        }
    }
    let done = done_rx.await;
    // A large conversation leaves tens of MB free in malloc: give them back.
    let _ = tokio::task::spawn_blocking(crate::memory::release).await;
    match done {
        Ok(Ok(())) => Ok(report),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ImportError::Io("the import stopped unexpectedly".into())),
    }
}
