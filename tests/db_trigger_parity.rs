//! The PostgreSQL schema behaves as SQLite's: the same statements, run one by one on a fresh
//! database of each, are refused by the same constraints and leave the same rows in every table.
//! They go through what the schema does by itself: the search outbox's triggers, the projects'
//! recounts and owner check, access entries leaving with their principal or resource, vectors
//! leaving with a document's text, cascades, `json_valid` CHECKs and the case-blind group names.

mod support;

use support::postgres::{compare_rows, migrated_database, migrated_sqlite, try_psql};

/// `(statement, PostgreSQL's spelling of it when it differs, whether it must succeed)`; at each
/// [`COMPARE`] every table is compared.
const COMPARE: (&str, Option<&str>, bool) = ("", None, true);

const SCRIPT: &[(&str, Option<&str>, bool)] = &[
    (
        "INSERT INTO users (id, email, created_at, updated_at)
         VALUES ('u1', 'a@x', 't', 't'), ('u2', 'b@x', 't', 't')",
        None,
        true,
    ),
    (
        "INSERT INTO chat_projects (id, user_id, name, created_at, updated_at)
         VALUES ('p1', 'u1', 'One', '2026-01-01', '2026-01-01'),
                ('p2', 'u1', 'Two', '2026-01-01', '2026-01-01')",
        None,
        true,
    ),
    (
        "INSERT INTO conversations (conversation_id, user_id, project_id, created_at, updated_at)
         VALUES ('c1', 'u1', 'p1', '2026-01-02', '2026-01-02')",
        None,
        true,
    ),
    (
        "INSERT INTO conversations (conversation_id, user_id, created_at, updated_at)
         VALUES ('c2', 'u1', '2026-01-03', '2026-01-03')",
        None,
        true,
    ),
    (
        "UPDATE conversations SET project_id = 'p1' WHERE conversation_id = 'c2'",
        None,
        true,
    ),
    (
        "UPDATE conversations SET updated_at = '2026-01-04' WHERE conversation_id = 'c1'",
        None,
        true,
    ),
    (
        "UPDATE conversations SET is_archived = 1 WHERE conversation_id = 'c1'",
        None,
        true,
    ),
    (
        "UPDATE conversations SET project_id = 'p2' WHERE conversation_id = 'c2'",
        None,
        true,
    ),
    COMPARE,
    // Another person's project: refused, on insert and on update.
    (
        "INSERT INTO conversations (conversation_id, user_id, project_id, created_at, updated_at)
         VALUES ('c3', 'u2', 'p1', 't', 't')",
        None,
        false,
    ),
    (
        "UPDATE conversations SET user_id = 'u2' WHERE conversation_id = 'c2'",
        None,
        false,
    ),
    (
        "INSERT INTO messages (message_id, conversation_id, user_id, created_at, updated_at)
         VALUES ('m1', 'c1', 'u1', 't', 't'), ('m2', 'c2', 'u1', 't', 't')",
        None,
        true,
    ),
    (
        "UPDATE messages SET text = 'hello' WHERE message_id = 'm1'",
        None,
        true,
    ),
    (
        "UPDATE messages SET text = 'hello' WHERE message_id = 'm1'",
        None,
        true,
    ),
    (
        "UPDATE messages SET content = '[]' WHERE message_id = 'm2'",
        None,
        true,
    ),
    (
        "UPDATE conversations SET title = 'Named' WHERE conversation_id = 'c1'",
        None,
        true,
    ),
    (
        "UPDATE conversations SET title = 'Named' WHERE conversation_id = 'c1'",
        None,
        true,
    ),
    (
        "UPDATE conversations SET is_temporary = 1, expired_at = 'x' WHERE conversation_id = 'c2'",
        None,
        true,
    ),
    COMPARE,
    (
        "INSERT INTO files (file_id, user_id, filename, filepath, storage_key, bytes, type,
             embedded, text, created_at, updated_at)
         VALUES ('f0', 'u1', 'a', 'a', 'k0', 1, 'text/plain', 0, 'zero', 't', 't'),
                ('f1', 'u1', 'b', 'b', 'k1', 1, 'text/plain', 1, 'one', 't', 't')",
        None,
        true,
    ),
    (
        "INSERT INTO file_vectors (file_id, model, chunks) VALUES ('f1', 'm', 1)",
        None,
        true,
    ),
    (
        "INSERT INTO chunk_vectors (file_id, chunk, user_id, model, dims, text, vector)
         VALUES ('f1', 0, 'u1', 'm', 1, 'one', X'0000803f')",
        Some(
            "INSERT INTO chunk_vectors (file_id, chunk, user_id, model, dims, text, vector)
             VALUES ('f1', 0, 'u1', 'm', 1, 'one', '\\x0000803f')",
        ),
        true,
    ),
    (
        "UPDATE files SET usage = 1 WHERE file_id = 'f1'",
        None,
        true,
    ),
    (
        "UPDATE files SET text = 'one, again' WHERE file_id = 'f1'",
        None,
        true,
    ),
    (
        "UPDATE files SET embedded = 1 WHERE file_id = 'f0'",
        None,
        true,
    ),
    ("DELETE FROM files WHERE file_id = 'f0'", None, true),
    COMPARE,
    (
        "INSERT INTO groups (id, name, created_at, updated_at) VALUES ('g1', 'Team', 't', 't')",
        None,
        true,
    ),
    // Names of administrators' groups are unique, case aside (ASCII only, as NOCASE).
    (
        "INSERT INTO groups (id, name, created_at, updated_at) VALUES ('g2', 'tEAM', 't', 't')",
        None,
        false,
    ),
    (
        "INSERT INTO groups (id, name, source, id_on_the_source, created_at, updated_at)
         VALUES ('g3', 'team', 'openid', 'x', 't', 't')",
        None,
        true,
    ),
    (
        "INSERT INTO groups (id, name, created_at, updated_at)
         VALUES ('g4', 'Équipe', 't', 't'), ('g5', 'équipe', 't', 't')",
        None,
        true,
    ),
    (
        "INSERT INTO agents (object_id, id, provider, model, author, created_at, updated_at)
         VALUES ('a1', 'agent_1', 'openAI', 'gpt', 'u1', 't', 't')",
        None,
        true,
    ),
    (
        "INSERT INTO agents (object_id, id, provider, model, author, tools, created_at, updated_at)
         VALUES ('a2', 'agent_2', 'openAI', 'gpt', 'u1', '[oops', 't', 't')",
        None,
        false,
    ),
    (
        "INSERT INTO prompt_groups (id, name, author, created_at, updated_at)
         VALUES ('pg1', 'Prompts', 'u1', 't', 't')",
        None,
        true,
    ),
    (
        "INSERT INTO mcp_servers (id, server_name, normalized_server_name, config, author,
             created_at, updated_at) VALUES ('s1', 'srv', 'srv', '{}', 'u2', 't', 't')",
        None,
        true,
    ),
    (
        "INSERT INTO acl_entries (id, resource_type, resource_id, principal_type, principal_id,
             role_id, perm_bits, granted_at) VALUES
             ('e1', 'agent', 'a1', 'user', 'u2', 'agent_viewer', 1, 't'),
             ('e2', 'remoteAgent', 'a1', 'group', 'g3', 'agent_viewer', 1, 't'),
             ('e3', 'promptGroup', 'pg1', 'public', '', 'promptGroup_viewer', 1, 't'),
             ('e4', 'mcpServer', 's1', 'group', 'g1', 'mcpServer_viewer', 1, 't'),
             ('e5', 'mcpServer', 's1', 'user', 'u1', 'mcpServer_viewer', 1, 't'),
             ('e6', 'mcpServer', 's1', 'role', 'USER', 'mcpServer_viewer', 1, 't')",
        None,
        true,
    ),
    (
        "INSERT INTO acl_entries (id, resource_type, resource_id, principal_type, principal_id,
             role_id, perm_bits, granted_at) VALUES ('e7', 'agent', 'a1', 'user', 'u2', 'x', 16, 't')",
        None,
        false,
    ),
    COMPARE,
    ("DELETE FROM groups WHERE id = 'g1'", None, true),
    (
        "DELETE FROM conversations WHERE conversation_id = 'c2'",
        None,
        true,
    ),
    ("DELETE FROM users WHERE id = 'u1'", None, true),
    COMPARE,
];

#[test]
fn the_same_statements_leave_the_same_rows() {
    let Some(url) = migrated_database() else {
        return;
    };
    let conn = migrated_sqlite();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut problems = Vec::new();
    for (i, (sql, pg_sql, succeeds)) in SCRIPT.iter().enumerate() {
        if sql.is_empty() {
            for table in &tables {
                let differences = compare_rows(&conn, &url, table);
                problems.extend(differences.into_iter().map(|d| format!("after {i}: {d}")));
            }
            continue;
        }
        let lite = conn.execute_batch(sql).map_err(|e| e.to_string());
        let pg = try_psql(&url, pg_sql.unwrap_or(sql));
        for (engine, result) in [("SQLite", lite), ("PostgreSQL", pg.map(|_| ()))] {
            if result.is_ok() != *succeeds {
                problems.push(format!(
                    "statement {i} {} on {engine}: {result:?}\n  {sql}",
                    if *succeeds {
                        "must succeed"
                    } else {
                        "must be refused"
                    }
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Not a vacuous comparison: the outbox saw the changes, and the cascades ran.
    let outbox: i64 = conn
        .query_row("SELECT count(*) FROM search_outbox", [], |r| r.get(0))
        .unwrap();
    assert!(outbox > 10, "{outbox}");
    let entries: Vec<String> = conn
        .prepare("SELECT id FROM acl_entries ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(entries, ["e6"]);
}
