//! Roles and their permissions, as LibreChat defines them.
//!
//! ADMIN and USER are seeded at start with LibreChat's defaults; `interface.*` switches in
//! librechat.yaml that are set override them at every start; admins change them at run time
//! (`PUT /api/roles/:role/:type`, `PATCH /api/admin/roles/:role/permissions`). The current table
//! is kept in memory for checks.
//!
//! What is stored is what LibreChat would store, for every feature. What is answered and
//! enforced is the effective table: a feature this server does not have yet
//! ([`crate::config::features`]) reads as off in every role, so LibreChat's client hides it,
//! whatever the yaml or an administrator set. The stored value takes effect the day the feature
//! is built.

use std::collections::HashMap;
use std::sync::RwLock;

use serde_json::{Map, Value, json};

use crate::config::features;
use crate::config::memory::MemoryConfig;
use crate::config::yaml::{Interface, Permission as Switch};
use crate::db::{self, Db, DbError};

pub const ADMIN: &str = "ADMIN";
pub const USER: &str = "USER";

/// The permission types `PUT /api/roles/:role/<segment>` edits, and LibreChat's message when
/// the body does not fit the type's schema.
pub const EDITABLE: [(&str, &str, &str); 8] = [
    ("prompts", "PROMPTS", "Invalid prompt permissions."),
    ("agents", "AGENTS", "Invalid agent permissions."),
    ("memories", "MEMORIES", "Invalid memory permissions."),
    (
        "people-picker",
        "PEOPLE_PICKER",
        "Invalid people picker permissions.",
    ),
    (
        "mcp-servers",
        "MCP_SERVERS",
        "Invalid MCP servers permissions.",
    ),
    (
        "marketplace",
        "MARKETPLACE",
        "Invalid marketplace permissions.",
    ),
    (
        "remote-agents",
        "REMOTE_AGENTS",
        "Invalid remote agents permissions.",
    ),
    ("skills", "SKILLS", "Invalid skill permissions."),
];

/// LibreChat's permission table (v0.8.8's `permissionsSchema`) with the USER role's defaults
/// (its `roleDefaults.USER`, schema defaults filled in).
fn user_defaults() -> Value {
    json!({
        "PROMPTS": {"USE": true, "CREATE": true, "SHARE": false, "SHARE_PUBLIC": false},
        "BOOKMARKS": {"USE": true},
        "MEMORIES": {"USE": true, "CREATE": true, "UPDATE": true, "READ": true, "OPT_OUT": true},
        "AGENTS": {"USE": true, "CREATE": true, "SHARE": false, "SHARE_PUBLIC": false},
        "MULTI_CONVO": {"USE": true},
        "TEMPORARY_CHAT": {"USE": true},
        "RUN_CODE": {"USE": true},
        "WEB_SEARCH": {"USE": true},
        "PEOPLE_PICKER": {"VIEW_USERS": false, "VIEW_GROUPS": false, "VIEW_ROLES": false},
        "MARKETPLACE": {"USE": false},
        "FILE_SEARCH": {"USE": true},
        "FILE_CITATIONS": {"USE": true},
        "MCP_SERVERS": {"USE": true, "CREATE": false, "SHARE": false, "SHARE_PUBLIC": false, "CONFIGURE_OBO": false},
        "REMOTE_AGENTS": {"USE": false, "CREATE": false, "SHARE": false, "SHARE_PUBLIC": false},
        "SKILLS": {"USE": true, "CREATE": true, "SHARE": false, "SHARE_PUBLIC": false},
        "SHARED_LINKS": {"CREATE": true, "SHARE": true, "SHARE_PUBLIC": true}
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

/// The permissions of a type LibreChat knows (`PROMPTS` → `USE`, `CREATE`, ...).
fn schema(kind: &str) -> Option<Vec<String>> {
    user_defaults()
        .get(kind)
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
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
        ("REMOTE_AGENTS", &i.remote_agents),
        ("SKILLS", &i.skills),
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
    // LibreChat: `sharedLinks: false` switches creating, sharing and public links together.
    match &i.shared_links {
        Some(Switch::Switch(on)) => {
            for p in ["CREATE", "SHARE", "SHARE_PUBLIC"] {
                flag("SHARED_LINKS", p, Some(*on));
            }
        }
        Some(Switch::Detailed {
            create,
            share,
            public,
            ..
        }) => {
            flag("SHARED_LINKS", "CREATE", *create);
            flag("SHARED_LINKS", "SHARE", *share);
            flag("SHARED_LINKS", "SHARE_PUBLIC", *public);
        }
        None => {}
    }
    out
}

/// Changes to some permissions of some types: `{TYPE: {PERMISSION: bool}}`.
pub type Changes = Vec<(String, Map<String, Value>)>;

/// The changes a `PUT /api/roles/:role/<segment>` body asks for, read as LibreChat's zod schema
/// (`.partial()`) reads it: permissions the type does not have are dropped, a value that is not
/// a boolean is refused. The refusal lists zod's issues, which LibreChat sends back.
pub fn changes_of_type(kind: &str, body: &Value) -> Result<Changes, Vec<Value>> {
    let known = schema(kind).unwrap_or_default();
    let Value::Object(body) = body else {
        return Err(vec![type_issue(Vec::new(), "object", body)]);
    };
    let mut issues = Vec::new();
    let mut changes = Map::new();
    for (k, v) in body.iter().filter(|(k, _)| known.contains(k)) {
        match v {
            Value::Bool(_) => {
                changes.insert(k.clone(), v.clone());
            }
            other => issues.push(type_issue(vec![k.clone()], "boolean", other)),
        }
    }
    if issues.is_empty() {
        Ok(vec![(kind.to_owned(), changes)])
    } else {
        Err(issues)
    }
}

/// The changes of a `PATCH /api/admin/roles/:role/permissions` body's `permissions`, read as
/// LibreChat's `updateAccessPermissions` does: types and permissions it does not know and null
/// values are dropped. Unlike LibreChat (which lets Mongo cast `"yes"`), a value that is not a
/// boolean is refused with its path.
pub fn changes_of_all(permissions: &Map<String, Value>) -> Result<Changes, String> {
    let mut out = Vec::new();
    for (kind, perms) in permissions {
        let Some(known) = schema(kind) else { continue };
        let Value::Object(perms) = perms else {
            return Err(format!("permissions.{kind} must be an object"));
        };
        let mut changes = Map::new();
        for (k, v) in perms
            .iter()
            .filter(|(k, v)| known.contains(k) && !v.is_null())
        {
            if !v.is_boolean() {
                return Err(format!("permissions.{kind}.{k} must be true or false"));
            }
            changes.insert(k.clone(), v.clone());
        }
        out.push((kind.clone(), changes));
    }
    Ok(out)
}

/// One of zod's `invalid_type` issues, as LibreChat's 400 lists them.
fn type_issue(path: Vec<String>, expected: &str, got: &Value) -> Value {
    let received = match got {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    json!({
        "code": "invalid_type",
        "expected": expected,
        "received": received,
        "path": path,
        "message": format!("Expected {expected}, received {received}"),
    })
}

/// The roles currently in force, kept in memory for fast checks and written through to the db.
pub struct Roles {
    db: Db,
    /// Each role's permissions as stored (features not built included).
    table: RwLock<HashMap<String, Value>>,
    /// One update at a time: each reads, changes and writes a role whole.
    updating: tokio::sync::Mutex<()>,
}

impl Roles {
    /// Seeds missing roles with LibreChat's defaults, applies `interface.*` and `memory`, loads
    /// the table.
    pub async fn load(
        db: Db,
        interface: Option<Interface>,
        memory: Option<MemoryConfig>,
    ) -> Result<Self, DbError> {
        let table = db
            .write(move |conn| {
                let tx = conn.transaction()?;
                for (name, defaults) in [(ADMIN, admin_defaults()), (USER, user_defaults())] {
                    let mut perms = db::roles::get(&tx, name)?.unwrap_or(Value::Null);
                    if perms.get("SCHEDULES").is_some() {
                        // Written by a version before LibreChat's v0.8.8 table (it carried a
                        // SCHEDULES type): its SHARED_LINKS is that version's seed, which no
                        // administrator could change then, and had public links off, which
                        // now means something. Take LibreChat's defaults for it, once (the
                        // marker is dropped below).
                        perms["SHARED_LINKS"] = defaults["SHARED_LINKS"].clone();
                    }
                    // New permission types from a newer version get their defaults; types
                    // LibreChat no longer has (as its strict schema does) are dropped.
                    merge_missing(&mut perms, &defaults);
                    if let Some(p) = perms.as_object_mut() {
                        p.retain(|kind, _| defaults.get(kind).is_some());
                    }
                    if let Some(i) = &interface {
                        for (t, p, v) in from_interface(i) {
                            perms[t][p] = Value::Bool(v);
                        }
                    }
                    if let Some(m) = &memory {
                        apply_memory(&mut perms["MEMORIES"], m);
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

    /// A role as LibreChat's `GET /api/roles/:name` answers it (`{name, description,
    /// permissions}`, its `TRole`), with the features not built here off.
    pub fn get(&self, name: &str) -> Option<Value> {
        let table = self.table.read().expect("roles lock");
        table
            .get(name)
            .map(|p| json!({ "name": name, "description": "", "permissions": effective(p) }))
    }

    /// Whether `role` has `permission` of `kind` (e.g. `PROMPTS`, `CREATE`). Never for a
    /// feature this server does not have.
    pub fn allows(&self, role: &str, kind: &str, permission: &str) -> bool {
        if !features::is_built(kind) {
            return false;
        }
        let table = self.table.read().expect("roles lock");
        table
            .get(role)
            .and_then(|p| p.get(kind))
            .and_then(|p| p.get(permission))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Stores some permissions of some types (see [`changes_of_type`], [`changes_of_all`]) and
    /// answers the role as [`Roles::get`] does.
    pub async fn update(&self, role: &str, changes: Changes) -> Result<Value, RoleError> {
        let _one_at_a_time = self.updating.lock().await;
        let mut perms = {
            let table = self.table.read().expect("roles lock");
            table.get(role).cloned().ok_or(RoleError::UnknownRole)?
        };
        for (kind, set) in changes {
            let current = &mut perms[kind.as_str()];
            if !current.is_object() {
                *current = Value::Object(Map::new());
            }
            let current = current.as_object_mut().expect("made an object above");
            current.extend(set);
        }
        let (name, stored) = (role.to_owned(), perms.clone());
        self.db
            .write(move |c| db::roles::put(c, &name, &stored))
            .await?;
        self.table
            .write()
            .expect("roles lock")
            .insert(role.to_owned(), perms);
        self.get(role).ok_or(RoleError::UnknownRole)
    }

    /// The names of every role, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .table
            .read()
            .expect("roles lock")
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    pub fn exists(&self, role: &str) -> bool {
        self.table.read().expect("roles lock").contains_key(role)
    }
}

/// The permissions as answered and enforced: every permission of a feature that is not built
/// here is false.
fn effective(stored: &Value) -> Value {
    let mut out = stored.clone();
    if let Some(types) = out.as_object_mut() {
        for (kind, perms) in types.iter_mut() {
            if features::is_built(kind) {
                continue;
            }
            for v in perms
                .as_object_mut()
                .into_iter()
                .flat_map(|p| p.values_mut())
            {
                *v = Value::Bool(false);
            }
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("no such role")]
    UnknownRole,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// `memory` in librechat.yaml over the MEMORIES permissions, as LibreChat applies it at start:
/// `disabled` takes every one away; a section that is there and not disabled gives `USE` back
/// (with the rest, when it had been taken away). Beyond LibreChat, `personalize: false` takes
/// `OPT_OUT` away, as its documentation says: there is nothing to opt out of.
fn apply_memory(perms: &mut Value, memory: &MemoryConfig) {
    let all = ["USE", "CREATE", "UPDATE", "READ", "OPT_OUT"];
    if memory.is_disabled() {
        for p in all {
            perms[p] = Value::Bool(false);
        }
        return;
    }
    if perms.get("USE") != Some(&Value::Bool(true)) {
        for p in all {
            perms[p] = Value::Bool(true);
        }
    }
    if memory.personalize == Some(false) {
        perms["OPT_OUT"] = Value::Bool(false);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_not_built_read_as_off_and_the_rest_as_stored() {
        let shown = effective(&admin_defaults());
        assert_eq!(shown["RUN_CODE"]["USE"], false);
        assert_eq!(shown["AGENTS"]["SHARE_PUBLIC"], true);
        assert_eq!(shown["SKILLS"]["CREATE"], false);
        assert_eq!(
            shown["MCP_SERVERS"]["CREATE"], true,
            "people add MCP servers here"
        );
        assert_eq!(shown["PROMPTS"]["SHARE_PUBLIC"], true);
        assert_eq!(shown["BOOKMARKS"]["USE"], true);
        assert_eq!(shown["SHARED_LINKS"]["SHARE_PUBLIC"], true);
        assert_eq!(
            shown.as_object().unwrap().len(),
            features::FEATURES.len(),
            "every permission type is answered"
        );
    }

    #[test]
    fn the_memory_section_switches_memories_at_start() {
        let memory = |disabled, personalize| MemoryConfig {
            disabled,
            personalize,
            ..MemoryConfig::default()
        };
        let mut perms = user_defaults()["MEMORIES"].clone();
        apply_memory(&mut perms, &memory(Some(true), None));
        assert!(perms.as_object().unwrap().values().all(|v| v == false));
        // There again and not disabled: everything comes back; `personalize: false` keeps
        // OPT_OUT away.
        apply_memory(&mut perms, &memory(None, Some(false)));
        assert_eq!(
            perms,
            json!({"USE": true, "CREATE": true, "UPDATE": true, "READ": true, "OPT_OUT": false})
        );
        // An administrator's choice below USE stays.
        perms["CREATE"] = json!(false);
        apply_memory(&mut perms, &memory(Some(false), None));
        assert_eq!(perms["CREATE"], false);
        assert_eq!(perms["USE"], true);
    }

    #[test]
    fn a_put_body_is_read_as_zod_reads_it() {
        let ok = changes_of_type("PROMPTS", &json!({"USE": false, "NOPE": true})).unwrap();
        assert_eq!(
            ok,
            vec![(
                "PROMPTS".to_owned(),
                json!({"USE": false}).as_object().unwrap().clone()
            )]
        );
        let issues = changes_of_type("PROMPTS", &json!({"USE": "yes", "SHARE": null})).unwrap_err();
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0]["path"], json!(["SHARE"]));
        assert_eq!(issues[1]["message"], "Expected boolean, received string");
        let issues = changes_of_type("PROMPTS", &json!([true])).unwrap_err();
        assert_eq!(issues[0]["expected"], "object");
    }

    #[test]
    fn a_patch_body_drops_what_librechat_does_not_know() {
        let body = json!({"BOOKMARKS": {"USE": false, "FLY": true}, "NOPE": {"USE": true}, "TEMPORARY_CHAT": {"USE": null}});
        let changes = changes_of_all(body.as_object().unwrap()).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].1, *json!({"USE": false}).as_object().unwrap());
        assert!(changes[1].1.is_empty());
        let bad = json!({"BOOKMARKS": {"USE": "no"}});
        assert!(
            changes_of_all(bad.as_object().unwrap())
                .unwrap_err()
                .contains("BOOKMARKS.USE")
        );
    }
}
