//! An action's domain: how LibreChat writes it into tool names, whether it is the domain the
//! spec's server is on, and whether `actions.allowedDomains` allows it.
//!
//! Tool names must match `^[a-zA-Z0-9_-]{1,64}$`, so LibreChat encodes the domain: the host
//! (protocol and path removed) with each `.` written `---` when it is at most 10 characters,
//! else the first 10 characters of its base64. An agent's `tools` hold
//! `<operationId>_action_<encoded>`; the model is offered the same name with each `---` as
//! `_`. Agents saved before LibreChat dropped the protocol from the encoding hold the "legacy"
//! encoding of the whole domain; both are recognised.

use base64::Engine;

/// Between an operation and its domain in a tool name, and between a domain and an action id
/// in an agent's `actions` (LibreChat's `actionDelimiter`).
pub const DELIMITER: &str = "_action_";
/// What a `.` of a short domain becomes (LibreChat's `actionDomainSeparator`).
const SEPARATOR: &str = "---";
/// LibreChat's `Constants.ENCODED_DOMAIN_LENGTH`.
const ENCODED_LENGTH: usize = 10;

/// The domain without `http(s)://` and without a path (LibreChat's `stripProtocol`; a port
/// stays).
pub fn host_part(domain: &str) -> &str {
    let rest = domain
        .strip_prefix("https://")
        .or_else(|| domain.strip_prefix("http://"))
        .unwrap_or(domain);
    rest.split('/').next().unwrap_or(rest)
}

fn encode_text(text: &str) -> String {
    if text.len() <= ENCODED_LENGTH {
        return text.replace('.', SEPARATOR);
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    b64.chars().take(ENCODED_LENGTH).collect()
}

/// The domain as an agent's tools and actions name it (LibreChat's `domainParser(domain, true)`).
pub fn encode(domain: &str) -> String {
    encode_text(host_part(domain))
}

/// The encoding of agents saved by older LibreChat versions: the whole domain, protocol
/// included.
pub fn legacy_encode(domain: &str) -> String {
    if domain.is_empty() {
        return String::new();
    }
    encode_text(domain)
}

/// An encoded domain as the model sees it: each `---` a `_`.
pub fn for_model(encoded: &str) -> String {
    encoded.replace(SEPARATOR, "_")
}

/// A tool name as the model sees it: the domain part (after the last delimiter) with each
/// `---` a `_` (LibreChat's `normalizeActionToolName`; the operation part is kept as is).
pub fn normalize_tool_name(name: &str) -> String {
    match name.rfind(DELIMITER) {
        Some(i) => {
            let cut = i + DELIMITER.len();
            format!("{}{}", &name[..cut], for_model(&name[cut..]))
        }
        None => name.to_owned(),
    }
}

fn is_ip(host: &str) -> bool {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok()
}

/// The port written in `value` (a URL or `host:port`), if one is.
fn explicit_port(value: &str) -> Result<Option<u16>, String> {
    let authority = match value.split_once("://") {
        Some((_, rest)) => rest,
        None => value,
    };
    let authority = authority.split(['/', '?', '#']).next().unwrap_or("");
    let port = if let Some(rest) = authority.strip_prefix('[') {
        rest.split_once("]:").map(|(_, p)| p)
    } else {
        authority.rsplit_once(':').map(|(_, p)| p)
    };
    match port {
        None | Some("") => Ok(None),
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .map(Some)
            .ok_or_else(|| format!("invalid port in domain: {value}")),
    }
}

/// The domain LibreChat's client names for a document whose first server is `server_url`:
/// `<protocol>//<hostname>`, the port and path left out. `None` when it is no http(s) URL.
pub fn of_server(server_url: &str) -> Option<String> {
    let u = url::Url::parse(server_url).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    Some(format!("{}://{}", u.scheme(), u.host_str()?))
}

/// Whether the domain the client names is the one the spec's first server is on (LibreChat's
/// `validateActionDomain`): the same host, and the same protocol when the client writes one
/// (a host name without one means https; an IP address takes the spec's); a port, when the
/// client writes one, must be the server's. `Err` says why not.
pub fn matches_server(client: &str, server_url: &str) -> Result<(), String> {
    let spec = url::Url::parse(server_url)
        .map_err(|_| format!("the spec's server URL {server_url:?} is not a URL"))?;
    if !matches!(spec.scheme(), "http" | "https") {
        return Err(format!(
            "Invalid protocol: Only HTTP and HTTPS are allowed, got {}:",
            spec.scheme()
        ));
    }
    let spec_host = spec.host_str().unwrap_or("").to_ascii_lowercase();
    let client = client.trim();
    let port = explicit_port(client)?;
    let (client_host, with_protocol) = if client.contains("://") {
        let u = url::Url::parse(client)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or("Invalid protocol: Only HTTP and HTTPS are allowed in client domain")?;
        (
            u.host_str().unwrap_or("").to_owned(),
            Some(u.scheme().to_owned()),
        )
    } else if port.is_some() {
        let u = url::Url::parse(&format!("https://{client}"))
            .map_err(|_| format!("{client:?} is not a domain"))?;
        (u.host_str().unwrap_or("").to_owned(), None)
    } else {
        (client.to_owned(), None)
    };
    let client_host = client_host.to_ascii_lowercase();
    let bare = |h: &str| h.trim_start_matches('[').trim_end_matches(']').to_owned();
    let scheme_ok = match &with_protocol {
        Some(s) => s == spec.scheme(),
        // An address takes the spec's protocol; a name means https.
        None => is_ip(&client_host) || spec.scheme() == "https",
    };
    if bare(&client_host) != bare(&spec_host) || !scheme_ok {
        return Err(format!(
            "Domain mismatch: Client provided '{client}', but spec uses '{spec_host}'"
        ));
    }
    if let Some(p) = port
        && Some(p) != spec.port_or_known_default()
    {
        return Err(format!(
            "Port mismatch: Client provided '{client}', but spec uses effective port '{}'",
            spec.port_or_known_default().unwrap_or(0)
        ));
    }
    Ok(())
}

/// One `allowedDomains` entry, or the domain being checked, taken apart.
#[derive(Debug, PartialEq, Eq)]
struct DomainSpec {
    host: String,
    /// `http` or `https` when written.
    scheme: Option<String>,
    /// When written.
    port: Option<u16>,
    wildcard: bool,
}

fn parse_spec(text: &str) -> Option<DomainSpec> {
    let text = text.trim().to_ascii_lowercase();
    let (scheme, rest) = match text.split_once("://") {
        Some((s, rest)) => (Some(s.to_owned()), rest.to_owned()),
        None => (None, text.clone()),
    };
    if rest.is_empty() {
        return None;
    }
    let wildcard = rest.starts_with("*.");
    let rest = rest.trim_start_matches("*.");
    let port = explicit_port(&text).ok()?;
    let u = url::Url::parse(&format!("http://{rest}")).ok()?;
    let host = u.host_str()?.to_owned();
    let host = host.strip_prefix("www.").map(str::to_owned).unwrap_or(host);
    Some(DomainSpec {
        host,
        scheme,
        port,
        wildcard,
    })
}

/// Whether `allowedDomains` lets actions call `domain` (LibreChat's `isActionDomainAllowed`
/// once a list is set): some entry has its host (or, for `*.host`, is a parent of it), and
/// the entry's protocol and port, when it writes them, are the domain's too. An empty list
/// allows every domain (the private-address rule still holds: `crate::net`).
pub fn allowed(domain: &str, allowed_domains: &[String]) -> bool {
    if allowed_domains.is_empty() {
        return true;
    }
    let Some(input) = parse_spec(domain) else {
        return false;
    };
    if input
        .scheme
        .as_deref()
        .is_some_and(|s| s != "http" && s != "https")
    {
        return false;
    }
    allowed_domains
        .iter()
        .filter_map(|a| parse_spec(a))
        .any(|a| {
            if a.scheme
                .as_deref()
                .is_some_and(|s| s != "http" && s != "https")
            {
                return false;
            }
            let host_ok = if a.wildcard {
                input.host == a.host || input.host.ends_with(&format!(".{}", a.host))
            } else {
                input.host == a.host
            };
            let scheme_ok = a.scheme.is_none() || a.scheme == input.scheme;
            let port_ok = a.port.is_none() || a.port == input.port;
            host_ok && scheme_ok && port_ok
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_librechat() {
        assert_eq!(encode("https://swapi.dev"), "swapi---dev");
        assert_eq!(encode("http://127.0.0.1"), "127---0---0---1");
        assert_eq!(encode("localhost"), "localhost");
        // Longer than 10: the first 10 characters of the base64 of the host.
        assert_eq!(encode("https://api.example.com/v1"), "YXBpLmV4YW");
        assert_eq!(legacy_encode("https://swapi.dev"), "aHR0cHM6Ly");
        assert_eq!(legacy_encode("swapi.dev"), "swapi---dev");
        assert_eq!(for_model("127---0---0---1"), "127_0_0_1");
        assert_eq!(
            normalize_tool_name("get---x_action_127---0---0---1"),
            "get---x_action_127_0_0_1"
        );
    }

    #[test]
    fn a_documents_server_names_the_domain_as_librechats_client_does() {
        assert_eq!(
            of_server("http://127.0.0.1:8080/v1").as_deref(),
            Some("http://127.0.0.1")
        );
        assert_eq!(
            of_server("https://API.example.com/v1?x=1").as_deref(),
            Some("https://api.example.com")
        );
        assert_eq!(
            of_server("http://[::1]:80/").as_deref(),
            Some("http://[::1]")
        );
        assert_eq!(of_server("ftp://example.com"), None);
        assert_eq!(of_server("/relative"), None);
        for server in ["http://127.0.0.1:8080/v1", "https://api.example.com/v1"] {
            assert_eq!(matches_server(&of_server(server).unwrap(), server), Ok(()));
        }
    }

    #[test]
    fn the_client_domain_must_be_the_servers() {
        let ok = [
            ("https://api.example.com", "https://api.example.com/v1"),
            ("api.example.com", "https://api.example.com/v1"),
            ("http://127.0.0.1", "http://127.0.0.1:8080"),
            ("127.0.0.1", "http://127.0.0.1:8080/x"),
            ("127.0.0.1:8080", "http://127.0.0.1:8080/x"),
            ("API.example.com", "https://api.example.com"),
        ];
        for (client, server) in ok {
            assert_eq!(matches_server(client, server), Ok(()), "{client} {server}");
        }
        let bad = [
            ("api.example.com", "http://api.example.com"),
            ("https://api.example.com", "http://api.example.com"),
            ("https://api.example.com", "https://127.0.0.1"),
            ("127.0.0.1:9090", "http://127.0.0.1:8080"),
            ("ftp://api.example.com", "https://api.example.com"),
            ("https://api.example.com", "file:///etc/passwd"),
            ("evil.com", "https://api.example.com"),
        ];
        for (client, server) in bad {
            assert!(matches_server(client, server).is_err(), "{client} {server}");
        }
    }

    #[test]
    fn allowed_domains_match_host_wildcard_protocol_and_port() {
        let list: Vec<String> = [
            "swapi.dev",
            "*.example.com",
            "https://secure.org",
            "ports.net:8443",
        ]
        .map(String::from)
        .to_vec();
        for ok in [
            "https://swapi.dev",
            "swapi.dev",
            "http://www.swapi.dev",
            "example.com",
            "https://a.b.example.com",
            "https://secure.org",
            "https://ports.net:8443",
        ] {
            assert!(allowed(ok, &list), "{ok}");
        }
        for bad in [
            "https://evil.dev",
            "https://swapi.dev.evil.com",
            "https://notexample.com",
            "http://secure.org",
            "secure.org",
            "https://ports.net",
            "https://ports.net:9443",
            "ws://swapi.dev",
        ] {
            assert!(!allowed(bad, &list), "{bad}");
        }
        assert!(allowed("https://anything.org", &[]));
    }
}
