//! The `prompt_groups` and `prompts` tables: the prompts library. A group is the shared unit
//! (its access entries are in `acl_entries`, resource type `promptGroup`); its prompts are its
//! versions, one of them the production one.
//!
//! Every function takes the [`Viewer`] and checks their bits on the group in the same
//! statement or transaction as the work: a group the viewer cannot see is not found, one they
//! see but may not change is forbidden. Lists are in [`super::prompt_lists`].

use crate::db::sql::{Connection, OptionalExtension, Row};
use rusqlite::{named_params, params};

use super::acl::{self, ResourceType, Viewer};
use super::{DbError, new_object_id, now};

/// Permission bits (LibreChat's `PermissionBits`).
pub const VIEW: u8 = 1;
pub const EDIT: u8 = 2;
pub const DELETE: u8 = 4;

const RT: ResourceType = ResourceType::PromptGroup;

/// Why a request about a group was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No such group, or one the viewer may not see.
    NotFound,
    /// The viewer sees it, but lacks the permission the change needs.
    Forbidden,
    /// Another group the viewer can see already has this command.
    CommandTaken(String),
}

#[derive(Debug, Clone)]
pub struct PromptGroup {
    pub id: String,
    pub name: String,
    pub oneliner: String,
    pub category: String,
    pub command: Option<String>,
    pub production_id: Option<String>,
    pub author: String,
    pub author_name: String,
    pub number_of_generations: i64,
    pub created_at: String,
    pub updated_at: String,
    /// The production version's text.
    pub production_prompt: Option<String>,
    /// Whether everyone may see it.
    pub is_public: bool,
}

/// The columns of a group and its production text, from `prompt_groups g LEFT JOIN prompts p
/// ON p.id = g.production_id`; [`group_from_row`] reads them and then whether it is public.
macro_rules! base_columns {
    () => {
        "g.id, g.name, g.oneliner, g.category, g.command, g.production_id, g.author, \
         g.author_name, g.number_of_generations, g.created_at, g.updated_at, p.prompt"
    };
}

/// A group's columns for one read: whether it is public is looked up.
pub(super) const GROUP_COLUMNS: &str = concat!(
    base_columns!(),
    ", EXISTS (SELECT 1 FROM acl_entries pe WHERE pe.resource_type = 'promptGroup' \
     AND pe.resource_id = g.id AND pe.principal_type = 'public' AND (pe.perm_bits & 1) <> 0)"
);

/// A group's columns in a list, where `g.is_public` comes with the grants that made it visible
/// (a lookup per row cost 2 ms of a 568-group list).
pub(super) const LISTED_COLUMNS: &str = concat!(base_columns!(), ", g.is_public");

pub(super) fn group_from_row(r: &Row<'_>) -> crate::db::sql::Result<PromptGroup> {
    Ok(PromptGroup {
        id: r.get(0)?,
        name: r.get(1)?,
        oneliner: r.get(2)?,
        category: r.get(3)?,
        command: r.get(4)?,
        production_id: r.get(5)?,
        author: r.get(6)?,
        author_name: r.get(7)?,
        number_of_generations: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        production_prompt: r.get(11)?,
        is_public: r.get(12)?,
    })
}

/// One version of a group's prompt.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub id: String,
    pub group_id: String,
    pub author: String,
    pub prompt: String,
    /// `text` or `chat`.
    pub kind: String,
    pub created_at: String,
    pub updated_at: String,
}

const PROMPT_COLUMNS: &str = "id, group_id, author, prompt, type, created_at, updated_at";

fn prompt_from_row(r: &Row<'_>) -> crate::db::sql::Result<Prompt> {
    Ok(Prompt {
        id: r.get(0)?,
        group_id: r.get(1)?,
        author: r.get(2)?,
        prompt: r.get(3)?,
        kind: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

/// A group's fields as written by its author.
#[derive(Debug, Clone, Default)]
pub struct GroupFields {
    pub name: String,
    pub oneliner: String,
    pub category: String,
    pub command: Option<String>,
}

/// A change to a group: what is `Some` is set (`command: Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub oneliner: Option<String>,
    pub category: Option<String>,
    pub command: Option<Option<String>>,
}

/// Refuses unless the viewer's bits on the group include `need`.
fn check(
    conn: &Connection,
    viewer: &Viewer,
    group_id: &str,
    need: u8,
) -> Result<Result<(), Denied>, DbError> {
    let bits = acl::effective(conn, viewer, RT, group_id)?;
    Ok(if bits & VIEW == 0 {
        Err(Denied::NotFound)
    } else if bits & need != need {
        Err(Denied::Forbidden)
    } else {
        Ok(())
    })
}

/// Whether a group the viewer can see, other than `except`, has this command.
fn command_taken(
    conn: &Connection,
    viewer: &Viewer,
    command: &str,
    except: &str,
) -> Result<bool, DbError> {
    let sql = format!(
        "WITH {} SELECT 1 FROM grants gr JOIN prompt_groups g ON g.id = gr.resource_id
         WHERE (gr.perm_bits & 1) <> 0 AND g.command = :command AND g.id != :except LIMIT 1",
        acl::grants_cte(RT)
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(
            named_params! {":acl_user": viewer.user_id, ":acl_role": viewer.role,
            ":command": command, ":except": except},
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// A group the viewer can see.
pub fn get_group(
    conn: &Connection,
    viewer: &Viewer,
    group_id: &str,
) -> Result<Option<PromptGroup>, DbError> {
    if check(conn, viewer, group_id, VIEW)?.is_err() {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM prompt_groups g LEFT JOIN prompts p ON p.id = g.production_id
         WHERE g.id = ?1"
    );
    conn.query_row(&sql, [group_id], group_from_row).optional()
}

/// Creates a group with its first version (production), and makes the author its owner
/// (`owner_role`: the access role id and its bits).
pub fn create(
    conn: &mut Connection,
    viewer: &Viewer,
    author_name: &str,
    fields: &GroupFields,
    prompt: &str,
    kind: &str,
    owner_role: (&str, u8),
) -> Result<Result<(Prompt, PromptGroup), Denied>, DbError> {
    let tx = conn.transaction()?;
    if let Some(c) = &fields.command
        && command_taken(&tx, viewer, c, "")?
    {
        return Ok(Err(Denied::CommandTaken(c.clone())));
    }
    let (group_id, prompt_id, ts) = (new_object_id(), new_object_id(), now());
    tx.execute(
        "INSERT INTO prompt_groups (id, name, oneliner, category, command, production_id, author,
             author_name, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            group_id,
            fields.name,
            fields.oneliner,
            fields.category,
            fields.command,
            prompt_id,
            viewer.user_id,
            author_name,
            ts
        ],
    )?;
    tx.execute(
        "INSERT INTO prompts (id, group_id, author, prompt, type, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![prompt_id, group_id, viewer.user_id, prompt, kind, ts],
    )?;
    acl::grant(
        &tx,
        RT,
        &group_id,
        "user",
        &viewer.user_id,
        owner_role.0,
        owner_role.1,
        Some(&viewer.user_id),
    )?;
    let group = get_group(&tx, viewer, &group_id)?.ok_or(DbError::NotFound)?;
    let version = get_version(&tx, &prompt_id)?.ok_or(DbError::NotFound)?;
    tx.commit()?;
    Ok(Ok((version, group)))
}

fn get_version(conn: &Connection, prompt_id: &str) -> Result<Option<Prompt>, DbError> {
    let sql = format!("SELECT {PROMPT_COLUMNS} FROM prompts WHERE id = ?1");
    conn.query_row(&sql, [prompt_id], prompt_from_row)
        .optional()
}

/// Adds a version to a group (needs EDIT); the production version stays as it is.
pub fn add_version(
    conn: &mut Connection,
    viewer: &Viewer,
    group_id: &str,
    prompt: &str,
    kind: &str,
) -> Result<Result<Prompt, Denied>, DbError> {
    let tx = conn.transaction()?;
    if let Err(d) = check(&tx, viewer, group_id, EDIT)? {
        return Ok(Err(d));
    }
    let (id, ts) = (new_object_id(), now());
    tx.execute(
        "INSERT INTO prompts (id, group_id, author, prompt, type, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![id, group_id, viewer.user_id, prompt, kind, ts],
    )?;
    tx.execute(
        "UPDATE prompt_groups SET updated_at = ?2 WHERE id = ?1",
        params![group_id, ts],
    )?;
    let version = get_version(&tx, &id)?.ok_or(DbError::NotFound)?;
    tx.commit()?;
    Ok(Ok(version))
}

/// Changes a group's name, oneliner, category or command (needs EDIT).
pub fn update_group(
    conn: &mut Connection,
    viewer: &Viewer,
    group_id: &str,
    patch: &GroupPatch,
) -> Result<Result<PromptGroup, Denied>, DbError> {
    let tx = conn.transaction()?;
    if let Err(d) = check(&tx, viewer, group_id, EDIT)? {
        return Ok(Err(d));
    }
    if let Some(Some(c)) = &patch.command
        && command_taken(&tx, viewer, c, group_id)?
    {
        return Ok(Err(Denied::CommandTaken(c.clone())));
    }
    tx.execute(
        "UPDATE prompt_groups SET name = coalesce(?2, name), oneliner = coalesce(?3, oneliner),
             category = coalesce(?4, category),
             command = CASE WHEN ?5 THEN ?6 ELSE command END, updated_at = ?7
         WHERE id = ?1",
        params![
            group_id,
            patch.name,
            patch.oneliner,
            patch.category,
            patch.command.is_some(),
            patch.command.clone().flatten(),
            now()
        ],
    )?;
    let group = get_group(&tx, viewer, group_id)?.ok_or(DbError::NotFound)?;
    tx.commit()?;
    Ok(Ok(group))
}

/// The group a version belongs to.
fn group_of(conn: &Connection, prompt_id: &str) -> Result<Option<String>, DbError> {
    conn.query_row(
        "SELECT group_id FROM prompts WHERE id = ?1",
        [prompt_id],
        |r| r.get(0),
    )
    .optional()
}

/// A version, if the viewer can see its group.
pub fn get_prompt(
    conn: &Connection,
    viewer: &Viewer,
    prompt_id: &str,
) -> Result<Option<Prompt>, DbError> {
    let Some(group_id) = group_of(conn, prompt_id)? else {
        return Ok(None);
    };
    if check(conn, viewer, &group_id, VIEW)?.is_err() {
        return Ok(None);
    }
    get_version(conn, prompt_id)
}

/// Every version of a group the viewer can see, newest first.
pub fn versions(
    conn: &Connection,
    viewer: &Viewer,
    group_id: &str,
) -> Result<Result<Vec<Prompt>, Denied>, DbError> {
    if let Err(d) = check(conn, viewer, group_id, VIEW)? {
        return Ok(Err(d));
    }
    let sql = format!(
        "SELECT {PROMPT_COLUMNS} FROM prompts WHERE group_id = ?1 ORDER BY created_at DESC, id DESC"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([group_id], prompt_from_row)?;
    Ok(Ok(rows.collect::<Result<_, _>>()?))
}

/// The versions the user wrote, newest first.
pub fn authored(conn: &Connection, user_id: &str) -> Result<Vec<Prompt>, DbError> {
    let sql = format!(
        "SELECT {PROMPT_COLUMNS} FROM prompts WHERE author = ?1 ORDER BY created_at DESC, id DESC"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([user_id], prompt_from_row)?;
    rows.collect::<Result<_, _>>()
}

/// Makes a version its group's production one (needs EDIT on the group).
pub fn make_production(
    conn: &mut Connection,
    viewer: &Viewer,
    prompt_id: &str,
) -> Result<Result<(), Denied>, DbError> {
    let tx = conn.transaction()?;
    let Some(group_id) = group_of(&tx, prompt_id)? else {
        return Ok(Err(Denied::NotFound));
    };
    if let Err(d) = check(&tx, viewer, &group_id, EDIT)? {
        return Ok(Err(d));
    }
    tx.execute(
        "UPDATE prompt_groups SET production_id = ?2, updated_at = ?3 WHERE id = ?1",
        params![group_id, prompt_id, now()],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

/// What deleting a version did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionDeleted {
    /// Other versions remain (the newest became production if this one was).
    Version,
    /// It was the last: the group went with it.
    Group,
}

/// Deletes one version of `group_id` (needs DELETE on the group).
pub fn delete_version(
    conn: &mut Connection,
    viewer: &Viewer,
    prompt_id: &str,
    group_id: &str,
) -> Result<Result<VersionDeleted, Denied>, DbError> {
    let tx = conn.transaction()?;
    if group_of(&tx, prompt_id)?.as_deref() != Some(group_id) {
        return Ok(Err(Denied::NotFound));
    }
    if let Err(d) = check(&tx, viewer, group_id, DELETE)? {
        return Ok(Err(d));
    }
    tx.execute("DELETE FROM prompts WHERE id = ?1", [prompt_id])?;
    let newest: Option<String> = tx
        .query_row(
            "SELECT id FROM prompts WHERE group_id = ?1 ORDER BY created_at DESC, id DESC LIMIT 1",
            [group_id],
            |r| r.get(0),
        )
        .optional()?;
    let done = match newest {
        None => {
            tx.execute("DELETE FROM prompt_groups WHERE id = ?1", [group_id])?;
            VersionDeleted::Group
        }
        Some(newest) => {
            tx.execute(
                "UPDATE prompt_groups SET production_id = ?2 WHERE id = ?1 AND production_id = ?3",
                params![group_id, newest, prompt_id],
            )?;
            VersionDeleted::Version
        }
    };
    tx.commit()?;
    Ok(Ok(done))
}

/// Deletes a group, its versions and its access entries (needs DELETE).
pub fn delete_group(
    conn: &mut Connection,
    viewer: &Viewer,
    group_id: &str,
) -> Result<Result<(), Denied>, DbError> {
    let tx = conn.transaction()?;
    if let Err(d) = check(&tx, viewer, group_id, DELETE)? {
        return Ok(Err(d));
    }
    tx.execute("DELETE FROM prompt_groups WHERE id = ?1", [group_id])?;
    tx.commit()?;
    Ok(Ok(()))
}

/// Counts one use of a group the viewer can see; the new count.
pub fn record_use(
    conn: &mut Connection,
    viewer: &Viewer,
    group_id: &str,
) -> Result<Result<i64, Denied>, DbError> {
    let tx = conn.transaction()?;
    if let Err(d) = check(&tx, viewer, group_id, VIEW)? {
        return Ok(Err(d));
    }
    let n = tx.query_row(
        "UPDATE prompt_groups SET number_of_generations = number_of_generations + 1
         WHERE id = ?1 RETURNING number_of_generations",
        [group_id],
        |r| r.get(0),
    )?;
    tx.commit()?;
    Ok(Ok(n))
}
