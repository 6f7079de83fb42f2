//! Access roles: the named sets of permission bits that entries grant (LibreChat's seeded
//! `AccessRole` documents). They are fixed, so they live here rather than in a table.

use super::ResourceType;
use super::bits::{DELETE, EDIT, SHARE, VIEW};

/// One access role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessRole {
    /// LibreChat's `accessRoleId` (`promptGroup_viewer`).
    pub id: &'static str,
    /// The client's translation key for its name.
    pub name: &'static str,
    /// The client's translation key for its description.
    pub description: &'static str,
    pub resource_type: ResourceType,
    pub bits: u8,
}

const VIEWER: u8 = VIEW;
const EDITOR: u8 = VIEW | EDIT;
/// Every permission: what the author of a resource holds.
const OWNER: u8 = VIEW | EDIT | DELETE | SHARE;

const fn role(
    id: &'static str,
    name: &'static str,
    description: &'static str,
    resource_type: ResourceType,
    bits: u8,
) -> AccessRole {
    AccessRole {
        id,
        name,
        description,
        resource_type,
        bits,
    }
}

use ResourceType as T;

/// Every access role, in LibreChat's seeding order.
pub const ACCESS_ROLES: [AccessRole; 17] = [
    role(
        "agent_viewer",
        "com_ui_role_viewer",
        "com_ui_role_viewer_desc",
        T::Agent,
        VIEWER,
    ),
    role(
        "agent_editor",
        "com_ui_role_editor",
        "com_ui_role_editor_desc",
        T::Agent,
        EDITOR,
    ),
    role(
        "agent_owner",
        "com_ui_role_owner",
        "com_ui_role_owner_desc",
        T::Agent,
        OWNER,
    ),
    role(
        "promptGroup_viewer",
        "com_ui_role_viewer",
        "com_ui_role_viewer_desc",
        T::PromptGroup,
        VIEWER,
    ),
    role(
        "promptGroup_editor",
        "com_ui_role_editor",
        "com_ui_role_editor_desc",
        T::PromptGroup,
        EDITOR,
    ),
    role(
        "promptGroup_owner",
        "com_ui_role_owner",
        "com_ui_role_owner_desc",
        T::PromptGroup,
        OWNER,
    ),
    role(
        "mcpServer_viewer",
        "com_ui_mcp_server_role_viewer",
        "com_ui_mcp_server_role_viewer_desc",
        T::McpServer,
        VIEWER,
    ),
    role(
        "mcpServer_editor",
        "com_ui_mcp_server_role_editor",
        "com_ui_mcp_server_role_editor_desc",
        T::McpServer,
        EDITOR,
    ),
    role(
        "mcpServer_owner",
        "com_ui_mcp_server_role_owner",
        "com_ui_mcp_server_role_owner_desc",
        T::McpServer,
        OWNER,
    ),
    role(
        "remoteAgent_viewer",
        "com_ui_remote_agent_role_viewer",
        "com_ui_remote_agent_role_viewer_desc",
        T::RemoteAgent,
        VIEWER,
    ),
    role(
        "remoteAgent_editor",
        "com_ui_remote_agent_role_editor",
        "com_ui_remote_agent_role_editor_desc",
        T::RemoteAgent,
        EDITOR,
    ),
    role(
        "remoteAgent_owner",
        "com_ui_remote_agent_role_owner",
        "com_ui_remote_agent_role_owner_desc",
        T::RemoteAgent,
        OWNER,
    ),
    role(
        "skill_viewer",
        "com_ui_role_viewer",
        "com_ui_role_viewer_desc",
        T::Skill,
        VIEWER,
    ),
    role(
        "skill_editor",
        "com_ui_role_editor",
        "com_ui_role_editor_desc",
        T::Skill,
        EDITOR,
    ),
    role(
        "skill_owner",
        "com_ui_role_owner",
        "com_ui_role_owner_desc",
        T::Skill,
        OWNER,
    ),
    role(
        "sharedLink_viewer",
        "com_ui_role_viewer",
        "com_ui_role_viewer_desc",
        T::SharedLink,
        VIEWER,
    ),
    role(
        "sharedLink_owner",
        "com_ui_role_owner",
        "com_ui_role_owner_desc",
        T::SharedLink,
        OWNER,
    ),
];

/// The access roles of a resource type.
pub fn roles_of(rt: ResourceType) -> impl Iterator<Item = &'static AccessRole> {
    ACCESS_ROLES.iter().filter(move |r| r.resource_type == rt)
}

/// An access role of a resource type by its id.
pub fn access_role(rt: ResourceType, id: &str) -> Option<&'static AccessRole> {
    roles_of(rt).find(|r| r.id == id)
}

/// The owner role of a resource type, which its creator is granted.
pub fn owner_of(rt: ResourceType) -> &'static AccessRole {
    roles_of(rt)
        .find(|r| r.bits == OWNER)
        .expect("every type has an owner role")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_viewer_and_an_owner_and_roles_belong_to_their_type() {
        for rt in ResourceType::ALL {
            assert!(roles_of(rt).any(|r| r.bits == VIEW), "{rt:?}");
            assert_eq!(owner_of(rt).bits, 15);
            for r in roles_of(rt) {
                assert!(r.id.starts_with(rt.as_str()), "{}", r.id);
            }
        }
        assert!(access_role(T::PromptGroup, "agent_owner").is_none());
        assert_eq!(
            access_role(T::PromptGroup, "promptGroup_editor")
                .unwrap()
                .bits,
            3
        );
    }
}
