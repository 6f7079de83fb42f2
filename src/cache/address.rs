//! Which clients count as one for limits, violation scores and bans.
//!
//! An IPv4 address is one client. An IPv6 client is its /64: a home or a server is given a
//! whole /64 (2^64 addresses) and can use a new address for every request, so counting single
//! addresses would let one client through every limit. IPv4 seen as IPv6 (`::ffff:a.b.c.d`, from
//! a dual-stack socket) is its IPv4 address.

use std::net::{IpAddr, Ipv6Addr};

/// The client key of `ip`: `203.0.113.7`, or `2001:db8:1:2::/64`.
pub fn client_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let network = Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
            format!("{network}/64")
        }
    }
}

/// A client key from what an administrator typed: an address (its key) or a key already
/// (`2001:db8:1:2::/64`, normalized).
pub fn parse_client_key(text: &str) -> Option<String> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(client_key(ip));
    }
    let network = text.strip_suffix("/64")?.parse::<Ipv6Addr>().ok()?;
    Some(client_key(IpAddr::V6(network)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> String {
        client_key(s.parse().unwrap())
    }

    #[test]
    fn ipv6_clients_are_their_64() {
        assert_eq!(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::1"), "::/64");
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(
            key("::ffff:203.0.113.7"),
            "203.0.113.7",
            "not all of ::ffff:0:0/96 as one"
        );
        assert_eq!(
            parse_client_key("2001:db8:1:2::5").unwrap(),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            parse_client_key("2001:0db8:0001:0002::/64").unwrap(),
            "2001:db8:1:2::/64"
        );
        assert_eq!(parse_client_key(" 10.0.0.1 ").unwrap(), "10.0.0.1");
        assert_eq!(parse_client_key("2001:db8::/48"), None);
        assert_eq!(parse_client_key("alice@example.org"), None);
    }
}
