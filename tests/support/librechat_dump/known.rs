//! What the standard dump holds that a migration test asserts on.

use std::collections::BTreeMap;

/// LibreChat's `CREDS_KEY`/`CREDS_IV` of the standard dump (Appendix A of the issue-21 plan).
pub const CREDS_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
pub const CREDS_IV: &str = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";

/// A user of the dump. `id` is the `_id` hex (ours keeps it).
#[derive(Clone, Debug, Default)]
pub struct KnownUser {
    pub id: String,
    pub email: String,
    pub username: String,
    /// `local`, `google`, `facebook`, `github`, `discord`, `apple`, `openid`, `saml`, `ldap`.
    pub provider: String,
    /// The plaintext of the bcrypt hash in `password` (local users only).
    pub password: Option<String>,
    /// The TOTP base32 secret (2FA users), whatever form the dump stores it in.
    pub totp_secret: Option<String>,
    /// How `totpSecret` is stored: `v3`, `v2` or `plain`.
    pub totp_format: Option<&'static str>,
    /// Backup codes still usable (plaintext; the dump holds their SHA-256).
    pub backup_codes: Vec<String>,
    /// The backup code marked `used` in the dump.
    pub used_backup_code: Option<String>,
}

/// A conversation of the dump.
#[derive(Clone, Debug, Default)]
pub struct KnownConvo {
    pub id: String,
    pub user_id: String,
    pub title: String,
    /// Its messages in the dump.
    pub messages: usize,
}

/// The 2,000-message branching conversation.
#[derive(Clone, Debug, Default)]
pub struct Branching {
    pub conversation_id: String,
    pub user_id: String,
    pub messages: usize,
    /// The first message (parent `NO_PARENT`).
    pub root_id: String,
    /// The last message of the main branch (no children).
    pub leaf_id: String,
    /// Main branch, root to leaf.
    pub main_branch: Vec<String>,
    /// Every message as (messageId, parentMessageId), in creation order.
    pub tree: Vec<(String, String)>,
    /// Messages with more than one child.
    pub forks: usize,
}

/// A shared link.
#[derive(Clone, Debug, Default)]
pub struct KnownShare {
    pub share_id: String,
    pub conversation_id: String,
    pub target_message_id: Option<String>,
    /// The `messages` ObjectId refs it holds.
    pub messages: usize,
}

/// A file with bytes under the upload roots.
#[derive(Clone, Debug, Default)]
pub struct KnownFile {
    pub file_id: String,
    pub user_id: String,
    pub filename: String,
    pub mime: String,
    /// LibreChat's `filepath` (`/uploads/<user>/<file_id>__<name>` or `/images/<user>/…`).
    pub filepath: String,
    pub bytes: Vec<u8>,
}

/// A stored secret and its plaintext.
#[derive(Clone, Debug, Default)]
pub struct KnownSecret {
    pub user_id: String,
    /// `keys.name`, or `pluginKey/authField` for plugin auths.
    pub name: String,
    pub plaintext: String,
}

/// What `standard()` put in its dump: ids, plaintexts and counts to assert on after importing.
#[derive(Clone, Debug, Default)]
pub struct Known {
    /// LibreChat's CREDS_KEY / CREDS_IV (hex), and a LibreChat `.env` holding them.
    pub creds_key: String,
    pub creds_iv: String,
    pub env: String,
    /// Local user with a password who owns most of the data.
    pub alice: KnownUser,
    /// Local ADMIN.
    pub admin: KnownUser,
    /// Local users with 2FA: secret stored v3 (CTR), v2 (CBC) and plain.
    pub totp_v3: KnownUser,
    pub totp_v2: KnownUser,
    pub totp_plain: KnownUser,
    /// google, facebook, github, discord, apple (in that order).
    pub social: Vec<KnownUser>,
    pub openid: KnownUser,
    /// The OpenID user's `idOnTheSource` (entra group `memberIds` use it).
    pub openid_id_on_the_source: String,
    pub saml: KnownUser,
    pub ldap: KnownUser,
    /// Every user, in dump order.
    pub users: Vec<KnownUser>,
    /// The custom role (besides ADMIN and USER).
    pub custom_role: String,
    /// (user id, tokenCredits) per balance.
    pub balances: Vec<(String, i64)>,
    /// Every conversation except the branching one.
    pub conversations: Vec<KnownConvo>,
    pub branching: Branching,
    /// A word found in exactly one message (of the branching conversation), and that message.
    pub search_word: String,
    pub search_message_id: String,
    /// Bookmarks (conversationtags) of alice.
    pub tags: Vec<String>,
    pub project_id: String,
    pub preset_ids: Vec<String>,
    pub shares: Vec<KnownShare>,
    pub prompt_group_id: String,
    pub prompt_command: String,
    pub prompt_production_id: String,
    pub prompt_production_text: String,
    pub prompt_versions: usize,
    /// The agent's `id` (`agent_…`) and `_id` hex.
    pub agent_id: String,
    pub agent_object_id: String,
    pub agent_versions: usize,
    /// The user the agent is shared with as viewer (ACL).
    pub agent_viewer_id: String,
    pub action_id: String,
    /// The plaintext of the action's `metadata.api_key` (stored encryptV2 of its URI encoding).
    pub action_api_key: String,
    pub mcp_server_id: String,
    pub mcp_server_name: String,
    /// The plaintext of the MCP server's `config.apiKey.key` (stored encryptV2).
    pub mcp_api_key: String,
    /// The local group (`memberIds` = alice and totp_v3) and the Entra group.
    pub group_id: String,
    pub entra_group_id: String,
    /// User keys (`keys`, v1) and plugin credentials (`pluginauths`, v1).
    pub user_keys: Vec<KnownSecret>,
    pub plugin_auths: Vec<KnownSecret>,
    /// Files with bytes in `write_uploads`; the S3 one has none.
    pub files: Vec<KnownFile>,
    pub remote_file_ids: Vec<String>,
    pub memory_keys: Vec<String>,
    pub banner_id: String,
    /// Documents per collection in the dump (includes `foo`, the unknown collection).
    pub counts: BTreeMap<String, usize>,
}

impl Known {
    pub(super) fn new() -> Known {
        Known {
            creds_key: CREDS_KEY.into(),
            creds_iv: CREDS_IV.into(),
            env: format!(
                "# LibreChat .env\nHOST=localhost\nPORT=3080\nMONGO_URI=mongodb://127.0.0.1:27017/LibreChat\n\
                 CREDS_KEY={CREDS_KEY}\nCREDS_IV={CREDS_IV}\n\
                 JWT_SECRET=16f8c0ef4a5d391b26034086c628469d3f9f497f08163ab9b40137092f2909ef\n\
                 JWT_REFRESH_SECRET=eaa5191f2914e30b9387fd84e254e4ba6fc51b4654968a9b0803b456a54b8418\n"
            ),
            ..Known::default()
        }
    }

    /// The dump's secrets cipher.
    pub fn creds(&self) -> super::crypto::Creds {
        super::crypto::Creds::from_hex(&self.creds_key, &self.creds_iv)
    }
}
