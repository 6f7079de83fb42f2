//! The store's connection to its database: SQLite (the default, one file) or PostgreSQL
//! (`DATABASE_URL=postgres://...`, for several replicas), behind one shape.
//!
//! The store modules are the only code that knows SQL, and they write each query once. This
//! module gives them rusqlite's shape over both engines, so a query reads the same whichever
//! runs it:
//!
//! * **Placeholders** are SQLite's (`?1`, `?`, `:name`); for PostgreSQL they are rewritten to
//!   `$N` once per statement text ([`pg::translate`]) and the prepared statement is kept.
//! * **Values** are rusqlite's: parameters are anything that is [`rusqlite::ToSql`]
//!   (`params!`, `named_params!` as before), and [`Row::get`] reads any
//!   [`rusqlite::types::FromSql`]. A PostgreSQL column is first read as the SQLite value it would
//!   have been (integer, real, text, blob or null; a boolean as 0/1), and a parameter is encoded
//!   as the type PostgreSQL inferred for its place, so `i64`, `bool`, `String`, `Option<T>` and
//!   blobs mean the same in both.
//! * **Where the engines' SQL must differ** (JSON functions, upserts of a special kind), the
//!   store asks [`Connection::backend`] and keeps both texts side by side.
//!
//! Errors are [`DbError`]s; a query for one row that finds none is [`DbError::NotFound`]
//! ([`OptionalExtension::optional`] turns that into `None`).

mod params;
pub mod pg;
mod pg_tls;
mod row;

use std::cell::RefCell;

pub use params::{Params, ParamsFromIter, params_from_iter};
pub use row::{ColumnIndex, MappedRows, Row, Rows};

use super::DbError;

/// What every store call answers.
pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// Which engine a [`Connection`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One connection to the store's database.
pub struct Connection {
    inner: Inner,
}

enum Inner {
    Sqlite(rusqlite::Connection),
    /// A `RefCell` because PostgreSQL's client needs `&mut` for every query while the stores
    /// share `&Connection`; a connection is only ever used by one thread at a time.
    Postgres(Box<RefCell<pg::Client>>),
}

impl From<rusqlite::Connection> for Connection {
    fn from(conn: rusqlite::Connection) -> Self {
        Self::sqlite(conn)
    }
}

impl Connection {
    pub fn sqlite(conn: rusqlite::Connection) -> Self {
        Self {
            inner: Inner::Sqlite(conn),
        }
    }

    /// Opens (creating if needed) the SQLite file at `path`, with no settings applied.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Ok(Self::sqlite(rusqlite::Connection::open(path)?))
    }

    /// A SQLite database in memory, gone when the connection closes.
    pub fn open_in_memory() -> Result<Self> {
        Ok(Self::sqlite(rusqlite::Connection::open_in_memory()?))
    }

    pub fn postgres(client: pg::Client) -> Self {
        Self {
            inner: Inner::Postgres(Box::new(RefCell::new(client))),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Whether the connection can no longer be used (a PostgreSQL session that ended).
    pub fn is_broken(&self) -> bool {
        match &self.inner {
            Inner::Sqlite(_) => false,
            Inner::Postgres(c) => c.borrow().is_closed(),
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas, backups, the migration from
    /// LibreChat); `None` on PostgreSQL.
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    pub fn as_sqlite_mut(&mut self) -> Option<&mut rusqlite::Connection> {
        match &mut self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    /// The SQLite connection, dropping the facade (`None` on PostgreSQL).
    pub fn into_sqlite(self) -> Option<rusqlite::Connection> {
        match self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    /// Runs one statement; answers how many rows it changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare(sql)?.execute(params)
    }

    /// Runs statements separated by `;`, without parameters.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Postgres(c) => c.borrow_mut().batch_execute(sql),
        }
    }

    /// The first row of a query, mapped by `f`; [`DbError::NotFound`] when there is none.
    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare(sql)?.query_row(params, f)
    }

    /// A statement compiled for this call only.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(Statement::Sqlite(SqliteStatement::Once(c.prepare(sql)?))),
            Inner::Postgres(c) => Ok(Statement::Postgres {
                client: c,
                sql: sql.to_owned(),
            }),
        }
    }

    /// A statement kept compiled for the next call with the same text.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(Statement::Sqlite(SqliteStatement::Cached(
                c.prepare_cached(sql)?,
            ))),
            // Every PostgreSQL statement is kept (see `pg::Client`).
            Inner::Postgres(_) => self.prepare(sql),
        }
    }

    /// Begins a transaction: everything done through it is kept by [`Transaction::commit`] and
    /// undone if it is dropped first.
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        self.execute_batch("BEGIN")?;
        Ok(Transaction {
            conn: self,
            open: true,
        })
    }
}

/// A transaction in progress; reads and writes go through it as through its [`Connection`].
pub struct Transaction<'c> {
    conn: &'c Connection,
    open: bool,
}

impl Transaction<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.open = false;
        self.conn.execute_batch("COMMIT")
    }

    pub fn rollback(mut self) -> Result<()> {
        self.open = false;
        self.conn.execute_batch("ROLLBACK")
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// A statement ready to run with parameters.
pub enum Statement<'c> {
    Sqlite(SqliteStatement<'c>),
    Postgres {
        client: &'c RefCell<pg::Client>,
        sql: String,
    },
}

pub enum SqliteStatement<'c> {
    Once(rusqlite::Statement<'c>),
    Cached(rusqlite::CachedStatement<'c>),
}

impl<'c> SqliteStatement<'c> {
    fn get(&mut self) -> &mut rusqlite::Statement<'c> {
        match self {
            Self::Once(s) => s,
            Self::Cached(s) => s,
        }
    }
}

impl Statement<'_> {
    /// Runs the statement; answers how many rows it changed.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        match self {
            Self::Sqlite(s) => Ok(params.execute_sqlite(s.get())?),
            Self::Postgres { client, sql } => client.borrow_mut().execute(sql, &params),
        }
    }

    /// The rows the statement answers, one at a time.
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        match self {
            Self::Sqlite(s) => Ok(Rows::sqlite(params.query_sqlite(s.get())?)),
            Self::Postgres { client, sql } => {
                Ok(Rows::postgres(client.borrow_mut().query(sql, &params)?))
            }
        }
    }

    /// Every row, each mapped by `f`.
    pub fn query_map<T, P, F>(&mut self, params: P, f: F) -> Result<MappedRows<'_, F>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        Ok(MappedRows::new(self.query(params)?, f))
    }

    /// The first row, mapped by `f`; [`DbError::NotFound`] when there is none.
    pub fn query_row<T, P, F>(&mut self, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(row) => f(&row),
            None => Err(DbError::NotFound),
        }
    }

    /// Whether the query answers at least one row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        Ok(self.query(params)?.next()?.is_some())
    }
}

/// `.optional()` on a one-row answer: [`DbError::NotFound`] becomes `Ok(None)`.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
