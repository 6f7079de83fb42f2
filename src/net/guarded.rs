//! The guarded client: [`Guarded::client_for`] checks a URL and hands out the reqwest client to
//! call it with, whose resolver refuses private answers.
//!
//! Why several clients: reqwest's resolver is told the name, never the port, and an exception
//! is one `host:port`. So there is one strict client (no exceptions) and one per port that has
//! exceptions, whose resolver knows its port; `client_for` picks by the URL's port. An address
//! written in the URL never reaches a resolver, so it is judged in `client_for` itself.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{AllowedAddresses, Blocked, private_kind};

/// Cheap to clone: the clients inside are shared.
#[derive(Clone)]
pub struct Guarded(Arc<Inner>);

struct Inner {
    allowed: Arc<AllowedAddresses>,
    strict: reqwest::Client,
    by_port: HashMap<u16, reqwest::Client>,
}

impl Guarded {
    pub fn new(allowed: AllowedAddresses) -> Self {
        let allowed = Arc::new(allowed);
        let by_port = allowed
            .ports()
            .into_iter()
            .map(|port| {
                let resolver = Resolver {
                    allowed: Some((allowed.clone(), port)),
                };
                (port, client(resolver))
            })
            .collect();
        Self(Arc::new(Inner {
            strict: client(Resolver { allowed: None }),
            allowed,
            by_port,
        }))
    }

    /// The client to call `url` with, or why it must not be called.
    pub fn client_for(&self, url: &url::Url) -> Result<&reqwest::Client, Blocked> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Blocked::Scheme);
        }
        let port = url.port_or_known_default().ok_or(Blocked::Scheme)?;
        let ip = match url.host().ok_or(Blocked::NoHost)? {
            url::Host::Ipv4(v4) => IpAddr::V4(v4),
            url::Host::Ipv6(v6) => IpAddr::V6(v6),
            url::Host::Domain(_) => {
                return Ok(self.0.by_port.get(&port).unwrap_or(&self.0.strict));
            }
        };
        let ip = ip.to_canonical();
        match private_kind(ip) {
            Some(kind) if !self.0.allowed.allows_ip(ip, port) => Err(Blocked::Address {
                host: url.host_str().unwrap_or_default().to_owned(),
                ip,
                kind,
            }),
            _ => Ok(&self.0.strict),
        }
    }

    /// Whether `url` may be called, judged before it is saved (an action's server, an OAuth
    /// endpoint): its literal address as [`client_for`](Self::client_for) judges it, and every
    /// address its name resolves to now. A name that does not resolve (within 5 seconds)
    /// passes: calling it fails anyway, and the resolver judges it again at every connect.
    pub async fn preflight(&self, url: &url::Url) -> Result<(), Blocked> {
        self.client_for(url)?;
        let Some(url::Host::Domain(name)) = url.host() else {
            return Ok(());
        };
        let port = url.port_or_known_default().unwrap_or(0);
        if self.0.allowed.allows_name(name, port) {
            return Ok(());
        }
        let lookup = tokio::net::lookup_host((name, port));
        let Ok(Ok(addrs)) = tokio::time::timeout(Duration::from_secs(5), lookup).await else {
            return Ok(());
        };
        for addr in addrs {
            let ip = addr.ip().to_canonical();
            if let Some(kind) = private_kind(ip)
                && !self.0.allowed.allows_ip(ip, port)
            {
                return Err(Blocked::Resolves {
                    host: name.to_owned(),
                    ip,
                    kind,
                });
            }
        }
        Ok(())
    }

    /// Whether the administrator listed `url`'s host and port as a private service to allow.
    pub fn listed(&self, url: &url::Url) -> bool {
        let port = url.port_or_known_default().unwrap_or(0);
        match url.host() {
            Some(url::Host::Domain(name)) => self.0.allowed.allows_name(name, port),
            Some(url::Host::Ipv4(ip)) => self.0.allowed.allows_ip(IpAddr::V4(ip), port),
            Some(url::Host::Ipv6(ip)) => self.0.allowed.allows_ip(IpAddr::V6(ip), port),
            None => false,
        }
    }

    /// The addresses to open a socket to `host` on `port` with, outside reqwest (a websocket),
    /// judged as the guarded client judges them: a literal private address, or a name with one
    /// private answer, is refused unless the administrator listed it. Connect to these (no
    /// second lookup, which could answer differently). Empty when the name does not resolve
    /// within 10 seconds.
    pub async fn addresses(
        &self,
        host: url::Host<&str>,
        port: u16,
    ) -> Result<Vec<SocketAddr>, Blocked> {
        let name = match host {
            url::Host::Domain(name) => name,
            url::Host::Ipv4(v4) => return self.literal(IpAddr::V4(v4), port),
            url::Host::Ipv6(v6) => return self.literal(IpAddr::V6(v6), port),
        };
        let lookup = tokio::net::lookup_host((name, port));
        let Ok(Ok(addrs)) = tokio::time::timeout(Duration::from_secs(10), lookup).await else {
            return Ok(Vec::new());
        };
        let addrs: Vec<SocketAddr> = addrs.collect();
        judge(name, &addrs, Some((&self.0.allowed, port)))?;
        Ok(addrs)
    }

    fn literal(&self, ip: IpAddr, port: u16) -> Result<Vec<SocketAddr>, Blocked> {
        let ip = ip.to_canonical();
        match private_kind(ip) {
            Some(kind) if !self.0.allowed.allows_ip(ip, port) => Err(Blocked::Address {
                host: ip.to_string(),
                ip,
                kind,
            }),
            _ => Ok(vec![SocketAddr::new(ip, port)]),
        }
    }

    /// [`client_for`](Self::client_for) on a URL given as text.
    pub fn client_for_str(&self, url: &str) -> Result<&reqwest::Client, Blocked> {
        let parsed = url::Url::parse(url).map_err(|_| Blocked::NoHost)?;
        self.client_for(&parsed)
    }
}

fn client(resolver: Resolver) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(resolver)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        // Between reads, not in all: an answer may stream for minutes.
        .read_timeout(Duration::from_secs(300))
        .user_agent(concat!("librechat/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(4)
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .expect("the HTTP client builds with static settings")
}

/// The system's resolver, with every answer checked: one private address among them refuses
/// the name (else a connection could fall back to it).
struct Resolver {
    /// The exceptions on this client's port.
    allowed: Option<(Arc<AllowedAddresses>, u16)>,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allowed = self.allowed.clone();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            judge(
                &host,
                &addrs,
                allowed.as_ref().map(|(a, port)| (&**a, *port)),
            )
            .map_err(|b| Box::new(b) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whether `host`, which resolved to `addrs`, may be called: refused when one answer is
/// private, unless the name or that address is listed for `port` in `allowed`.
fn judge(
    host: &str,
    addrs: &[SocketAddr],
    allowed: Option<(&AllowedAddresses, u16)>,
) -> Result<(), Blocked> {
    if allowed.is_some_and(|(a, port)| a.allows_name(host, port)) {
        return Ok(());
    }
    for addr in addrs {
        let ip = addr.ip().to_canonical();
        let Some(kind) = private_kind(ip) else {
            continue;
        };
        if !allowed.is_some_and(|(a, port)| a.allows_ip(ip, port)) {
            tracing::warn!(host, %ip, kind, "refused a user-chosen URL: its name resolves to a non-public address");
            return Err(Blocked::Resolves {
                host: host.to_owned(),
                ip,
                kind,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[tokio::test]
    async fn literal_private_addresses_are_refused_unless_listed() {
        let (allowed, _) = AllowedAddresses::parse(["127.0.0.1:8020", "localhost:11434"]);
        let g = Guarded::new(allowed);
        for bad in [
            "http://127.0.0.1:8021/v1",
            "http://127.0.0.1/v1",
            "http://[::1]:8020/",
            "http://[::ffff:127.0.0.1]:80/",
            "http://169.254.169.254/latest/meta-data",
            "http://0x7f.1:8021/",
            "http://2130706433:8021/",
            "http://10.0.0.1/",
        ] {
            let err = g.client_for(&url(bad)).unwrap_err();
            assert!(matches!(err, Blocked::Address { .. }), "{bad}: {err}");
        }
        assert_eq!(
            g.client_for(&url("file:///etc/passwd")).unwrap_err(),
            Blocked::Scheme
        );
        assert!(g.client_for(&url("http://127.0.0.1:8020/v1")).is_ok());
        assert!(g.client_for(&url("https://8.8.8.8/")).is_ok());
        assert!(g.client_for(&url("https://api.example.com/v1")).is_ok());
        let shown = g
            .client_for(&url("http://[::1]:9/"))
            .unwrap_err()
            .to_string();
        assert!(shown.contains("a loopback address (::1)"), "{shown}");
    }

    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused_at_connect() {
        let g = Guarded::new(AllowedAddresses::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = format!("http://localhost:{port}/");
        let client = g.client_for_str(&target).unwrap();
        let err = client.get(&target).send().await.unwrap_err();
        let blocked = Blocked::find(&err).expect("refused by the resolver");
        assert!(matches!(
            blocked,
            Blocked::Resolves {
                kind: "loopback",
                ..
            }
        ));
        // What the name resolved to stays in the log.
        let shown = blocked.to_string();
        assert!(
            shown.starts_with("localhost resolves to a private address;")
                && !shown.contains("127.0.0.1")
                && !shown.contains("::1"),
            "{shown}"
        );

        // Listed with its port, the name is allowed.
        let (allowed, _) = AllowedAddresses::parse([format!("localhost:{port}").as_str()]);
        let g = Guarded::new(allowed);
        let client = g.client_for_str(&target).unwrap();
        let served = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0u8; 1024];
            let _ = sock.read(&mut buf).await;
            sock.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
        });
        let resp = client.get(&target).send().await.unwrap();
        assert_eq!(resp.status(), 204);
        served.await.unwrap();
        // On another port, it is not.
        let other = format!("http://localhost:{}/", port.wrapping_add(1).max(1));
        let err = g
            .client_for_str(&other)
            .unwrap()
            .get(&other)
            .send()
            .await
            .unwrap_err();
        assert!(Blocked::find(&err).is_some(), "{err:?}");
    }
}
