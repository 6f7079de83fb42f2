//! Memories: what the assistant keeps about a person, as key/value pairs (LibreChat's
//! `MemoryEntry`). Every query is scoped to the owner. Each person's memories are split into
//! partitions (LibreChat's `agentId`): `''` is the person's shared pool, an agent's id
//! (`agent_...`) the partition an agent with `memory_scope: agent` keeps for that person. A
//! key is unique within a person's partition (the table's key: user, partition, key).

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::{DbError, new_object_id, now};

/// The shared pool's partition.
pub const POOL: &str = "";

/// One memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    pub id: String,
    pub user_id: String,
    /// LibreChat's agent partition; empty for the person's shared pool.
    pub agent_id: String,
    pub key: String,
    pub value: String,
    /// The value's tokens (o200k_base).
    pub token_count: i64,
    pub updated_at: String,
}

const COLUMNS: &str = "id, user_id, agent_id, key, value, token_count, updated_at";

fn from_row(r: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<Memory> {
    Ok(Memory {
        id: r.get(0)?,
        user_id: r.get(1)?,
        agent_id: r.get(2)?,
        key: r.get(3)?,
        value: r.get(4)?,
        token_count: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

/// Every memory of the person, in every partition, newest first.
pub fn list_all(conn: &Connection, user_id: &str) -> Result<Vec<Memory>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM memories WHERE user_id = ?1 ORDER BY updated_at DESC, key"
    ))?;
    let rows = stmt.query_map([user_id], from_row)?;
    rows.collect::<Result<Vec<_>, _>>()
}

/// One partition of the person's memories, oldest first: the order LibreChat numbers them in
/// the prompt.
pub fn list_partition(
    conn: &Connection,
    user_id: &str,
    partition: &str,
) -> Result<Vec<Memory>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM memories WHERE user_id = ?1 AND agent_id = ?2 \
         ORDER BY updated_at, key"
    ))?;
    let rows = stmt.query_map(params![user_id, partition], from_row)?;
    rows.collect::<Result<Vec<_>, _>>()
}

/// One memory of a partition, by key.
pub fn get(
    conn: &Connection,
    user_id: &str,
    partition: &str,
    key: &str,
) -> Result<Option<Memory>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM memories WHERE user_id = ?1 AND agent_id = ?2 AND key = ?3"
    ))?;
    stmt.query_row(params![user_id, partition, key], from_row)
        .optional()
}

/// The tokens of a partition, less those of `except` (a memory about to be replaced): the
/// token limit applies to each partition on its own, as in LibreChat.
pub fn partition_tokens(
    conn: &Connection,
    user_id: &str,
    partition: &str,
    except: Option<&str>,
) -> Result<i64, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT coalesce(sum(token_count), 0) FROM memories
         WHERE user_id = ?1 AND agent_id = ?2 AND key IS DISTINCT FROM coalesce(?3, '')",
    )?;
    stmt.query_row(params![user_id, partition, except], |r| r.get(0))
}

/// Adds a memory to a partition; `None` when the person already has that key there.
pub fn insert(
    conn: &Connection,
    user_id: &str,
    partition: &str,
    key: &str,
    value: &str,
    token_count: i64,
) -> Result<Option<Memory>, DbError> {
    let n = conn.execute(
        "INSERT INTO memories (id, user_id, agent_id, key, value, token_count, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (user_id, agent_id, key) DO NOTHING",
        params![
            new_object_id(),
            user_id,
            partition,
            key,
            value,
            token_count,
            now()
        ],
    )?;
    if n == 0 {
        return Ok(None);
    }
    get(conn, user_id, partition, key)
}

/// Sets the memory `key` of a partition: adds it, or replaces its value.
pub fn upsert(
    conn: &Connection,
    user_id: &str,
    partition: &str,
    key: &str,
    value: &str,
    token_count: i64,
) -> Result<Memory, DbError> {
    conn.execute(
        "INSERT INTO memories (id, user_id, agent_id, key, value, token_count, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (user_id, agent_id, key) DO UPDATE SET value = excluded.value,
             token_count = excluded.token_count, updated_at = excluded.updated_at",
        params![
            new_object_id(),
            user_id,
            partition,
            key,
            value,
            token_count,
            now()
        ],
    )?;
    get(conn, user_id, partition, key)?.ok_or(DbError::NotFound)
}

/// Rewrites a memory of a partition, renaming it to `new_key` (which must be free there, or
/// be `key`). `NotFound` when the person has no memory `key` there.
pub fn replace(
    conn: &Connection,
    user_id: &str,
    partition: &str,
    key: &str,
    new_key: &str,
    value: &str,
    token_count: i64,
) -> Result<Memory, DbError> {
    let n = conn.execute(
        "UPDATE memories SET key = ?4, value = ?5, token_count = ?6, updated_at = ?7
         WHERE user_id = ?1 AND agent_id = ?2 AND key = ?3",
        params![user_id, partition, key, new_key, value, token_count, now()],
    )?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    get(conn, user_id, partition, new_key)?.ok_or(DbError::NotFound)
}

/// Deletes a memory of a partition; `false` when the person has no such key there.
pub fn delete(
    conn: &Connection,
    user_id: &str,
    partition: &str,
    key: &str,
) -> Result<bool, DbError> {
    let n = conn.execute(
        "DELETE FROM memories WHERE user_id = ?1 AND agent_id = ?2 AND key = ?3",
        params![user_id, partition, key],
    )?;
    Ok(n > 0)
}
