//! The marketplace: lists of agents and their categories, always filtered in SQL by what the
//! viewer can see (the access entries joined through [`acl::grants_cte`], or probed per agent
//! with [`acl::entries_of`]), never after loading.

use crate::db::sql::{Connection, Row};
use rusqlite::ToSql;
use serde_json::{Map, Value};

use super::DbError;
use super::acl::{self, BITS_OF_GRANTS, ResourceType, Viewer};
use super::agents::json_of;

/// The agents the viewer can see: their bits, and whether everyone may see them.
fn visible() -> String {
    format!(
        "{}, visible AS (SELECT resource_id, {BITS_OF_GRANTS} AS bits,
                                max(CASE WHEN via = 'public' AND (perm_bits & 1) <> 0 THEN 1 ELSE 0 END)
                                    AS is_public
                         FROM grants GROUP BY resource_id HAVING ({BITS_OF_GRANTS} & 1) <> 0)",
        acl::grants_cte(ResourceType::Agent)
    )
}

/// A list's filters (LibreChat's `GET /api/agents` query).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Exactly this category.
    pub category: Option<String>,
    /// Part of the name or the description, case aside.
    pub search: Option<String>,
    /// Only promoted agents (`Some(true)`), or only the others.
    pub promoted: Option<bool>,
    /// The bits the viewer must hold on each (LibreChat's `requiredPermission`; VIEW at least).
    pub required: u8,
}

/// Where a page starts: after this agent in the list's order (newest change first, then `_id`).
#[derive(Debug, Clone)]
pub struct After {
    pub updated_at: String,
    pub object_id: String,
}

/// An agent as the marketplace lists it (LibreChat's projection of the list).
#[derive(Debug, Clone)]
pub struct Listed {
    pub object_id: String,
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub avatar: Option<Value>,
    pub author: String,
    pub author_name: String,
    pub conversation_starters: Vec<Value>,
    pub category: String,
    pub support_contact: Option<Value>,
    pub is_promoted: bool,
    pub updated_at: String,
    pub is_public: bool,
    /// The viewer's bits on it.
    pub bits: u8,
    /// Skills, for LibreChat's viewer scoping of them (kept as stored).
    pub extra: Map<String, Value>,
}

/// The columns of a listed agent, from `agents a` and its author `users u`; the access
/// columns (or the packed bits of [`walk_bits`]) follow.
const COLUMNS: &str = "a.object_id, a.id, a.name, a.description, a.avatar, a.author,
    coalesce(nullif(u.name, ''), u.username, ''), a.conversation_starters, a.category,
    a.support_contact, a.is_promoted, a.updated_at, a.extra";

/// A list's filters and where its page starts, on `agents a`, in the list's order (newest
/// change first, then `_id`).
const FILTERS: &str = "(:category IS NULL OR a.category = :category)
    AND (:promoted IS NULL OR a.is_promoted = :promoted)
    AND (:search IS NULL OR instr(lower(coalesce(a.name, '')), lower(:search)) > 0
         OR instr(lower(coalesce(a.description, '')), lower(:search)) > 0)
    AND (:after_u IS NULL OR a.updated_at < :after_u
         OR (a.updated_at = :after_u AND a.object_id > :after_id))";

fn listed_from_row(r: &Row<'_>, is_public: bool, bits: u8) -> crate::db::sql::Result<Listed> {
    Ok(Listed {
        object_id: r.get(0)?,
        id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        avatar: json_of(r.get(4)?),
        author: r.get(5)?,
        author_name: r.get(6)?,
        conversation_starters: json_of(r.get(7)?).unwrap_or_default(),
        category: r.get(8)?,
        support_contact: json_of(r.get(9)?),
        is_promoted: r.get(10)?,
        updated_at: r.get(11)?,
        extra: json_of(r.get(12)?).unwrap_or_default(),
        is_public,
        bits,
    })
}

/// The agents the viewer can see that pass `filter`, most recently changed first; at most
/// `limit`, after `after`.
///
/// Two ways to the same page. For a viewer who sees many of the agents (a quarter or more: an
/// administrators' group, a shared catalogue), the walk reads the agents in the list's order
/// (`agents_by_update`), probes each one's access entries and stops at the page: about a page
/// of rows, where gathering all the viewer's grants first read them all (`benches/agents.rs`,
/// 10,000 agents, first page of 20: p50 33-37 ms gathering, under 1 ms walking). For a viewer
/// who sees few, the walk would read many agents for each one shown (all of them, with a
/// filter few match), and gathering their grants is the cheap way (2-4 ms there either way).
pub fn list(
    conn: &Connection,
    viewer: &Viewer,
    filter: &Filter,
    after: Option<&After>,
    limit: usize,
) -> Result<Vec<Listed>, DbError> {
    let need = i64::from(filter.required | super::agents::VIEW);
    let (after_u, after_id) = match after {
        Some(a) => (Some(a.updated_at.as_str()), Some(a.object_id.as_str())),
        None => (None, None),
    };
    let limit = limit as i64;
    let mut args: Vec<(&str, &dyn ToSql)> = viewer.bind().to_vec();
    args.extend([
        (":need", &need as &dyn ToSql),
        (":category", &filter.category),
        (":promoted", &filter.promoted),
        (":search", &filter.search),
        (":after_u", &after_u),
        (":after_id", &after_id),
        (":limit", &limit),
    ]);
    if sees_many(conn, viewer)? {
        walk(conn, &args)
    } else {
        gathered(conn, &args)
    }
}

/// Whether the viewer's grants on agents number a quarter of the agents or more. Counts no
/// more than that many grants (an index range), against the table's highest rowid (its number
/// of rows, give or take deleted ones, read without counting them).
fn sees_many(conn: &Connection, viewer: &Viewer) -> Result<bool, DbError> {
    let sql = format!(
        "WITH {}, enough(n) AS (SELECT coalesce(max(rowid), 0) / 4 + 1 FROM agents)
         SELECT count(*) >= (SELECT n FROM enough)
         FROM (SELECT 1 FROM grants LIMIT (SELECT n FROM enough)) AS first_grants",
        acl::grants_cte(ResourceType::Agent)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.query_row(&viewer.bind()[..], |r| r.get(0))
}

/// The viewer's bits on agent `a`, with 16 added when everyone may see it (NULL: none).
fn walk_bits() -> String {
    format!(
        "(SELECT {BITS_OF_GRANTS} | (max(CASE WHEN e.principal_type = 'public' AND (e.perm_bits & 1) <> 0 THEN 1 ELSE 0 END) << 4) {})",
        acl::entries_of(ResourceType::Agent, "a.object_id")
    )
}

/// The page, read in the list's order, each agent's access probed as it is read.
fn walk(conn: &Connection, args: &[(&str, &dyn ToSql)]) -> Result<Vec<Listed>, DbError> {
    // The probe written out twice, not named: PostgreSQL's WHERE cannot see the select
    // list's names (SQLite copies the expression in for the name, which is the same).
    let bits = walk_bits();
    let sql = format!(
        "SELECT {COLUMNS}, {bits} AS access
         FROM agents a LEFT JOIN users u ON u.id = a.author
         WHERE {FILTERS} AND {bits} & :need = :need
         ORDER BY a.updated_at DESC, a.object_id
         LIMIT :limit"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args, |r| {
        let access: i64 = r.get(13)?;
        listed_from_row(r, access & 16 != 0, (access & 15) as u8)
    })?;
    rows.collect::<Result<_, _>>()
}

/// The page, from all the agents the viewer can see (gathered from their grants), sorted.
fn gathered(conn: &Connection, args: &[(&str, &dyn ToSql)]) -> Result<Vec<Listed>, DbError> {
    let sql = format!(
        "WITH {}
         SELECT {COLUMNS}, v.is_public, v.bits
         FROM visible v JOIN agents a ON a.object_id = v.resource_id
         LEFT JOIN users u ON u.id = a.author
         WHERE v.bits & :need = :need AND {FILTERS}
         ORDER BY a.updated_at DESC, a.object_id
         LIMIT :limit",
        visible()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args, |r| {
        listed_from_row(r, r.get(13)?, r.get::<_, i64>(14)? as u8)
    })?;
    rows.collect::<Result<_, _>>()
}

/// A category of the marketplace and how many agents the viewer can see in it.
#[derive(Debug, Clone)]
pub struct Category {
    pub value: String,
    pub label: String,
    pub description: String,
    pub count: i64,
}

/// The active categories in their order, each with how many agents the viewer can see in it,
/// and how many of those agents are promoted.
pub fn categories(conn: &Connection, viewer: &Viewer) -> Result<(Vec<Category>, i64), DbError> {
    let sql = format!(
        "WITH {},
         counts AS (SELECT a.category, count(*) AS n, sum(a.is_promoted) AS promoted
                    FROM visible v JOIN agents a ON a.object_id = v.resource_id
                    GROUP BY a.category)
         SELECT c.value, c.label, c.description, coalesce(n.n, 0),
                (SELECT coalesce(sum(promoted), 0) FROM counts)
         FROM agent_categories c LEFT JOIN counts n ON n.category = c.value
         WHERE c.is_active <> 0 ORDER BY c.sort_order, c.label",
        visible()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut promoted = 0;
    let rows = stmt.query_map(&viewer.bind()[..], |r| {
        Ok((
            Category {
                value: r.get(0)?,
                label: r.get(1)?,
                description: r.get(2)?,
                count: r.get(3)?,
            },
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (c, p) = row?;
        promoted = p;
        out.push(c);
    }
    if out.is_empty() {
        // No active category: the promoted count still stands.
        let sql = format!(
            "WITH {} SELECT count(*) FROM visible v JOIN agents a ON a.object_id = v.resource_id
             WHERE a.is_promoted <> 0",
            visible()
        );
        promoted = conn
            .prepare_cached(&sql)?
            .query_row(&viewer.bind()[..], |r| r.get(0))?;
    }
    Ok((out, promoted))
}
