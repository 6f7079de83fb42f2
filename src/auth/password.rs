//! Password hashing: argon2id for every new hash; bcrypt hashes imported from LibreChat are
//! still accepted and replaced by argon2id at the next successful login.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

/// argon2id with 19 MiB of memory (OWASP's floor), 6 passes, 1 lane: about 49 ms per hash on
/// this project's 2-core reference machine (`cargo bench --bench auth`), inside the 50-100 ms
/// that makes guessing expensive while a login still feels instant. More passes rather than
/// more memory keeps a burst of logins from costing a small server hundreds of megabytes.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 6;
const P_COST: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=...`) for `password`. CPU-heavy: call on a blocking thread.
pub fn hash(password: &str) -> String {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .expect("argon2 hashing with valid parameters cannot fail")
}

/// The result of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Wrong,
    Right,
    /// Right, but stored with an older scheme or weaker parameters: store a fresh [`hash`].
    RightButRehash,
}

/// Checks `password` against a stored hash of either scheme. CPU-heavy: call on a blocking thread.
pub fn verify(password: &str, stored: &str) -> Check {
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        return match bcrypt::verify(password, stored) {
            Ok(true) => Check::RightButRehash,
            _ => Check::Wrong,
        };
    }
    match hasher().verify_password(password.as_bytes(), stored) {
        Ok(()) if is_current(stored) => Check::Right,
        Ok(()) => Check::RightButRehash,
        Err(_) => Check::Wrong,
    }
}

fn is_current(stored: &str) -> bool {
    stored.starts_with("$argon2id$")
        && stored.contains(&format!("m={M_COST_KIB},t={T_COST},p={P_COST}"))
}

/// Spends the same time as checking a real password, for unknown accounts, so that response
/// time does not tell whether an email is registered.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("a password nobody has"));
    let _ = verify(password, stored);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let h = hash("correct horse");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=6,p=1$"), "{h}");
        assert_eq!(verify("correct horse", &h), Check::Right);
        assert_eq!(verify("wrong horse", &h), Check::Wrong);
        assert_ne!(hash("correct horse"), h, "salted");
    }

    #[test]
    fn bcrypt_from_librechat_verifies_and_asks_for_a_rehash() {
        let legacy = bcrypt::hash("from mongo", 4).unwrap();
        assert_eq!(verify("from mongo", &legacy), Check::RightButRehash);
        assert_eq!(verify("nope", &legacy), Check::Wrong);
    }

    #[test]
    fn weaker_argon2_parameters_ask_for_a_rehash_and_garbage_is_wrong() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw")
        .unwrap()
        .to_string();
        assert_eq!(verify("pw", &weak), Check::RightButRehash);
        assert_eq!(verify("pw", "not a hash"), Check::Wrong);
        assert_eq!(verify("pw", ""), Check::Wrong);
    }
}
