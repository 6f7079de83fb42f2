//! Input rules for accounts, following LibreChat's registration schema.

use super::accounts::AuthError;

/// Longest password accepted (LibreChat's limit; also bounds the hashing work).
pub const MAX_PASSWORD: usize = 128;

fn invalid(msg: &str) -> AuthError {
    AuthError::Invalid(msg.to_owned())
}

/// A plausible address, lowercased and trimmed.
pub fn email(raw: &str) -> Result<String, AuthError> {
    let e = raw.trim().to_lowercase();
    let bad = || invalid("Please enter a valid email address.");
    // ASCII only: most mail servers refuse internationalized addresses (SMTPUTF8), and an
    // account whose verification mail cannot be delivered could never be verified.
    if e.len() > 254 || !e.is_ascii() || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = e.split_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if local.is_empty() || local.len() > 64 || domain.contains('@') || !domain_ok {
        return Err(bad());
    }
    Ok(e)
}

pub fn name(raw: &str) -> Result<(), AuthError> {
    let n = raw.trim().chars().count();
    if !(3..=80).contains(&n) {
        return Err(invalid("Name must be between 3 and 80 characters."));
    }
    if raw.chars().any(char::is_control) {
        return Err(invalid("Name must not contain control characters."));
    }
    Ok(())
}

/// Optional; when given, 2-80 characters without spaces.
pub fn username(raw: Option<&str>) -> Result<String, AuthError> {
    let u = raw.unwrap_or("").trim();
    if u.is_empty() {
        return Ok(String::new());
    }
    let n = u.chars().count();
    let allowed = |c: char| c.is_alphanumeric() || "_.@#$%&*()-".contains(c);
    if !(2..=80).contains(&n) || !u.chars().all(allowed) {
        return Err(invalid(
            "Username must be 2 to 80 letters, digits or _.@#$%&*()- characters.",
        ));
    }
    Ok(u.to_owned())
}

pub fn password(raw: &str, min: u64) -> Result<(), AuthError> {
    let n = raw.chars().count();
    if (n as u64) < min {
        return Err(AuthError::Invalid(format!(
            "Password must be at least {min} characters long."
        )));
    }
    if n > MAX_PASSWORD {
        return Err(AuthError::Invalid(format!(
            "Password must be at most {MAX_PASSWORD} characters long."
        )));
    }
    Ok(())
}

/// `registration.allowedDomains`: empty allows every domain.
pub fn domain_allowed(email: &str, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let domain = email.rsplit('@').next().unwrap_or("");
    allowed
        .iter()
        .any(|d| d.trim().eq_ignore_ascii_case(domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email("  Alice@Example.ORG ").unwrap(), "alice@example.org");
        for bad in [
            "",
            "alice",
            "a@b",
            "@x.org",
            "a@.org",
            "a@x..org",
            "a b@x.org",
            "a@x.org@y.org",
            "a@x\n.org",
            "a\u{0}@x.org",
        ] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
        assert!(email(&format!("{}@x.org", "a".repeat(65))).is_err());
        assert!(email("jörg@example.org").is_err() && email("a@exämple.org").is_err());
    }

    #[test]
    fn names_usernames_passwords_domains() {
        assert!(name("Al").is_err());
        assert!(name("Alice").is_ok());
        assert!(name(&"x".repeat(81)).is_err());
        assert_eq!(username(None).unwrap(), "");
        assert!(username(Some("a b")).is_err());
        assert_eq!(username(Some("alice_1")).unwrap(), "alice_1");
        assert!(password("short", 8).is_err());
        assert!(password(&"p".repeat(129), 8).is_err());
        assert!(password("longenough", 8).is_ok());
        assert!(domain_allowed("a@x.org", &[]));
        assert!(domain_allowed("a@x.org", &["X.org".into()]));
        assert!(!domain_allowed("a@evil.org", &["x.org".into()]));
    }
}
