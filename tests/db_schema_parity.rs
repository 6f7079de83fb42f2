//! The PostgreSQL schema (`migrations/postgres/*.sql`) is the SQLite one (`migrations/*.sql`):
//! a fresh SQLite database given every SQLite migration and a fresh PostgreSQL database given every
//! PostgreSQL migration are read back from their catalogs and compared table by table, with no
//! table named here: the tables; each one's columns in order (name, integer/real/text/blob,
//! NOT NULL, default, auto-numbering); its primary key; its foreign keys with their actions;
//! its UNIQUE constraints; its named indexes (columns, order, uniqueness, partial or not); its
//! triggers (timing, event, columns); and the rows the migrations put in. A migration added to
//! one engine without its twin in the other fails here.
//!
//! PostgreSQL's side of the conventions (migrations/postgres/0026_baseline.sql): INTEGER is
//! BIGINT, REAL DOUBLE PRECISION, BLOB BYTEA; TEXT is COLLATE "C" (SQLite's BINARY order); a
//! rowid alias is an identity column; SQLite's `name COLLATE NOCASE` in an index is `lower(name)`;
//! a table whose queries read SQLite's hidden rowid may have a `rowid` identity column; the
//! version is in `librechat_schema`, which SQLite keeps as `PRAGMA user_version`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use support::postgres::{compare_rows, migrated_database, migrated_sqlite, psql};

const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
/// The first PostgreSQL migration: the whole schema of SQLite's migrations up to it.
const BASELINE: u32 = 26;

/// What one table is, as comparable lines ("column 3 email: text not null default ''", ...).
type Facts = BTreeSet<String>;
type Schema = BTreeMap<String, Facts>;

/// The `NNNN` of each `NNNN_*.sql` in `dir`, with its path.
fn numbered(dir: &Path) -> BTreeMap<u32, Vec<PathBuf>> {
    let mut found: BTreeMap<u32, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "sql") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let n = name
            .split('_')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{} is not named NNNN_what.sql", path.display()));
        found.entry(n).or_default().push(path);
    }
    found
}

#[test]
fn every_newer_sqlite_migration_has_a_postgres_twin() {
    let sqlite = numbered(Path::new(MIGRATIONS));
    let postgres = numbered(&Path::new(MIGRATIONS).join("postgres"));
    let wanted: BTreeSet<u32> = sqlite.keys().copied().filter(|&n| n >= BASELINE).collect();
    let have: BTreeSet<u32> = postgres.keys().copied().collect();
    let missing: Vec<_> = wanted.difference(&have).collect();
    let extra: Vec<_> = have.difference(&wanted).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "migrations/postgres/ must hold {BASELINE:04}_baseline.sql and one NNNN_*.sql for each \
         newer migrations/NNNN_*.sql: missing {missing:?}, without a SQLite twin {extra:?}"
    );
    for (n, paths) in &postgres {
        assert_eq!(
            paths.len(),
            1,
            "two PostgreSQL migrations numbered {n}: {paths:?}"
        );
    }
}

#[test]
fn postgres_schema_matches_sqlite() {
    let Some(url) = migrated_database() else {
        return;
    };
    // Its rows are only what the migrations put in.
    let conn = migrated_sqlite();
    let sqlite = numbered(Path::new(MIGRATIONS));
    let pg_version = psql(&url, "SELECT version FROM librechat_schema");
    assert_eq!(
        pg_version.lines().collect::<Vec<_>>(),
        [sqlite.len().to_string()],
        "librechat_schema must hold one row: the number of SQLite migrations"
    );

    let (lite, rowid_tables) = sqlite_schema(&conn);
    let pg = postgres_schema(&url, &rowid_tables);
    let mut problems = Vec::new();
    let names: BTreeSet<&String> = lite.keys().chain(pg.keys()).collect();
    for table in names {
        match (lite.get(table), pg.get(table)) {
            (Some(_), None) => problems.push(format!("table {table}: missing in PostgreSQL")),
            (None, Some(_)) => problems.push(format!("table {table}: only in PostgreSQL")),
            (Some(a), Some(b)) => {
                for fact in a.difference(b) {
                    problems.push(format!("table {table}: SQLite has      {fact}"));
                }
                for fact in b.difference(a) {
                    problems.push(format!("table {table}: PostgreSQL has  {fact}"));
                }
            }
            (None, None) => unreachable!(),
        }
    }
    for table in lite.keys().filter(|t| pg.contains_key(*t)) {
        problems.extend(compare_rows(&conn, &url, table));
    }
    assert!(
        problems.is_empty(),
        "the PostgreSQL schema differs from SQLite's ({} differences):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// SQLite's type affinity of a declared type (section 3.1 of its datatype page).
fn sqlite_class(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        "integer"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "text"
    } else if t.is_empty() || t.contains("BLOB") {
        "blob"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "real"
    } else if t == "ANY" {
        "any"
    } else {
        "numeric"
    }
}

fn column_fact(
    position: usize,
    name: &str,
    class: &str,
    not_null: bool,
    default: Option<&str>,
    auto: bool,
) -> String {
    let mut fact = format!("column {position} {name}: {class}");
    if not_null {
        fact.push_str(" not null");
    }
    if let Some(d) = default {
        fact.push_str(&format!(" default {d}"));
    }
    if auto {
        fact.push_str(" auto-numbered");
    }
    fact
}

fn list(columns: &[String]) -> String {
    format!("({})", columns.join(", "))
}

/// The SQLite schema, and the tables that have a rowid.
fn sqlite_schema(conn: &rusqlite::Connection) -> (Schema, BTreeSet<String>) {
    let strings = |sql: &str| -> Vec<Vec<Option<String>>> {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| {
            (0..n)
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => None,
                        rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                        rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                        rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                            Some(String::from_utf8_lossy(t).into_owned())
                        }
                    })
                })
                .collect()
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut schema = Schema::new();
    let mut rowid_tables = BTreeSet::new();
    let tables = strings(
        "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table'
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    );
    for t in &tables {
        let (table, without_rowid) = (s(&t[0]), s(&t[1]) == "1");
        if !without_rowid {
            rowid_tables.insert(table.clone());
        }
        let mut facts = Facts::new();
        // cid, name, type, notnull, dflt_value, pk
        let cols = strings(&format!("SELECT * FROM pragma_table_info('{table}')"));
        let mut pk: Vec<(i64, String)> = cols
            .iter()
            .filter(|c| s(&c[5]) != "0")
            .map(|c| (s(&c[5]).parse().unwrap(), s(&c[1])))
            .collect();
        pk.sort();
        let pk: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
        for (i, c) in cols.iter().enumerate() {
            let name = s(&c[1]);
            let rowid_alias =
                !without_rowid && pk == [name.clone()] && s(&c[2]).eq_ignore_ascii_case("INTEGER");
            let in_pk = pk.contains(&name);
            facts.insert(column_fact(
                i,
                &name,
                sqlite_class(&s(&c[2])),
                s(&c[3]) == "1" || in_pk,
                c[4].as_deref(),
                rowid_alias,
            ));
        }
        if !pk.is_empty() {
            facts.insert(format!("primary key {}", list(&pk)));
        }
        // id, seq, table, from, to, on_update, on_delete, match
        let fks = strings(&format!(
            "SELECT * FROM pragma_foreign_key_list('{table}') ORDER BY id, seq"
        ));
        let mut by_id: BTreeMap<String, Vec<&Vec<Option<String>>>> = BTreeMap::new();
        for fk in &fks {
            by_id.entry(s(&fk[0])).or_default().push(fk);
        }
        for parts in by_id.values() {
            let target = s(&parts[0][2]);
            let from: Vec<String> = parts.iter().map(|p| s(&p[3])).collect();
            let mut to: Vec<String> = parts.iter().filter_map(|p| p[4].clone()).collect();
            if to.is_empty() {
                // REFERENCES t without columns: t's primary key.
                to = strings(&format!(
                    "SELECT name FROM pragma_table_info('{target}') WHERE pk > 0 ORDER BY pk"
                ))
                .iter()
                .map(|r| s(&r[0]))
                .collect();
            }
            facts.insert(format!(
                "foreign key {} references {target} {} on update {} on delete {}",
                list(&from),
                list(&to),
                s(&parts[0][5]),
                s(&parts[0][6])
            ));
        }
        // seq, name, unique, origin, partial
        for ix in strings(&format!("SELECT * FROM pragma_index_list('{table}')")) {
            let (name, origin) = (s(&ix[1]), s(&ix[3]));
            // seqno, cid, name, desc, coll, key
            let keys: Vec<String> = strings(&format!(
                "SELECT * FROM pragma_index_xinfo('{name}') WHERE key = 1 ORDER BY seqno"
            ))
            .iter()
            .map(|k| {
                let mut key = match s(&k[1]).as_str() {
                    "-2" => "(expression)".to_owned(),
                    _ => s(&k[2]),
                };
                if s(&k[4]).eq_ignore_ascii_case("NOCASE") {
                    key.push_str(" nocase");
                }
                if s(&k[3]) == "1" {
                    key.push_str(" desc");
                }
                key
            })
            .collect();
            match origin.as_str() {
                "pk" => {} // the primary key, above
                "u" => {
                    facts.insert(format!("unique {}", list(&keys)));
                }
                _ => {
                    facts.insert(index_fact(&name, &keys, s(&ix[2]) == "1", s(&ix[4]) == "1"));
                }
            }
        }
        schema.insert(table, facts);
    }
    for t in strings("SELECT name, tbl_name, sql FROM sqlite_schema WHERE type = 'trigger'") {
        let fact = sqlite_trigger(&s(&t[0]), &s(&t[2]));
        schema.entry(s(&t[1])).or_default().insert(fact);
    }
    (schema, rowid_tables)
}

fn index_fact(name: &str, keys: &[String], unique: bool, partial: bool) -> String {
    format!(
        "index {name} {}{}{}",
        list(keys),
        if unique { " unique" } else { "" },
        if partial { " partial" } else { "" }
    )
}

fn trigger_fact(name: &str, timing: &str, event: &str, columns: &[String]) -> String {
    let mut fact = format!("trigger {name} {timing} {event}");
    if !columns.is_empty() {
        fact.push_str(&format!(" of {}", list(columns)));
    }
    fact
}

/// `trigger NAME AFTER UPDATE of (a, b)` from a CREATE TRIGGER statement (always FOR EACH ROW).
fn sqlite_trigger(name: &str, sql: &str) -> String {
    let spaced = sql.replace(',', " , ").replace('(', " ( ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let at = upper
        .iter()
        .position(|w| ["BEFORE", "AFTER", "INSTEAD"].contains(&w.as_str()))
        .unwrap_or_else(|| panic!("trigger {name}: no timing in {sql}"));
    let (timing, event_at) = match upper[at].as_str() {
        "INSTEAD" => ("INSTEAD OF", at + 2),
        t => (t, at + 1),
    };
    let event = upper[event_at].clone();
    let mut columns = Vec::new();
    if upper.get(event_at + 1).is_some_and(|w| w == "OF") {
        for (w, u) in words.iter().zip(&upper).skip(event_at + 2) {
            if u == "ON" {
                break;
            }
            if *w != "," {
                columns.push(w.to_string());
            }
        }
    }
    trigger_fact(name, timing, &event, &columns)
}

/// psql's rows of `sql`, split into fields (`\N` for NULL).
fn rows(url: &str, sql: &str) -> Vec<Vec<String>> {
    psql(url, sql)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// PostgreSQL's data type as the class SQLite's affinity names; text not in "C" says so.
fn postgres_class(data_type: &str, collation: &str) -> String {
    match data_type {
        "bigint" | "integer" | "smallint" => "integer".into(),
        "double precision" | "real" => "real".into(),
        "numeric" => "numeric".into(),
        "bytea" => "blob".into(),
        "text" | "character varying" | "character" if collation == "C" => "text".into(),
        "text" | "character varying" | "character" => format!("text collate {collation}"),
        other => other.into(),
    }
}

/// A column default as SQLite shows it: `'x'::text` is `'x'`, `'-1'::integer` is `-1`.
fn postgres_default(default: &str) -> String {
    let mut d = default.trim();
    while let Some(cast) = d.rfind("::") {
        if d[cast + 2..]
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == ' ')
        {
            d = d[..cast].trim_end();
        } else {
            break;
        }
    }
    let unquoted = d.strip_prefix('\'').and_then(|x| x.strip_suffix('\''));
    match unquoted {
        Some(n) if n.parse::<f64>().is_ok() => n.to_owned(),
        _ => d.to_owned(),
    }
}

fn postgres_schema(url: &str, rowid_tables: &BTreeSet<String>) -> Schema {
    let mut schema = Schema::new();
    let mut rowid = BTreeSet::new();
    // A `rowid` identity column stands for SQLite's hidden one, on a table that has it.
    let hidden_rowid = |table: &str, column: &str, identity: bool| {
        column == "rowid" && identity && rowid_tables.contains(table)
    };
    let columns = rows(
        url,
        "SELECT c.table_name, c.column_name, c.data_type, coalesce(c.collation_name, 'default'),
                c.is_nullable, coalesce(c.column_default, '\\N'), c.is_identity
         FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
           AND c.table_name <> 'librechat_schema'
         ORDER BY c.table_name, c.ordinal_position",
    );
    let mut position: BTreeMap<String, usize> = BTreeMap::new();
    for c in &columns {
        let (table, name, identity) = (&c[0], &c[1], c[6] == "YES");
        let facts = schema.entry(table.clone()).or_default();
        if hidden_rowid(table, name, identity) {
            rowid.insert(table.clone());
            continue;
        }
        let i = position.entry(table.clone()).or_default();
        let default = (c[5] != "\\N").then(|| postgres_default(&c[5]));
        facts.insert(column_fact(
            *i,
            name,
            &postgres_class(&c[2], &c[3]),
            c[4] == "NO",
            default.as_deref(),
            identity,
        ));
        *i += 1;
    }
    let only_rowid = |table: &str, cols: &[String]| rowid.contains(table) && cols == ["rowid"];
    // Constraints: kind, table, columns, target, target columns, on update, on delete.
    let constraints = rows(
        url,
        "SELECT c.contype, t.relname,
            (SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(c.conkey)
                WITH ORDINALITY k(n, i) JOIN pg_attribute a
                ON a.attrelid = c.conrelid AND a.attnum = k.n),
            coalesce(f.relname, ''),
            coalesce((SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(c.confkey)
                WITH ORDINALITY k(n, i) JOIN pg_attribute a
                ON a.attrelid = c.confrelid AND a.attnum = k.n), ''),
            c.confupdtype, c.confdeltype
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         LEFT JOIN pg_class f ON f.oid = c.confrelid
         WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f')
           AND t.relname <> 'librechat_schema'",
    );
    let action = |code: &str| match code {
        "a" => "NO ACTION",
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "?",
    };
    for c in &constraints {
        let cols: Vec<String> = c[2].split(',').map(str::to_owned).collect();
        let facts = schema.entry(c[1].clone()).or_default();
        match c[0].as_str() {
            "p" => facts.insert(format!("primary key {}", list(&cols))),
            "u" if only_rowid(&c[1], &cols) => false,
            "u" => facts.insert(format!("unique {}", list(&cols))),
            _ => {
                let to: Vec<String> = c[4].split(',').map(str::to_owned).collect();
                facts.insert(format!(
                    "foreign key {} references {} {} on update {} on delete {}",
                    list(&cols),
                    c[3],
                    list(&to),
                    action(&c[5]),
                    action(&c[6])
                ))
            }
        };
    }
    // Indexes of their own (not a constraint's): table, name, unique, partial, keys.
    let indexes = rows(
        url,
        "SELECT t.relname, i.relname, x.indisunique, x.indpred IS NOT NULL,
            (SELECT string_agg(pg_get_indexdef(x.indexrelid, k, true)
                || CASE WHEN x.indoption[k - 1] & 1 = 1 THEN ' DESC' ELSE '' END,
                chr(31) ORDER BY k) FROM generate_series(1, x.indnkeyatts) k)
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = 'public'
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
    );
    for ix in &indexes {
        let keys: Vec<String> = ix[4].split('\u{1f}').map(postgres_index_key).collect();
        if only_rowid(&ix[0], &keys) {
            continue;
        }
        let fact = index_fact(&ix[1], &keys, ix[2] == "t", ix[3] == "t");
        schema.entry(ix[0].clone()).or_default().insert(fact);
    }
    // Triggers: table, name, type bits (1 row, 2 before, 4 insert, 8 delete, 16 update,
    // 64 instead), the columns of UPDATE OF.
    let triggers = rows(
        url,
        "SELECT t.relname, g.tgname, g.tgtype,
            coalesce((SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(g.tgattr)
                WITH ORDINALITY k(n, i) JOIN pg_attribute a
                ON a.attrelid = g.tgrelid AND a.attnum = k.n), '')
         FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = 'public' AND NOT g.tgisinternal",
    );
    for g in &triggers {
        let bits: u32 = g[2].parse().unwrap();
        let timing = match (bits & 2 != 0, bits & 64 != 0) {
            (_, true) => "INSTEAD OF",
            (true, _) => "BEFORE",
            _ => "AFTER",
        };
        let events: Vec<&str> = [(4, "INSERT"), (8, "DELETE"), (16, "UPDATE")]
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|(_, e)| *e)
            .collect();
        let mut event = events.join(" OR ");
        if bits & 1 == 0 {
            event.push_str(" FOR EACH STATEMENT");
        }
        let cols: Vec<String> = g[3]
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        let fact = trigger_fact(&g[1], timing, &event, &cols);
        schema.entry(g[0].clone()).or_default().insert(fact);
    }
    schema
}

/// One key of `pg_get_indexdef`, as SQLite's side writes it: `name`, `name desc`, `name nocase`
/// (for `lower(name)`), `(expression)`.
fn postgres_index_key(def: &str) -> String {
    let (def, desc) = match def.strip_suffix(" DESC") {
        Some(d) => (d, " desc"),
        None => (def, ""),
    };
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let key = match def.strip_prefix("lower(").and_then(|d| d.strip_suffix(')')) {
        Some(col) if ident(col) => format!("{col} nocase"),
        _ if ident(def) => def.to_owned(),
        _ => "(expression)".to_owned(),
    };
    format!("{key}{desc}")
}
