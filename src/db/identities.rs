//! Accounts by their identity at an external provider: the `*_id` columns of `users`.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::users::{self, User};
use super::{DbError, now};

/// An identity provider, with the column that holds its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Google,
    Github,
    Discord,
    Facebook,
    Apple,
    Openid,
    Saml,
    Ldap,
}

impl Provider {
    /// The name stored in `users.provider` (LibreChat's).
    pub fn name(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Github => "github",
            Provider::Discord => "discord",
            Provider::Facebook => "facebook",
            Provider::Apple => "apple",
            Provider::Openid => "openid",
            Provider::Saml => "saml",
            Provider::Ldap => "ldap",
        }
    }

    /// Every provider, in the order people see them listed.
    pub const ALL: [Provider; 8] = [
        Provider::Openid,
        Provider::Saml,
        Provider::Ldap,
        Provider::Google,
        Provider::Github,
        Provider::Discord,
        Provider::Facebook,
        Provider::Apple,
    ];

    /// The provider stored (and typed) as `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The provider's name as people know it, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Provider::Google => "Google",
            Provider::Github => "GitHub",
            Provider::Discord => "Discord",
            Provider::Facebook => "Facebook",
            Provider::Apple => "Apple",
            Provider::Openid => "OpenID",
            Provider::Saml => "SAML",
            Provider::Ldap => "LDAP",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Provider::Google => "google_id",
            Provider::Github => "github_id",
            Provider::Discord => "discord_id",
            Provider::Facebook => "facebook_id",
            Provider::Apple => "apple_id",
            Provider::Openid => "openid_id",
            Provider::Saml => "saml_id",
            Provider::Ldap => "ldap_id",
        }
    }
}

/// The account whose subject at `provider` is `subject`.
pub fn find(conn: &Connection, provider: Provider, subject: &str) -> Result<Option<User>, DbError> {
    let id: Option<String> = conn
        .query_row(
            &format!("SELECT id FROM users WHERE {} = ?1", provider.column()),
            [subject],
            |r| r.get(0),
        )
        .optional()?;
    match id {
        Some(id) => users::find_by_id(conn, &id),
        None => Ok(None),
    }
}

/// The account's subject at `provider`, if it has one.
pub fn subject(
    conn: &Connection,
    user_id: &str,
    provider: Provider,
) -> Result<Option<String>, DbError> {
    let subject: Option<Option<String>> = conn
        .query_row(
            &format!("SELECT {} FROM users WHERE id = ?1", provider.column()),
            [user_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(subject.flatten().filter(|s| !s.is_empty()))
}

/// Records the account's subject at `provider`, and what the provider says of it now. A subject
/// already recorded is never replaced: `false` (and nothing written) when the account has
/// another one. The provider's picture never replaces one the person uploaded
/// (`?manual=true`), as in LibreChat.
pub fn attach(
    conn: &Connection,
    user_id: &str,
    provider: Provider,
    subject: &str,
    avatar: Option<&str>,
) -> Result<bool, DbError> {
    let col = provider.column();
    let n = conn.execute(
        &format!(
            "UPDATE users SET {col} = ?2, updated_at = ?4,
                    avatar = CASE WHEN instr(COALESCE(avatar, ''), 'manual=true') > 0 THEN avatar
                                  ELSE COALESCE(?3, avatar) END
             WHERE id = ?1 AND ({col} IS NULL OR {col} = '' OR {col} = ?2)"
        ),
        params![user_id, subject, avatar, now()],
    )?;
    Ok(n == 1)
}

/// Forgets the account's subject at `provider` (an administrator's repair when the provider
/// changed the subject it knows the person by); the next sign-in there links the account again
/// by the usual rule. The subject it had, if any.
pub fn detach(
    conn: &Connection,
    user_id: &str,
    provider: Provider,
) -> Result<Option<String>, DbError> {
    let old = subject(conn, user_id, provider)?;
    if old.is_some() {
        conn.execute(
            &format!(
                "UPDATE users SET {} = NULL, updated_at = ?2 WHERE id = ?1",
                provider.column()
            ),
            params![user_id, now()],
        )?;
    }
    Ok(old)
}
