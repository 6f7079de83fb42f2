//! The administrator's exceptions to the private-address rule: librechat.yaml's
//! `endpoints.allowedAddresses`, as LibreChat 0.8.8 reads it.
//!
//! Each entry is one service, `host:port` or `[ipv6]:port` (`localhost:11434`,
//! `10.0.0.5:8080`, `[::1]:8000`): with a port, so allowing a self-hosted model server does not
//! also open every other service on that machine. URLs, paths, CIDR ranges, bare hosts and
//! public IP addresses (which are never refused, so listing them means a mistake) are left out
//! with a warning, as LibreChat's schema refuses them.

use std::collections::{BTreeSet, HashSet};
use std::net::IpAddr;

/// One allowed service: a host name (lower case) or a private address, and a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Host {
    Name(String),
    Ip(IpAddr),
}

/// The allowed services. Empty (the default) allows no private address at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedAddresses {
    entries: HashSet<(Host, u16)>,
}

impl AllowedAddresses {
    /// Reads the entries; what cannot be used is returned as warnings, one per entry.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> (Self, Vec<String>) {
        let mut out = Self::default();
        let mut warnings = Vec::new();
        for raw in entries {
            match entry(raw) {
                Ok(e) => {
                    out.entries.insert(e);
                }
                Err(why) => warnings.push(format!(
                    "endpoints.allowedAddresses: {raw:?} is ignored: {why}"
                )),
            }
        }
        (out, warnings)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The ports that have at least one entry (each gets its own client; see `guarded`).
    pub fn ports(&self) -> BTreeSet<u16> {
        self.entries.iter().map(|(_, p)| *p).collect()
    }

    /// Whether the host name `name` is allowed on `port`.
    pub fn allows_name(&self, name: &str, port: u16) -> bool {
        self.entries.contains(&(
            Host::Name(name.trim_end_matches('.').to_ascii_lowercase()),
            port,
        ))
    }

    /// Whether the address `ip` is allowed on `port`.
    pub fn allows_ip(&self, ip: IpAddr, port: u16) -> bool {
        self.entries.contains(&(Host::Ip(ip.to_canonical()), port))
    }
}

fn entry(raw: &str) -> Result<(Host, u16), &'static str> {
    let s = raw.trim().to_ascii_lowercase();
    if s.contains("://") || s.contains('/') || s.chars().any(char::is_whitespace) {
        return Err("write host:port, not a URL, a path or a range");
    }
    let (host, port) = match s.strip_prefix('[') {
        Some(rest) => rest
            .split_once("]:")
            .ok_or("write an IPv6 address as [address]:port")?,
        None => s
            .rsplit_once(':')
            .filter(|(h, _)| !h.contains(':'))
            .ok_or("a port is needed, e.g. localhost:11434")?,
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or("the port is not a number from 1 to 65535")?;
    if host.is_empty() {
        return Err("the host is missing");
    }
    let host = match host.parse::<IpAddr>() {
        Ok(ip) => {
            let ip = ip.to_canonical();
            if super::private_kind(ip).is_none() {
                return Err("a public address is never refused; only private ones can be listed");
            }
            Host::Ip(ip)
        }
        Err(_) if s.starts_with('[') => return Err("not an IPv6 address"),
        Err(_) => Host::Name(host.trim_end_matches('.').to_owned()),
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_host_and_port() {
        let (a, warnings) = AllowedAddresses::parse([
            "localhost:11434",
            "Ollama.LAN:8080",
            "127.0.0.1:8020",
            "[::1]:8000",
            "[::ffff:10.0.0.5]:9000",
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(a.allows_name("localhost", 11434));
        assert!(
            !a.allows_name("localhost", 6379),
            "another port is not allowed"
        );
        assert!(a.allows_name("ollama.lan.", 8080));
        assert!(a.allows_ip("127.0.0.1".parse().unwrap(), 8020));
        assert!(!a.allows_ip("127.0.0.2".parse().unwrap(), 8020));
        assert!(a.allows_ip("::1".parse().unwrap(), 8000));
        assert!(a.allows_ip("10.0.0.5".parse().unwrap(), 9000));
        assert!(a.allows_ip("::ffff:127.0.0.1".parse().unwrap(), 8020));
        assert_eq!(
            a.ports().into_iter().collect::<Vec<_>>(),
            [8000, 8020, 8080, 9000, 11434]
        );
    }

    #[test]
    fn what_would_allow_too_much_is_refused() {
        let (a, warnings) = AllowedAddresses::parse([
            "http://localhost:11434",
            "10.0.0.0/8",
            "localhost",
            "127.0.0.1",
            "::1",
            "[::1]",
            "8.8.8.8:53",
            "host:0",
            "host:99999",
            ":80",
            "a b:1",
        ]);
        assert!(a.is_empty());
        assert_eq!(warnings.len(), 11, "{warnings:?}");
        assert!(warnings[0].contains("http://localhost:11434"));
    }
}
