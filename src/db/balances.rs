//! The `balances` and `transactions` tables. Every change to a balance is recorded as a
//! transaction in the same database transaction: a user's transactions add up to the balance.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::{DbError, new_object_id, now};

/// A user's balance (`GET /api/balance` shows it as `shapes::TBalance`).
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    pub token_credits: i64,
    pub auto_refill_enabled: bool,
    pub refill_interval_value: i64,
    pub refill_interval_unit: String,
    pub last_refill: Option<String>,
    pub refill_amount: i64,
}

/// The balance settings from librechat.yaml, applied to every balance.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub start_balance: i64,
    pub auto_refill_enabled: bool,
    pub refill_interval_value: i64,
    pub refill_interval_unit: String,
    pub refill_amount: i64,
}

/// A transaction to record.
#[derive(Debug, Clone, Default)]
pub struct NewTransaction {
    pub user_id: String,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub token_type: &'static str,
    pub model: Option<String>,
    pub context: &'static str,
    pub value_key: Option<String>,
    pub rate: Option<f64>,
    pub raw_amount: i64,
    pub token_value: i64,
    pub input_tokens: Option<i64>,
    pub write_tokens: Option<i64>,
    pub read_tokens: Option<i64>,
}

pub fn get(conn: &Connection, user_id: &str) -> Result<Option<Balance>, DbError> {
    conn.query_row(
        "SELECT token_credits, auto_refill_enabled, refill_interval_value,
                    refill_interval_unit, last_refill, refill_amount
               FROM balances WHERE user_id = ?1",
        [user_id],
        |r| {
            Ok(Balance {
                token_credits: r.get(0)?,
                auto_refill_enabled: r.get(1)?,
                refill_interval_value: r.get(2)?,
                refill_interval_unit: r.get(3)?,
                last_refill: r.get(4)?,
                refill_amount: r.get(5)?,
            })
        },
    )
    .optional()
}

/// Records a transaction; with `apply`, also changes the balance by its value.
pub fn record(conn: &Connection, t: &NewTransaction, apply: bool) -> Result<(), DbError> {
    let ts = now();
    conn.execute(
        "INSERT INTO transactions (id, user_id, conversation_id, message_id, token_type, model,
             context, value_key, rate, raw_amount, token_value, input_tokens, write_tokens,
             read_tokens, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            new_object_id(),
            t.user_id,
            t.conversation_id,
            t.message_id,
            t.token_type,
            t.model,
            t.context,
            t.value_key,
            t.rate,
            t.raw_amount,
            t.token_value,
            t.input_tokens,
            t.write_tokens,
            t.read_tokens,
            ts
        ],
    )?;
    if apply {
        conn.execute(
            "UPDATE balances SET token_credits = token_credits + ?2, updated_at = ?3 WHERE user_id = ?1",
            params![t.user_id, t.token_value, ts],
        )?;
    }
    Ok(())
}

fn credits(user_id: &str, amount: i64, context: &'static str) -> NewTransaction {
    NewTransaction {
        user_id: user_id.to_owned(),
        token_type: "credits",
        context,
        raw_amount: amount,
        token_value: amount,
        ..NewTransaction::default()
    }
}

/// The user's balance, created with the start balance (recorded as a transaction) the first
/// time, and with the auto-refill settings kept in step with `policy`.
pub fn ensure(conn: &Connection, user_id: &str, policy: &Policy) -> Result<Balance, DbError> {
    let ts = now();
    let created = conn.execute(
        "INSERT INTO balances (user_id, token_credits, auto_refill_enabled, refill_interval_value,
             refill_interval_unit, refill_amount, updated_at)
         VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (user_id) DO NOTHING",
        params![
            user_id,
            policy.auto_refill_enabled,
            policy.refill_interval_value,
            policy.refill_interval_unit,
            policy.refill_amount,
            ts
        ],
    )?;
    if created == 1 {
        // Transactions recorded while balances were off did not touch a balance: offset them,
        // so that the transactions add up to the balance from here on.
        let earlier = transactions_total(conn, user_id)?;
        if earlier != 0 {
            record(conn, &credits(user_id, -earlier, "reconcile"), false)?;
        }
        if policy.start_balance != 0 {
            record(
                conn,
                &credits(user_id, policy.start_balance, "startBalance"),
                true,
            )?;
        }
    } else {
        conn.execute(
            "UPDATE balances SET auto_refill_enabled = ?2, refill_interval_value = ?3,
                    refill_interval_unit = ?4, refill_amount = ?5
              WHERE user_id = ?1 AND (auto_refill_enabled, refill_interval_value,
                    refill_interval_unit, refill_amount) IS DISTINCT FROM (?2, ?3, ?4, ?5)",
            params![
                user_id,
                policy.auto_refill_enabled,
                policy.refill_interval_value,
                policy.refill_interval_unit,
                policy.refill_amount
            ],
        )?;
    }
    get(conn, user_id)?.ok_or(DbError::NotFound)
}

/// Adds `amount` credits (negative takes them away), as `context`.
pub fn add(
    conn: &Connection,
    user_id: &str,
    amount: i64,
    context: &'static str,
) -> Result<(), DbError> {
    record(conn, &credits(user_id, amount, context), true)
}

/// Sets the balance to `amount`, recording the difference.
pub fn set(conn: &Connection, user_id: &str, amount: i64) -> Result<(), DbError> {
    let current = get(conn, user_id)?.map_or(0, |b| b.token_credits);
    if amount != current {
        add(conn, user_id, amount - current, "admin")?;
    }
    Ok(())
}

/// Marks a refill done now.
pub fn refilled(conn: &Connection, user_id: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE balances SET last_refill = ?2 WHERE user_id = ?1",
        params![user_id, now()],
    )?;
    Ok(())
}

/// The sum of a user's transaction values (equal to the balance).
pub fn transactions_total(conn: &Connection, user_id: &str) -> Result<i64, DbError> {
    conn.query_row(
        "SELECT COALESCE(SUM(token_value), 0) FROM transactions WHERE user_id = ?1",
        [user_id],
        |r| r.get(0),
    )
}

/// Every balance with its user's email, largest first.
pub fn list(conn: &Connection) -> Result<Vec<(String, i64)>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT u.email, b.token_credits FROM balances b JOIN users u ON u.id = b.user_id
          ORDER BY b.token_credits DESC, u.email",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_, _>>()
}
