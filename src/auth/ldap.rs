//! Checking a password against an LDAP directory (LibreChat's LDAP strategy): bind as the
//! service account (or anonymously), find the person with `LDAP_SEARCH_FILTER`, then bind as
//! them with the password given. Plain `ldap://`, `ldaps://`, or StartTLS, with the system's
//! trust roots or those of `LDAP_CA_CERT_PATH`.

use std::sync::Arc;
use std::time::Duration;

use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry, ldap_escape};

use super::external::ExternalIdentity;
use crate::config::LdapSettings;
use crate::db::identities::Provider;

/// How long a directory may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a directory login did not work.
#[derive(Debug, thiserror::Error)]
pub enum LdapFailure {
    /// Unknown person or wrong password: the caller answers as for a wrong password.
    #[error("wrong credentials")]
    BadCredentials,
    /// The directory found the person but gave no usable email address.
    #[error("the directory entry has no email address")]
    NoEmail,
    /// The directory cannot be reached or refused the service account (logged; the person is
    /// told sign-in is unavailable).
    #[error("{0}")]
    Unavailable(String),
}

/// The attributes of a found entry, as LibreChat reads them.
fn identity(entry: &SearchEntry, s: &LdapSettings) -> Result<ExternalIdentity, LdapFailure> {
    let first = |name: &str| {
        entry
            .attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.first())
            .filter(|v| !v.trim().is_empty())
            .cloned()
    };
    let pick = |configured: &Option<String>, fallbacks: &[&str]| {
        configured
            .as_deref()
            .and_then(first)
            .or_else(|| fallbacks.iter().find_map(|a| first(a)))
    };
    let email = pick(&s.email_attribute, &["mail"]).ok_or(LdapFailure::NoEmail)?;
    let subject = pick(&s.id_attribute, &["uid", "sAMAccountName", "mail"])
        .unwrap_or_else(|| entry.dn.clone());
    let username = pick(&s.username_attribute, &["uid", "givenName", "mail"]).unwrap_or_default();
    let name = if s.full_name_attributes.is_empty() {
        pick(&None, &["displayName", "cn"])
    } else {
        let parts: Vec<String> = s
            .full_name_attributes
            .iter()
            .filter_map(|a| first(a))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
    .unwrap_or_else(|| username.clone());
    Ok(ExternalIdentity {
        provider: Provider::Ldap,
        subject,
        email,
        email_verified: true,
        name,
        username,
        avatar: None,
        admin: None,
        groups: None,
    })
}

/// TLS settings: the CA file's authorities when one is given, no verification when
/// `LDAP_TLS_REJECT_UNAUTHORIZED=false`, else the system's roots.
fn connection_settings(s: &LdapSettings) -> Result<LdapConnSettings, LdapFailure> {
    let mut settings = LdapConnSettings::new()
        .set_conn_timeout(TIMEOUT)
        .set_starttls(s.starttls && s.url.starts_with("ldap://"));
    if !s.reject_unauthorized {
        return Ok(settings.set_no_tls_verify(true));
    }
    if let Some(path) = &s.ca_cert_path {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let pem = std::fs::read(path).map_err(|e| {
            LdapFailure::Unavailable(format!("cannot read {}: {e}", path.display()))
        })?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| {
                LdapFailure::Unavailable(format!("{}: not a PEM certificate ({e})", path.display()))
            })?;
            roots.add(cert).map_err(|e| {
                LdapFailure::Unavailable(format!("{}: unusable certificate ({e})", path.display()))
            })?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| LdapFailure::Unavailable(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        settings = settings.set_config(Arc::new(config));
    }
    Ok(settings)
}

/// The filter with `{{username}}` replaced by `login`, escaped per RFC 4515.
pub fn filter_for(template: &str, login: &str) -> String {
    template.replace("{{username}}", &ldap_escape(login))
}

/// For `librechat doctor`: connects, and binds as the service account when one is set.
pub async fn probe(s: &LdapSettings) -> Result<(), String> {
    let (conn, mut ldap) =
        LdapConnAsync::with_settings(connection_settings(s).map_err(|e| e.to_string())?, &s.url)
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
    ldap3::drive!(conn);
    ldap.with_timeout(TIMEOUT);
    let bound = match (&s.bind_dn, &s.bind_credentials) {
        (Some(dn), Some(pw)) => ldap
            .simple_bind(dn, pw)
            .await
            .and_then(|r| r.success())
            .map(|_| ())
            .map_err(|e| format!("the service account (LDAP_BIND_DN) was refused: {e}")),
        _ => Ok(()),
    };
    let _ = ldap.unbind().await;
    bound
}

/// Checks `login` and `password` against the directory; the person's identity when right.
pub async fn authenticate(
    s: &LdapSettings,
    login: &str,
    password: &str,
) -> Result<ExternalIdentity, LdapFailure> {
    // An empty password would be an "unauthenticated bind", which many directories accept.
    if login.trim().is_empty() || password.is_empty() {
        return Err(LdapFailure::BadCredentials);
    }
    let unavailable = |what: &str, e: ldap3::LdapError| {
        LdapFailure::Unavailable(format!("LDAP {what} failed: {e}"))
    };
    let (conn, mut ldap) = LdapConnAsync::with_settings(connection_settings(s)?, &s.url)
        .await
        .map_err(|e| unavailable("connection", e))?;
    ldap3::drive!(conn);
    ldap.with_timeout(TIMEOUT);
    let outcome = async {
        if let (Some(dn), Some(pw)) = (&s.bind_dn, &s.bind_credentials) {
            ldap.simple_bind(dn, pw)
                .await
                .and_then(|r| r.success())
                .map_err(|e| unavailable("service bind", e))?;
        }
        let filter = filter_for(&s.search_filter, login.trim());
        // `memberOf` and the like are operational attributes: sent only when asked for.
        let mut attrs = vec!["*"];
        attrs.extend(s.groups_attribute.as_deref());
        let (entries, _) = ldap
            .search(&s.search_base, Scope::Subtree, &filter, attrs)
            .await
            .and_then(|r| r.success())
            .map_err(|e| unavailable("search", e))?;
        // One match only: an ambiguous filter must not pick someone.
        let [entry] = <[_; 1]>::try_from(entries).map_err(|_| LdapFailure::BadCredentials)?;
        let entry = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            SearchEntry::construct(entry)
        }))
        .map_err(|_| LdapFailure::Unavailable("LDAP answered a malformed entry".into()))?;
        match ldap.simple_bind(&entry.dn, password).await {
            Ok(r) if r.rc == 0 => {}
            // 49: invalidCredentials; any other refusal of the person's bind is the same to them.
            Ok(_) => return Err(LdapFailure::BadCredentials),
            Err(e) => return Err(unavailable("bind", e)),
        }
        let mut found = identity(&entry, s)?;
        if s.syncs_groups() {
            let groups =
                super::ldap_groups::groups_of(&mut ldap, s, &entry, login.trim(), &found.subject);
            found.groups = Some(groups.await);
        }
        Ok(found)
    }
    .await;
    let _ = ldap.unbind().await;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_escapes_what_people_type() {
        assert_eq!(filter_for("mail={{username}}", "a@b.c"), "mail=a@b.c");
        assert_eq!(
            filter_for("(&(uid={{username}})(objectClass=person))", "*)(uid=*"),
            "(&(uid=\\2a\\29\\28uid=\\2a)(objectClass=person))"
        );
        assert_eq!(filter_for("cn={{username}}", "a\\b\0"), "cn=a\\5cb\\00");
    }
}
