//! The marketplace: lists of agents and their categories, always filtered in SQL by what the
//! viewer can see (the access entries joined through [`acl::grants_cte`]), never after loading.

use rusqlite::{Connection, Row, ToSql};
use serde_json::{Map, Value};

use super::DbError;
use super::acl::{self, BITS_OF_GRANTS, ResourceType, Viewer};
use super::agents::json_of;

/// The agents the viewer can see: their bits, and whether everyone may see them.
fn visible() -> String {
    format!(
        "{}, visible AS (SELECT resource_id, {BITS_OF_GRANTS} AS bits,
                                max(via = 'public' AND perm_bits & 1) AS is_public
                         FROM grants GROUP BY resource_id HAVING bits & 1)",
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

fn listed_from_row(r: &Row<'_>) -> rusqlite::Result<Listed> {
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
        is_public: r.get(13)?,
        bits: r.get::<_, i64>(14)? as u8,
    })
}

/// The agents the viewer can see that pass `filter`, most recently changed first; at most
/// `limit`, after `after`.
pub fn list(
    conn: &Connection,
    viewer: &Viewer,
    filter: &Filter,
    after: Option<&After>,
    limit: usize,
) -> Result<Vec<Listed>, DbError> {
    let sql = format!(
        "WITH {}
         SELECT a.object_id, a.id, a.name, a.description, a.avatar, a.author,
                coalesce(nullif(u.name, ''), u.username, ''), a.conversation_starters, a.category,
                a.support_contact, a.is_promoted, a.updated_at, a.extra, v.is_public, v.bits
         FROM visible v JOIN agents a ON a.object_id = v.resource_id
         LEFT JOIN users u ON u.id = a.author
         WHERE v.bits & :need = :need
           AND (:category IS NULL OR a.category = :category)
           AND (:promoted IS NULL OR a.is_promoted = :promoted)
           AND (:search IS NULL OR instr(lower(coalesce(a.name, '')), lower(:search)) > 0
                OR instr(lower(coalesce(a.description, '')), lower(:search)) > 0)
           AND (:after_u IS NULL OR a.updated_at < :after_u
                OR (a.updated_at = :after_u AND a.object_id > :after_id))
         ORDER BY a.updated_at DESC, a.object_id
         LIMIT :limit",
        visible()
    );
    let need = i64::from(filter.required | super::agents::VIEW);
    let limit = limit as i64;
    let (after_u, after_id) = match after {
        Some(a) => (Some(a.updated_at.as_str()), Some(a.object_id.as_str())),
        None => (None, None),
    };
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
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(&args[..], listed_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
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
         WHERE c.is_active ORDER BY c.sort_order, c.label",
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
             WHERE a.is_promoted",
            visible()
        );
        promoted = conn
            .prepare_cached(&sql)?
            .query_row(&viewer.bind()[..], |r| r.get(0))?;
    }
    Ok((out, promoted))
}
