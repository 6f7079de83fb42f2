//! Tool calls (LibreChat's `toolCall`): what each call of an answer returned. Every query is
//! scoped to the owner; a call goes with the answer that holds it (a foreign key).

use crate::db::sql::Connection;
use rusqlite::params;
use serde_json::Value;

use super::{DbError, new_object_id, now};

/// A stored call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCallRow {
    pub id: String,
    pub user_id: String,
    pub conversation_id: String,
    pub message_id: String,
    /// The tool's name.
    pub tool_id: String,
    pub call_id: String,
    pub result: Option<Value>,
    pub part_index: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A call to record.
#[derive(Debug, Clone)]
pub struct NewToolCall<'a> {
    pub user_id: &'a str,
    pub conversation_id: &'a str,
    pub message_id: &'a str,
    pub tool_id: &'a str,
    pub call_id: &'a str,
    pub result: &'a Value,
    pub part_index: usize,
}

const COLUMNS: &str = "id, user_id, conversation_id, message_id, tool_id, call_id, result, \
                       part_index, created_at, updated_at";

fn from_row(r: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<ToolCallRow> {
    let result: Option<String> = r.get(6)?;
    Ok(ToolCallRow {
        id: r.get(0)?,
        user_id: r.get(1)?,
        conversation_id: r.get(2)?,
        message_id: r.get(3)?,
        tool_id: r.get(4)?,
        call_id: r.get(5)?,
        result: result.and_then(|t| serde_json::from_str(&t).ok()),
        part_index: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

/// Records a call of an answer (already saved, by the same owner); the same part recorded
/// again (an answer continued) is replaced.
pub fn record(conn: &Connection, c: &NewToolCall<'_>) -> Result<(), DbError> {
    let ts = now();
    conn.prepare_cached(
        "INSERT INTO tool_calls (id, user_id, conversation_id, message_id, tool_id, call_id,
             result, part_index, created_at, updated_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9
          WHERE EXISTS (SELECT 1 FROM messages WHERE message_id = ?4 AND user_id = ?2)
         ON CONFLICT (message_id, part_index) DO UPDATE SET tool_id = excluded.tool_id,
             call_id = excluded.call_id, result = excluded.result,
             updated_at = excluded.updated_at",
    )?
    .execute(params![
        new_object_id(),
        c.user_id,
        c.conversation_id,
        c.message_id,
        c.tool_id,
        c.call_id,
        c.result.to_string(),
        c.part_index as i64,
        ts,
    ])?;
    Ok(())
}

/// The owner's calls in a conversation, oldest first.
pub fn list_by_conversation(
    conn: &Connection,
    user_id: &str,
    conversation_id: &str,
) -> Result<Vec<ToolCallRow>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM tool_calls WHERE user_id = ?1 AND conversation_id = ?2 \
         ORDER BY created_at, id"
    ))?;
    let rows = stmt.query_map([user_id, conversation_id], from_row)?;
    rows.collect::<Result<Vec<_>, _>>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::messages::{self, Message};
    use serde_json::json;

    fn setup() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::db::migrate(
            conn.as_sqlite_mut().unwrap(),
            std::path::Path::new(":memory:"),
        )
        .unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        for u in ["alice", "bob"] {
            conn.execute(
                "INSERT INTO users (id, email, created_at, updated_at) VALUES (?1, ?1, '', '')",
                [u],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO conversations (conversation_id, user_id, created_at, updated_at)
             VALUES ('c1', 'alice', '', '')",
            [],
        )
        .unwrap();
        let m = Message {
            message_id: "m1".into(),
            conversation_id: "c1".into(),
            user_id: "alice".into(),
            ..Message::default()
        };
        messages::save(&mut conn, &m).unwrap();
        conn
    }

    fn call<'a>(user: &'a str, part: usize, result: &'a Value) -> NewToolCall<'a> {
        NewToolCall {
            user_id: user,
            conversation_id: "c1",
            message_id: "m1",
            tool_id: "calculator",
            call_id: "call_1",
            result,
            part_index: part,
        }
    }

    #[test]
    fn calls_are_the_owners_and_go_with_their_message() {
        let conn = setup();
        record(&conn, &call("alice", 0, &json!("4"))).unwrap();
        record(&conn, &call("alice", 0, &json!("5"))).unwrap();
        record(&conn, &call("alice", 2, &json!("6"))).unwrap();
        // Another person cannot attach a call to alice's answer.
        record(&conn, &call("bob", 3, &json!("x"))).unwrap();
        let listed = list_by_conversation(&conn, "alice", "c1").unwrap();
        let results: Vec<&Value> = listed.iter().filter_map(|c| c.result.as_ref()).collect();
        assert_eq!(results, [&json!("5"), &json!("6")]);
        assert_eq!(listed[0].id.len(), 24);
        assert!(list_by_conversation(&conn, "bob", "c1").unwrap().is_empty());
        conn.execute("DELETE FROM messages WHERE message_id = 'm1'", [])
            .unwrap();
        assert!(
            list_by_conversation(&conn, "alice", "c1")
                .unwrap()
                .is_empty()
        );
    }
}
