//! Parameters: the forms rusqlite takes (`params![..]`, `[a, b]`, `named_params! {..}`, `[]`,
//! [`params_from_iter`]), bound by rusqlite on SQLite and read as values for PostgreSQL.

use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};

/// The values of a parameter list, for PostgreSQL: in order, or by `:name`.
pub enum Values<'a> {
    Positional(Vec<Value>),
    Named(Vec<(&'a str, Value)>),
}

/// A parameter list.
pub trait Params {
    fn execute_sqlite(self, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize>;
    fn query_sqlite<'s>(
        self,
        stmt: &'s mut rusqlite::Statement<'_>,
    ) -> rusqlite::Result<rusqlite::Rows<'s>>;
    fn values(&self) -> rusqlite::Result<Values<'_>>;
}

fn value<T: ToSql + ?Sized>(p: &T) -> rusqlite::Result<Value> {
    Ok(match p.to_sql()? {
        ToSqlOutput::Borrowed(v) => match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Integer(n),
            ValueRef::Real(x) => Value::Real(x),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        },
        ToSqlOutput::Owned(v) => v,
        _ => {
            return Err(rusqlite::Error::ToSqlConversionFailure(
                "this kind of value has no PostgreSQL form".into(),
            ));
        }
    })
}

fn positional<'a>(items: impl Iterator<Item = &'a dyn ToSql>) -> rusqlite::Result<Values<'a>> {
    Ok(Values::Positional(
        items.map(value).collect::<Result<_, _>>()?,
    ))
}

fn named<'a>(
    items: impl Iterator<Item = (&'a str, &'a dyn ToSql)>,
) -> rusqlite::Result<Values<'a>> {
    Ok(Values::Named(
        items
            .map(|(n, v)| Ok((n, value(v)?)))
            .collect::<rusqlite::Result<_>>()?,
    ))
}

impl Params for [&(dyn ToSql + Send + Sync); 0] {
    fn execute_sqlite(self, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize> {
        stmt.execute(self)
    }
    fn query_sqlite<'s>(
        self,
        stmt: &'s mut rusqlite::Statement<'_>,
    ) -> rusqlite::Result<rusqlite::Rows<'s>> {
        stmt.query(self)
    }
    fn values(&self) -> rusqlite::Result<Values<'_>> {
        Ok(Values::Positional(Vec::new()))
    }
}

impl Params for () {
    fn execute_sqlite(self, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize> {
        stmt.execute(self)
    }
    fn query_sqlite<'s>(
        self,
        stmt: &'s mut rusqlite::Statement<'_>,
    ) -> rusqlite::Result<rusqlite::Rows<'s>> {
        stmt.query(self)
    }
    fn values(&self) -> rusqlite::Result<Values<'_>> {
        Ok(Values::Positional(Vec::new()))
    }
}

impl Params for &[&dyn ToSql] {
    fn execute_sqlite(self, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize> {
        stmt.execute(self)
    }
    fn query_sqlite<'s>(
        self,
        stmt: &'s mut rusqlite::Statement<'_>,
    ) -> rusqlite::Result<rusqlite::Rows<'s>> {
        stmt.query(self)
    }
    fn values(&self) -> rusqlite::Result<Values<'_>> {
        positional(self.iter().copied())
    }
}

impl Params for &[(&str, &dyn ToSql)] {
    fn execute_sqlite(self, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize> {
        stmt.execute(self)
    }
    fn query_sqlite<'s>(
        self,
        stmt: &'s mut rusqlite::Statement<'_>,
    ) -> rusqlite::Result<rusqlite::Rows<'s>> {
        stmt.query(self)
    }
    fn values(&self) -> rusqlite::Result<Values<'_>> {
        named(self.iter().map(|(n, v)| (*n, *v)))
    }
}

macro_rules! arrays {
    ($($n:literal)+) => {$(
        impl<T: ToSql> Params for [T; $n] {
            fn execute_sqlite(self, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize> {
                stmt.execute(self)
            }
            fn query_sqlite<'s>(
                self,
                stmt: &'s mut rusqlite::Statement<'_>,
            ) -> rusqlite::Result<rusqlite::Rows<'s>> {
                stmt.query(self)
            }
            fn values(&self) -> rusqlite::Result<Values<'_>> {
                positional(self.iter().map(|v| v as &dyn ToSql))
            }
        }
        impl<T: ToSql + ?Sized> Params for &[&T; $n] {
            fn execute_sqlite(self, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize> {
                stmt.execute(self)
            }
            fn query_sqlite<'s>(
                self,
                stmt: &'s mut rusqlite::Statement<'_>,
            ) -> rusqlite::Result<rusqlite::Rows<'s>> {
                stmt.query(self)
            }
            fn values(&self) -> rusqlite::Result<Values<'_>> {
                Ok(Values::Positional(
                    self.iter().map(|v| value(*v)).collect::<Result<_, _>>()?,
                ))
            }
        }
        impl<T: ToSql + ?Sized> Params for &[(&str, &T); $n] {
            fn execute_sqlite(self, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize> {
                stmt.execute(self)
            }
            fn query_sqlite<'s>(
                self,
                stmt: &'s mut rusqlite::Statement<'_>,
            ) -> rusqlite::Result<rusqlite::Rows<'s>> {
                stmt.query(self)
            }
            fn values(&self) -> rusqlite::Result<Values<'_>> {
                Ok(Values::Named(
                    self.iter()
                        .map(|(n, v)| Ok((*n, value(*v)?)))
                        .collect::<rusqlite::Result<_>>()?,
                ))
            }
        }
    )+};
}

arrays!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24);

/// A parameter list from an iterator of values (for statements whose `IN (...)` list is
/// built at run time). The iterator is walked again for PostgreSQL, so it must be `Clone`.
pub struct ParamsFromIter<I>(I);

pub fn params_from_iter<I>(iter: I) -> ParamsFromIter<I>
where
    I: IntoIterator + Clone,
    I::Item: ToSql,
{
    ParamsFromIter(iter)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator + Clone,
    I::Item: ToSql,
{
    fn execute_sqlite(self, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize> {
        stmt.execute(rusqlite::params_from_iter(self.0))
    }
    fn query_sqlite<'s>(
        self,
        stmt: &'s mut rusqlite::Statement<'_>,
    ) -> rusqlite::Result<rusqlite::Rows<'s>> {
        stmt.query(rusqlite::params_from_iter(self.0))
    }
    fn values(&self) -> rusqlite::Result<Values<'_>> {
        Ok(Values::Positional(
            self.0
                .clone()
                .into_iter()
                .map(|v| value(&v))
                .collect::<Result<_, _>>()?,
        ))
    }
}
