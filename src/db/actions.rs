//! The `actions` and `action_tokens` tables: the OpenAPI documents attached to agents, and each
//! person's OAuth tokens for them.
//!
//! An action is its agent's: reading one for a chat needs VIEW on the agent, changing one needs
//! EDIT, checked in the same transaction as the work (as `agents` does). Secrets arrive and
//! leave here encrypted ([`Sealed`]); what they are and how the agent's tools change is the
//! caller's (`crate::agents::actions`), handed in as a plan.

use crate::db::sql::{Connection, OptionalExtension, Row};
use rusqlite::{ToSql, params};
use serde_json::{Map, Value};

use super::acl::{self, BITS_OF_GRANTS, Viewer};
use super::agent_changes::add_version;
use super::agents::{self, Agent, Definition, Denied, EDIT, VIEW, check, load, write_definition};
use super::{DbError, new_object_id, now};

/// An action's secrets, each encrypted (or absent).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sealed {
    pub api_key: Option<String>,
    pub oauth_client_id: Option<String>,
    pub oauth_client_secret: Option<String>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("api_key", &self.api_key.is_some())
            .field("oauth_client_id", &self.oauth_client_id.is_some())
            .field("oauth_client_secret", &self.oauth_client_secret.is_some())
            .finish()
    }
}

/// One stored action.
#[derive(Debug, Clone)]
pub struct Action {
    /// Answered as `_id`.
    pub object_id: String,
    pub action_id: String,
    /// The agent's `agent_...` id.
    pub agent_id: String,
    pub user_id: String,
    /// `{domain, raw_spec, auth, privacy_policy_url}`, no secrets.
    pub metadata: Map<String, Value>,
    pub sealed: Sealed,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "x.object_id, x.action_id, x.agent_id, x.user_id, x.metadata, x.api_key, \
    x.oauth_client_id, x.oauth_client_secret, x.created_at, x.updated_at";

fn from_row(r: &Row<'_>) -> crate::db::sql::Result<Action> {
    Ok(Action {
        object_id: r.get(0)?,
        action_id: r.get(1)?,
        agent_id: r.get(2)?,
        user_id: r.get(3)?,
        metadata: agents::json_of(r.get(4)?).unwrap_or_default(),
        sealed: Sealed {
            api_key: r.get(5)?,
            oauth_client_id: r.get(6)?,
            oauth_client_secret: r.get(7)?,
        },
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

/// A new action id: a nanoid, as LibreChat makes them.
pub fn new_action_id() -> String {
    agents::new_agent_id()["agent_".len()..].to_owned()
}

/// The action `action_id`, whoever's it is: for the OAuth callback, whose flow was started by
/// someone who could use it.
pub fn get(conn: &Connection, action_id: &str) -> Result<Option<Action>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM actions x WHERE x.action_id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([action_id], from_row)
        .optional()
}

fn of_agent(conn: &Connection, agent_id: &str) -> Result<Vec<Action>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM actions x WHERE x.agent_id = ?1 ORDER BY x.created_at, x.action_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([agent_id], from_row)?;
    rows.collect::<Result<_, _>>()
}

/// The actions of the agent `agent_id`, for a person who may use it (VIEW).
pub fn usable(
    conn: &Connection,
    viewer: &Viewer,
    agent_id: &str,
) -> Result<Result<Vec<Action>, Denied>, DbError> {
    if let Err(d) = check(conn, viewer, agent_id, VIEW)? {
        return Ok(Err(d));
    }
    Ok(Ok(of_agent(conn, agent_id)?))
}

/// The actions of every agent the viewer may edit (LibreChat's `GET /api/agents/actions`).
pub fn editable(conn: &Connection, viewer: &Viewer) -> Result<Vec<Action>, DbError> {
    let sql = format!(
        "WITH {}, editable AS (SELECT resource_id FROM grants GROUP BY resource_id
                               HAVING {BITS_OF_GRANTS} & 3 = 3)
         SELECT {COLUMNS} FROM editable e JOIN agents a ON a.object_id = e.resource_id
         JOIN actions x ON x.agent_id = a.id
         ORDER BY x.created_at, x.action_id",
        acl::grants_cte(agents::RT)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(&viewer.bind()[..], from_row)?;
    rows.collect::<Result<_, _>>()
}

/// The actions of an agent to copy onto its duplicate, each with its new id.
pub(super) type Copies = Vec<(Action, String)>;

/// The actions of the agent `from`, to copy onto a duplicate: each with its new id, and the
/// duplicate's `actions` entries (the source's, each naming its copy; an entry whose action is
/// gone is left out).
pub(super) fn plan_copies(
    conn: &Connection,
    from: &str,
    entries: &[String],
) -> Result<(Copies, Vec<String>), DbError> {
    let mut copies = Vec::new();
    let mut new_entries = Vec::new();
    for action in of_agent(conn, from)? {
        let new_id = new_action_id();
        if let Some(entry) = entries.iter().find(|e| e.contains(&action.action_id)) {
            new_entries.push(entry.replace(&action.action_id, &new_id));
        }
        copies.push((action, new_id));
    }
    Ok((copies, new_entries))
}

/// Stores the copies [`plan_copies`] planned, as actions of the agent `to` recorded as
/// `user_id`'s, without their secrets (as LibreChat's duplicate copies them: whoever copies an
/// agent does not get its keys).
pub(super) fn insert_copies(
    conn: &Connection,
    copies: &Copies,
    to: &str,
    user_id: &str,
) -> Result<(), DbError> {
    let at = now();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO actions (object_id, action_id, agent_id, user_id, metadata, created_at,
             updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?;
    for (action, new_id) in copies {
        stmt.execute(params![
            new_object_id(),
            new_id,
            to,
            user_id,
            agents::text(&action.metadata),
            at
        ])?;
    }
    Ok(())
}

/// What a save writes, decided from the agent and the stored action.
#[derive(Debug, Clone)]
pub struct Plan {
    pub metadata: Map<String, Value>,
    pub sealed: Sealed,
    /// The agent's new `tools` and `actions`.
    pub tools: Vec<String>,
    pub actions: Vec<String>,
    /// The action now calls somewhere else: everyone's OAuth tokens for it go.
    pub forget_tokens: bool,
}

/// Why a save or a delete was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused<E> {
    /// The agent is not found, or the viewer may not edit it.
    Agent(Denied),
    /// The action id is another agent's.
    OtherAgent,
    /// No such action on this agent.
    NoAction,
    /// The caller's plan refused it.
    Plan(E),
}

/// Creates or changes the action `action_id` of the agent `agent_id` (needs EDIT), with the
/// agent's tools and actions, as `plan` decides from the agent and the action as stored (none
/// for a new one). The agent's change is a version, as every change of its tools is.
pub fn save<E>(
    conn: &mut Connection,
    viewer: &Viewer,
    agent_id: &str,
    action_id: &str,
    plan: impl FnOnce(&Agent, Option<&Action>) -> Result<Plan, E>,
) -> Result<Result<(Agent, Action), Refused<E>>, DbError> {
    let tx = conn.transaction()?;
    let (object_id, bits) = match check(&tx, viewer, agent_id, EDIT)? {
        Ok(found) => found,
        Err(d) => return Ok(Err(Refused::Agent(d))),
    };
    let agent = load(&tx, &object_id, bits)?;
    let stored = get(&tx, action_id)?;
    if stored.as_ref().is_some_and(|s| s.agent_id != agent_id) {
        return Ok(Err(Refused::OtherAgent));
    }
    let plan = match plan(&agent, stored.as_ref()) {
        Ok(p) => p,
        Err(e) => return Ok(Err(Refused::Plan(e))),
    };
    if plan.forget_tokens {
        tx.execute(
            "DELETE FROM action_tokens WHERE action_id = ?1",
            [action_id],
        )?;
    }
    let mut def = agent.def.clone();
    def.tools = plan.tools;
    def.actions = Some(plan.actions);
    change_agent(&tx, viewer, &object_id, &def)?;
    let at = now();
    tx.prepare_cached(
        "INSERT INTO actions (object_id, action_id, agent_id, user_id, metadata, api_key,
             oauth_client_id, oauth_client_secret, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
         ON CONFLICT (action_id) DO UPDATE SET metadata = excluded.metadata,
             api_key = excluded.api_key, oauth_client_id = excluded.oauth_client_id,
             oauth_client_secret = excluded.oauth_client_secret, updated_at = excluded.updated_at",
    )?
    .execute(params![
        new_object_id(),
        action_id,
        agent_id,
        // A new action is the agent author's, as LibreChat records it.
        agent.author,
        agents::text(&plan.metadata),
        plan.sealed.api_key,
        plan.sealed.oauth_client_id,
        plan.sealed.oauth_client_secret,
        at,
    ])?;
    let saved = get(&tx, action_id)?.ok_or(DbError::NotFound)?;
    let agent = load(&tx, &object_id, bits)?;
    tx.commit()?;
    Ok(Ok((agent, saved)))
}

/// Writes the agent's definition and records it as a version.
fn change_agent(
    tx: &Connection,
    viewer: &Viewer,
    object_id: &str,
    def: &Definition,
) -> Result<(), DbError> {
    let at = now();
    write_definition(tx, object_id, def, &at)?;
    add_version(tx, object_id, def, Some(&viewer.user_id), &at)
}

/// Deletes the action `action_id` of the agent `agent_id` (needs EDIT); `change` gives the
/// agent's new `tools` and `actions` from its definition and the action as stored, `None` when
/// its actions do not name this one (the action's row goes all the same).
pub fn delete(
    conn: &mut Connection,
    viewer: &Viewer,
    agent_id: &str,
    action_id: &str,
    change: impl FnOnce(&Definition, Option<&Action>) -> Option<(Vec<String>, Vec<String>)>,
) -> Result<Result<(), Refused<()>>, DbError> {
    let tx = conn.transaction()?;
    let (object_id, bits) = match check(&tx, viewer, agent_id, EDIT)? {
        Ok(found) => found,
        Err(d) => return Ok(Err(Refused::Agent(d))),
    };
    let agent = load(&tx, &object_id, bits)?;
    let stored = get(&tx, action_id)?.filter(|a| a.agent_id == agent_id);
    let removed = tx.execute(
        "DELETE FROM actions WHERE action_id = ?1 AND agent_id = ?2",
        params![action_id, agent_id],
    )?;
    let changed = change(&agent.def, stored.as_ref());
    if changed.is_none() && removed == 0 {
        return Ok(Err(Refused::NoAction));
    }
    if let Some((tools, actions)) = changed {
        let mut def = agent.def.clone();
        def.tools = tools;
        def.actions = Some(actions);
        change_agent(&tx, viewer, &object_id, &def)?;
    }
    tx.commit()?;
    Ok(Ok(()))
}

/// A person's OAuth tokens for an action, encrypted.
#[derive(Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The person's tokens for the action, if they signed in.
pub fn tokens(
    conn: &Connection,
    user_id: &str,
    action_id: &str,
) -> Result<Option<Tokens>, DbError> {
    conn.prepare_cached(
        "SELECT access_token, refresh_token, expires_at FROM action_tokens
             WHERE user_id = ?1 AND action_id = ?2",
    )?
    .query_row(params![user_id, action_id], |r| {
        Ok(Tokens {
            access_token: r.get(0)?,
            refresh_token: r.get(1)?,
            expires_at: r.get(2)?,
        })
    })
    .optional()
}

/// Records the person's tokens for the action (a refresh that brings no new refresh token
/// keeps the old one). Nothing is recorded when the action is gone meanwhile.
pub fn set_tokens(
    conn: &Connection,
    user_id: &str,
    action_id: &str,
    t: &Tokens,
) -> Result<(), DbError> {
    let args: [&dyn ToSql; 6] = [
        &user_id,
        &action_id,
        &t.access_token,
        &t.refresh_token,
        &t.expires_at,
        &now(),
    ];
    conn.prepare_cached(
        "INSERT INTO action_tokens (user_id, action_id, access_token, refresh_token, expires_at,
             updated_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM actions WHERE action_id = ?2)
         ON CONFLICT (user_id, action_id) DO UPDATE SET access_token = excluded.access_token,
             refresh_token = coalesce(excluded.refresh_token, action_tokens.refresh_token),
             expires_at = excluded.expires_at, updated_at = excluded.updated_at",
    )?
    .execute(&args[..])?;
    Ok(())
}

/// Forgets the person's tokens for the action (they no longer work).
pub fn forget_tokens(conn: &Connection, user_id: &str, action_id: &str) -> Result<(), DbError> {
    conn.prepare_cached("DELETE FROM action_tokens WHERE user_id = ?1 AND action_id = ?2")?
        .execute(params![user_id, action_id])?;
    Ok(())
}
