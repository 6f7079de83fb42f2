//! The environment as LibreChat sees it: the process environment, with a `.env` file beneath it.
//!
//! Settings never read `std::env` directly; they read an [`Env`], which tests build by hand.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::ConfigError;

/// Variables from the process environment layered over those of a `.env` file.
#[derive(Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

// Values can be secrets: never print them.
impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Env({} variables)", self.vars.len())
    }
}

impl Env {
    /// Reads `dotenv` (if it exists), then the process environment, which wins.
    pub fn load(dotenv: &Path) -> Result<Self, ConfigError> {
        let mut vars: HashMap<String, String> = match std::fs::read(dotenv) {
            Ok(bytes) => super::dotenv::parse(&String::from_utf8_lossy(&bytes))
                .into_iter()
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => {
                return Err(ConfigError::DotEnv {
                    path: dotenv.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        for (k, v) in std::env::vars_os() {
            if let (Ok(k), Ok(v)) = (k.into_string(), v.into_string()) {
                vars.insert(k, v);
            }
        }
        Ok(Self { vars })
    }

    /// An environment made of exactly these pairs (for tests and embedding).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The raw value, if set. An empty value counts as unset, as in LibreChat's `.env.example`
    /// where blank lines like `JWT_SECRET=` mean "not configured".
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The value exactly as given, even when empty (LibreChat treats `SHOW_BIRTHDAY_ICON=` as on).
    pub fn get_raw(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    pub fn is_set(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn string(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_owned)
    }

    /// A boolean. LibreChat's `isEnabled` only knows `true`; we also take the usual spellings
    /// and refuse anything else, so a typo is reported instead of silently meaning "off".
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Some(true)),
            "false" | "0" | "no" | "off" => Ok(Some(false)),
            _ => Err(ConfigError::invalid(key, v, "true or false")),
        }
    }

    /// An integer, also written as a product like LibreChat's `.env.example` does
    /// (`SESSION_EXPIRY=1000 * 60 * 15`).
    pub fn int(&self, key: &str) -> Result<Option<u64>, ConfigError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        eval_int(v)
            .map(Some)
            .ok_or_else(|| ConfigError::invalid(key, v, "a whole number such as 3080 or 1000 * 60"))
    }

    /// A duration written in milliseconds.
    pub fn millis(&self, key: &str) -> Result<Option<Duration>, ConfigError> {
        Ok(self.int(key)?.map(Duration::from_millis))
    }

    /// Every variable, for `${VAR}` expansion in librechat.yaml.
    pub(crate) fn vars(&self) -> &HashMap<String, String> {
        &self.vars
    }
}

/// Evaluates `+ - * /` over non-negative integers with parentheses, the only arithmetic that
/// LibreChat's `.env.example` uses. Written by hand because a general expression crate would
/// bring a whole language for one line of config; overflow, division by zero and negative
/// results give `None`.
pub fn eval_int(input: &str) -> Option<u64> {
    let tokens: Vec<char> = input.chars().filter(|c| !c.is_whitespace()).collect();
    let mut pos = 0;
    let value = parse_sum(&tokens, &mut pos)?;
    (pos == tokens.len()).then_some(value)
}

fn parse_sum(t: &[char], pos: &mut usize) -> Option<u64> {
    let mut acc = parse_product(t, pos)?;
    while let Some(&op) = t.get(*pos) {
        if op != '+' && op != '-' {
            break;
        }
        *pos += 1;
        let rhs = parse_product(t, pos)?;
        acc = if op == '+' {
            acc.checked_add(rhs)?
        } else {
            acc.checked_sub(rhs)?
        };
    }
    Some(acc)
}

fn parse_product(t: &[char], pos: &mut usize) -> Option<u64> {
    let mut acc = parse_atom(t, pos)?;
    while let Some(&op) = t.get(*pos) {
        if op != '*' && op != '/' {
            break;
        }
        *pos += 1;
        let rhs = parse_atom(t, pos)?;
        acc = if op == '*' {
            acc.checked_mul(rhs)?
        } else {
            acc.checked_div(rhs)?
        };
    }
    Some(acc)
}

fn parse_atom(t: &[char], pos: &mut usize) -> Option<u64> {
    if t.get(*pos) == Some(&'(') {
        *pos += 1;
        let v = parse_sum(t, pos)?;
        (t.get(*pos) == Some(&')')).then(|| *pos += 1)?;
        return Some(v);
    }
    let start = *pos;
    while t.get(*pos).is_some_and(char::is_ascii_digit) {
        *pos += 1;
    }
    if start == *pos {
        return None;
    }
    t[start..*pos].iter().collect::<String>().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_librechat_style_products() {
        assert_eq!(eval_int("3080"), Some(3080));
        assert_eq!(eval_int("1000 * 60 * 15"), Some(900_000));
        assert_eq!(eval_int("(1000 * 60 * 60 * 24) * 7"), Some(604_800_000));
        assert_eq!(eval_int("10 - 2 * 3"), Some(4));
    }

    #[test]
    fn refuses_what_is_not_arithmetic() {
        for bad in [
            "",
            "abc",
            "1 +",
            "(2",
            "2)",
            "1 - 2",
            "5 / 0",
            "99999999999999999999",
            "1e3",
        ] {
            assert_eq!(eval_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn booleans_accept_common_spellings_and_refuse_typos() {
        let env = Env::from_pairs([("A", "TRUE"), ("B", "0"), ("C", "maybe"), ("D", "  ")]);
        assert_eq!(env.bool("A").unwrap(), Some(true));
        assert_eq!(env.bool("B").unwrap(), Some(false));
        assert_eq!(env.bool("D").unwrap(), None);
        assert_eq!(env.bool("MISSING").unwrap(), None);
        let err = env.bool("C").unwrap_err().to_string();
        assert!(err.contains("C") && err.contains("maybe"), "{err}");
    }
}
