//! Running `librechat migrate-from-librechat` on a dump as a person would, and reading the
//! `--report` it writes.
//!
//! A test's home folder holds what the command is given: `librechat.yaml` (`CONFIG_PATH`),
//! LibreChat's `librechat.env` with its `CREDS_KEY` when the test writes one, and `data/`,
//! the data folder the dump goes into.

use std::path::Path;

use bson::Document;
use serde_json::Value;

use crate::support::{librechat, run, text};

/// Writes `docs` to `path` as `mongodump` writes a collection; the bytes written.
pub fn write_bson(path: &Path, docs: &[Document]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for d in docs {
        d.to_writer(&mut bytes).unwrap();
    }
    std::fs::write(path, &bytes).unwrap();
    bytes
}

/// Runs the migration of `dump` into `home/data` with `extra` arguments (and LibreChat's keys
/// when `home/librechat.env` is there), which must succeed; the parsed report.
pub fn migrate(home: &Path, dump: &Path, extra: &[&str]) -> Value {
    migrate_printing(home, dump, extra).1
}

/// [`migrate`], with what the command printed.
pub fn migrate_printing(home: &Path, dump: &Path, extra: &[&str]) -> (String, Value) {
    let report = home.join("report.json");
    let _ = std::fs::remove_file(&report);
    let env = home.join("librechat.env");
    let mut cmd = librechat(home);
    cmd.arg("migrate-from-librechat")
        .arg(dump)
        .arg("--report")
        .arg(&report)
        .args(extra)
        .env("LIBRECHAT_DATA_DIR", home.join("data"))
        .env("CONFIG_PATH", home.join("librechat.yaml"));
    if env.exists() {
        cmd.arg("--librechat-env").arg(env);
    }
    let out = run(&mut cmd);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let json = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    (stdout, json)
}

/// One count of a collection in the report (`imported`, `alreadyPresent`, ...).
pub fn count(report: &Value, collection: &str, key: &str) -> u64 {
    let c = &report["collections"][collection];
    c[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{collection}.{key}: {c}"))
}

/// Documents of a collection imported.
pub fn imported(report: &Value, collection: &str) -> u64 {
    count(report, collection, "imported")
}

/// A collection's documents read, imported, already present and skipped.
pub fn counts(report: &Value, collection: &str) -> (u64, u64, u64, u64) {
    let n = |key| count(report, collection, key);
    (n("read"), n("imported"), n("alreadyPresent"), n("skipped"))
}

/// A collection's documents imported, already present and skipped.
pub fn outcomes(report: &Value, collection: &str) -> (u64, u64, u64) {
    let n = |key| count(report, collection, key);
    (n("imported"), n("alreadyPresent"), n("skipped"))
}

/// Documents of a collection skipped for `reason` (a code such as `no_creds_key`).
pub fn skipped(report: &Value, collection: &str, reason: &str) -> u64 {
    report["collections"][collection]["skippedByReason"][reason]
        .as_u64()
        .unwrap_or(0)
}

/// The reasons given for a collection's skipped documents, as JSON text.
pub fn reasons(report: &Value, collection: &str) -> String {
    report["collections"][collection]["reasons"].to_string()
}
