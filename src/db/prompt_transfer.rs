//! Moving a prompts library between servers (`librechat prompts export|import`): whole groups
//! with their versions, read and written in one transaction each way.

use crate::db::sql::Connection;
use rusqlite::params;

use super::acl::{self, ResourceType, Viewer};
use super::prompts::{GROUP_COLUMNS, Prompt, PromptGroup, group_from_row};
use super::{DbError, new_object_id, now};

/// A group with its versions, oldest first.
pub type GroupWithVersions = (PromptGroup, Vec<Prompt>);

/// Every group (or those `author` wrote), by name, with its versions.
pub fn export(conn: &Connection, author: Option<&str>) -> Result<Vec<GroupWithVersions>, DbError> {
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM prompt_groups g LEFT JOIN prompts p ON p.id = g.production_id
         WHERE ?1 IS NULL OR g.author = ?1 ORDER BY g.name, g.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let groups: Vec<PromptGroup> = stmt
        .query_map([author], group_from_row)?
        .collect::<Result<_, _>>()?;
    let mut versions = conn.prepare(
        "SELECT id, group_id, author, prompt, type, created_at, updated_at FROM prompts
         WHERE group_id = ?1 ORDER BY created_at, id",
    )?;
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let list = versions
            .query_map([&g.id], |r| {
                Ok(Prompt {
                    id: r.get(0)?,
                    group_id: r.get(1)?,
                    author: r.get(2)?,
                    prompt: r.get(3)?,
                    kind: r.get(4)?,
                    created_at: r.get(5)?,
                    updated_at: r.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        out.push((g, list));
    }
    Ok(out)
}

/// One group to import: its fields, its versions (text, type) oldest first, and which of them
/// is production.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub name: String,
    pub oneliner: String,
    pub category: String,
    pub command: Option<String>,
    pub versions: Vec<(String, String)>,
    pub production: usize,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub groups: usize,
    /// Commands left off because the owner already sees a group with them.
    pub commands_dropped: Vec<String>,
}

/// Imports groups as new ones owned by `owner` (granted `owner_role`), all or none. A command
/// the owner already sees (or one earlier in the file) is left off, so commands stay unique.
pub fn import(
    conn: &mut Connection,
    owner: &Viewer,
    author_name: &str,
    groups: &[Incoming],
    owner_role: (&str, u8),
) -> Result<Imported, DbError> {
    let tx = conn.transaction()?;
    let mut done = Imported::default();
    let taken_sql = format!(
        "WITH {} SELECT 1 FROM grants gr JOIN prompt_groups g ON g.id = gr.resource_id
         WHERE (gr.perm_bits & 1) <> 0 AND g.command = :command LIMIT 1",
        acl::grants_cte(ResourceType::PromptGroup)
    );
    for g in groups {
        let mut command = g.command.clone();
        if let Some(c) = &command {
            let taken = tx
                .prepare_cached(&taken_sql)?
                .exists(rusqlite::named_params! {":acl_user": owner.user_id,
                ":acl_role": owner.role, ":command": c})?;
            if taken {
                done.commands_dropped.push(c.clone());
                command = None;
            }
        }
        let (group_id, ts) = (new_object_id(), now());
        let ids: Vec<String> = g.versions.iter().map(|_| new_object_id()).collect();
        tx.execute(
            "INSERT INTO prompt_groups (id, name, oneliner, category, command, production_id,
                 author, author_name, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            params![
                group_id,
                g.name,
                g.oneliner,
                g.category,
                command,
                ids.get(g.production).or(ids.last()),
                owner.user_id,
                author_name,
                ts
            ],
        )?;
        for (id, (text, kind)) in ids.iter().zip(&g.versions) {
            // `now()` never repeats, so the versions keep their order.
            tx.execute(
                "INSERT INTO prompts (id, group_id, author, prompt, type, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![id, group_id, owner.user_id, text, kind, now()],
            )?;
        }
        acl::grant(
            &tx,
            ResourceType::PromptGroup,
            &group_id,
            "user",
            &owner.user_id,
            owner_role.0,
            owner_role.1,
            Some(&owner.user_id),
        )?;
        done.groups += 1;
    }
    tx.commit()?;
    Ok(done)
}
