//! Opening the connections to Redis from [`RedisSettings`]: one node through redis-rs's
//! reconnecting `ConnectionManager`, or a cluster through its cluster client; TLS (rustls) for
//! `rediss://` or with `REDIS_CA`; `REDIS_USERNAME` / `REDIS_PASSWORD` when the URI has none.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Client, Cmd, ConnectionInfo, IntoConnectionInfo, RedisFuture, RedisResult, Value};

use crate::config::redis::RedisSettings;

/// How long one command may take before it counts as Redis being unreachable.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// The connection commands go through: cheap to clone (both kinds share one multiplexed
/// connection, and reconnect on their own after a failure).
#[derive(Clone)]
pub enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// The connection for commands, and a client for the first node, which pub/sub listens on
/// (in a cluster, a message published on any node reaches the subscribers of every node).
pub async fn open(settings: &RedisSettings) -> RedisResult<(Conn, Client)> {
    let infos = settings
        .uris
        .iter()
        .map(|uri| info(settings, uri.expose()))
        .collect::<RedisResult<Vec<_>>>()?;
    let listener = client(settings, infos[0].clone())?;
    let conn = if settings.cluster {
        let mut builder = redis::cluster::ClusterClientBuilder::new(infos)
            .connection_timeout(settings.connect_timeout)
            .response_timeout(COMMAND_TIMEOUT)
            .retries(2);
        if settings.tls {
            builder = builder.certs(redis::TlsCertificates {
                client_tls: None,
                root_cert: settings.ca.clone(),
            });
        }
        Conn::Cluster(builder.build()?.get_async_connection().await?)
    } else {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            // Reconnect quickly and give up soon: a command waits for the reconnection, and
            // the callers fall back (see `Shared`) rather than hold a request for long.
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        Conn::Single(ConnectionManager::new_with_config(listener.clone(), config).await?)
    };
    Ok((conn, listener))
}

/// One node's connection details: `REDIS_CA` makes a `redis://` URI a TLS one (as in
/// LibreChat), and the environment's user and password fill in what the URI leaves out.
fn info(settings: &RedisSettings, uri: &str) -> RedisResult<ConnectionInfo> {
    let uri = match uri.strip_prefix("redis://") {
        Some(rest) if settings.ca.is_some() => format!("rediss://{rest}"),
        _ => uri.to_owned(),
    };
    let info = uri.as_str().into_connection_info()?;
    let mut redis = info.redis_settings().clone();
    if redis.username().is_none()
        && let Some(user) = &settings.username
    {
        redis = redis.set_username(user);
    }
    if redis.password().is_none()
        && let Some(password) = &settings.password
    {
        redis = redis.set_password(password.expose());
    }
    Ok(info.set_redis_settings(redis))
}

fn client(settings: &RedisSettings, info: ConnectionInfo) -> RedisResult<Client> {
    match &settings.ca {
        Some(ca) => Client::build_with_tls(
            info,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(ca.clone()),
            },
        ),
        None => Client::open(info),
    }
}
