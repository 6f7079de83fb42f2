//! What the sign-in sources that keep groups in step (OpenID's `OPENID_GROUPS_*`, LDAP's
//! `LDAP_GROUPS_*`) share: the pattern that picks which of a provider's groups come over.

use regex::{Regex, RegexBuilder};
use serde::{Serialize, Serializer};

use super::{ConfigError, Env};

/// `OPENID_GROUPS_INCLUDE`, `LDAP_GROUPS_INCLUDE`: a regular expression; only the groups whose
/// name it matches (anywhere, unless anchored with `^...$`) come over.
#[derive(Debug, Clone)]
pub struct GroupPattern(Regex);

impl GroupPattern {
    /// The pattern under `key`, when set; a pattern that does not compile stops the start.
    pub fn from_env(env: &Env, key: &str) -> Result<Option<Self>, ConfigError> {
        let Some(pattern) = env.string(key) else {
            return Ok(None);
        };
        RegexBuilder::new(&pattern)
            // An administrator's pattern, matched against names of at most 100 characters: a
            // small automaton is plenty.
            .size_limit(1 << 20)
            .build()
            .map(|r| Some(Self(r)))
            .map_err(|_| ConfigError::invalid(key, &pattern, "a regular expression"))
    }

    /// Whether a group of this name comes over.
    pub fn matches(&self, name: &str) -> bool {
        self.0.is_match(name)
    }
}

impl Serialize for GroupPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_picks_names_and_a_broken_one_is_refused() {
        let env = Env::from_pairs([("P", "^librechat-"), ("BAD", "(unclosed")]);
        let p = GroupPattern::from_env(&env, "P").unwrap().unwrap();
        assert!(p.matches("librechat-eng"));
        assert!(!p.matches("eng-librechat-"));
        assert!(GroupPattern::from_env(&env, "UNSET").unwrap().is_none());
        let err = GroupPattern::from_env(&env, "BAD").unwrap_err().to_string();
        assert!(err.contains("BAD"), "{err}");
    }
}
