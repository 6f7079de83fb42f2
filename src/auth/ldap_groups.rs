//! An LDAP person's groups, read at sign-in (ours, see `access::external_groups`): the group
//! DNs an attribute of their entry lists (`LDAP_GROUPS_ATTRIBUTE=memberOf`), and the groups a
//! search finds (`LDAP_GROUPS_SEARCH_BASE`, `LDAP_GROUPS_SEARCH_FILTER`), both when both are
//! set. A group is known by its DN (lowercased, so two spellings of one DN are one group) and
//! named by its `cn` (for a DN alone, the value of its first part). A search that fails
//! lists no groups: the person keeps none of the directory's groups until it works again.

use ldap3::{Ldap, Scope, SearchEntry, SearchOptions, ldap_escape};

use crate::access::external_groups::{GroupSource, MAX_GROUPS, Offered, ProviderGroups};
use crate::config::LdapSettings;

/// The attribute values of `entry` under `name` (case aside).
fn values<'a>(entry: &'a SearchEntry, name: &str) -> &'a [String] {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
        .unwrap_or_default()
}

/// The person's groups at the directory, checked. `ldap` is bound as the person; the search
/// binds as the service account first when there is one.
pub(super) async fn groups_of(
    ldap: &mut Ldap,
    s: &LdapSettings,
    entry: &SearchEntry,
    login: &str,
    who: &str,
) -> ProviderGroups {
    let mut offered: Vec<Offered> = Vec::new();
    if let Some(attr) = &s.groups_attribute {
        offered.extend(values(entry, attr).iter().map(|dn| from_dn(dn, None)));
    }
    if let Some(base) = &s.groups_search_base {
        match search(ldap, s, base, entry, login).await {
            Ok(found) => offered.extend(found),
            Err(why) => {
                tracing::warn!(subject = who, "LDAP group search: {why}; no groups taken");
                return ProviderGroups::none(GroupSource::Ldap);
            }
        }
    }
    ProviderGroups::checked(GroupSource::Ldap, offered, s.groups_include.as_ref(), who)
}

/// The groups `LDAP_GROUPS_SEARCH_FILTER` finds for the person, at most [`MAX_GROUPS`] + 1 (a
/// directory that has more says so, and the list is refused whole).
async fn search(
    ldap: &mut Ldap,
    s: &LdapSettings,
    base: &str,
    entry: &SearchEntry,
    login: &str,
) -> Result<Vec<Offered>, String> {
    if let (Some(dn), Some(pw)) = (&s.bind_dn, &s.bind_credentials) {
        ldap.simple_bind(dn, pw)
            .await
            .and_then(|r| r.success())
            .map_err(|e| format!("the service account's bind failed: {e}"))?;
    }
    let filter = s
        .groups_search_filter
        .replace("{{dn}}", &ldap_escape(&entry.dn))
        .replace("{{username}}", &ldap_escape(login));
    let limit = i32::try_from(MAX_GROUPS + 1).unwrap_or(i32::MAX);
    let ldap3::SearchResult(entries, result) = ldap
        .with_search_options(SearchOptions::new().sizelimit(limit))
        .search(base, Scope::Subtree, &filter, vec!["cn"])
        .await
        .map_err(|e| e.to_string())?;
    match result.rc {
        0 => {}
        // sizeLimitExceeded: more groups than are taken (or than the directory answers).
        4 => return Err(format!("more than {MAX_GROUPS} groups")),
        _ => return Err(result.to_string()),
    }
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let e =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| SearchEntry::construct(e)))
                .map_err(|_| "the directory answered a malformed entry".to_owned())?;
        let cn = values(&e, "cn").first().cloned();
        out.push(from_dn(&e.dn, cn));
    }
    Ok(out)
}

/// A group known by its DN, named `name` or else by the DN's first value.
fn from_dn(dn: &str, name: Option<String>) -> Offered {
    match (normalized(dn), name.or_else(|| first_value(dn))) {
        (Some(id), Some(name)) => Offered::Group { id, name },
        _ => Offered::Unreadable,
    }
}

/// The parts of a DN (split at the commas that are not escaped), trimmed.
fn parts(dn: &str) -> Vec<&str> {
    let (mut out, mut start, mut escaped) = (Vec::new(), 0, false);
    for (i, c) in dn.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ',' => {
                out.push(dn[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(dn[start..].trim());
    out
}

/// The DN as the group's id: its parts lowercased and trimmed (LDAP compares names of groups
/// case aside); `None` when it is not a DN.
fn normalized(dn: &str) -> Option<String> {
    let parts = parts(dn);
    if parts.iter().any(|p| !p.contains('=')) {
        return None;
    }
    let parts: Vec<String> = parts
        .iter()
        .map(|p| {
            let (t, v) = p.split_once('=').unwrap_or((p, ""));
            format!("{}={}", t.trim(), v.trim()).to_lowercase()
        })
        .collect();
    Some(parts.join(","))
}

/// The (first) value of a DN's first part (`Sales, EU` for `cn=Sales\, EU,ou=groups,...`),
/// unescaped (RFC 4514: `\` and a special character, or two hex digits).
fn first_value(dn: &str) -> Option<String> {
    let first = *parts(dn).first()?;
    let (_, value) = first.split_once('=')?;
    let mut bytes = Vec::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        // A second value of a multi-valued part (`cn=x+uid=y`) is not the name.
        if c == '+' {
            break;
        }
        if c != '\\' {
            let mut buf = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let Some(next) = chars.next() else { break };
        // Two hex digits (checked as such: `from_str_radix` would take a sign).
        let hex = chars
            .peek()
            .filter(|low| next.is_ascii_hexdigit() && low.is_ascii_hexdigit())
            .and_then(|low| u8::from_str_radix(&format!("{next}{low}"), 16).ok());
        match hex {
            Some(b) => {
                chars.next();
                bytes.push(b);
            }
            None => {
                let mut buf = [0; 4];
                bytes.extend_from_slice(next.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    let value = String::from_utf8_lossy(&bytes).trim().to_owned();
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dn_is_named_by_its_first_value_and_known_lowercased() {
        let dn = r"CN=Sales\, EU , OU=Groups,dc=test,dc=local";
        assert_eq!(first_value(dn).as_deref(), Some("Sales, EU"));
        assert_eq!(
            normalized(dn).as_deref(),
            Some(r"cn=sales\, eu,ou=groups,dc=test,dc=local")
        );
        assert_eq!(
            normalized("cn=sales\\, eu,ou=groups, dc=test,dc=local"),
            normalized(dn)
        );
        assert_eq!(first_value(r"cn=caf\C3\A9,dc=x").as_deref(), Some("café"));
        assert_eq!(first_value(r"cn=a\+b+uid=x,dc=x").as_deref(), Some("a+b"));
        assert_eq!(normalized("not a dn"), None);
        assert_eq!(from_dn("not a dn", None), Offered::Unreadable);
        assert_eq!(
            from_dn("cn=Eng,dc=x", Some("Engineering".into())),
            Offered::Group {
                id: "cn=eng,dc=x".into(),
                name: "Engineering".into()
            }
        );
    }
}
