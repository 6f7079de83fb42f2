//! What a migration did, per collection: documents read, imported, already there, skipped
//! and why. Printed at the end, and written as JSON with `--report FILE`.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

/// The first reasons of each collection are kept word for word; after that only counted.
const KEPT_REASONS: usize = 100;

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub source: String,
    pub dry_run: bool,
    pub collections: BTreeMap<String, Counts>,
    /// The collections in the order they were imported, for the printed report.
    #[serde(skip)]
    pub order: Vec<String>,
    /// Collections this server has no place for, with their document counts.
    pub not_imported: BTreeMap<String, NotImported>,
    /// Notes for the admin: secrets re-encrypted, files left in cloud storage, search rebuilt.
    pub notes: Vec<String>,
    /// Files kept in cloud storage (S3, Firebase, Azure Blob, CloudFront), not copied: the
    /// first ones, for a second step; `remote_files_count` counts them all.
    pub remote_files: Vec<RemoteFile>,
    pub remote_files_count: u64,
    pub seconds: f64,
}

/// A file whose bytes LibreChat kept in cloud storage.
#[derive(Debug, Serialize)]
pub struct RemoteFile {
    pub file_id: String,
    pub user: String,
    pub source: String,
    pub filepath: String,
}

#[derive(Debug, Serialize)]
pub struct NotImported {
    pub documents: u64,
    pub why: String,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub read: u64,
    pub imported: u64,
    pub already_present: u64,
    pub skipped: u64,
    /// Skips by reason code (`user_not_found`, `bad_shape`, ...).
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// The first skips: `"<document number> <_id>: <reason>"`.
    pub reasons: Vec<String>,
    /// When reading stopped early (a truncated or corrupt file).
    pub stopped: Option<String>,
    pub seconds: f64,
}

/// Why one document was not imported: a stable code and words for a person.
#[derive(Debug)]
pub struct Skip {
    pub code: &'static str,
    pub why: String,
}

impl Skip {
    pub fn new(code: &'static str, why: impl Into<String>) -> Self {
        Self {
            code,
            why: why.into(),
        }
    }
}

impl Counts {
    pub fn skip(&mut self, id: &str, skip: Skip) {
        self.skipped += 1;
        *self.skipped_by_reason.entry(skip.code.into()).or_default() += 1;
        if self.reasons.len() < KEPT_REASONS {
            let id = if id.is_empty() { "-" } else { id };
            self.reasons
                .push(format!("document {} ({id}): {}", self.read, skip.why));
        }
    }
}

impl Report {
    /// The report as a person reads it.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let verb = if self.dry_run {
            "would import"
        } else {
            "imported"
        };
        for (name, c) in self
            .order
            .iter()
            .filter_map(|n| self.collections.get(n).map(|c| (n, c)))
        {
            let rate = if c.seconds > 0.5 {
                format!("  ({:.0}/s)", c.read as f64 / c.seconds)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "{name:<18} read {:>9}  {verb} {:>9}  already present {:>7}  skipped {:>6}{rate}",
                c.read, c.imported, c.already_present, c.skipped
            );
            if let Some(stop) = &c.stopped {
                let _ = writeln!(out, "    stopped: {stop}");
            }
            for r in &c.reasons {
                let _ = writeln!(out, "    {r}");
            }
            if c.skipped > c.reasons.len() as u64 {
                let by: Vec<String> = c
                    .skipped_by_reason
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                let _ = writeln!(out, "    skipped by reason: {}", by.join(", "));
            }
        }
        if !self.not_imported.is_empty() {
            let _ = writeln!(out, "not imported:");
            for (name, n) in &self.not_imported {
                let _ = writeln!(out, "    {name} ({} documents): {}", n.documents, n.why);
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "{note}");
        }
        let _ = writeln!(out, "done in {:.1} s", self.seconds);
        out
    }
}
