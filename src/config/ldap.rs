//! LDAP sign-in settings, from LibreChat's environment names. LDAP is on when `LDAP_URL` and
//! `LDAP_USER_SEARCH_BASE` are set; then `/api/auth/login` checks passwords against the
//! directory instead of the local accounts, as LibreChat does.

use std::path::PathBuf;

use serde::Serialize;

use super::{ConfigError, Env, GroupPattern};

/// The group search's filter unless `LDAP_GROUPS_SEARCH_FILTER` says otherwise: groups that
/// list the person's entry (`groupOfNames`, `groupOfUniqueNames`).
pub const DEFAULT_GROUPS_FILTER: &str = "(|(member={{dn}})(uniqueMember={{dn}}))";

#[derive(Debug, Clone, Serialize)]
pub struct LdapSettings {
    /// `LDAP_URL`: `ldap://host:389` or `ldaps://host:636`.
    pub url: String,
    /// `LDAP_BIND_DN` and `LDAP_BIND_CREDENTIALS`: the service account that searches (anonymous
    /// search when unset).
    pub bind_dn: Option<String>,
    #[serde(skip)]
    pub bind_credentials: Option<String>,
    /// `LDAP_USER_SEARCH_BASE`.
    pub search_base: String,
    /// `LDAP_SEARCH_FILTER` (default `mail={{username}}`); `{{username}}` is replaced by what
    /// the person typed, escaped (RFC 4515).
    pub search_filter: String,
    /// `LDAP_STARTTLS`: upgrade an `ldap://` connection with StartTLS.
    pub starttls: bool,
    /// `LDAP_CA_CERT_PATH`: the PEM file of the authorities to trust (instead of the system's).
    pub ca_cert_path: Option<PathBuf>,
    /// `LDAP_TLS_REJECT_UNAUTHORIZED` (default true): `false` accepts any certificate.
    pub reject_unauthorized: bool,
    /// `LDAP_LOGIN_USES_USERNAME`: the login form asks for a username.
    pub login_uses_username: bool,
    /// `LDAP_ID`, `LDAP_USERNAME`, `LDAP_EMAIL`, `LDAP_FULL_NAME`: the attributes to read
    /// (`LDAP_FULL_NAME` may list several, joined with spaces).
    pub id_attribute: Option<String>,
    pub username_attribute: Option<String>,
    pub email_attribute: Option<String>,
    pub full_name_attributes: Vec<String>,
    /// `LDAP_GROUPS_ATTRIBUTE` (ours): an attribute of the person's entry that lists the DNs
    /// of their groups (`memberOf`); each group is named by its DN's first value (its `cn`).
    pub groups_attribute: Option<String>,
    /// `LDAP_GROUPS_SEARCH_BASE` (ours): where to search for the person's groups (named by
    /// their `cn`), with `groups_search_filter`.
    pub groups_search_base: Option<String>,
    /// `LDAP_GROUPS_SEARCH_FILTER` (ours; default `(|(member={{dn}})(uniqueMember={{dn}}))`):
    /// `{{dn}}` is replaced by the person's DN and `{{username}}` by what they typed, both
    /// escaped. It must use one of them, or everyone would be in every group.
    pub groups_search_filter: String,
    /// `LDAP_GROUPS_INCLUDE` (ours): only the groups whose name matches come over.
    pub groups_include: Option<GroupPattern>,
}

impl LdapSettings {
    /// Whether memberships of `ldap` groups are kept in step at each sign-in.
    pub fn syncs_groups(&self) -> bool {
        self.groups_attribute.is_some() || self.groups_search_base.is_some()
    }

    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let (Some(url), Some(search_base)) =
            (env.string("LDAP_URL"), env.string("LDAP_USER_SEARCH_BASE"))
        else {
            return Ok(None);
        };
        if !(url.starts_with("ldap://") || url.starts_with("ldaps://")) {
            return Err(ConfigError::invalid(
                "LDAP_URL",
                &url,
                "an ldap:// or ldaps:// URL",
            ));
        }
        let ca_cert_path = env.string("LDAP_CA_CERT_PATH").map(PathBuf::from);
        if let Some(p) = &ca_cert_path
            && !p.is_file()
        {
            return Err(ConfigError::invalid(
                "LDAP_CA_CERT_PATH",
                &p.display().to_string(),
                "a readable PEM file",
            ));
        }
        let groups_search_filter = env
            .string("LDAP_GROUPS_SEARCH_FILTER")
            .unwrap_or_else(|| DEFAULT_GROUPS_FILTER.into());
        if !groups_search_filter.contains("{{dn}}")
            && !groups_search_filter.contains("{{username}}")
        {
            return Err(ConfigError::invalid(
                "LDAP_GROUPS_SEARCH_FILTER",
                &groups_search_filter,
                "a filter that uses {{dn}} or {{username}}",
            ));
        }
        Ok(Some(Self {
            url,
            bind_dn: env.string("LDAP_BIND_DN"),
            bind_credentials: env.string("LDAP_BIND_CREDENTIALS"),
            search_base,
            search_filter: env
                .string("LDAP_SEARCH_FILTER")
                .unwrap_or_else(|| "mail={{username}}".into()),
            starttls: env.bool("LDAP_STARTTLS")?.unwrap_or(false),
            ca_cert_path,
            reject_unauthorized: env.bool("LDAP_TLS_REJECT_UNAUTHORIZED")?.unwrap_or(true),
            login_uses_username: env.bool("LDAP_LOGIN_USES_USERNAME")?.unwrap_or(false),
            id_attribute: env.string("LDAP_ID"),
            username_attribute: env.string("LDAP_USERNAME"),
            email_attribute: env.string("LDAP_EMAIL"),
            full_name_attributes: env
                .string("LDAP_FULL_NAME")
                .map(|v| {
                    v.split(',')
                        .map(|a| a.trim().to_owned())
                        .filter(|a| !a.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            groups_attribute: env.string("LDAP_GROUPS_ATTRIBUTE"),
            groups_search_base: env.string("LDAP_GROUPS_SEARCH_BASE"),
            groups_search_filter,
            groups_include: GroupPattern::from_env(env, "LDAP_GROUPS_INCLUDE")?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(extra: &[(&'static str, &'static str)]) -> Env {
        let mut pairs = vec![
            ("LDAP_URL", "ldap://127.0.0.1:389"),
            ("LDAP_USER_SEARCH_BASE", "ou=people,dc=x"),
        ];
        pairs.extend_from_slice(extra);
        Env::from_pairs(pairs)
    }

    #[test]
    fn group_sync_is_off_unless_asked_and_a_filter_must_name_the_person() {
        let s = LdapSettings::from_env(&env(&[])).unwrap().unwrap();
        assert!(!s.syncs_groups());
        assert_eq!(s.groups_search_filter, DEFAULT_GROUPS_FILTER);
        let s = LdapSettings::from_env(&env(&[("LDAP_GROUPS_ATTRIBUTE", "memberOf")]))
            .unwrap()
            .unwrap();
        assert!(s.syncs_groups());
        // A filter that matches groups whoever signs in would put everyone in every group.
        let err = LdapSettings::from_env(&env(&[(
            "LDAP_GROUPS_SEARCH_FILTER",
            "(objectClass=groupOfNames)",
        )]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("LDAP_GROUPS_SEARCH_FILTER"), "{err}");
        let ok = [("LDAP_GROUPS_SEARCH_FILTER", "(memberUid={{username}})")];
        assert!(LdapSettings::from_env(&env(&ok)).is_ok());
        let bad = [("LDAP_GROUPS_INCLUDE", "[")];
        assert!(LdapSettings::from_env(&env(&bad)).is_err());
    }
}
