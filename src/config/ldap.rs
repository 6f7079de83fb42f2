//! LDAP sign-in settings, from LibreChat's environment names. LDAP is on when `LDAP_URL` and
//! `LDAP_USER_SEARCH_BASE` are set; then `/api/auth/login` checks passwords against the
//! directory instead of the local accounts, as LibreChat does.

use std::path::PathBuf;

use serde::Serialize;

use super::{ConfigError, Env};

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
}

impl LdapSettings {
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
        }))
    }
}
