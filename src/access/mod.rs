//! Sharing resources with people: LibreChat's permission system.
//!
//! A shared resource (a prompt group, an agent, an MCP server a person added) has access entries: a
//! principal (a user, a group, a role, or everyone) holds an access role of the resource's type
//! (`promptGroup_viewer`, `_editor`, `_owner`), which stands for permission bits (VIEW 1, EDIT
//! 2, DELETE 4, SHARE 8). A person's bits on a resource are the union of the entries that
//! reach them. Role permissions (`PROMPTS.USE`, `SHARE`, `SHARE_PUBLIC`, ...) gate what a person
//! may do at all; the entries gate each resource.
//!
//! The one interface other resources use: [`effective`] (a person's bits on one resource) and
//! `crate::db::acl::grants_cte`, the SQL every store of a shared resource joins so that its
//! lists and reads are filtered in the statement. Nothing is cached, so removing an entry, a
//! group or a membership ends access with the next request.

pub mod external_groups;
pub mod roles;
pub mod sharing;

pub use crate::db::acl::{ResourceType, Viewer};
pub use roles::{AccessRole, access_role, roles_of};

use crate::db::users::User;
use crate::db::{self, Db, DbError};

/// LibreChat's `PermissionBits`.
pub mod bits {
    pub const VIEW: u8 = 1;
    pub const EDIT: u8 = 2;
    pub const DELETE: u8 = 4;
    pub const SHARE: u8 = 8;
}

/// Who a check is for.
pub fn viewer(user: &User) -> Viewer {
    Viewer {
        user_id: user.id.clone(),
        role: user.role.clone(),
    }
}

/// The role permission type that gates a resource type (`promptGroup` → `PROMPTS`).
pub fn permission_type(rt: ResourceType) -> &'static str {
    match rt {
        ResourceType::Agent => "AGENTS",
        ResourceType::PromptGroup => "PROMPTS",
        ResourceType::McpServer => "MCP_SERVERS",
        ResourceType::RemoteAgent => "REMOTE_AGENTS",
        ResourceType::Skill => "SKILLS",
        ResourceType::SharedLink => "SHARED_LINKS",
    }
}

/// Whether resources of this type are shared through access entries here yet. The others
/// have no resources to share, so their entries are empty and their routes find nothing.
pub fn is_shared_here(rt: ResourceType) -> bool {
    matches!(
        rt,
        ResourceType::PromptGroup | ResourceType::Agent | ResourceType::McpServer
    )
}

/// The user's permission bits on one resource (0: none).
pub async fn effective(
    db: &Db,
    user: &User,
    rt: ResourceType,
    resource_id: &str,
) -> Result<u8, DbError> {
    let (v, id) = (viewer(user), resource_id.to_owned());
    db.read(move |c| db::acl::effective(c, &v, rt, &id)).await
}

/// The user's bits on every resource of a type they can see.
pub async fn effective_all(
    db: &Db,
    user: &User,
    rt: ResourceType,
) -> Result<Vec<(String, u8)>, DbError> {
    let v = viewer(user);
    db.read(move |c| db::acl::effective_all(c, &v, rt)).await
}
