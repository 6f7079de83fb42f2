//! PostgreSQL behind the store's shape: placeholders rewritten, statements kept prepared,
//! values carried as SQLite's five kinds (null, integer, real, text, blob).

use std::collections::HashMap;
use std::error::Error as StdError;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};
use rusqlite::types::{Value, ValueRef};

use super::Result;
use super::params::{Params, Values};
use crate::db::DbError;

type BoxError = Box<dyn StdError + Sync + Send>;

/// How many distinct statement texts a connection keeps prepared; past it they are all
/// dropped and prepared again as they come (texts built at run time, such as `IN (...)` lists
/// of every length, must not grow the cache without bound).
const KEPT_STATEMENTS: usize = 512;

/// A PostgreSQL session and the statements prepared on it.
pub struct Client {
    /// Always `Some` until dropped.
    client: Option<postgres::Client>,
    statements: HashMap<String, Prepared>,
    /// Whether a transaction is open (`BEGIN` ran through [`Self::batch_execute`] and no
    /// `COMMIT` or `ROLLBACK` yet).
    in_transaction: bool,
}

struct Prepared {
    statement: postgres::Statement,
    /// For `:name` parameters: the name bound to `$1`, `$2`, ...; empty for numbered ones.
    names: Vec<String>,
}

/// A failed connection, with its causes (the driver says "error performing TLS handshake"; the
/// cause says which certificate was refused and why).
fn why_not_connected(e: postgres::Error) -> DbError {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    DbError::Io(text)
}

impl Client {
    /// Connects to `url` (`postgres://user:password@host:port/database`, with
    /// `?sslmode=require&sslrootcert=ca.pem` for TLS: see [`super::pg_tls`]).
    pub fn connect(url: &str) -> Result<Self> {
        let (url, tls) = super::pg_tls::split(url).map_err(DbError::Io)?;
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| DbError::Postgres(e))?;
        config.connect_timeout(Duration::from_secs(5));
        if config.get_application_name().is_none() {
            config.application_name("librechat");
        }
        let client = match tls {
            super::pg_tls::Tls::Off => config.connect(postgres::NoTls),
            super::pg_tls::Tls::Verified { ca_file } => {
                let tls = super::pg_tls::client_config(ca_file.as_deref()).map_err(DbError::Io)?;
                config.connect(super::pg_tls::MakeRustls(tls))
            }
        }
        .map_err(why_not_connected)?;
        Ok(Self {
            client: Some(client),
            statements: HashMap::new(),
            in_transaction: false,
        })
    }

    fn session(&mut self) -> &mut postgres::Client {
        self.client
            .as_mut()
            .expect("a client is open until dropped")
    }

    fn prepared(&mut self, sql: &str) -> Result<&Prepared> {
        if !self.statements.contains_key(sql) {
            if self.statements.len() >= KEPT_STATEMENTS {
                self.statements.clear();
            }
            let (text, names) = translate(sql);
            let statement = self.prepare_untyped(&text)?;
            self.statements
                .insert(sql.to_owned(), Prepared { statement, names });
        }
        Ok(&self.statements[sql])
    }

    /// Prepares `text`, letting PostgreSQL infer each parameter's type from its places.
    ///
    /// SQLite takes a parameter as any value; PostgreSQL gives each one type, from the places
    /// that tell it (`a.is_promoted = $5`), and refuses a statement with a place that tells
    /// nothing (`$5 IS NULL`, a select list): when no place tells (42P18), and when others
    /// do (42P08, `$5 IS NULL OR a.is_promoted = $5`). Such a parameter is declared with the
    /// type its telling places give ([`Self::type_elsewhere`]), else text, as SQLite would
    /// compare it. Inside a transaction the attempts run under a savepoint, since a refused
    /// statement would otherwise end the transaction.
    fn prepare_untyped(&mut self, text: &str) -> Result<postgres::Statement> {
        if !self.in_transaction {
            return self.declare_and_prepare(text);
        }
        self.session()
            .batch_execute("SAVEPOINT librechat_prepare")?;
        let prepared = self.declare_and_prepare(text);
        let end = match prepared {
            Ok(_) => "RELEASE SAVEPOINT librechat_prepare",
            Err(_) => {
                "ROLLBACK TO SAVEPOINT librechat_prepare; RELEASE SAVEPOINT librechat_prepare"
            }
        };
        self.session().batch_execute(end)?;
        prepared
    }

    fn declare_and_prepare(&mut self, text: &str) -> Result<postgres::Statement> {
        let mut types: Vec<Type> = Vec::new();
        loop {
            let e = match self.session().prepare_typed(text, &types) {
                Ok(statement) => return Ok(statement),
                Err(e) => e,
            };
            let Some(silent) = silent_parameter(&e, text) else {
                return Err(e.into());
            };
            let n = silent.n;
            if n > MAX_PARAMETERS || types.get(n - 1).is_some_and(|t| t.oid() != 0) {
                return Err(e.into());
            }
            let ty = match silent.at {
                Some(at) => self.type_elsewhere(text, n, at, &types),
                None => None,
            };
            types.resize(types.len().max(n), unspecified());
            types[n - 1] = ty.unwrap_or(Type::TEXT);
        }
    }

    /// The type PostgreSQL gives `$n` from its telling places: `text` prepared again with the
    /// silent place at byte `at`, and any other silent place found, blanked to `NULL`. `None`
    /// when no place tells.
    fn type_elsewhere(&mut self, text: &str, n: usize, at: usize, types: &[Type]) -> Option<Type> {
        let mut probe = blank(text, at)?;
        let mut types = types.to_vec();
        for _ in 0..MAX_PARAMETERS {
            let e = match self.session().prepare_typed(&probe, &types) {
                Ok(statement) => {
                    return statement
                        .params()
                        .get(n - 1)
                        .filter(|t| t.oid() != 0 && **t != Type::UNKNOWN)
                        .cloned();
                }
                Err(e) => e,
            };
            let silent = silent_parameter(&e, &probe)?;
            match silent.at {
                Some(at) => probe = blank(&probe, at)?,
                None if silent.n != n && silent.n <= MAX_PARAMETERS => {
                    types.resize(types.len().max(silent.n), unspecified());
                    types[silent.n - 1] = Type::TEXT;
                }
                None => return None,
            }
        }
        None
    }

    pub fn execute<P: Params>(&mut self, sql: &str, params: &P) -> Result<usize> {
        let values = bind(self.prepared(sql)?, params)?;
        let statement = self.statements[sql].statement.clone();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        Ok(self.session().execute(&statement, &refs)? as usize)
    }

    pub fn query<P: Params>(&mut self, sql: &str, params: &P) -> Result<Vec<postgres::Row>> {
        let values = bind(self.prepared(sql)?, params)?;
        let statement = self.statements[sql].statement.clone();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        Ok(self.session().query(&statement, &refs)?)
    }

    /// Statements separated by `;`, without parameters.
    pub fn batch_execute(&mut self, sql: &str) -> Result<()> {
        let done = self.session().batch_execute(sql);
        let words: Vec<String> = sql
            .split_whitespace()
            .take(2)
            .map(|w| w.trim_end_matches(';').to_ascii_uppercase())
            .collect();
        match words.first().map(String::as_str) {
            Some("BEGIN" | "START") if done.is_ok() => self.in_transaction = true,
            Some("COMMIT" | "END") => self.in_transaction = false,
            Some("ROLLBACK") if words.get(1).map(String::as_str) != Some("TO") => {
                self.in_transaction = false
            }
            _ => {}
        }
        Ok(done?)
    }

    /// Whether the session has ended (the server went away).
    pub fn is_closed(&self) -> bool {
        self.client.as_ref().is_none_or(postgres::Client::is_closed)
    }
}

impl Drop for Client {
    /// The client owns a small runtime, which must not be dropped on an async thread: when
    /// that is where the last handle goes, the session is closed on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            std::thread::spawn(move || drop(client));
        }
    }
}

/// `url` without its password (in its user part or as a `password` parameter), for logs and
/// messages; a string that is not a URL is not shown at all (its password could be anywhere
/// in it).
pub fn redacted(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return "(a connection string that is not a URL)".into();
    };
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let base = match base.rfind('@') {
        Some(at) if at > scheme_end => {
            let userinfo = &base[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}{}", &base[..scheme_end + 3], &base[at..])
        }
        _ => base.to_owned(),
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let key = p.split('=').next().unwrap_or_default();
            !key.eq_ignore_ascii_case("password")
        })
        .collect();
    if kept.is_empty() {
        base
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// The most parameters a statement may have its types guessed for.
const MAX_PARAMETERS: usize = 256;

/// A parameter type left for PostgreSQL to infer.
fn unspecified() -> Type {
    Type::new("unspecified".into(), 0, Kind::Pseudo, "pg_catalog".into())
}

/// A parameter PostgreSQL could not tell the type of: `$n`, and the byte in the statement
/// where the place that tells nothing is, when PostgreSQL says (42P08).
struct Silent {
    n: usize,
    at: Option<usize>,
}

fn silent_parameter(e: &postgres::Error, text: &str) -> Option<Silent> {
    let db = e.as_db_error()?;
    use postgres::error::SqlState;
    if ![
        SqlState::INDETERMINATE_DATATYPE,
        SqlState::AMBIGUOUS_PARAMETER,
    ]
    .contains(db.code())
    {
        return None;
    }
    let message = db.message();
    let digits: String = message[message.rfind('$')? + 1..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let n = digits.parse().ok().filter(|n| *n > 0)?;
    // PostgreSQL counts characters from 1.
    let at = match db.position() {
        Some(postgres::error::ErrorPosition::Original(p)) => text
            .char_indices()
            .nth((*p as usize).checked_sub(1)?)
            .map(|(i, _)| i)
            .filter(|i| {
                let rest = &text[*i..];
                let tag = format!("${n}");
                rest.starts_with(&tag)
                    && !rest[tag.len()..].starts_with(|c: char| c.is_ascii_digit())
            }),
        _ => None,
    };
    Some(Silent { n, at })
}

/// `text` with the parameter at byte `at` (`$N`) replaced by `NULL`.
fn blank(text: &str, at: usize) -> Option<String> {
    let rest = text.get(at..)?.strip_prefix('$')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    Some(format!("{}NULL{}", &text[..at], &rest[digits..]))
}

/// The values for `prepared`, in its `$N` order.
fn bind<P: Params>(prepared: &Prepared, params: &P) -> Result<Vec<Bind>> {
    match params.values()? {
        Values::Positional(values) => Ok(values.into_iter().map(Bind).collect()),
        Values::Named(values) => prepared
            .names
            .iter()
            .map(|name| {
                values
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| Bind(v.clone()))
                    .ok_or_else(|| DbError::Column(format!("no value for the parameter {name}")))
            })
            .collect(),
    }
}

/// SQLite's placeholders in PostgreSQL's form: `?N` becomes `$N`, a bare `?` the next number,
/// and each distinct `:name` a number of its own (answered in order of first use); `LIKE`
/// becomes `ILIKE`, which matches as SQLite's does. Quoted text, quoted names, comments and
/// `::` casts are left alone.
pub fn translate(sql: &str) -> (String, Vec<String>) {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut names: Vec<String> = Vec::new();
    let mut highest = 0usize;
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
            }
            b':' if bytes.get(i + 1) == Some(&b':') => i += 2,
            b':' if bytes
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                let start = i;
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let name = &sql[start..i];
                let n = match names.iter().position(|n| n == name) {
                    Some(p) => p + 1,
                    None => {
                        names.push(name.to_owned());
                        names.len()
                    }
                };
                out.push_str(&sql[copied..start]);
                out.push_str(&format!("${n}"));
                copied = i;
            }
            b'?' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let n = match sql[start + 1..i].parse::<usize>() {
                    Ok(n) => n,
                    Err(_) => highest + 1,
                };
                highest = highest.max(n);
                out.push_str(&sql[copied..start]);
                out.push_str(&format!("${n}"));
                copied = i;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE is that.
                if sql[start..i].eq_ignore_ascii_case("like") {
                    out.push_str(&sql[copied..start]);
                    out.push_str("ILIKE");
                    copied = i;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied.min(sql.len())..]);
    (out, names)
}

/// Column `idx` of `row` as the SQLite value it would have been.
pub(super) fn cell<'r>(row: &'r postgres::Row, idx: usize) -> Result<ValueRef<'r>> {
    Ok(row.try_get::<usize, Cell<'r>>(idx)?.0)
}

struct Cell<'a>(ValueRef<'a>);

impl<'a> FromSql<'a> for Cell<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let int = |n: usize| -> Result<i64, BoxError> {
            let b: &[u8] = raw.get(..n).ok_or("short integer")?;
            Ok(match n {
                2 => i16::from_be_bytes(b.try_into()?) as i64,
                4 => i32::from_be_bytes(b.try_into()?) as i64,
                _ => i64::from_be_bytes(b.try_into()?),
            })
        };
        Ok(Cell(match *ty {
            Type::BOOL => ValueRef::Integer(i64::from(raw.first().is_some_and(|b| *b != 0))),
            Type::INT2 => ValueRef::Integer(int(2)?),
            Type::INT4 => ValueRef::Integer(int(4)?),
            Type::OID => ValueRef::Integer(int(4)? & 0xffff_ffff),
            Type::INT8 => ValueRef::Integer(int(8)?),
            Type::FLOAT4 => ValueRef::Real(f32::from_be_bytes(raw.try_into()?) as f64),
            Type::FLOAT8 => ValueRef::Real(f64::from_be_bytes(raw.try_into()?)),
            Type::NUMERIC => numeric(raw)?,
            Type::BYTEA => ValueRef::Blob(raw),
            Type::JSONB => ValueRef::Text(raw.get(1..).unwrap_or_default()),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::JSON | Type::UNKNOWN => {
                ValueRef::Text(raw)
            }
            _ => return Err(format!("a column of type {ty} has no SQLite form").into()),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(ValueRef::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A NUMERIC (what `sum()` of integers answers) as an integer when it has no fraction, else
/// a real. Its binary form: digit count, weight, sign, scale, then base-10000 digits.
fn numeric(raw: &[u8]) -> Result<ValueRef<'static>, BoxError> {
    let word = |i: usize| -> Result<u16, BoxError> {
        Ok(u16::from_be_bytes(
            raw.get(i * 2..i * 2 + 2)
                .ok_or("short numeric")?
                .try_into()?,
        ))
    };
    let (ndigits, weight, sign, scale) = (word(0)?, word(1)? as i16, word(2)?, word(3)?);
    if sign == 0xC000 {
        return Ok(ValueRef::Null);
    }
    let mut value = 0f64;
    let mut int: Option<i64> = Some(0);
    for i in 0..ndigits as usize {
        let digit = word(4 + i)? as i64;
        let power = weight as i32 - i as i32;
        value += digit as f64 * 10000f64.powi(power);
        int = match (int, power >= 0) {
            (Some(acc), true) => 10000i64
                .checked_pow(power as u32)
                .and_then(|p| p.checked_mul(digit))
                .and_then(|d| acc.checked_add(d)),
            (acc, false) if digit == 0 => acc,
            _ => None,
        };
    }
    let negative = sign == 0x4000;
    Ok(match int {
        Some(n) if scale == 0 || value.fract() == 0.0 => {
            ValueRef::Integer(if negative { -n } else { n })
        }
        _ => ValueRef::Real(if negative { -value } else { value }),
    })
}

/// A parameter, encoded as the type PostgreSQL gave its place.
#[derive(Debug)]
struct Bind(Value);

impl ToSql for Bind {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let texty = matches!(
            *ty,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON
        );
        match (&self.0, ty) {
            (Value::Null, _) => return Ok(IsNull::Yes),
            (Value::Integer(n), &Type::INT8) => out.put_i64(*n),
            (Value::Integer(n), &Type::INT4) => out.put_i32(i32::try_from(*n)?),
            (Value::Integer(n), &Type::INT2) => out.put_i16(i16::try_from(*n)?),
            (Value::Integer(n), &Type::BOOL) => out.put_u8(u8::from(*n != 0)),
            (Value::Integer(n), &Type::FLOAT8) => out.put_f64(*n as f64),
            (Value::Integer(n), &Type::FLOAT4) => out.put_f32(*n as f32),
            (Value::Integer(n), _) if texty => out.put_slice(n.to_string().as_bytes()),
            (Value::Real(x), &Type::FLOAT8) => out.put_f64(*x),
            (Value::Real(x), &Type::FLOAT4) => out.put_f32(*x as f32),
            (Value::Real(x), &Type::INT8) if x.fract() == 0.0 => out.put_i64(*x as i64),
            (Value::Real(x), _) if texty => out.put_slice(x.to_string().as_bytes()),
            (Value::Text(s), &Type::JSONB) => {
                out.put_u8(1);
                out.put_slice(s.as_bytes());
            }
            (Value::Text(s), _) if texty => out.put_slice(s.as_bytes()),
            (Value::Text(s), &Type::INT8) => out.put_i64(s.trim().parse()?),
            (Value::Blob(b), &Type::BYTEA) => out.put_slice(b),
            (v, ty) => {
                return Err(format!("a {} cannot be sent as {ty}", kind(v)).into());
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Integer(_) => "integer",
        Value::Real(_) => "real",
        Value::Text(_) => "text",
        Value::Blob(_) => "blob",
    }
}

#[cfg(test)]
mod tests {
    use super::{redacted, translate};

    #[test]
    fn passwords_are_not_shown_wherever_the_url_has_them() {
        assert_eq!(
            redacted("postgres://app:s3cret@db:5432/chat?sslmode=require"),
            "postgres://app@db:5432/chat?sslmode=require"
        );
        assert_eq!(
            redacted("postgres://db/chat?user=app&password=s3cret&application_name=x"),
            "postgres://db/chat?user=app&application_name=x"
        );
        assert_eq!(
            redacted("postgres://db/chat?PASSWORD=s3cret"),
            "postgres://db/chat"
        );
        let kv = redacted("host=db password=s3cret");
        assert!(!kv.contains("s3cret"), "{kv}");
    }

    #[test]
    fn placeholders_become_numbered_and_quotes_are_left_alone() {
        assert_eq!(
            translate("SELECT ?1, ?2 WHERE a = ?1 AND b = '?3' AND c::text = ?"),
            (
                "SELECT $1, $2 WHERE a = $1 AND b = '?3' AND c::text = $3".into(),
                vec![]
            )
        );
        let (text, names) =
            translate("SELECT 1 WHERE u = :acl_user OR r = :acl_role OR u2 = :acl_user -- :x");
        assert_eq!(text, "SELECT 1 WHERE u = $1 OR r = $2 OR u2 = $1 -- :x");
        assert_eq!(names, vec![":acl_user", ":acl_role"]);
        assert_eq!(translate("SELECT ? , ?").0, "SELECT $1 , $2");
        assert_eq!(
            translate("SELECT liked FROM t WHERE a NOT like ?1 AND 'like' = b").0,
            "SELECT liked FROM t WHERE a NOT ILIKE $1 AND 'like' = b"
        );
        assert_eq!(
            translate("SELECT \"a?\" /* ? */ , ?").0,
            "SELECT \"a?\" /* ? */ , $1"
        );
    }
}
