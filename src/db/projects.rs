//! The `chat_projects` table: a user's projects, and which of the user's conversations each
//! holds. Every statement filters on the owner, so another user's project is simply not found.
//! The statistics columns are kept by the triggers of `migrations/0015_projects.sql`.

use crate::db::sql::{Connection, OptionalExtension, Row};
use rusqlite::params;

use super::conversations::{self, Conversation};
use super::{DbError, new_object_id, now};

/// A project, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub description: String,
    /// How many of its conversations its list shows (not archived, not temporary).
    pub conversation_count: i64,
    pub last_conversation_at: Option<String>,
    pub last_conversation_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, user_id, name, description, conversation_count, last_conversation_at, \
    last_conversation_id, created_at, updated_at";

fn from_row(r: &Row<'_>) -> crate::db::sql::Result<Project> {
    Ok(Project {
        id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        conversation_count: r.get(4)?,
        last_conversation_at: r.get(5)?,
        last_conversation_id: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

/// Creates a project for the user.
pub fn create(
    conn: &Connection,
    user_id: &str,
    name: &str,
    description: &str,
) -> Result<Project, DbError> {
    let (id, ts) = (new_object_id(), now());
    conn.execute(
        "INSERT INTO chat_projects (id, user_id, name, description, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![id, user_id, name, description, ts],
    )?;
    get(conn, user_id, &id)?.ok_or(DbError::NotFound)
}

/// The user's project with this id, if it is theirs.
pub fn get(conn: &Connection, user_id: &str, id: &str) -> Result<Option<Project>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM chat_projects WHERE id = ?1 AND user_id = ?2");
    conn.prepare_cached(&sql)?
        .query_row(params![id, user_id], from_row)
        .optional()
}

/// Renames and/or describes the user's project; `Ok(None)` when it is not theirs.
pub fn update(
    conn: &Connection,
    user_id: &str,
    id: &str,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<Option<Project>, DbError> {
    let n = conn.execute(
        "UPDATE chat_projects SET name = coalesce(?3, name),
                description = coalesce(?4, description), updated_at = ?5
         WHERE id = ?1 AND user_id = ?2",
        params![id, user_id, name, description, now()],
    )?;
    if n == 0 {
        return Ok(None);
    }
    get(conn, user_id, id)
}

/// Deletes the user's project, leaving its conversations unassigned. Returns how many
/// conversations it held, or `NotFound` when it is not theirs.
pub fn delete(conn: &mut Connection, user_id: &str, id: &str) -> Result<usize, DbError> {
    let tx = conn.transaction()?;
    let unassigned = tx.execute(
        "UPDATE conversations SET project_id = NULL WHERE project_id = ?1 AND user_id = ?2",
        params![id, user_id],
    )?;
    let n = tx.execute(
        "DELETE FROM chat_projects WHERE id = ?1 AND user_id = ?2",
        params![id, user_id],
    )?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    tx.commit()?;
    Ok(unassigned)
}

/// Why a conversation could not be put in a project.
#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    #[error("Conversation not found")]
    ConversationNotFound,
    #[error("Project not found")]
    ProjectNotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Moves the user's conversation into the user's project (`None`: out of any). Returns the
/// conversation as it now is and the project it was in before. Its activity time is kept:
/// filing a chat is not activity, so the sidebar keeps its order.
pub fn assign(
    conn: &mut Connection,
    user_id: &str,
    conversation_id: &str,
    project_id: Option<&str>,
) -> Result<(Conversation, Option<String>), AssignError> {
    let tx = conn.transaction()?;
    let before = conversations::get(&tx, user_id, conversation_id)?
        .ok_or(AssignError::ConversationNotFound)?;
    if let Some(p) = project_id
        && get(&tx, user_id, p)?.is_none()
    {
        return Err(AssignError::ProjectNotFound);
    }
    tx.execute(
        "UPDATE conversations SET project_id = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
        params![conversation_id, user_id, project_id],
    )?;
    let after = conversations::get(&tx, user_id, conversation_id)?.ok_or(DbError::NotFound)?;
    tx.commit()?;
    Ok((after, before.project_id))
}

/// What the list is ordered by (LibreChat's `sortBy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortBy {
    /// Most recently active first by default; projects with no conversation at the end,
    /// newest first.
    #[default]
    LastConversationAt,
    CreatedAt,
    Name,
}

impl SortBy {
    /// The sort key as SQL (the expressions the indexes of `chat_projects` are built on).
    fn key(self) -> &'static str {
        match self {
            // Ids are not in creation order within a second: the empty ones go by their time.
            SortBy::LastConversationAt => "coalesce(last_conversation_at, '0' || created_at)",
            SortBy::CreatedAt => "created_at",
            SortBy::Name => "name",
        }
    }

    /// [`Self::key`] of one project, for the cursor after it.
    pub fn value(self, p: &Project) -> String {
        match self {
            SortBy::LastConversationAt => p
                .last_conversation_at
                .clone()
                .unwrap_or_else(|| format!("0{}", p.created_at)),
            SortBy::CreatedAt => p.created_at.clone(),
            SortBy::Name => p.name.clone(),
        }
    }
}

/// Which projects a listing shows, and in what order.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub sort: SortBy,
    pub ascending: bool,
    /// Only projects whose name or description holds this text (ASCII letters in any case).
    pub search: Option<String>,
}

/// A position in a listing: the sort key and id of the last project of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: String,
}

/// One page of the user's projects and the cursor of the next page.
pub fn list(
    conn: &Connection,
    user_id: &str,
    filter: &ListFilter,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<(Vec<Project>, Option<Cursor>), DbError> {
    let (cmp, dir) = if filter.ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let key = filter.sort.key();
    let sql = format!(
        "SELECT {COLUMNS} FROM chat_projects
         WHERE user_id = ?1
           AND (?2 IS NULL OR ({key}, id) {cmp} (?2, ?3))
           AND (?4 IS NULL OR name LIKE ?4 ESCAPE '\\' OR description LIKE ?4 ESCAPE '\\')
         ORDER BY {key} {dir}, id {dir} LIMIT ?5"
    );
    let pattern = filter.search.as_deref().map(|s| {
        let escaped = s
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let mut rows = conn
        .prepare_cached(&sql)?
        .query_map(
            params![
                user_id,
                after.map(|c| c.key.as_str()),
                after.map(|c| c.id.as_str()),
                pattern,
                (limit + 1) as i64
            ],
            from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|p| Cursor {
            key: filter.sort.value(p),
            id: p.id.clone(),
        })
    } else {
        None
    };
    Ok((rows, next))
}

/// The project a conversation written by `user_id` may name: `id` if it is one of the user's,
/// else `None` (LibreChat drops a project id that is not the writer's own).
pub fn owned(conn: &Connection, user_id: &str, id: &str) -> Result<Option<String>, DbError> {
    Ok(get(conn, user_id, id)?.map(|p| p.id))
}
