//! Storing an imported conversation: the conversation and all its messages in one transaction,
//! with the times from the file.

use rusqlite::{Connection, params};
use serde_json::Value;

use super::DbError;
use crate::chat::import::model::Prepared;

pub fn insert(conn: &mut Connection, p: &Prepared) -> Result<(), DbError> {
    let Some(first) = p.messages.first() else {
        return Ok(());
    };
    let user_id = first.user_id.clone();
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
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO messages (message_id, conversation_id, user_id, parent_message_id, sender,
                 is_created_by_user, text, content, model, endpoint, token_count, error, unfinished,
                 feedback, extra, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )?;
        for m in &p.messages {
            stmt.execute(params![
                m.message_id,
                m.conversation_id,
                m.user_id,
                m.parent_message_id,
                m.sender,
                m.is_created_by_user,
                m.text,
                m.content.as_ref().map(Value::to_string),
                m.model,
                m.endpoint,
                m.token_count,
                m.error,
                m.unfinished,
                m.feedback.as_ref().map(Value::to_string),
                Value::Object(m.extra.clone()).to_string(),
                m.created_at,
                m.updated_at
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}
