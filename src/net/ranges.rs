//! Which addresses are not the public internet: where a URL a user chose must not lead.
//!
//! Written out by hand (a dozen prefixes) rather than with `std`'s `is_global`, which is not
//! stable, or a crate: every range is listed here with its RFC so a reviewer can check it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of non-public address `ip` is, or `None` for a public one. The name is shown to
/// the person whose URL was refused.
pub fn private_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let n = u32::from(ip);
    let within = |prefix: [u8; 4], bits: u32| {
        let mask = u32::MAX << (32 - bits);
        n & mask == u32::from(Ipv4Addr::from(prefix)) & mask
    };
    Some(if within([0, 0, 0, 0], 8) {
        "unspecified" // RFC 1122 "this network"
    } else if within([127, 0, 0, 0], 8) {
        "loopback"
    } else if within([10, 0, 0, 0], 8)
        || within([172, 16, 0, 0], 12)
        || within([192, 168, 0, 0], 16)
    {
        "private" // RFC 1918
    } else if within([100, 64, 0, 0], 10) {
        "carrier-grade NAT" // RFC 6598
    } else if within([169, 254, 0, 0], 16) {
        "link-local" // RFC 3927, where cloud metadata services live
    } else if within([192, 0, 0, 0], 24) {
        "IETF protocol" // RFC 6890
    } else if within([192, 0, 2, 0], 24)
        || within([198, 51, 100, 0], 24)
        || within([203, 0, 113, 0], 24)
    {
        "documentation" // RFC 5737
    } else if within([198, 18, 0, 0], 15) {
        "benchmarking" // RFC 2544
    } else if within([224, 0, 0, 0], 4) {
        "multicast"
    } else if within([240, 0, 0, 0], 4) {
        "reserved" // and 255.255.255.255, broadcast
    } else {
        return None;
    })
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    let n = u128::from(ip);
    let within = |prefix: u128, bits: u32| n >> (128 - bits) == prefix >> (128 - bits);
    let embedded = Ipv4Addr::from((n & 0xffff_ffff) as u32);
    if n == 0 {
        return Some("unspecified");
    }
    if n == 1 {
        return Some("loopback");
    }
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), IPv4-translated (SIIT,
    // ::ffff:0:a.b.c.d, RFC 2765) and well-known NAT64 (64:ff9b::a.b.c.d, RFC 6052) addresses
    // reach the IPv4 address inside: judged as that address.
    if within(0xffff << 32, 96)
        || within(0, 96)
        || within(0xffff << 48, 96)
        || within(0x64_ff9b << 96, 96)
    {
        return v4_kind(embedded);
    }
    // Local-use NAT64 (64:ff9b:1::/48, RFC 8215) is a network's own translator, whose IPv4
    // side is whatever that network reaches, its private ranges included: never a provider.
    if within(0x64_ff9b_0001 << 80, 48) {
        return Some("local-use NAT64");
    }
    // 6to4 (2002:aabb:ccdd::/48) carries its IPv4 address in bits 16..48.
    if within(0x2002 << 112, 16) {
        return v4_kind(Ipv4Addr::from(((n >> 80) & 0xffff_ffff) as u32));
    }
    Some(if within(0xfc00 << 112, 7) {
        "unique-local" // RFC 4193
    } else if within(0xfe80 << 112, 10) {
        "link-local"
    } else if within(0xfec0 << 112, 10) {
        "site-local" // deprecated, RFC 3879
    } else if within(0xff00 << 112, 8) {
        "multicast"
    } else if within(0x0100 << 112, 64) {
        "discard" // RFC 6666
    } else if within(0x2001_0db8 << 96, 32) {
        "documentation" // RFC 3849
    } else if within(0x2001 << 112, 32) {
        // Teredo hides the client's IPv4 address; no provider is reached that way.
        "Teredo"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<&'static str> {
        private_kind(s.parse().unwrap())
    }

    #[test]
    fn private_and_special_ranges_are_named() {
        for (addr, expected) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("0.0.0.0", "unspecified"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.127.255.255", "carrier-grade NAT"),
            ("169.254.169.254", "link-local"),
            ("224.0.0.1", "multicast"),
            ("255.255.255.255", "reserved"),
            ("198.18.0.1", "benchmarking"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:7f00:1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::127.0.0.1", "loopback"),
            ("64:ff9b::10.0.0.1", "private"),
            ("::ffff:0:10.0.0.1", "private"),
            ("::ffff:0:127.0.0.1", "loopback"),
            ("::ffff:0:169.254.169.254", "link-local"),
            ("64:ff9b:1::8.8.8.8", "local-use NAT64"),
            ("64:ff9b:1::a00:1", "local-use NAT64"),
            ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "local-use NAT64"),
            ("2002:c0a8:0101::1", "private"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("2001:0:4136:e378::1", "Teredo"),
        ] {
            assert_eq!(kind(addr), Some(expected), "{addr}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "192.169.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "::ffff:0:8.8.8.8",
            "2002:0808:0808::1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
        ] {
            assert_eq!(kind(addr), None, "{addr}");
        }
    }
}
