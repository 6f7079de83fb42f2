//! Rows answered by either engine, read with rusqlite's value types.

use rusqlite::types::{FromSql, ValueRef};

use super::{Result, pg};
use crate::db::DbError;

/// Which column of a row: its position, from 0.
pub trait ColumnIndex {
    fn index(self) -> usize;
}

impl ColumnIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// One row of an answer.
pub enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

impl Row<'_> {
    /// Column `idx` as a `T`, with SQLite's meaning whichever engine answered.
    pub fn get<I: ColumnIndex, T: FromSql>(&self, idx: I) -> Result<T> {
        let idx = idx.index();
        match self {
            Self::Sqlite(r) => Ok(r.get(idx)?),
            Self::Postgres(r) => {
                let value = pg::cell(r, idx)?;
                T::column_result(value).map_err(|e| {
                    DbError::Column(format!(
                        "column {idx} ({}): {e}",
                        r.columns().get(idx).map_or("?", |c| c.name())
                    ))
                })
            }
        }
    }

    /// How many columns the row has.
    pub fn column_count(&self) -> usize {
        match self {
            Self::Sqlite(r) => r.as_ref().column_count(),
            Self::Postgres(r) => r.len(),
        }
    }

    /// Column `idx` as it is, without copying.
    pub fn get_ref(&self, idx: usize) -> Result<ValueRef<'_>> {
        match self {
            Self::Sqlite(r) => Ok(r.get_ref(idx)?),
            Self::Postgres(r) => pg::cell(r, idx),
        }
    }
}

/// The rows of an answer, one at a time.
pub enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres(std::vec::IntoIter<postgres::Row>, Option<postgres::Row>),
}

impl<'s> Rows<'s> {
    pub(super) fn sqlite(rows: rusqlite::Rows<'s>) -> Self {
        Self::Sqlite(rows)
    }

    pub(super) fn postgres(rows: Vec<postgres::Row>) -> Self {
        Self::Postgres(rows.into_iter(), None)
    }

    /// The next row, or `None` after the last.
    #[allow(clippy::should_implement_trait)] // Rows lend each row: not an `Iterator`.
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match self {
            Self::Sqlite(rows) => Ok(rows.next()?.map(Row::Sqlite)),
            Self::Postgres(rows, current) => {
                *current = rows.next();
                Ok(current.as_ref().map(Row::Postgres))
            }
        }
    }
}

/// Every row of an answer mapped by a function: an iterator of `Result<T>`.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    map: F,
}

impl<'s, F> MappedRows<'s, F> {
    pub(super) fn new(rows: Rows<'s>, map: F) -> Self {
        Self { rows, map }
    }
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> Result<T>,
{
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        match self.rows.next() {
            Ok(Some(row)) => Some((self.map)(&row)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}
