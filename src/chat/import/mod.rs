//! Importing conversations from files: LibreChat's export, ChatGPT's and Claude's
//! `conversations.json`.
//!
//! A file is read twice, streaming, so memory stays at about one conversation however large
//! the file is: first only to check that it is complete, well-formed JSON (a truncated upload
//! must not import half of itself), then conversation by conversation, each converted,
//! checked ([`model::prepare`]) and stored in its own transaction, so a conversation is
//! imported whole or not at all. The [`Report`] says how many conversations and messages were
//! imported and which conversations were skipped and why.

pub mod formats;
pub mod model;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::db::{self, Db, DbError};
use model::Prepared;

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub conversations: usize,
    pub messages: usize,
    pub skipped: Vec<Skipped>,
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
    let p = path.to_path_buf();
    tokio::task::spawn_blocking(move || check_syntax(&p))
        .await
        .map_err(|e| ImportError::Io(e.to_string()))??;

    let (tx, mut rx) =
        tokio::sync::mpsc::channel::<(usize, Result<Prepared, Skipped>, Option<&'static str>)>(8);
    let (p, user) = (path.to_path_buf(), user_id.to_owned());
    let parser = tokio::task::spawn_blocking(move || {
        let file = File::open(&p).map_err(|e| ImportError::Io(e.to_string()))?;
        let reader = BufReader::with_capacity(256 * 1024, Counting { inner: file, read });
        let now = db::now();
        let mut index = 0usize;
        each_conversation(reader, |v| {
            index += 1;
            let title = formats::title_of(&v);
            let format = formats::detect(&v);
            let item = match format {
                None => Err("not a ChatGPT, Claude or LibreChat conversation".to_owned()),
                Some(f) => formats::convert(f, v).and_then(|c| model::prepare(c, &user, &now)),
            }
            .map_err(|reason| Skipped {
                index,
                title,
                reason,
            });
            tx.blocking_send((index, item, format.map(formats::Format::name)))
                .map_err(|_| "the import was stopped".to_owned())
        })
    });

    let mut report = Report::default();
    while let Some((_, item, format)) = rx.recv().await {
        if let Some(f) = format
            && !report.formats.contains(&f)
        {
            report.formats.push(f);
        }
        match item {
            Ok(prepared) => {
                let n = prepared.messages.len();
                db.write(move |c| db::imports::insert(c, &prepared)).await?;
                report.conversations += 1;
                report.messages += n;
            }
            Err(skipped) => report.skipped.push(skipped),
        }
    }
    parser.await.map_err(|e| ImportError::Io(e.to_string()))??;
    Ok(report)
}

/// Reads the whole file as JSON without keeping any of it.
fn check_syntax(path: &Path) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|e| ImportError::Io(e.to_string()))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(256 * 1024, file));
    de::IgnoredAny::deserialize(&mut de).map_err(|e| ImportError::NotJson(e.to_string()))?;
    de.end().map_err(|e| ImportError::NotJson(e.to_string()))
}

/// Calls `f` with each conversation of the file: each element of a top-level array, or the
/// top-level object itself. One conversation is in memory at a time.
fn each_conversation<R: Read>(
    reader: R,
    mut f: impl FnMut(Value) -> Result<(), String>,
) -> Result<(), ImportError> {
    struct Each<'a, F>(&'a mut F);

    impl<'de, F: FnMut(Value) -> Result<(), String>> Visitor<'de> for Each<'_, F> {
        type Value = ();

        fn expecting(&self, out: &mut std::fmt::Formatter) -> std::fmt::Result {
            out.write_str("a conversation or a list of conversations")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(v) = seq.next_element::<Value>()? {
                (self.0)(v).map_err(de::Error::custom)?;
            }
            Ok(())
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
            let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
            (self.0)(v).map_err(de::Error::custom)
        }
    }

    let mut de = serde_json::Deserializer::from_reader(reader);
    de::Deserializer::deserialize_any(&mut de, Each(&mut f)).map_err(|e| {
        if e.is_data() {
            ImportError::Unrecognized
        } else {
            ImportError::Io(e.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(json: &str) -> Result<Vec<String>, ImportError> {
        let mut out = Vec::new();
        each_conversation(json.as_bytes(), |v| {
            out.push(v["title"].as_str().unwrap_or("").to_owned());
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn arrays_and_single_objects_stream_one_conversation_at_a_time() {
        assert_eq!(
            titles(r#"[{"title":"a"},{"title":"b"}]"#).unwrap(),
            ["a", "b"]
        );
        assert_eq!(titles(r#"{"title":"only"}"#).unwrap(), ["only"]);
        assert!(titles("[]").unwrap().is_empty());
        assert!(matches!(titles("42"), Err(ImportError::Unrecognized)));
        assert!(matches!(
            titles(r#""text""#),
            Err(ImportError::Unrecognized)
        ));
    }
}
