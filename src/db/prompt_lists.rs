//! Lists of prompt groups, always filtered in SQL by what the viewer can see (the access
//! entries joined through [`acl::grants_cte`]), never after loading.

use crate::db::sql::Connection;
use rusqlite::ToSql;

use super::DbError;
use super::acl::{self, ResourceType, Viewer};
use super::prompts::{LISTED_COLUMNS, PromptGroup, group_from_row};

/// The groups the viewer can see, and whether each is public, from [`acl::grants_cte`].
const VISIBLE: &str =
    "visible AS (SELECT resource_id, max(CASE WHEN via = 'public' THEN 1 ELSE 0 END) AS is_public
                                FROM grants WHERE (perm_bits & 1) <> 0 GROUP BY resource_id)";

/// Whose groups a list holds, among those the viewer can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every group the viewer can see.
    #[default]
    All,
    /// Only the groups the viewer wrote.
    Mine,
    /// Only the groups others wrote and shared.
    Shared,
}

/// A list's filters.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Part of the name, case aside.
    pub name: Option<String>,
    /// Exactly this category (`Some("")`: none).
    pub category: Option<String>,
    pub scope: Scope,
}

/// Where a page starts: after this group in the list's order (uses, then newest change, then
/// id).
#[derive(Debug, Clone)]
pub struct After {
    pub number_of_generations: i64,
    pub updated_at: String,
    pub id: String,
}

/// The groups the viewer can see that pass `filter`, most used first, then most recently
/// changed; at most `limit` (all when `None`), after `after`.
pub fn list(
    conn: &Connection,
    viewer: &Viewer,
    filter: &Filter,
    after: Option<&After>,
    limit: Option<usize>,
) -> Result<Vec<PromptGroup>, DbError> {
    let mine: Option<bool> = match filter.scope {
        Scope::All => None,
        Scope::Mine => Some(true),
        Scope::Shared => Some(false),
    };
    // The page is chosen before the production texts are read, so a short page of a long list
    // reads a few texts, not all of them.
    let sql = format!(
        "WITH {}, {VISIBLE},
         page AS (SELECT g.*, v.is_public FROM visible v
                  JOIN prompt_groups g ON g.id = v.resource_id
                  WHERE (:name IS NULL OR instr(lower(g.name), lower(:name)) > 0)
                    AND (:category IS NULL OR g.category = :category)
                    AND (:mine IS NULL
                         OR (CASE WHEN g.author = :acl_user THEN 1 ELSE 0 END) = CAST(:mine AS INTEGER))
                    AND (:after_n IS NULL OR g.number_of_generations < CAST(:after_n AS BIGINT)
                         OR (g.number_of_generations = CAST(:after_n AS BIGINT)
                             AND (g.updated_at < :after_u
                                  OR (g.updated_at = :after_u AND g.id > :after_id))))
                  ORDER BY g.number_of_generations DESC, g.updated_at DESC, g.id
                  LIMIT :limit)
         SELECT {LISTED_COLUMNS} FROM page g LEFT JOIN prompts p ON p.id = g.production_id
         ORDER BY g.number_of_generations DESC, g.updated_at DESC, g.id",
        acl::grants_cte(ResourceType::PromptGroup)
    );
    // No limit: the largest one (PostgreSQL refuses SQLite's -1).
    let limit = limit.map_or(i64::MAX, |l| l as i64);
    let (after_n, after_u, after_id) = match after {
        Some(a) => (
            Some(a.number_of_generations),
            Some(a.updated_at.as_str()),
            Some(a.id.as_str()),
        ),
        None => (None, None, None),
    };
    let mut args: Vec<(&str, &dyn ToSql)> = viewer.bind().to_vec();
    args.extend([
        (":name", &filter.name as &dyn ToSql),
        (":category", &filter.category),
        (":mine", &mine),
        (":after_n", &after_n),
        (":after_u", &after_u),
        (":after_id", &after_id),
        (":limit", &limit),
    ]);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(&args[..], group_from_row)?;
    rows.collect::<Result<_, _>>()
}

/// One group of each of `limit` categories (after skipping `skip`), the categories in a random
/// order, among the groups the viewer can see.
pub fn random(
    conn: &Connection,
    viewer: &Viewer,
    skip: usize,
    limit: usize,
) -> Result<Vec<PromptGroup>, DbError> {
    let sql = format!(
        "WITH {}, {VISIBLE},
         picked AS (SELECT min(g.id) AS id FROM visible v
                    JOIN prompt_groups g ON g.id = v.resource_id
                    WHERE g.category != '' GROUP BY g.category
                    ORDER BY random() LIMIT :limit OFFSET :skip),
         page AS (SELECT g.*, v.is_public FROM picked
                  JOIN prompt_groups g ON g.id = picked.id
                  JOIN visible v ON v.resource_id = g.id)
         SELECT {LISTED_COLUMNS} FROM page g LEFT JOIN prompts p ON p.id = g.production_id",
        acl::grants_cte(ResourceType::PromptGroup)
    );
    let (skip, limit) = (skip as i64, limit as i64);
    let mut args: Vec<(&str, &dyn ToSql)> = viewer.bind().to_vec();
    args.extend([(":skip", &skip as &dyn ToSql), (":limit", &limit)]);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(&args[..], group_from_row)?;
    rows.collect::<Result<_, _>>()
}
