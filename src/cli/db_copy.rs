//! `librechat db copy --to postgres://...`: moves a SQLite deployment's data into PostgreSQL,
//! then proves the copy by counting and checksumming every table on both sides.
//!
//! The target must be empty (a fresh database, migrated here to the same schema version).
//! Tables are copied parents first, in one transaction, with their own ids; identity counters
//! are then moved past the highest id copied. The search outbox is copied last, after
//! clearing what the target's triggers queued while rows went in, so it holds exactly the
//! source's. The checksum of a table is independent of row order (the sum of each row's
//! SHA-256), so the two engines' orderings of text cannot make a true copy look different.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, bail};
use rusqlite::OpenFlags;
use rusqlite::types::Value;
use sha2::{Digest, Sha256};

use crate::db::sql::{Connection, params_from_iter, pg};
use crate::db::{self, SCHEMA_VERSION};

/// Filled by triggers as rows go in: copied last, as the source has it.
const OUTBOX: &str = "search_outbox";

/// Tables that hold people's data: a target with rows in any of them is not empty.
const PEOPLES_DATA: [&str; 3] = ["users", "conversations", "messages"];

/// One table's figures after the copy.
#[derive(Debug, PartialEq, Eq)]
pub struct Copied {
    pub table: String,
    pub rows: u64,
    pub checksum: String,
}

/// Copies the SQLite database at `source` into the empty PostgreSQL database at `url`.
pub fn copy(source: &Path, url: &str) -> anyhow::Result<Vec<Copied>> {
    let src = rusqlite::Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", source.display()))?;
    let version = db::schema_version(&src)?;
    if version != SCHEMA_VERSION {
        bail!(
            "{} has schema version {version}; run `librechat db migrate` with this librechat \
             (version {SCHEMA_VERSION}) first",
            source.display()
        );
    }
    let src = Connection::sqlite(src);
    let client = pg::Client::connect(url)
        .with_context(|| format!("cannot connect to {}", pg::redacted(url)))?;
    let mut dst = Connection::postgres(client);
    db::migrate_postgres(&mut dst)?;
    let tables = tables_in_order(&src)?;
    // Empty: nobody's data. Rows the migrations seed (agent categories) are replaced by the
    // source's own, which may have been edited since.
    for table in PEOPLES_DATA {
        let n: i64 = dst.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        if n > 0 {
            bail!(
                "the PostgreSQL database already has data ({table}: {n} rows); copy into a \
                 new, empty database"
            );
        }
    }
    let tx = dst.transaction()?;
    for table in tables.iter().rev() {
        tx.execute_batch(&format!("DELETE FROM {table}"))?;
    }
    for table in tables.iter().filter(|t| *t != OUTBOX) {
        copy_table(&src, &tx, table)?;
    }
    if tables.iter().any(|t| t == OUTBOX) {
        tx.execute_batch(&format!("DELETE FROM {OUTBOX}"))?;
        copy_table(&src, &tx, OUTBOX)?;
    }
    move_identities_on(&tx)?;
    tx.commit()?;
    let mut report = Vec::new();
    for table in &tables {
        let cols = columns(&src, table)?;
        let (rows, checksum) = fingerprint(&src, table, &cols)?;
        let (copied_rows, copied_checksum) = fingerprint(&dst, table, &cols)?;
        if (rows, &checksum) != (copied_rows, &copied_checksum) {
            bail!(
                "{table} differs after the copy: {rows} rows ({checksum}) in SQLite, \
                 {copied_rows} rows ({copied_checksum}) in PostgreSQL"
            );
        }
        report.push(Copied {
            table: table.clone(),
            rows,
            checksum,
        });
    }
    Ok(report)
}

/// The tables, each after the tables its foreign keys point to.
fn tables_in_order(src: &Connection) -> anyhow::Result<Vec<String>> {
    let mut stmt = src.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         ORDER BY name",
    )?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in &names {
        let mut fk = src.prepare(&format!(
            "SELECT \"table\" FROM pragma_foreign_key_list('{name}')"
        ))?;
        let of: BTreeSet<String> = fk
            .query_map([], |r| r.get(0))?
            .collect::<Result<BTreeSet<String>, _>>()?
            .into_iter()
            .filter(|p| p != name)
            .collect();
        parents.insert(name.clone(), of);
    }
    let mut ordered: Vec<String> = Vec::new();
    while ordered.len() < names.len() {
        let next = names
            .iter()
            .find(|n| !ordered.contains(n) && parents[*n].iter().all(|p| ordered.contains(p)));
        match next {
            Some(n) => ordered.push(n.clone()),
            None => bail!("the tables' foreign keys form a cycle"),
        }
    }
    Ok(ordered)
}

fn columns(src: &Connection, table: &str) -> anyhow::Result<Vec<String>> {
    let mut stmt = src.prepare(&format!(
        "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
    ))?;
    Ok(stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Rows sent in one `INSERT` at most, within PostgreSQL's 65,535 parameters a statement: a
/// round trip per 500 rows instead of per row. Copying 100,000 messages (202,010 rows in all)
/// into a local PostgreSQL, checksums included, took 12 s instead of 53 s (debug builds).
const ROWS_AT_ONCE: usize = 500;
const PARAMETERS_AT_ONCE: usize = 60_000;

fn copy_table(src: &Connection, dst: &Connection, table: &str) -> anyhow::Result<()> {
    let cols = columns(src, table)?;
    let list = cols
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let per_statement = ROWS_AT_ONCE
        .min(PARAMETERS_AT_ONCE / cols.len().max(1))
        .max(1);
    // `INSERT INTO t (cols) VALUES (?1, ?2), (?3, ?4), ...` for `n` rows.
    let insert = |n: usize| {
        let rows = (0..n)
            .map(|r| {
                let marks = (1..=cols.len())
                    .map(|i| format!("?{}", r * cols.len() + i))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("({marks})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!("INSERT INTO {table} ({list}) VALUES {rows}")
    };
    let write = |values: &mut Vec<Value>| -> anyhow::Result<()> {
        let n = values.len() / cols.len().max(1);
        if n > 0 {
            dst.prepare_cached(&insert(n))?
                .execute(params_from_iter(values.iter()))
                .with_context(|| format!("copying rows of {table}"))?;
        }
        values.clear();
        Ok(())
    };
    let mut read = src.prepare(&format!("SELECT {list} FROM {table}"))?;
    let mut rows = read.query([])?;
    let mut values = Vec::with_capacity(per_statement * cols.len());
    while let Some(row) = rows.next()? {
        for i in 0..cols.len() {
            values.push(row.get::<_, Value>(i)?);
        }
        if values.len() == per_statement * cols.len() {
            write(&mut values)?;
        }
    }
    write(&mut values)
}

/// Sets every identity column's counter past the highest value copied into it.
fn move_identities_on(dst: &Connection) -> anyhow::Result<()> {
    let mut stmt = dst.prepare(
        "SELECT table_name, column_name FROM information_schema.columns
         WHERE table_schema = current_schema() AND is_identity = 'YES'",
    )?;
    let identities: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (table, column) in identities {
        dst.execute_batch(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                           coalesce((SELECT max(\"{column}\") FROM {table}), 0) + 1, false)"
        ))?;
    }
    Ok(())
}

/// A table's row count and an order-independent checksum of the values of its columns
/// `cols`.
fn fingerprint(conn: &Connection, table: &str, cols: &[String]) -> anyhow::Result<(u64, String)> {
    let list = cols
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn.prepare(&format!("SELECT {list} FROM {table}"))?;
    let mut rows = stmt.query([])?;
    let (mut count, mut sum) = (0u64, [0u64; 4]);
    while let Some(row) = rows.next()? {
        let mut hash = Sha256::new();
        for i in 0..cols.len() {
            match row.get::<_, Value>(i)? {
                Value::Null => hash.update(b"n"),
                Value::Integer(n) => hash.update(format!("i{n};")),
                Value::Real(x) => hash.update(format!("r{};", x.to_bits())),
                Value::Text(t) => hash.update(format!("t{}:{t}", t.len())),
                Value::Blob(b) => {
                    hash.update(format!("b{}:", b.len()));
                    hash.update(&b);
                }
            }
        }
        let digest = hash.finalize();
        for (k, part) in sum.iter_mut().enumerate() {
            let word = u64::from_be_bytes(digest[k * 8..k * 8 + 8].try_into().expect("8 bytes"));
            *part = part.wrapping_add(word);
        }
        count += 1;
    }
    Ok((count, sum.iter().map(|w| format!("{w:016x}")).collect()))
}
