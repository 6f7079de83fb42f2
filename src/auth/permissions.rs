//! Roles and their permissions, as LibreChat defines them.
//!
//! ADMIN and USER are seeded at start with LibreChat's defaults; `interface.*` switches in
//! librechat.yaml that are set override them at every start; admins change them at run time
//! through `PUT /api/roles/:role/:type`. The current table is kept in memory for checks.

use std::collections::HashMap;
use std::sync::RwLock;

use serde_json::{Map, Value, json};

use crate::config::yaml::{Interface, Permission as Switch};
use crate::db::{self, Db, DbError};

pub const ADMIN: &str = "ADMIN";
pub const USER: &str = "USER";

/// Permission types and the route segment that edits each (`PUT /api/roles/:role/<segment>`).
pub const EDITABLE: [(&str, &str); 8] = [
    ("prompts", "PROMPTS"),
    ("agents", "AGENTS"),
    ("memories", "MEMORIES"),
    ("people-picker", "PEOPLE_PICKER"),
    ("mcp-servers", "MCP_SERVERS"),
    ("marketplace", "MARKETPLACE"),
    ("remote-agents", "REMOTE_AGENTS"),
    ("skills", "SKILLS"),
];

/// LibreChat's permission table with the USER role's defaults.
fn user_defaults() -> Value {
    json!({
        "PROMPTS": {"USE": true, "CREATE": true, "SHARE": false, "SHARE_PUBLIC": false},
        "AGENTS": {"USE": true, "CREATE": true, "SHARE": false, "SHARE_PUBLIC": false},
        "BOOKMARKS": {"USE": true},
        "MEMORIES": {"USE": true, "CREATE": true, "UPDATE": true, "READ": true, "OPT_OUT": true},
        "MULTI_CONVO": {"USE": true},
        "TEMPORARY_CHAT": {"USE": true},
        "RUN_CODE": {"USE": true},
        "WEB_SEARCH": {"USE": true},
        "PEOPLE_PICKER": {"VIEW_USERS": false, "VIEW_GROUPS": false, "VIEW_ROLES": false},
        "MARKETPLACE": {"USE": false},
        "FILE_SEARCH": {"USE": true},
        "FILE_CITATIONS": {"USE": true},
        "MCP_SERVERS": {"USE": true, "CREATE": true, "SHARE": false, "SHARE_PUBLIC": false, "CONFIGURE_OBO": false},
        "REMOTE_AGENTS": {"USE": false, "CREATE": false, "SHARE": false, "SHARE_PUBLIC": false},
        "SKILLS": {"USE": true, "CREATE": true, "SHARE": false},
        "SCHEDULES": {"USE": true, "CREATE": true},
        "SHARED_LINKS": {"CREATE": true, "SHARE": true, "SHARE_PUBLIC": false}
    })
}

/// ADMIN has every permission.
fn admin_defaults() -> Value {
    let mut all = user_defaults();
    for perms in all.as_object_mut().expect("object").values_mut() {
        for v in perms.as_object_mut().expect("object").values_mut() {
            *v = Value::Bool(true);
        }
    }
    all
}

/// The permissions that `interface.*` sets, as `(TYPE, PERMISSION, value)`.
fn from_interface(i: &Interface) -> Vec<(&'static str, &'static str, bool)> {
    let mut out = Vec::new();
    let mut flag = |t, p, v: Option<bool>| {
        if let Some(v) = v {
            out.push((t, p, v));
        }
    };
    flag("BOOKMARKS", "USE", i.bookmarks);
    flag("MULTI_CONVO", "USE", i.multi_convo);
    flag("TEMPORARY_CHAT", "USE", i.temporary_chat);
    flag("RUN_CODE", "USE", i.run_code);
    flag("WEB_SEARCH", "USE", i.web_search);
    flag("FILE_SEARCH", "USE", i.file_search);
    flag("FILE_CITATIONS", "USE", i.file_citations);
    flag("MEMORIES", "USE", i.memories);
    flag(
        "MARKETPLACE",
        "USE",
        i.marketplace.as_ref().and_then(|m| m.use_),
    );
    if let Some(p) = &i.people_picker {
        flag("PEOPLE_PICKER", "VIEW_USERS", p.users);
        flag("PEOPLE_PICKER", "VIEW_GROUPS", p.groups);
        flag("PEOPLE_PICKER", "VIEW_ROLES", p.roles);
    }
    for (t, switch) in [
        ("PROMPTS", &i.prompts),
        ("AGENTS", &i.agents),
        ("MCP_SERVERS", &i.mcp_servers),
    ] {
        match switch {
            Some(Switch::Switch(on)) => flag(t, "USE", Some(*on)),
            Some(Switch::Detailed {
                use_,
                create,
                share,
                public,
            }) => {
                flag(t, "USE", *use_);
                flag(t, "CREATE", *create);
                flag(t, "SHARE", *share);
                flag(t, "SHARE_PUBLIC", *public);
            }
            None => {}
        }
    }
    out
}

/// The roles currently in force, kept in memory for fast checks and written through to the db.
pub struct Roles {
    db: Db,
    table: RwLock<HashMap<String, Value>>,
    /// One update at a time: each reads, changes and writes a role whole.
    updating: tokio::sync::Mutex<()>,
}

impl Roles {
    /// Seeds missing roles with LibreChat's defaults, applies `interface.*`, loads the table.
    pub async fn load(db: Db, interface: Option<Interface>) -> Result<Self, DbError> {
        let table = db
            .write(move |conn| {
                let tx = conn.transaction()?;
                for (name, defaults) in [(ADMIN, admin_defaults()), (USER, user_defaults())] {
                    let mut perms = db::roles::get(&tx, name)?.unwrap_or(Value::Null);
                    // New permission types from a newer version get their defaults.
                    merge_missing(&mut perms, &defaults);
                    if let Some(i) = &interface {
                        for (t, p, v) in from_interface(i) {
                            perms[t][p] = Value::Bool(v);
                        }
                    }
                    db::roles::put(&tx, name, &perms)?;
                }
                let all = db::roles::all(&tx)?;
                tx.commit()?;
                Ok(all)
            })
            .await?;
        Ok(Self {
            db,
            table: RwLock::new(table.into_iter().collect()),
            updating: tokio::sync::Mutex::new(()),
        })
    }

    /// `{name, permissions}` of a role, LibreChat's `TRole`.
    pub fn get(&self, name: &str) -> Option<Value> {
        let table = self.table.read().expect("roles lock");
        table
            .get(name)
            .map(|p| json!({ "name": name, "permissions": p }))
    }

    /// Whether `role` has `permission` of `kind` (e.g. `PROMPTS`, `CREATE`).
    pub fn allows(&self, role: &str, kind: &str, permission: &str) -> bool {
        let table = self.table.read().expect("roles lock");
        table
            .get(role)
            .and_then(|p| p.get(kind))
            .and_then(|p| p.get(permission))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Sets some permissions of one type. Unknown roles, types or permissions are refused.
    pub async fn update(
        &self,
        role: &str,
        kind: &str,
        changes: Map<String, Value>,
    ) -> Result<Value, RoleError> {
        let _one_at_a_time = self.updating.lock().await;
        let mut perms = {
            let table = self.table.read().expect("roles lock");
            table.get(role).cloned().ok_or(RoleError::UnknownRole)?
        };
        let current = perms
            .get_mut(kind)
            .and_then(Value::as_object_mut)
            .ok_or(RoleError::UnknownType)?;
        for (k, v) in changes {
            let slot = current
                .get_mut(&k)
                .ok_or_else(|| RoleError::UnknownPermission(k.clone()))?;
            *slot = Value::Bool(
                v.as_bool()
                    .ok_or_else(|| RoleError::NotBoolean(k.clone()))?,
            );
        }
        let (name, stored) = (role.to_owned(), perms.clone());
        self.db
            .write(move |c| db::roles::put(c, &name, &stored))
            .await?;
        self.table
            .write()
            .expect("roles lock")
            .insert(role.to_owned(), perms);
        Ok(self.get(role).unwrap_or(Value::Null))
    }

    pub fn exists(&self, role: &str) -> bool {
        self.table.read().expect("roles lock").contains_key(role)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("no such role")]
    UnknownRole,
    #[error("no such permission type")]
    UnknownType,
    #[error("unknown permission {0}")]
    UnknownPermission(String),
    #[error("permission {0} must be true or false")]
    NotBoolean(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

fn merge_missing(target: &mut Value, defaults: &Value) {
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let (Some(t), Some(d)) = (target.as_object_mut(), defaults.as_object()) else {
        return;
    };
    for (k, v) in d {
        match t.get_mut(k) {
            Some(existing) if v.is_object() => merge_missing(existing, v),
            Some(_) => {}
            None => {
                t.insert(k.clone(), v.clone());
            }
        }
    }
}
