//! LibreChat dumps for the migration tests: documents built with the `bson` crate from the
//! field lists of LibreChat's mongoose schemas (packages/data-schemas/src/schema/), written as
//! `mongodump` (plain or `--gzip`) and `mongoexport` (Extended JSON lines or `--jsonArray`,
//! relaxed or canonical) write them, with the upload folders LibreChat keeps file bytes in.
//!
//! `standard()` builds a small deployment covering every collection of issue 21 and says in
//! `Known` what a test can assert after importing it; `bulk` streams a large messages dump;
//! `migration` runs the command on a dump and reads its report.

pub mod bulk;
mod chats;
pub mod crypto;
mod known;
pub mod migration;
mod people;
mod resources;

pub use known::*;

use bson::{Bson, DateTime, Document, oid::ObjectId};
use flate2::{Compression, read::MultiGzDecoder, write::GzEncoder};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The database folder `mongodump --out DIR` makes for LibreChat's default `MONGO_URI`.
pub const DB_NAME: &str = "LibreChat";

/// LibreChat's parent id of a conversation's first message.
pub const NO_PARENT: &str = "00000000-0000-0000-0000-000000000000";

/// Documents per collection, in insertion order, plus the upload files of the deployment.
#[derive(Default)]
pub struct Dump {
    collections: Vec<(String, Vec<Document>)>,
    uploads: Vec<(PathBuf, Vec<u8>)>,
}

impl Dump {
    /// Appends a document to a collection (created on first use).
    pub fn add(&mut self, collection: &str, doc: Document) {
        match self
            .collections
            .iter_mut()
            .find(|(name, _)| name == collection)
        {
            Some((_, docs)) => docs.push(doc),
            None => self.collections.push((collection.to_owned(), vec![doc])),
        }
    }

    /// The documents of a collection (empty if none).
    pub fn docs(&self, collection: &str) -> &[Document] {
        self.collections
            .iter()
            .find(|(name, _)| name == collection)
            .map_or(&[], |(_, d)| d)
    }

    /// Mutable documents of a collection, to spoil a standard dump for a bad-input test.
    pub fn docs_mut(&mut self, collection: &str) -> &mut Vec<Document> {
        if !self.collections.iter().any(|(name, _)| name == collection) {
            self.collections.push((collection.to_owned(), Vec::new()));
        }
        &mut self
            .collections
            .iter_mut()
            .find(|(name, _)| name == collection)
            .expect("added")
            .1
    }

    /// Collection names in insertion order.
    pub fn collections(&self) -> Vec<&str> {
        self.collections
            .iter()
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Documents per collection.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.collections
            .iter()
            .map(|(name, docs)| (name.clone(), docs.len()))
            .collect()
    }

    /// Adds a file under the upload roots, `rel` being e.g. `uploads/<user>/<file_id>__a.txt`
    /// or `images/<user>/<file_id>__a.png` (LibreChat's `filepath` without the leading `/`).
    pub fn add_upload(&mut self, rel: impl Into<PathBuf>, bytes: Vec<u8>) {
        self.uploads.push((rel.into(), bytes));
    }

    /// Writes the upload files under `dir` (`dir/uploads/…`, `dir/images/…`): LibreChat's
    /// `uploads/` and `client/public/images/` folders.
    pub fn write_uploads(&self, dir: &Path) -> io::Result<()> {
        for (rel, bytes) in &self.uploads {
            let path = dir.join(rel);
            fs::create_dir_all(path.parent().expect("upload path has a folder"))?;
            fs::write(path, bytes)?;
        }
        Ok(())
    }

    /// `mongodump --out dir [--gzip]`: `dir/LibreChat/<coll>.bson` (concatenated documents) and
    /// `<coll>.metadata.json`, each gzipped (`.gz` appended) when `gzip`. Returns the db folder.
    pub fn write_mongodump(&self, dir: &Path, gzip: bool) -> io::Result<PathBuf> {
        let db = dir.join(DB_NAME);
        fs::create_dir_all(&db)?;
        let gz = if gzip { ".gz" } else { "" };
        for (name, docs) in &self.collections {
            let mut out = open_out(&db.join(format!("{name}.bson{gz}")), gzip)?;
            for doc in docs {
                doc.to_writer(&mut out).map_err(io::Error::other)?;
            }
            out.finish()?;
            let mut meta = open_out(&db.join(format!("{name}.metadata.json{gz}")), gzip)?;
            meta.write_all(metadata_json(name).as_bytes())?;
            meta.finish()?;
        }
        Ok(db)
    }

    /// `mongoexport --collection <coll> --out dir/<coll>.json`: one Extended JSON document per
    /// line, relaxed (mongoexport's default) or canonical (`--jsonFormat=canonical`).
    pub fn write_mongoexport(&self, dir: &Path, canonical: bool) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        for (name, docs) in &self.collections {
            let mut out = BufWriter::new(File::create(dir.join(format!("{name}.json")))?);
            for doc in docs {
                serde_json::to_writer(&mut out, &extjson(doc, canonical))?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
        Ok(())
    }

    /// `mongoexport --jsonArray`: each `dir/<coll>.json` holds one JSON array of documents.
    pub fn write_mongoexport_array(&self, dir: &Path, canonical: bool) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        for (name, docs) in &self.collections {
            let mut out = BufWriter::new(File::create(dir.join(format!("{name}.json")))?);
            out.write_all(b"[")?;
            for (i, doc) in docs.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",\n")?;
                }
                serde_json::to_writer(&mut out, &extjson(doc, canonical))?;
            }
            out.write_all(b"]\n")?;
            out.flush()?;
        }
        Ok(())
    }
}

/// A document as Extended JSON (relaxed or canonical), as mongoexport prints it.
pub fn extjson(doc: &Document, canonical: bool) -> serde_json::Value {
    let bson = Bson::Document(doc.clone());
    if canonical {
        bson.into_canonical_extjson()
    } else {
        bson.into_relaxed_extjson()
    }
}

/// The `.metadata.json` mongodump writes next to a collection (the `_id` index, a uuid).
pub fn metadata_json(collection: &str) -> String {
    let uuid = &crypto::sha256_hex(collection)[..32];
    format!(
        r#"{{"options":{{}},"indexes":[{{"v":{{"$numberInt":"2"}},"key":{{"_id":{{"$numberInt":"1"}}}},"name":"_id_"}}],"uuid":"{uuid}","collectionName":"{collection}","type":"collection"}}"#
    )
}

/// A file writer, gzipped or not, that must be `finish`ed.
pub enum Out {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
}

impl Out {
    pub fn finish(self) -> io::Result<()> {
        match self {
            Out::Plain(mut w) => w.flush(),
            Out::Gzip(w) => w.finish()?.flush(),
        }
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::Plain(w) => w.write(buf),
            Out::Gzip(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::Plain(w) => w.flush(),
            Out::Gzip(w) => w.flush(),
        }
    }
}

/// Creates `path` for writing, through gzip when asked.
pub fn open_out(path: &Path, gzip: bool) -> io::Result<Out> {
    let file = BufWriter::with_capacity(1 << 16, File::create(path)?);
    Ok(if gzip {
        Out::Gzip(GzEncoder::new(file, Compression::fast()))
    } else {
        Out::Plain(file)
    })
}

/// Opens a file for reading, gunzipping it when it starts with the gzip magic.
pub fn open_in(path: &Path) -> io::Result<Box<dyn BufRead>> {
    let mut file = BufReader::new(File::open(path)?);
    let gz = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::new(MultiGzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

/// Reads back a `.bson[.gz]` file document by document (with the bson crate).
pub fn read_bson(path: &Path) -> io::Result<Vec<Document>> {
    let mut input = open_in(path)?;
    let mut docs = Vec::new();
    while !input.fill_buf()?.is_empty() {
        docs.push(Document::from_reader(&mut input).map_err(io::Error::other)?);
    }
    Ok(docs)
}

/// Reads back a mongoexport file, JSON lines or a JSON array, into documents.
pub fn read_extjson(path: &Path) -> io::Result<Vec<Document>> {
    let mut text = String::new();
    open_in(path)?.read_to_string(&mut text)?;
    let values: Vec<serde_json::Value> = if text.trim_start().starts_with('[') {
        serde_json::from_str(&text)?
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()?
    };
    values
        .into_iter()
        .map(|v| match Bson::try_from(v).map_err(io::Error::other)? {
            Bson::Document(d) => Ok(d),
            other => Err(io::Error::other(format!("not a document: {other:?}"))),
        })
        .collect()
}

/// Deterministic ids and randomness (splitmix64 from a fixed seed): the same dump every run.
pub struct Gen {
    state: u64,
    oids: u32,
}

/// 2024-01-01T00:00:00Z, the dump's clock origin.
pub const T0_MS: i64 = 1_704_067_200_000;

/// `T0 + minutes` as a BSON date.
pub fn at(minutes: i64) -> DateTime {
    DateTime::from_millis(T0_MS + minutes * 60_000)
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen {
            state: seed,
            oids: 0,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn bytes16(&mut self) -> [u8; 16] {
        let (a, b) = (self.next_u64(), self.next_u64());
        let mut out = [0; 16];
        out[..8].copy_from_slice(&a.to_be_bytes());
        out[8..].copy_from_slice(&b.to_be_bytes());
        out
    }

    /// The next ObjectId: its time prefix is `T0` plus one minute per id made, then a fixed
    /// process part and the counter.
    pub fn oid(&mut self) -> ObjectId {
        self.oids += 1;
        object_id((T0_MS / 1000) as u32 + self.oids * 60, self.oids)
    }

    /// A random (v4) uuid, as LibreChat's client and server make for conversations/messages.
    pub fn uuid(&mut self) -> String {
        uuid::Builder::from_random_bytes(self.bytes16())
            .into_uuid()
            .to_string()
    }

    /// A nanoid-style id (`[A-Za-z0-9_-]`), as LibreChat makes for shares, agents, actions.
    pub fn nanoid(&mut self, len: usize) -> String {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
        (0..len)
            .map(|_| ABC[(self.next_u64() % 64) as usize] as char)
            .collect()
    }

    /// `n` random bytes as lowercase hex.
    pub fn hex(&mut self, n: usize) -> String {
        let bytes: Vec<u8> = (0..n).map(|_| self.next_u64() as u8).collect();
        hex::encode(bytes)
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, (self.next_u64() % (i as u64 + 1)) as usize);
        }
    }
}

/// An ObjectId from its time (seconds) and a counter, with a fixed "process" part.
pub fn object_id(seconds: u32, counter: u32) -> ObjectId {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&seconds.to_be_bytes());
    b[4..9].copy_from_slice(&[0x5e, 0xed, 0x00, 0x00, 0x21]);
    b[9..].copy_from_slice(&counter.to_be_bytes()[1..]);
    ObjectId::from_bytes(b)
}

/// A LibreChat deployment covering every collection of issue 21 (see the submodules for the
/// schema each collection follows), and what a test can check after importing it.
pub fn standard() -> (Dump, Known) {
    let mut g = Gen::new(21);
    let mut dump = Dump::default();
    let mut known = Known::new();
    people::add(&mut g, &mut dump, &mut known);
    chats::add(&mut g, &mut dump, &mut known);
    resources::add(&mut g, &mut dump, &mut known);
    // An unknown collection: reported and skipped by the migrator.
    for i in 0..3 {
        dump.add(
            "foo",
            bson::doc! { "_id": g.oid(), "bar": i, "note": "not a LibreChat collection" },
        );
    }
    known.counts = dump.counts();
    (dump, known)
}
