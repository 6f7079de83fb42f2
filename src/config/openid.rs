//! OpenID Connect sign-in settings, from LibreChat's environment names. On when
//! `OPENID_CLIENT_ID`, `OPENID_CLIENT_SECRET`, `OPENID_ISSUER` and `OPENID_SESSION_SECRET` are
//! set (the last is LibreChat's session secret; kept for compatibility, unused here).

use serde::Serialize;

use super::{ConfigError, Env, GroupPattern};

/// Which token a role claim is read from (`OPENID_*_ROLE_TOKEN_KIND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Id,
    Access,
    Userinfo,
}

/// A role rule: some of `roles` must be found at `path` in the `kind` token.
#[derive(Debug, Clone, Serialize)]
pub struct RoleRule {
    pub roles: Vec<String>,
    pub kind: TokenKind,
    /// A dotted JSON path (`realm_access.roles`, `resource_access.librechat.roles`).
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenIdSettings {
    pub client_id: String,
    #[serde(skip)]
    pub client_secret: String,
    /// `OPENID_AUDIENCE`: what bearer tokens from the provider must be for (default the
    /// client id).
    pub audience: Option<String>,
    pub issuer: String,
    /// `OPENID_SCOPE` (default `openid profile email`).
    pub scopes: Vec<String>,
    /// `OPENID_CALLBACK_URL`: absolute, or a path on `DOMAIN_SERVER` (or, without it, on the
    /// address the request came to); default `/oauth/openid/callback`.
    pub callback_url: String,
    /// `OPENID_USE_PKCE`.
    pub use_pkce: bool,
    /// `OPENID_USERNAME_CLAIM`, `OPENID_NAME_CLAIM`, `OPENID_EMAIL_CLAIM`.
    pub username_claim: Option<String>,
    pub name_claim: Option<String>,
    pub email_claim: Option<String>,
    /// `OPENID_REQUIRED_ROLE` (comma-separated), with `..._TOKEN_KIND` and `..._PARAMETER_PATH`.
    pub required_role: Option<RoleRule>,
    /// `OPENID_ADMIN_ROLE`, with `..._TOKEN_KIND` and `..._PARAMETER_PATH`: the ADMIN role.
    pub admin_role: Option<RoleRule>,
    /// `OPENID_REUSE_TOKENS` (off): API requests may carry a token the provider issued (an ID
    /// or access token for `OPENID_AUDIENCE` or the client id) instead of one of ours.
    pub reuse_tokens: bool,
    /// `OPENID_USE_END_SESSION_ENDPOINT`: logging out also ends the session at the provider.
    pub use_end_session: bool,
    /// `OPENID_POST_LOGOUT_REDIRECT_URI`.
    pub post_logout_redirect_uri: Option<String>,
    /// `OPENID_GROUPS_CLAIM` (ours): the dotted path of the claim that lists the person's
    /// groups (`groups`, `realm_access.roles`), read in the userinfo, else the ID token, else
    /// the access token. When set, the person's memberships of `openid` groups are set to it at
    /// each sign-in.
    pub groups_claim: Option<String>,
    /// `OPENID_GROUPS_INCLUDE` (ours): only the groups whose name matches come over.
    pub groups_include: Option<GroupPattern>,
}

fn kind(env: &Env, key: &str) -> Result<TokenKind, ConfigError> {
    match env
        .string(key)
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("id") | Some("id_token") => Ok(TokenKind::Id),
        Some("access") | Some("access_token") => Ok(TokenKind::Access),
        Some("userinfo") => Ok(TokenKind::Userinfo),
        Some(other) => Err(ConfigError::invalid(key, other, "id, access or userinfo")),
    }
}

fn rule(env: &Env, prefix: &str) -> Result<Option<RoleRule>, ConfigError> {
    let Some(roles) = env.string(prefix) else {
        return Ok(None);
    };
    let roles: Vec<String> = roles
        .split(',')
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    if roles.is_empty() {
        return Ok(None);
    }
    Ok(Some(RoleRule {
        roles,
        kind: kind(env, &format!("{prefix}_TOKEN_KIND"))?,
        path: env
            .string(&format!("{prefix}_PARAMETER_PATH"))
            .unwrap_or_else(|| "roles".into()),
    }))
}

impl OpenIdSettings {
    pub fn from_env(env: &Env, domain_server: Option<&str>) -> Result<Option<Self>, ConfigError> {
        let get = |k: &str| env.string(k);
        let (Some(client_id), Some(client_secret), Some(issuer), Some(_)) = (
            get("OPENID_CLIENT_ID"),
            get("OPENID_CLIENT_SECRET"),
            get("OPENID_ISSUER"),
            get("OPENID_SESSION_SECRET"),
        ) else {
            return Ok(None);
        };
        if url::Url::parse(&issuer).is_err() {
            return Err(ConfigError::invalid("OPENID_ISSUER", &issuer, "a URL"));
        }
        let callback =
            get("OPENID_CALLBACK_URL").unwrap_or_else(|| "/oauth/openid/callback".into());
        let callback_url = match domain_server {
            Some(server)
                if !callback.starts_with("http://") && !callback.starts_with("https://") =>
            {
                format!(
                    "{}/{}",
                    server.trim_end_matches('/'),
                    callback.trim_start_matches('/')
                )
            }
            _ => callback,
        };
        Ok(Some(Self {
            client_id,
            client_secret,
            audience: get("OPENID_AUDIENCE"),
            issuer,
            scopes: get("OPENID_SCOPE")
                .unwrap_or_else(|| "openid profile email".into())
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            callback_url,
            use_pkce: env.bool("OPENID_USE_PKCE")?.unwrap_or(false),
            username_claim: get("OPENID_USERNAME_CLAIM"),
            name_claim: get("OPENID_NAME_CLAIM"),
            email_claim: get("OPENID_EMAIL_CLAIM"),
            required_role: rule(env, "OPENID_REQUIRED_ROLE")?,
            admin_role: rule(env, "OPENID_ADMIN_ROLE")?,
            reuse_tokens: env.bool("OPENID_REUSE_TOKENS")?.unwrap_or(false),
            use_end_session: env
                .bool("OPENID_USE_END_SESSION_ENDPOINT")?
                .unwrap_or(false),
            post_logout_redirect_uri: get("OPENID_POST_LOGOUT_REDIRECT_URI"),
            groups_claim: get("OPENID_GROUPS_CLAIM"),
            groups_include: GroupPattern::from_env(env, "OPENID_GROUPS_INCLUDE")?,
        }))
    }
}
