//! Memories as a service: what a person keeps for the assistant (LibreChat's `/api/memories`),
//! its limits (`memory` in librechat.yaml), and the part of the system prompt it becomes.
//!
//! Limits are checked where the memory is written (inside the one writer), so two requests at
//! once cannot both pass a token limit that only one of them fits.
//!
//! A person's memories are split into partitions, as LibreChat's `agentId` splits them: the
//! shared pool (`""`, every chat and every agent reads and writes it) and, for each agent whose
//! `memory_scope` is `agent`, that agent's own partition for that person, which only that
//! agent reads and writes ([`partition_of`]). The token limit applies to each partition.

use serde::Serialize;

use super::tokens::{Encoding, count_with};
use crate::config::memory::MemoryConfig;
use crate::db::acl::Viewer;
use crate::db::memories::{self, Memory};
use crate::db::{Db, DbError, agents, users};

/// LibreChat's longest key, in characters.
pub const KEY_CHAR_LIMIT: usize = 1_000;

/// The longest agent partition named by a request (`agentId`): longer than any agent id.
pub const AGENT_ID_LIMIT: usize = 256;

/// LibreChat's words an agent with the memory tools gets after its instructions (its
/// `memoryToolUsageGuard`).
pub const TOOL_USAGE_GUARD: &str = "Only use the `set_memory` and `delete_memory` tools when the user explicitly asks you to remember, update, or forget something (e.g. \"remember that...\", \"don't forget...\", \"forget...\"). Never store information merely because the user mentioned it in conversation.";

/// The partition an agent reads and writes (LibreChat's `getMemoryAgentId`): its own id when
/// its `memory_scope` is `agent`, else the shared pool (`""`). LibreChat's runtime suffix
/// (`____N`, an agent added to a conversation twice) is not part of the partition.
pub fn partition_of(agent_id: &str, memory_scope: Option<&str>) -> String {
    match memory_scope {
        Some("agent") if !agent_id.is_empty() => {
            // LibreChat's `stripAgentIdSuffix`: `____` and digits at the end.
            let digits = agent_id.trim_end_matches(|c: char| c.is_ascii_digit());
            match digits.strip_suffix("____") {
                Some(base) if digits.len() < agent_id.len() => base.to_owned(),
                _ => agent_id.to_owned(),
            }
        }
        _ => memories::POOL.to_owned(),
    }
}

/// The partition a request names (LibreChat's `getAgentIdParam`: a trimmed non-empty
/// `agentId`, else the shared pool). Only ever one of the caller's own partitions: every query
/// is scoped to them.
pub fn requested_partition(agent_id: Option<&str>) -> Result<String, MemoryError> {
    match agent_id.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) if a.chars().count() > AGENT_ID_LIMIT => Err(MemoryError::AgentIdTooLong),
        Some(a) => Ok(a.to_owned()),
        None => Ok(memories::POOL.to_owned()),
    }
}

/// LibreChat's words before the memories in the system prompt (its `memoryInstructions`).
pub const INSTRUCTIONS: &str = "The system automatically stores important user information and can update or delete memories based on user requests, enabling dynamic memory management.";

/// Why a memory was not written; each message is LibreChat's.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("Key is required and must be a non-empty string.")]
    KeyRequired,
    #[error("Value is required and must be a non-empty string.")]
    ValueRequired,
    #[error(
        "Key exceeds maximum length of {KEY_CHAR_LIMIT} characters. Current length: {0} characters."
    )]
    KeyTooLong(usize),
    #[error(
        "Value exceeds maximum length of {limit} characters. Current length: {len} characters."
    )]
    ValueTooLong { limit: u64, len: usize },
    /// LibreChat's schema refuses such a key (with a 500 there; a 400 here).
    #[error("Key must only contain lowercase letters and underscores")]
    KeyFormat,
    /// Outside `validKeys` (LibreChat's memory tools' message; its routes do not check).
    #[error("Invalid key \"{key}\". Must be one of: {valid}")]
    InvalidKey { key: String, valid: String },
    #[error(
        "Adding this memory would exceed the token limit of {limit}. Current usage: {used} tokens."
    )]
    TokenLimit {
        limit: u64,
        used: i64,
        /// The tokens of the value refused.
        adding: i64,
    },
    #[error("Memory with this key already exists.")]
    Exists,
    #[error("Memory not found.")]
    NotFound,
    /// An `agentId` past [`AGENT_ID_LIMIT`] (LibreChat has no bound).
    #[error("agentId exceeds maximum length of {AGENT_ID_LIMIT} characters.")]
    AgentIdTooLong,
    /// `memory.disabled` in librechat.yaml.
    #[error("Forbidden: Insufficient permissions")]
    Disabled,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// `GET /api/memories`, as LibreChat answers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    pub memories: Vec<Shown>,
    pub total_tokens: i64,
    pub token_limit: Option<u64>,
    pub char_limit: u64,
    pub usage_percentage: Option<u64>,
}

/// A memory as LibreChat's client reads it (its `TUserMemory`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shown {
    #[serde(rename = "_id")]
    pub id: String,
    pub user_id: String,
    pub key: String,
    pub value: String,
    pub token_count: i64,
    // LibreChat's client expects this one in snake case.
    #[serde(rename = "updated_at")]
    pub updated_at: String,
    /// The agent whose partition holds it (none: the shared pool).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// That agent's name, when the caller may see the agent (LibreChat's `agentName`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
}

impl From<Memory> for Shown {
    fn from(m: Memory) -> Self {
        Shown {
            id: m.id,
            user_id: m.user_id,
            key: m.key,
            value: m.value,
            token_count: m.token_count,
            updated_at: m.updated_at,
            agent_id: (!m.agent_id.is_empty()).then_some(m.agent_id),
            agent_name: None,
        }
    }
}

/// The memory settings in force: the section, or LibreChat's defaults when there is none.
fn settings(config: Option<&MemoryConfig>) -> Result<MemoryConfig, MemoryError> {
    let c = config.cloned().unwrap_or_default();
    if c.is_disabled() {
        return Err(MemoryError::Disabled);
    }
    Ok(c)
}

/// Every memory of the person in every partition, newest first (those of agents' partitions
/// with the agent's name when the person may see that agent), with the shared pool's use of
/// the token limit: LibreChat counts only the pool there, as the limit applies per partition.
pub async fn list(
    db: &Db,
    config: Option<&MemoryConfig>,
    viewer: Viewer,
) -> Result<Listing, MemoryError> {
    let c = settings(config)?;
    let (all, names) = db
        .read(move |conn| {
            let all = memories::list_all(conn, &viewer.user_id)?;
            let mut ids: Vec<&str> = all
                .iter()
                .map(|m| m.agent_id.as_str())
                .filter(|a| !a.is_empty())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let names = agents::names_visible(conn, &viewer, &ids)?;
            Ok((all, names))
        })
        .await?;
    let total_tokens: i64 = all
        .iter()
        .filter(|m| m.agent_id.is_empty())
        .map(|m| m.token_count)
        .sum();
    let token_limit = c.token_limit();
    let usage_percentage = token_limit.map(|limit| {
        let percent = (total_tokens.max(0) as f64 / limit as f64 * 100.0).round();
        (percent as u64).min(100)
    });
    Ok(Listing {
        memories: all
            .into_iter()
            .map(|m| {
                let name = names.get(&m.agent_id).cloned();
                Shown {
                    agent_name: name,
                    ..Shown::from(m)
                }
            })
            .collect(),
        total_tokens,
        token_limit,
        char_limit: c.char_limit(),
        usage_percentage,
    })
}

/// Checks a key and a value as LibreChat's routes do, and `validKeys` besides.
fn check(c: &MemoryConfig, key: &str, value: &str) -> Result<(), MemoryError> {
    let len = key.chars().count();
    if len > KEY_CHAR_LIMIT {
        return Err(MemoryError::KeyTooLong(len));
    }
    let len = value.chars().count();
    if len as u64 > c.char_limit() {
        return Err(MemoryError::ValueTooLong {
            limit: c.char_limit(),
            len,
        });
    }
    if !key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(MemoryError::KeyFormat);
    }
    if !c.allows_key(key) {
        return Err(MemoryError::InvalidKey {
            key: key.to_owned(),
            valid: c.valid_keys.clone().unwrap_or_default().join(", "),
        });
    }
    Ok(())
}

fn required(s: Option<&str>, missing: MemoryError) -> Result<&str, MemoryError> {
    s.filter(|s| !s.trim().is_empty()).ok_or(missing)
}

async fn tokens_of(value: &str) -> Result<i64, MemoryError> {
    let value = value.to_owned();
    tokio::task::spawn_blocking(move || count_with(Encoding::O200k, &value))
        .await
        .map_err(|e| MemoryError::Db(DbError::Io(format!("counting tokens: {e}"))))
}

/// Adds a memory (`key` and `value` are `None` when missing or not strings). Both are trimmed,
/// as LibreChat stores them.
pub async fn create(
    db: &Db,
    config: Option<&MemoryConfig>,
    user_id: &str,
    partition: &str,
    key: Option<&str>,
    value: Option<&str>,
) -> Result<Shown, MemoryError> {
    let c = settings(config)?;
    let key = required(key, MemoryError::KeyRequired)?.trim().to_owned();
    let value = required(value, MemoryError::ValueRequired)?;
    check(&c, &key, value)?;
    let value = value.trim().to_owned();
    let tokens = tokens_of(&value).await?;
    let (user, part, limit) = (user_id.to_owned(), partition.to_owned(), c.token_limit());
    db.write(move |conn| {
        if let Some(limit) = limit {
            let used = memories::partition_tokens(conn, &user, &part, None)?;
            if used + tokens > limit as i64 {
                return Ok(Err(MemoryError::TokenLimit {
                    limit,
                    used,
                    adding: tokens,
                }));
            }
        }
        Ok(memories::insert(conn, &user, &part, &key, &value, tokens)?.ok_or(MemoryError::Exists))
    })
    .await?
    .map(Shown::from)
}

/// Rewrites the memory `key` with `value`, renamed to `new_key` when given and different.
pub async fn update(
    db: &Db,
    config: Option<&MemoryConfig>,
    user_id: &str,
    partition: &str,
    key: &str,
    new_key: Option<&str>,
    value: Option<&str>,
) -> Result<Shown, MemoryError> {
    let c = settings(config)?;
    let value = required(value, MemoryError::ValueRequired)?.to_owned();
    let new_key = new_key.filter(|k| !k.is_empty()).unwrap_or(key).to_owned();
    check(&c, &new_key, &value)?;
    let tokens = tokens_of(&value).await?;
    let (user, part) = (user_id.to_owned(), partition.to_owned());
    let (key, limit) = (key.to_owned(), c.token_limit());
    db.write(move |conn| {
        if memories::get(conn, &user, &part, &key)?.is_none() {
            return Ok(Err(MemoryError::NotFound));
        }
        if new_key != key && memories::get(conn, &user, &part, &new_key)?.is_some() {
            return Ok(Err(MemoryError::Exists));
        }
        if let Some(limit) = limit {
            let used = memories::partition_tokens(conn, &user, &part, Some(&key))?;
            if used + tokens > limit as i64 {
                return Ok(Err(MemoryError::TokenLimit {
                    limit,
                    used,
                    adding: tokens,
                }));
            }
        }
        Ok(Ok(memories::replace(
            conn, &user, &part, &key, &new_key, &value, tokens,
        )?))
    })
    .await?
    .map(Shown::from)
}

/// Sets the memory `key` of a partition to `value` (adding it, or replacing its value): the
/// memory tools' `set_memory`. The checks of [`create`], with the token limit counted without the value
/// being replaced; LibreChat's `nothing` key (what a model sets when there is nothing to keep)
/// is not stored.
pub async fn set(
    db: &Db,
    config: Option<&MemoryConfig>,
    user_id: &str,
    partition: &str,
    key: &str,
    value: &str,
) -> Result<Shown, MemoryError> {
    let c = settings(config)?;
    let key = required(Some(key), MemoryError::KeyRequired)?
        .trim()
        .to_owned();
    let value = required(Some(value), MemoryError::ValueRequired)?;
    check(&c, &key, value)?;
    if key.eq_ignore_ascii_case("nothing") {
        return Err(MemoryError::KeyRequired);
    }
    let value = value.trim().to_owned();
    let tokens = tokens_of(&value).await?;
    let (user, part, limit) = (user_id.to_owned(), partition.to_owned(), c.token_limit());
    db.write(move |conn| {
        if let Some(limit) = limit {
            let used = memories::partition_tokens(conn, &user, &part, Some(&key))?;
            if used + tokens > limit as i64 {
                return Ok(Err(MemoryError::TokenLimit {
                    limit,
                    used,
                    adding: tokens,
                }));
            }
        }
        Ok(Ok(memories::upsert(
            conn, &user, &part, &key, &value, tokens,
        )?))
    })
    .await?
    .map(Shown::from)
}

/// A partition of the person's memories as a model with the memory tools is shown it
/// (LibreChat's `withKeys`: oldest first, numbered, dated, with keys and token counts), and
/// its tokens together.
pub async fn with_keys(db: &Db, user_id: &str, partition: &str) -> Result<(String, i64), DbError> {
    let (user, part) = (user_id.to_owned(), partition.to_owned());
    let pool = db
        .read(move |conn| memories::list_partition(conn, &user, &part))
        .await?;
    let total = pool.iter().map(|m| m.token_count).sum();
    Ok((format_with_keys(&pool), total))
}

/// [`with_keys`]'s text for these memories (oldest first).
fn format_with_keys(pool: &[Memory]) -> String {
    let listed: Vec<String> = pool
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let date = m.updated_at.get(..10).unwrap_or(&m.updated_at);
            let tokens = match m.token_count {
                0 => String::new(),
                n => format!(" [{n} tokens]"),
            };
            format!(
                "{}. [{date}]. [\"key\": \"{}\"]{tokens}. [\"value\": \"{}\"]",
                i + 1,
                m.key,
                m.value
            )
        })
        .collect();
    listed.join("\n\n")
}

/// Deletes the memory `key` of a partition of the person's memories.
pub async fn delete(
    db: &Db,
    config: Option<&MemoryConfig>,
    user_id: &str,
    partition: &str,
    key: &str,
) -> Result<(), MemoryError> {
    settings(config)?;
    let (user, part, key) = (user_id.to_owned(), partition.to_owned(), key.to_owned());
    match db
        .write(move |conn| memories::delete(conn, &user, &part, &key))
        .await?
    {
        true => Ok(()),
        false => Err(MemoryError::NotFound),
    }
}

/// Sets the person's opt-in (`personalization.memories`); answers what is stored.
pub async fn set_preference(db: &Db, user_id: &str, on: bool) -> Result<bool, MemoryError> {
    let user = user_id.to_owned();
    db.write(move |conn| users::set_memories_preference(conn, &user, on))
        .await
        .map_err(|e| match e {
            DbError::NotFound => MemoryError::NotFound,
            other => other.into(),
        })?;
    Ok(on)
}

/// Whether the person has turned memories off (`personalization.memories: false`).
pub fn opted_out(personalization: &serde_json::Value) -> bool {
    personalization.get("memories") == Some(&serde_json::Value::Bool(false))
}

/// The memory part of the system prompt for a person who may use memories and has not opted
/// out, when librechat.yaml has a `memory` section that personalises: LibreChat's instructions,
/// then the memories of `partition` (the shared pool, or the agent's own) oldest first,
/// numbered, dated, values only; with their keys and tokens (`with_keys`) for a model that has
/// the memory tools, so it can name what to rewrite or delete. `None` when there is nothing
/// to add.
pub async fn prompt_context(
    db: &Db,
    config: Option<&MemoryConfig>,
    user_id: &str,
    partition: &str,
    with_keys: bool,
) -> Result<Option<String>, DbError> {
    if !config.is_some_and(MemoryConfig::personalizes) {
        return Ok(None);
    }
    let (user, part) = (user_id.to_owned(), partition.to_owned());
    let pool = db
        .read(move |conn| memories::list_partition(conn, &user, &part))
        .await?;
    Ok(match with_keys {
        true if !pool.is_empty() => Some(format!(
            "{INSTRUCTIONS}\n\n# Existing memory about the user:\n{}",
            format_with_keys(&pool)
        )),
        true => None,
        false => format_context(&pool),
    })
}

/// [`prompt_context`]'s text for these memories (oldest first), values only.
pub fn format_context(pool: &[Memory]) -> Option<String> {
    if pool.is_empty() {
        return None;
    }
    let listed: Vec<String> = pool
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let date = m.updated_at.get(..10).unwrap_or(&m.updated_at);
            format!("{}. [{date}]. {}", i + 1, m.value)
        })
        .collect();
    Some(format!(
        "{INSTRUCTIONS}\n\n# Existing memory about the user:\n{}",
        listed.join("\n\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(key: &str, value: &str, at: &str) -> Memory {
        Memory {
            id: "x".into(),
            user_id: "u".into(),
            agent_id: String::new(),
            key: key.into(),
            value: value.into(),
            token_count: 3,
            updated_at: at.into(),
        }
    }

    #[test]
    fn the_prompt_lists_values_numbered_and_dated_as_librechat_does() {
        let text = format_context(&[
            memory("name", "Calls herself Ada", "2026-01-02T03:04:05.000Z"),
            memory("likes", "Likes tea", "2026-02-03T00:00:00.000Z"),
        ])
        .unwrap();
        assert_eq!(
            text,
            format!(
                "{INSTRUCTIONS}\n\n# Existing memory about the user:\n\
                 1. [2026-01-02]. Calls herself Ada\n\n2. [2026-02-03]. Likes tea"
            )
        );
        assert_eq!(format_context(&[]), None);
    }

    #[test]
    fn an_agent_keeps_its_own_partition_only_when_its_scope_says_so() {
        assert_eq!(partition_of("agent_a", Some("agent")), "agent_a");
        assert_eq!(partition_of("agent_a____1", Some("agent")), "agent_a");
        assert_eq!(partition_of("agent_a____", Some("agent")), "agent_a____");
        assert_eq!(partition_of("agent_a", Some("user")), "");
        assert_eq!(partition_of("agent_a", None), "");
        assert_eq!(partition_of("", Some("agent")), "");
        assert_eq!(requested_partition(Some("  agent_a ")).unwrap(), "agent_a");
        assert_eq!(requested_partition(Some("   ")).unwrap(), "");
        assert_eq!(requested_partition(None).unwrap(), "");
        let long = "a".repeat(AGENT_ID_LIMIT + 1);
        assert!(matches!(
            requested_partition(Some(&long)),
            Err(MemoryError::AgentIdTooLong)
        ));
    }

    #[test]
    fn keys_are_checked_as_librechat_checks_them() {
        let c = MemoryConfig {
            valid_keys: Some(vec!["likes".into(), "name".into()]),
            char_limit: Some(5),
            ..MemoryConfig::default()
        };
        assert!(check(&c, "likes", "tea").is_ok());
        assert!(matches!(
            check(&c, "Likes", "tea"),
            Err(MemoryError::KeyFormat)
        ));
        let e = check(&c, "job", "x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid key \"job\". Must be one of: likes, name"
        );
        let e = check(&c, "likes", "123456").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Value exceeds maximum length of 5 characters. Current length: 6 characters."
        );
    }
}
