//! Where the collections of a LibreChat backup are: a `mongodump` folder (`<name>.bson`, or
//! `<name>.bson.gz` with `--gzip`; `mongodump --out DIR` puts them in `DIR/<database>/`), or a
//! folder of `mongoexport` files (`<name>.json`, gzipped or not).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::{Map, Value};

use super::bson::{Documents, Stop};

/// What receives each document read (or why one could not be read); `Break` stops reading.
pub type Each<'a> = &'a mut dyn FnMut(Result<Map<String, Value>, String>) -> ControlFlow<()>;

/// One collection's file.
#[derive(Debug, Clone)]
pub struct Collection {
    pub path: PathBuf,
    pub json: bool,
    pub gzip: bool,
}

/// The collections found in `dir`, by name.
pub fn find(dir: &Path) -> anyhow::Result<BTreeMap<String, Collection>> {
    if dir.is_file() {
        bail!(
            "{} is a file: an archive made with `mongodump --archive` cannot be read; \
             run `mongodump --out DIR` (with or without --gzip) and give DIR",
            dir.display()
        );
    }
    let found = scan(dir)?;
    if !found.is_empty() {
        return Ok(found);
    }
    // `mongodump --out DIR` writes one folder per database.
    let mut databases = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "admin") {
            let inner = scan(&path)?;
            if !inner.is_empty() {
                databases.push((path, inner));
            }
        }
    }
    match databases.len() {
        0 => bail!(
            "no collections in {}: expected mongodump's <collection>.bson files or \
             mongoexport's <collection>.json files",
            dir.display()
        ),
        1 => Ok(databases.pop().map(|(_, c)| c).unwrap_or_default()),
        _ => {
            let names: Vec<String> = databases
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect();
            bail!(
                "{} holds several databases ({}); give the folder of LibreChat's",
                dir.display(),
                names.join(", ")
            )
        }
    }
}

fn scan(dir: &Path) -> anyhow::Result<BTreeMap<String, Collection>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if !path.is_file() {
            continue;
        }
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let (stem, gzip) = match name.strip_suffix(".gz") {
            Some(s) => (s, true),
            None => (name, false),
        };
        let (collection, json) = if let Some(c) = stem.strip_suffix(".bson") {
            (c, false)
        } else if let Some(c) = stem.strip_suffix(".json") {
            if c.ends_with(".metadata") {
                continue;
            }
            (c, true)
        } else {
            continue;
        };
        if collection.starts_with("system.") {
            continue;
        }
        out.insert(collection.to_owned(), Collection { path, json, gzip });
    }
    Ok(out)
}

/// Calls `each` with every document of `c`, in the file's order.
pub fn read(c: &Collection, each: Each) -> Result<(), Stop> {
    let file = File::open(&c.path).map_err(Stop::Io)?;
    let raw: Box<dyn Read> = if c.gzip {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            256 * 1024,
            file,
        )))
    } else {
        Box::new(file)
    };
    let input = BufReader::with_capacity(256 * 1024, raw);
    if c.json {
        return super::extjson::read(input, each);
    }
    read_bson(input, each)
}

fn read_bson(input: impl BufRead, each: Each) -> Result<(), Stop> {
    let mut docs = Documents::new(input);
    while let Some(doc) = docs.next_document().map_err(|e| match e {
        // A broken gzip stream surfaces as an I/O error: name it.
        Stop::Io(io) if io.kind() == std::io::ErrorKind::InvalidInput => Stop::Io(
            std::io::Error::new(io.kind(), format!("the gzip stream is corrupt: {io}")),
        ),
        other => other,
    })? {
        if each(doc).is_break() {
            break;
        }
    }
    Ok(())
}
