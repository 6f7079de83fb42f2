//! Changing who may use a resource, reading its entries, and finding people to share with.

use super::{ResourceType, access_role};
use crate::db::{self, Db, DbError};

/// LibreChat's `PrincipalType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    User,
    Group,
    Role,
    Public,
}

impl PrincipalType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "user" => Self::User,
            "group" => Self::Group,
            "role" => Self::Role,
            "public" => Self::Public,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Role => "role",
            Self::Public => "public",
        }
    }
}

/// One principal of a change: who, and (for a grant) which access role.
#[derive(Debug, Clone)]
pub struct Principal {
    pub kind: PrincipalType,
    /// A user's or a group's id, a role's name; empty for everyone.
    pub id: String,
    pub access_role_id: Option<String>,
}

/// A change to a resource's entries (LibreChat's `TUpdateResourcePermissionsRequest`, read).
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// Principals to grant (or re-grant) an access role.
    pub grant: Vec<Principal>,
    /// Principals whose entry goes.
    pub revoke: Vec<Principal>,
}

/// Why a change was refused; nothing of it was applied.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error("{0} does not exist")]
    UnknownPrincipal(String),
    #[error("{0} is not an access role of this resource type")]
    UnknownAccessRole(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Applies a change in one transaction: every principal granted must exist (users and groups
/// here, roles in `role_exists`), or nothing is applied. Returns the principals granted.
pub async fn apply(
    db: &Db,
    rt: ResourceType,
    resource_id: &str,
    change: Change,
    granted_by: &str,
    role_exists: impl Fn(&str) -> bool,
) -> Result<Vec<Principal>, ShareError> {
    let mut grants = Vec::new();
    for p in change.grant {
        let role_id = p.access_role_id.clone().unwrap_or_default();
        let Some(role) = access_role(rt, &role_id) else {
            return Err(ShareError::UnknownAccessRole(role_id));
        };
        if p.kind == PrincipalType::Role && !role_exists(&p.id) {
            return Err(ShareError::UnknownPrincipal(format!("role {}", p.id)));
        }
        grants.push((p, role.bits));
    }
    let (resource_id, granted_by) = (resource_id.to_owned(), granted_by.to_owned());
    let revoke = change.revoke;
    let outcome = db
        .write(move |conn| {
            let tx = conn.transaction()?;
            for (p, _) in &grants {
                let exists = match p.kind {
                    PrincipalType::User => db::acl::user_exists(&tx, &p.id)?,
                    PrincipalType::Group => db::groups::get(&tx, &p.id)?.is_some(),
                    PrincipalType::Role | PrincipalType::Public => true,
                };
                if !exists {
                    return Ok(Err(format!("{} {}", p.kind.as_str(), p.id)));
                }
            }
            for p in &revoke {
                db::acl::revoke(&tx, rt, &resource_id, p.kind.as_str(), &p.id)?;
            }
            for (p, bits) in &grants {
                let role = p.access_role_id.as_deref().unwrap_or_default();
                let by = Some(granted_by.as_str());
                db::acl::grant(
                    &tx,
                    rt,
                    &resource_id,
                    p.kind.as_str(),
                    &p.id,
                    role,
                    *bits,
                    by,
                )?;
            }
            tx.commit()?;
            Ok(Ok(grants.into_iter().map(|(p, _)| p).collect()))
        })
        .await?;
    outcome.map_err(ShareError::UnknownPrincipal)
}

/// The entries of a resource, with their principals' names.
pub async fn entries(
    db: &Db,
    rt: ResourceType,
    resource_id: &str,
) -> Result<Vec<db::acl::Entry>, DbError> {
    let id = resource_id.to_owned();
    db.read(move |c| db::acl::entries(c, rt, &id)).await
}

/// One person, group or role the people picker found.
#[derive(Debug, Clone)]
pub struct Found {
    pub kind: PrincipalType,
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub username: Option<String>,
    pub avatar: Option<String>,
    pub provider: Option<String>,
    pub description: Option<String>,
    pub source: String,
    pub member_count: Option<i64>,
    pub id_on_the_source: String,
    score: u8,
}

/// Users, groups and roles (those of `kinds`) matching `query`, at most `limit` of each kind
/// read, the best `limit` answered: exact matches first, then prefixes, then the rest; users
/// before groups at equal scores (LibreChat's order).
pub async fn search(
    db: &Db,
    query: &str,
    limit: usize,
    kinds: &[PrincipalType],
    role_names: Vec<String>,
) -> Result<Vec<Found>, DbError> {
    let (q, want_users, want_groups) = (
        query.to_owned(),
        kinds.contains(&PrincipalType::User),
        kinds.contains(&PrincipalType::Group),
    );
    let (users, groups) = db
        .read(move |c| {
            let users = if want_users {
                db::acl::search_users(c, &q, limit)?
            } else {
                Vec::new()
            };
            let groups = if want_groups {
                db::groups::search(c, &q, limit)?
            } else {
                Vec::new()
            };
            Ok((users, groups))
        })
        .await?;
    let mut found: Vec<Found> = Vec::new();
    for u in users {
        let name = if u.name.is_empty() {
            u.email.clone()
        } else {
            u.name
        };
        let score = score(query, [name.as_str(), &u.email, &u.username]);
        found.push(Found {
            kind: PrincipalType::User,
            id_on_the_source: u.id.clone(),
            id: u.id,
            name,
            email: Some(u.email),
            username: Some(u.username),
            avatar: u.avatar,
            provider: Some(u.provider),
            description: None,
            source: "local".into(),
            member_count: None,
            score,
        });
    }
    for g in groups {
        let score = score(
            query,
            [
                g.name.as_str(),
                g.email.as_deref().unwrap_or(""),
                &g.description,
            ],
        );
        found.push(Found {
            kind: PrincipalType::Group,
            id_on_the_source: g.id_on_the_source.unwrap_or_else(|| g.id.clone()),
            id: g.id,
            name: g.name,
            email: g.email,
            username: None,
            avatar: g.avatar,
            provider: None,
            description: Some(g.description),
            source: g.source,
            member_count: Some(g.member_count),
            score,
        });
    }
    if kinds.contains(&PrincipalType::Role) {
        let lower = query.to_lowercase();
        for name in role_names
            .into_iter()
            .filter(|n| n.to_lowercase().contains(&lower))
            .take(limit)
        {
            found.push(Found {
                kind: PrincipalType::Role,
                score: score(query, [name.as_str()]),
                id: name.clone(),
                id_on_the_source: name.clone(),
                name,
                email: None,
                username: None,
                avatar: None,
                provider: None,
                description: None,
                source: "local".into(),
                member_count: None,
            });
        }
    }
    found.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| (a.kind != PrincipalType::User).cmp(&(b.kind != PrincipalType::User)))
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    found.truncate(limit);
    Ok(found)
}

/// LibreChat's relevance: 100 for an exact field, 80 for a prefix, 50 for a part, else 10.
fn score<'a>(query: &str, fields: impl IntoIterator<Item = &'a str>) -> u8 {
    let q = query.to_lowercase();
    fields
        .into_iter()
        .filter(|f| !f.is_empty())
        .map(|f| {
            let f = f.to_lowercase();
            if f == q {
                100
            } else if f.starts_with(&q) {
                80
            } else if f.contains(&q) {
                50
            } else {
                10
            }
        })
        .max()
        .unwrap_or(0)
}
