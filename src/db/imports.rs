//! Storing an imported conversation: the conversation and all its messages in one transaction,
//! with the times from the file.

use rusqlite::{Connection, params};
use serde_json::Value;

use super::DbError;
use crate::chat::import::model::Prepared;

/// Stores `p`, its messages made and written one at a time.
pub fn insert(conn: &mut Connection, mut p: Prepared) -> Result<(), DbError> {
    if p.is_empty() {
        return Ok(());
    }
    let user_id = p.user_id().to_owned();
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO conversations (conversation_id, user_id, title, endpoint, model, settings,
             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            p.conversation_id,
            user_id,
            p.title,
            p.endpoint,
            p.model,
            Value::Object(p.settings.clone()).to_string(),
            p.created_at,
            p.updated_at
        ],
    )?;
    for m in p.messages() {
        super::messages::insert_with_times(&tx, &m)?;
    }
    tx.commit()?;
    Ok(())
}
