//! `actions` of librechat.yaml, as LibreChat reads it: which domains an agent's actions may
//! call (`allowedDomains`) and which private services they may reach (`allowedAddresses`).
//!
//! ```yaml
//! actions:
//!   allowedDomains: ["api.example.com", "*.weather.gov", "https://billing.example.org:8443"]
//!   allowedAddresses: ["10.0.0.5:8080"]
//! ```
//!
//! Without `allowedDomains` every public domain is allowed; with it, only those that match
//! one entry (a host, `*.` for it and every subdomain, an optional `http://`/`https://` that
//! the action must use too, an optional port that it must name too). `allowedAddresses`
//! lists `host:port` services on private addresses that actions may call nonetheless (the
//! form of `endpoints.allowedAddresses`, read separately, as LibreChat reads it).

use std::time::Duration;

use serde_json::Value;

use super::Env;
use crate::net::AllowedAddresses;

/// How long one call to an action's API may take when `ACTIONS_TIMEOUT_MS` does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The actions section, read.
#[derive(Debug, Clone)]
pub struct ActionsConfig {
    /// `allowedDomains`, as written (matched by `crate::agents::actions::domain`). Empty: any
    /// public domain.
    pub allowed_domains: Vec<String>,
    /// `allowedAddresses`: the private services actions may call.
    pub allowed_addresses: AllowedAddresses,
    /// `ACTIONS_TIMEOUT_MS` (ours; default 30 s, at most 10 minutes): how long one call to an
    /// action's API may take, from connecting to its answer's last byte.
    pub timeout: Duration,
}

impl Default for ActionsConfig {
    fn default() -> Self {
        ActionsConfig {
            allowed_domains: Vec::new(),
            allowed_addresses: AllowedAddresses::default(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl ActionsConfig {
    /// Reads the `actions` section and `ACTIONS_TIMEOUT_MS`; what cannot be used is returned
    /// as warnings.
    pub fn load(env: &Env, section: Option<&Value>) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let mut out = ActionsConfig::default();
        if let Some(raw) = env
            .get("ACTIONS_TIMEOUT_MS")
            .filter(|v| !v.trim().is_empty())
        {
            match raw.trim().parse::<u64>() {
                Ok(ms) if (1..=600_000).contains(&ms) => out.timeout = Duration::from_millis(ms),
                _ => warnings.push(format!(
                    "ACTIONS_TIMEOUT_MS={raw:?} is ignored: expected milliseconds from 1 to 600000"
                )),
            }
        }
        let Some(section) = section.filter(|s| !s.is_null()) else {
            return (out, warnings);
        };
        let strings = |key: &str, warnings: &mut Vec<String>| -> Vec<String> {
            match section.get(key) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|v| match v.as_str() {
                        Some(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                        _ => {
                            warnings.push(format!(
                                "actions.{key}: the entry {v} is not text and is ignored"
                            ));
                            None
                        }
                    })
                    .collect(),
                Some(other) => {
                    warnings.push(format!("actions.{key} must be a list; {other} is ignored"));
                    Vec::new()
                }
            }
        };
        out.allowed_domains = strings("allowedDomains", &mut warnings);
        let listed = strings("allowedAddresses", &mut warnings);
        let (allowed, more) = AllowedAddresses::parse(listed.iter().map(String::as_str));
        out.allowed_addresses = allowed;
        warnings.extend(
            more.into_iter()
                .map(|w| w.replacen("endpoints.allowedAddresses", "actions.allowedAddresses", 1)),
        );
        (out, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_domains_and_addresses() {
        let env = Env::from_pairs([("ACTIONS_TIMEOUT_MS".to_string(), "1500".to_string())]);
        let (c, w) = ActionsConfig::load(
            &env,
            Some(&json!({
                "allowedDomains": ["api.example.com", " *.example.org ", 5],
                "allowedAddresses": ["127.0.0.1:8080", "10.0.0.0/8"],
            })),
        );
        assert_eq!(c.allowed_domains, ["api.example.com", "*.example.org"]);
        assert!(
            c.allowed_addresses
                .allows_ip("127.0.0.1".parse().unwrap(), 8080)
        );
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[1].starts_with("actions.allowedAddresses"), "{w:?}");
        assert_eq!(c.timeout, Duration::from_millis(1500));
        let (c, w) = ActionsConfig::load(&Env::from_pairs(Vec::<(String, String)>::new()), None);
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert!(c.allowed_domains.is_empty() && c.allowed_addresses.is_empty() && w.is_empty());
    }
}
