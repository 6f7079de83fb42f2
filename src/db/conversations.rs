//! The `conversations` table. Every function takes the owner's id and never touches another
//! user's rows: a conversation of someone else is simply not found.

use crate::db::sql::{Connection, OptionalExtension, Row};
use rusqlite::params;
use serde_json::{Map, Value};

use super::{DbError, now};

#[derive(Debug, Clone)]
pub struct Conversation {
    pub conversation_id: String,
    pub user_id: String,
    pub title: String,
    pub endpoint: Option<String>,
    pub endpoint_type: Option<String>,
    pub model: Option<String>,
    pub is_archived: bool,
    /// When it was archived; `None` when it is not, or was archived before this was kept.
    pub archived_at: Option<String>,
    pub pinned: bool,
    pub is_temporary: bool,
    pub expired_at: Option<String>,
    /// The other TConversation fields, as the client sent them.
    pub settings: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
    /// Its bookmarks.
    pub tags: Vec<String>,
    /// The user's project it is in (LibreChat's `chatProjectId`).
    pub project_id: Option<String>,
}

const COLUMNS: &str = "conversation_id, user_id, title, endpoint, endpoint_type, model, is_archived, \
    pinned, is_temporary, expired_at, settings, created_at, updated_at, \
    (SELECT json_group_array(tag) FROM conversation_tags ct \
      WHERE ct.conversation_id = conversations.conversation_id), archived_at, project_id";

fn from_row(r: &Row<'_>) -> crate::db::sql::Result<Conversation> {
    let settings: String = r.get(10)?;
    Ok(Conversation {
        conversation_id: r.get(0)?,
        user_id: r.get(1)?,
        title: r.get(2)?,
        endpoint: r.get(3)?,
        endpoint_type: r.get(4)?,
        model: r.get(5)?,
        is_archived: r.get(6)?,
        pinned: r.get(7)?,
        is_temporary: r.get(8)?,
        expired_at: r.get(9)?,
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
        tags: serde_json::from_str(&r.get::<_, String>(13)?).unwrap_or_default(),
        archived_at: r.get(14)?,
        project_id: r.get(15)?,
    })
}

pub fn get(
    conn: &Connection,
    user_id: &str,
    conversation_id: &str,
) -> Result<Option<Conversation>, DbError> {
    let sql =
        format!("SELECT {COLUMNS} FROM conversations WHERE conversation_id = ?1 AND user_id = ?2");
    conn.prepare_cached(&sql)?
        .query_row(params![conversation_id, user_id], from_row)
        .optional()
}

/// The fields a client may set, split into columns and pass-through settings.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub title: Option<String>,
    pub endpoint: Option<Option<String>>,
    pub endpoint_type: Option<Option<String>>,
    pub model: Option<Option<String>>,
    pub is_archived: Option<bool>,
    pub pinned: Option<bool>,
    /// Make it a temporary chat, deleted at this time. Only when the conversation is created.
    pub expires_at: Option<String>,
    /// Merged into the stored settings; a `null` value removes the key.
    pub settings: Map<String, Value>,
    /// Move it into this project of the user's (`Some(None)`: out of any). A project that is
    /// not the user's leaves it in none, as LibreChat's `saveConvo` does.
    pub project: Option<Option<String>>,
    /// Leave `updated_at` as it is: pinning or filing a chat away is not activity, so the
    /// sidebar keeps its order (LibreChat's `preserveUpdatedAt` / `timestamps: false`).
    pub keep_updated_at: bool,
}

/// Creates the conversation or changes it. `Ok(None)` when the id belongs to another user.
pub fn upsert(
    conn: &mut Connection,
    user_id: &str,
    conversation_id: &str,
    c: &Changes,
) -> Result<Option<Conversation>, DbError> {
    let tx = conn.transaction()?;
    let out = upsert_in(&tx, user_id, conversation_id, c)?;
    tx.commit()?;
    Ok(out)
}

/// Changes the conversation only if it still exists (never recreates a deleted one).
pub fn update_existing(
    conn: &mut Connection,
    user_id: &str,
    conversation_id: &str,
    c: &Changes,
) -> Result<Option<Conversation>, DbError> {
    let tx = conn.transaction()?;
    if get(&tx, user_id, conversation_id)?.is_none() {
        return Ok(None);
    }
    let out = upsert_in(&tx, user_id, conversation_id, c)?;
    tx.commit()?;
    Ok(out)
}

/// [`upsert`] inside the caller's transaction.
pub fn upsert_in(
    tx: &Connection,
    user_id: &str,
    conversation_id: &str,
    c: &Changes,
) -> Result<Option<Conversation>, DbError> {
    let ts = now();
    tx.execute(
        "INSERT INTO conversations (conversation_id, user_id, is_temporary, expired_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (conversation_id) DO NOTHING",
        params![conversation_id, user_id, c.expires_at.is_some(), c.expires_at, ts],
    )?;
    let Some(mut current) = get(tx, user_id, conversation_id)? else {
        return Ok(None);
    };
    if let Some(t) = &c.title {
        current.title = t.clone();
    }
    if let Some(e) = &c.endpoint {
        current.endpoint = e.clone();
    }
    if let Some(e) = &c.endpoint_type {
        current.endpoint_type = e.clone();
    }
    if let Some(m) = &c.model {
        current.model = m.clone();
    }
    if let Some(a) = c.is_archived {
        // Archiving again keeps the first time; unarchiving forgets it.
        current.archived_at = match (a, current.is_archived) {
            (true, true) => current.archived_at.clone(),
            (true, false) => Some(ts.clone()),
            (false, _) => None,
        };
        current.is_archived = a;
    }
    if let Some(p) = c.pinned {
        current.pinned = p;
    }
    for (k, v) in &c.settings {
        if v.is_null() {
            current.settings.remove(k);
        } else {
            current.settings.insert(k.clone(), v.clone());
        }
    }
    tx.execute(
        "UPDATE conversations SET title = ?3, endpoint = ?4, endpoint_type = ?5, model = ?6,
                is_archived = ?7, pinned = ?8, settings = ?9, updated_at = ?10, archived_at = ?11
         WHERE conversation_id = ?1 AND user_id = ?2",
        params![
            conversation_id,
            user_id,
            current.title,
            current.endpoint,
            current.endpoint_type,
            current.model,
            current.is_archived,
            current.pinned,
            Value::Object(current.settings.clone()).to_string(),
            if c.keep_updated_at {
                &current.updated_at
            } else {
                &ts
            },
            current.archived_at
        ],
    )?;
    if let Some(project) = &c.project {
        tx.execute(
            "UPDATE conversations SET project_id =
                 (SELECT id FROM chat_projects WHERE id = ?3 AND user_id = ?2)
             WHERE conversation_id = ?1 AND user_id = ?2",
            params![conversation_id, user_id, project],
        )?;
    }
    get(tx, user_id, conversation_id)
}

/// Which conversations a listing shows, and in what order.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub archived: bool,
    /// Only pinned conversations.
    pub pinned: bool,
    pub sort: SortBy,
    pub ascending: bool,
    /// Only conversations that carry any of these bookmarks (LibreChat's `$in`).
    pub tags: Vec<String>,
    /// Only these conversations (the matches of a title search), when set.
    pub only: Option<Vec<String>>,
    /// Only the conversations of one project, or of none (LibreChat's `projectId`).
    pub project: ProjectFilter,
}

/// Which project's conversations a listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProjectFilter {
    /// Every conversation, in a project or not.
    #[default]
    Any,
    /// Those in no project (LibreChat's `projectId=unassigned`).
    Unassigned,
    /// Those in this project.
    In(String),
}

/// What a listing is ordered by (LibreChat's `sortBy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortBy {
    #[default]
    UpdatedAt,
    CreatedAt,
    Title,
    /// Conversations archived before this was kept have no time and come last, newest first.
    /// Ties (one "archive all", or no time) go by `created_at`, as LibreChat's archive view
    /// shows `archivedAt ?? createdAt`.
    ArchivedAt,
}

impl SortBy {
    /// The sort key as SQL: text that orders as the field does, never NULL (a missing
    /// archive time is '', before every time, as MongoDB orders a missing field). The archive
    /// time is followed by `created_at`: both are fixed-width, so the text orders by the one,
    /// then the other.
    fn key(self) -> &'static str {
        match self {
            SortBy::UpdatedAt => "updated_at",
            SortBy::CreatedAt => "created_at",
            SortBy::Title => "title",
            SortBy::ArchivedAt => "coalesce(archived_at, '') || ' ' || created_at",
        }
    }

    /// [`Self::key`] of one conversation, for the cursor after it.
    fn value(self, c: &Conversation) -> String {
        match self {
            SortBy::UpdatedAt => c.updated_at.clone(),
            SortBy::CreatedAt => c.created_at.clone(),
            SortBy::Title => c.title.clone(),
            SortBy::ArchivedAt => format!(
                "{} {}",
                c.archived_at.as_deref().unwrap_or_default(),
                c.created_at
            ),
        }
    }
}

/// A position in a listing: the sort key and id of the last item of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub conversation_id: String,
}

/// One page of a user's conversations, in the filter's order (the id breaking ties).
/// Temporary chats are not listed, as in LibreChat's sidebar.
/// Returns the page and the cursor of the next one.
pub fn list(
    conn: &Connection,
    user_id: &str,
    filter: &ListFilter,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<(Vec<Conversation>, Option<Cursor>), DbError> {
    let (cmp, dir) = if filter.ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let key = filter.sort.key();
    // A separate statement per project filter, so a project's list uses its own index.
    let project = match filter.project {
        ProjectFilter::Any => "",
        ProjectFilter::Unassigned => "AND project_id IS NULL",
        ProjectFilter::In(_) => "AND project_id = ?9",
    };
    // One statement per order and direction, each kept compiled (the sidebar's, by
    // `updated_at`, is the one the indexes serve).
    let sql = format!(
        "SELECT {COLUMNS} FROM conversations
         WHERE user_id = ?1 AND is_archived = ?2 AND expired_at IS NULL
           AND (?3 IS NULL OR ({key}, conversation_id) {cmp} (?3, ?4))
           AND (?6 IS NULL OR EXISTS (SELECT 1 FROM conversation_tags ct
                 WHERE ct.conversation_id = conversations.conversation_id
                   AND ct.tag IN (SELECT value FROM json_each(?6))))
           AND (?7 IS NULL OR conversation_id IN (SELECT value FROM json_each(?7)))
           AND (?8 = 0 OR pinned = 1) {project}
         ORDER BY {key} {dir}, conversation_id {dir} LIMIT ?5"
    );
    let tags =
        (!filter.tags.is_empty()).then(|| serde_json::to_string(&filter.tags).unwrap_or_default());
    let only = filter
        .only
        .as_ref()
        .map(|ids| serde_json::to_string(ids).unwrap_or_default());
    let mut stmt = conn.prepare_cached(&sql)?;
    let args = params![
        user_id,
        filter.archived,
        after.map(|c| c.key.as_str()),
        after.map(|c| c.conversation_id.as_str()),
        (limit + 1) as i64,
        tags,
        only,
        filter.pinned
    ];
    let mut rows = match &filter.project {
        ProjectFilter::In(p) => {
            let mut all = args.to_vec();
            all.push(p as &dyn rusqlite::ToSql);
            stmt.query_map(all.as_slice(), from_row)?
                .collect::<Result<Vec<_>, _>>()?
        }
        _ => stmt
            .query_map(args, from_row)?
            .collect::<Result<Vec<_>, _>>()?,
    };
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|c| Cursor {
            key: filter.sort.value(c),
            conversation_id: c.conversation_id.clone(),
        })
    } else {
        None
    };
    Ok((rows, next))
}

/// Pins or unpins a conversation of the user's; `Ok(None)` when there is no such one.
pub fn set_pinned(
    conn: &mut Connection,
    user_id: &str,
    conversation_id: &str,
    pinned: bool,
) -> Result<Option<Conversation>, DbError> {
    let changes = Changes {
        pinned: Some(pinned),
        keep_updated_at: true,
        ..Changes::default()
    };
    update_existing(conn, user_id, conversation_id, &changes)
}

/// Archives every conversation of the user's that is listed (not archived, not temporary),
/// all with one archive time, each keeping its `updated_at`. Returns how many.
pub fn archive_all(conn: &Connection, user_id: &str) -> Result<usize, DbError> {
    let ts = now();
    conn.execute(
        "UPDATE conversations SET is_archived = 1, archived_at = ?2
         WHERE user_id = ?1 AND is_archived = 0 AND expired_at IS NULL",
        params![user_id, ts],
    )
}

/// Deletes one conversation with its messages. Returns how many messages went with it, or
/// `NotFound` when the user has no such conversation.
pub fn delete(
    conn: &mut Connection,
    user_id: &str,
    conversation_id: &str,
) -> Result<usize, DbError> {
    let tx = conn.transaction()?;
    let messages = tx.execute(
        "DELETE FROM messages WHERE conversation_id = ?1 AND user_id = ?2",
        params![conversation_id, user_id],
    )?;
    let n = tx.execute(
        "DELETE FROM conversations WHERE conversation_id = ?1 AND user_id = ?2",
        params![conversation_id, user_id],
    )?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    tx.commit()?;
    Ok(messages)
}

/// Deletes all of a user's conversations; returns `(conversations, messages)` deleted.
pub fn delete_all(conn: &mut Connection, user_id: &str) -> Result<(usize, usize), DbError> {
    let tx = conn.transaction()?;
    let messages = tx.execute("DELETE FROM messages WHERE user_id = ?1", [user_id])?;
    let convos = tx.execute("DELETE FROM conversations WHERE user_id = ?1", [user_id])?;
    tx.commit()?;
    Ok((convos, messages))
}

/// Marks the conversation as changed now (a new message, say).
pub fn touch(conn: &Connection, user_id: &str, conversation_id: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE conversations SET updated_at = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
        params![conversation_id, user_id, now()],
    )?;
    Ok(())
}

/// Creates `new_id` for the user as a copy of `source` (settings, endpoint, model) under
/// `title`, with `messages` (already given fresh ids) inserted in order, in one transaction.
pub fn insert_copy(
    conn: &mut Connection,
    source: &Conversation,
    new_id: &str,
    title: &str,
    messages: &[super::messages::Message],
) -> Result<Conversation, DbError> {
    let tx = conn.transaction()?;
    let ts = now();
    tx.execute(
        "INSERT INTO conversations (conversation_id, user_id, title, endpoint, endpoint_type, model,
             settings, created_at, updated_at, project_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
        params![
            new_id,
            source.user_id,
            title,
            source.endpoint,
            source.endpoint_type,
            source.model,
            Value::Object(source.settings.clone()).to_string(),
            ts,
            // A fork or a duplicate stays in the source's project, as in LibreChat.
            source.project_id
        ],
    )?;
    for m in messages {
        super::messages::insert(&tx, m)?;
    }
    let created = get(&tx, &source.user_id, new_id)?.ok_or(DbError::NotFound)?;
    tx.commit()?;
    Ok(created)
}

/// Deletes temporary chats whose time is up, with their messages; returns how many.
pub fn delete_expired(conn: &mut Connection) -> Result<usize, DbError> {
    let tx = conn.transaction()?;
    let ts = now();
    tx.execute(
        "DELETE FROM messages WHERE conversation_id IN
             (SELECT conversation_id FROM conversations WHERE expired_at IS NOT NULL AND expired_at <= ?1)",
        [&ts],
    )?;
    let n = tx.execute(
        "DELETE FROM conversations WHERE expired_at IS NOT NULL AND expired_at <= ?1",
        [&ts],
    )?;
    tx.commit()?;
    Ok(n)
}
