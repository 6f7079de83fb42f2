//! Shared state on Redis, for several replicas of the server: LibreChat's `USE_REDIS` and the
//! variables its cache layer reads (`packages/api/src/cache/cacheConfig.ts`).
//!
//! - `USE_REDIS` (default off): when off, nothing here is read and nothing contacts Redis.
//! - `REDIS_URI` (required with `USE_REDIS`): `redis://[user:password@]host[:port][/db]`, or
//!   `rediss://` for TLS; several comma-separated URIs are a cluster's nodes.
//! - `USE_REDIS_CLUSTER`: a cluster reached through a single URI.
//! - `REDIS_USERNAME`, `REDIS_PASSWORD`: used when the (first) URI carries none.
//! - `REDIS_CA`: a PEM file of the certificate authority to trust; it also turns TLS on for a
//!   `redis://` URI, as in LibreChat. Without it, `rediss://` trusts the system's roots.
//! - `REDIS_KEY_PREFIX`, or `REDIS_KEY_PREFIX_VAR` naming the variable that holds it (a
//!   deployment id): keys are `<prefix>::<name>` (LibreChat's separator), so deployments
//!   sharing one Redis stay apart. Only one of the two may be set, as in LibreChat.
//! - `REDIS_CONNECT_TIMEOUT` in ms (default 10000): how long connecting may take at start.
//! - `USE_REDIS_STREAMS` (default: on with `USE_REDIS`, as in LibreChat): answers being
//!   generated are mirrored to Redis streams, so a client can follow, resume or stop one
//!   through any replica (see `chat::jobs::shared`); `false` keeps them per replica.

use std::time::Duration;

use serde::Serialize;

use super::{ConfigError, Env, Secret};

/// How this replica reaches the Redis it shares with the others.
#[derive(Debug, Clone, Serialize)]
pub struct RedisSettings {
    /// `REDIS_URI`, split at commas; may hold a password, so never shown.
    pub uris: Vec<Secret>,
    /// The nodes as `scheme://host:port`, for messages and `config check`.
    pub nodes: Vec<String>,
    /// A cluster: `USE_REDIS_CLUSTER`, or several URIs.
    pub cluster: bool,
    /// TLS: a `rediss://` URI, or `REDIS_CA` set.
    pub tls: bool,
    /// `REDIS_USERNAME`, when the URI names no user.
    pub username: Option<String>,
    /// `REDIS_PASSWORD`, when the URI holds no password.
    pub password: Option<Secret>,
    /// The PEM read from the `REDIS_CA` file.
    #[serde(skip)]
    pub ca: Option<Vec<u8>>,
    /// `REDIS_KEY_PREFIX` (or the variable `REDIS_KEY_PREFIX_VAR` names); may be empty.
    pub key_prefix: String,
    /// `REDIS_CONNECT_TIMEOUT`.
    pub connect_timeout: Duration,
    /// `USE_REDIS_STREAMS`: generation streams shared across replicas.
    pub streams: bool,
}

impl RedisSettings {
    /// `None` unless `USE_REDIS` is on; then every variable above is checked.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        if !env.bool("USE_REDIS")?.unwrap_or(false) {
            return Ok(None);
        }
        let raw = env.get("REDIS_URI").ok_or_else(|| {
            ConfigError::Other("USE_REDIS is enabled but REDIS_URI is not set".into())
        })?;
        let mut uris = Vec::new();
        let mut nodes = Vec::new();
        let mut tls = false;
        for uri in raw.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            let parsed = url::Url::parse(uri)
                .ok()
                .filter(|u| matches!(u.scheme(), "redis" | "rediss") && u.host_str().is_some());
            let Some(url) = parsed else {
                return Err(ConfigError::Invalid {
                    key: "REDIS_URI".into(),
                    // May hold a password: say which one, not what it is.
                    value: format!("(URI number {})", uris.len() + 1),
                    expected: "redis://host:port or rediss://host:port, comma-separated for a \
                               cluster's nodes"
                        .into(),
                });
            };
            tls |= url.scheme() == "rediss";
            nodes.push(format!(
                "{}://{}:{}",
                url.scheme(),
                url.host_str().unwrap_or_default(),
                url.port().unwrap_or(6379)
            ));
            uris.push(Secret::new(uri));
        }
        let ca = match env.get("REDIS_CA") {
            None => None,
            Some(path) => Some(std::fs::read(path).map_err(|e| ConfigError::ReadFile {
                path: format!("{path} (REDIS_CA)"),
                reason: e.to_string(),
            })?),
        };
        let key_prefix = match (env.get("REDIS_KEY_PREFIX_VAR"), env.get("REDIS_KEY_PREFIX")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Other(
                    "Only either REDIS_KEY_PREFIX_VAR or REDIS_KEY_PREFIX can be set.".into(),
                ));
            }
            (Some(var), None) => env.string(var).unwrap_or_default(),
            (None, prefix) => prefix.unwrap_or_default().to_owned(),
        };
        Ok(Some(Self {
            cluster: uris.len() > 1 || env.bool("USE_REDIS_CLUSTER")?.unwrap_or(false),
            tls: tls || ca.is_some(),
            uris,
            nodes,
            username: env.string("REDIS_USERNAME"),
            password: env.string("REDIS_PASSWORD").map(Secret::new),
            ca,
            key_prefix,
            connect_timeout: env
                .millis("REDIS_CONNECT_TIMEOUT")?
                .unwrap_or(Duration::from_secs(10))
                .max(Duration::from_millis(100)),
            streams: env.bool("USE_REDIS_STREAMS")?.unwrap_or(true),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Option<RedisSettings>, ConfigError> {
        RedisSettings::from_env(&Env::from_pairs(
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        ))
    }

    #[test]
    fn off_unless_use_redis() {
        assert!(load(&[("REDIS_URI", "redis://h")]).unwrap().is_none());
        assert!(load(&[("USE_REDIS", "false")]).unwrap().is_none());
        let e = load(&[("USE_REDIS", "true")]).unwrap_err().to_string();
        assert!(e.contains("REDIS_URI"), "{e}");
    }

    #[test]
    fn reads_librechat_forms() {
        let one = load(&[
            ("USE_REDIS", "true"),
            ("REDIS_URI", "redis://:pw@cache:6380/2"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(one.nodes, ["redis://cache:6380"]);
        assert!(!one.cluster && !one.tls);
        assert!(one.streams, "USE_REDIS_STREAMS follows USE_REDIS");
        let local_streams = load(&[
            ("USE_REDIS", "true"),
            ("REDIS_URI", "redis://h"),
            ("USE_REDIS_STREAMS", "false"),
        ]);
        assert!(!local_streams.unwrap().unwrap().streams);
        assert!(
            !format!("{one:?}").contains("pw"),
            "the password is never shown"
        );

        let cluster = load(&[
            ("USE_REDIS", "true"),
            ("REDIS_URI", "redis://a:7001, redis://b:7002"),
            ("REDIS_KEY_PREFIX_VAR", "K_REVISION"),
            ("K_REVISION", "rev-7"),
        ])
        .unwrap()
        .unwrap();
        assert!(cluster.cluster);
        assert_eq!(cluster.key_prefix, "rev-7");

        let single_cluster = load(&[
            ("USE_REDIS", "true"),
            ("REDIS_URI", "rediss://cfg.example"),
            ("USE_REDIS_CLUSTER", "true"),
        ])
        .unwrap()
        .unwrap();
        assert!(single_cluster.cluster && single_cluster.tls);

        for bad in ["http://h", "redis://", "cache:6379"] {
            let e = load(&[("USE_REDIS", "true"), ("REDIS_URI", bad)]).unwrap_err();
            assert!(e.to_string().contains("REDIS_URI"), "{bad}: {e}");
        }
        let both = load(&[
            ("USE_REDIS", "true"),
            ("REDIS_URI", "redis://h"),
            ("REDIS_KEY_PREFIX", "a"),
            ("REDIS_KEY_PREFIX_VAR", "B"),
        ]);
        assert!(both.is_err());
        let ca = load(&[
            ("USE_REDIS", "true"),
            ("REDIS_URI", "redis://h"),
            ("REDIS_CA", "/nonexistent/ca.pem"),
        ])
        .unwrap_err()
        .to_string();
        assert!(ca.contains("REDIS_CA"), "{ca}");
    }
}
