//! Which of LibreChat's features this server has: the one place that says so.
//!
//! LibreChat switches each feature in two places: a permission type in every role
//! (`PermissionTypes`, e.g. `PROMPTS`) and a key of `interface` in librechat.yaml and in
//! `/api/config` (e.g. `prompts`). LibreChat's client shows a feature only when both say it is
//! on. A feature this server does not have yet must read as off in both, whatever the yaml or an
//! administrator says, or the client offers buttons that lead to 404s. The role permissions and
//! `config check` read this table, and so should `/api/config`'s `interface`
//! ([`Feature::interface_off`] gives each value); when a feature is built, flipping `built` here
//! turns it on everywhere at once.

/// One of LibreChat's role-switched features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    /// LibreChat's permission type, the key in a role's `permissions` (`PROMPTS`).
    pub permission_type: &'static str,
    /// Its switch under `interface:` in librechat.yaml and in `/api/config` (`prompts`).
    pub interface_key: &'static str,
    /// What it is, in words, for messages (`prompts`).
    pub name: &'static str,
    /// Whether this server implements it.
    pub built: bool,
}

const fn feature(
    permission_type: &'static str,
    interface_key: &'static str,
    name: &'static str,
    built: bool,
) -> Feature {
    Feature {
        permission_type,
        interface_key,
        name,
        built,
    }
}

/// Every permission type of LibreChat's roles (v0.8.8's `PermissionTypes`, in its order), with
/// its `interface` key (LibreChat's `PERMISSION_TYPE_INTERFACE_FIELDS`).
pub const FEATURES: [Feature; 16] = [
    feature("PROMPTS", "prompts", "prompts", true),
    feature("BOOKMARKS", "bookmarks", "bookmarks", true),
    feature("AGENTS", "agents", "agents", true),
    feature("MEMORIES", "memories", "memories", true),
    // Several models answering side by side (`addedConvo`).
    feature("MULTI_CONVO", "multiConvo", "side-by-side answers", true),
    feature("TEMPORARY_CHAT", "temporaryChat", "temporary chats", true),
    feature("RUN_CODE", "runCode", "the code interpreter", false),
    feature("WEB_SEARCH", "webSearch", "web search", true),
    feature("PEOPLE_PICKER", "peoplePicker", "sharing with people", true),
    feature("MARKETPLACE", "marketplace", "the agent marketplace", true),
    feature("FILE_SEARCH", "fileSearch", "file search", true),
    feature("FILE_CITATIONS", "fileCitations", "file citations", true),
    feature("MCP_SERVERS", "mcpServers", "MCP servers", true),
    feature("REMOTE_AGENTS", "remoteAgents", "the agents API", false),
    feature("SKILLS", "skills", "skills", false),
    feature("SHARED_LINKS", "sharedLinks", "shared links", true),
];

impl Feature {
    /// Its `interface` value meaning "off", in the shape LibreChat's `interfaceSchema` gives
    /// that key (a switch, or an object of switches), for `/api/config`.
    pub fn interface_off(&self) -> serde_json::Value {
        use serde_json::json;
        match self.interface_key {
            "mcpServers" | "remoteAgents" => {
                json!({"use": false, "create": false, "share": false, "public": false})
            }
            "marketplace" => json!({"use": false}),
            "peoplePicker" => json!({"users": false, "groups": false, "roles": false}),
            _ => json!(false),
        }
    }
}

/// The feature of a permission type (`PROMPTS`), if LibreChat has one by that name.
pub fn by_permission_type(permission_type: &str) -> Option<&'static Feature> {
    FEATURES
        .iter()
        .find(|f| f.permission_type == permission_type)
}

/// The feature an `interface` key switches (`prompts`), if it switches one.
pub fn by_interface_key(key: &str) -> Option<&'static Feature> {
    FEATURES.iter().find(|f| f.interface_key == key)
}

/// Whether the feature of this permission type exists here; unknown types do not.
pub fn is_built(permission_type: &str) -> bool {
    by_permission_type(permission_type).is_some_and(|f| f.built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_the_built_ones_are_the_ones_with_routes() {
        for (i, f) in FEATURES.iter().enumerate() {
            assert!(
                FEATURES[i + 1..]
                    .iter()
                    .all(|g| g.permission_type != f.permission_type
                        && g.interface_key != f.interface_key),
                "{f:?} twice"
            );
        }
        let built: Vec<_> = FEATURES
            .iter()
            .filter(|f| f.built)
            .map(|f| f.permission_type)
            .collect();
        assert_eq!(
            built,
            [
                "PROMPTS",
                "BOOKMARKS",
                "AGENTS",
                "MEMORIES",
                "MULTI_CONVO",
                "TEMPORARY_CHAT",
                "WEB_SEARCH",
                "PEOPLE_PICKER",
                "MARKETPLACE",
                "FILE_SEARCH",
                "FILE_CITATIONS",
                "MCP_SERVERS",
                "SHARED_LINKS"
            ]
        );
        assert!(!is_built("NOT_A_TYPE"));
        assert_eq!(
            by_interface_key("prompts").unwrap().permission_type,
            "PROMPTS"
        );
    }
}
