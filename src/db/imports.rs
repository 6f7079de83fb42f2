//! Storing an imported conversation: the conversation and all its messages in one transaction,
//! with the times from the file.

use crate::db::sql::Connection;
use rusqlite::params;
use serde_json::Value;

use super::DbError;
use crate::chat::import::model::Prepared;

/// Stores `p`, its messages made and written one at a time.
pub fn insert(conn: &mut Connection, mut p: Prepared) -> Result<(), DbError> {
    if p.is_empty() {
        return Ok(());
    }
    let user_id = p.user_id().to_owned();
    // A LibreChat export names the project the chat was in: kept when it is one of the
    // importer's own (as LibreChat's `bulkSaveConvos` does), else the chat is in none.
    let project = p
        .settings
        .remove("chatProjectId")
        .and_then(|v| v.as_str().map(str::to_owned));
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO conversations (conversation_id, user_id, title, endpoint, model, settings,
             created_at, updated_at, project_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
             (SELECT id FROM chat_projects WHERE id = ?9 AND user_id = ?2))",
        params![
            p.conversation_id,
            user_id,
            p.title,
            p.endpoint,
            p.model,
            Value::Object(p.settings.clone()).to_string(),
            p.created_at,
            p.updated_at,
            project
        ],
    )?;
    for m in p.messages() {
        super::messages::insert_with_times(&tx, &m)?;
    }
    tx.commit()?;
    Ok(())
}
