//! State shared by the replicas of one deployment, on Redis (`USE_REDIS`; see
//! [`RedisSettings`]). Off, none of this exists and nothing contacts Redis.
//!
//! What lives here, each under `<REDIS_KEY_PREFIX>::<name>` with an expiry:
//! - rate-limit windows (`limit:<limiter>:<subject>`), counted atomically by a Lua script
//!   ([`Shared::count`]): INCR, PEXPIRE when the key is new, and the count with the time left,
//!   so every replica counts in the same window;
//! - violation scores (`score:<kind>:<subject>`), kept a day after the last one;
//! - bans (`ban:<subject>`), until they end (the database stays their record);
//! - sign-ins in flight (`signin:<state>`) and posted answers held for a redirect;
//! - titles being written (`title:<user>:<conversation>`, see `chat::title`).
//!
//! Local caches in front of these hear of changes made by other replicas on one pub/sub
//! channel, `<prefix>::invalidate` ([`Shared::publish`], [`Shared::invalidations`]).
//!
//! With `USE_REDIS_STREAMS`, answers being generated live here too (`stream:{<user>}:...`, see
//! `chat::jobs::shared`), and requests to stop one travel on `<prefix>::jobs:abort`
//! ([`Shared::publish_abort`], [`Shared::aborts`]).
//!
//! When Redis cannot be reached, each user decides (and says in its doc) whether to fall back
//! or refuse; [`Shared::degraded`] logs the fact at most once a minute.

mod connect;
mod listen;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::Script;
use tokio::sync::{broadcast, watch};

pub use connect::COMMAND_TIMEOUT;
pub use listen::EVERYTHING;

use crate::config::redis::RedisSettings;

/// Redis could not do what was asked: unreachable, too slow, or it answered with an error.
#[derive(Debug, thiserror::Error)]
#[error("Redis: {0}")]
pub struct SharedError(String);

impl From<redis::RedisError> for SharedError {
    fn from(e: redis::RedisError) -> Self {
        Self(e.to_string())
    }
}

/// A counting window: how many hits so far, and when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub count: u64,
    pub resets_in: Duration,
}

/// INCR, with the window's expiry set by the hit that creates the key (and repaired if a key
/// somehow has none); the count and the milliseconds left.
const COUNT: &str = r"
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}";

/// The count and the milliseconds left, counting nothing; {0, 0} when there is no window.
const PEEK: &str = r"
local n = redis.call('GET', KEYS[1])
if not n then return {0, 0} end
return {tonumber(n), redis.call('PTTL', KEYS[1])}";

/// INCRBY, keeping the key for ARGV[2] ms after the last addition; the new total.
const ADD: &str = r"
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n";

/// The shared state's handle; clones share one connection.
#[derive(Clone)]
pub struct Shared(Arc<Inner>);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("prefix", &self.0.prefix)
            .finish()
    }
}

struct Inner {
    conn: connect::Conn,
    prefix: String,
    channel: String,
    events: broadcast::Sender<String>,
    abort_channel: String,
    aborts: broadcast::Sender<String>,
    /// For connections of their own (blocking reads); `None` for a cluster.
    single: Option<redis::Client>,
    /// `USE_REDIS_STREAMS`.
    streams: bool,
    scripts: [Script; 3],
    /// When a fallback was last logged, per use.
    warned: Mutex<Vec<(&'static str, Instant)>>,
    /// Dropped with the last handle: stops the listener.
    _closed: watch::Sender<()>,
}

impl Shared {
    /// Connects (within `REDIS_CONNECT_TIMEOUT`) and subscribes to the invalidation channel.
    pub async fn connect(settings: &RedisSettings) -> Result<Shared, SharedError> {
        let timeout = settings.connect_timeout;
        let nodes = settings.nodes.join(", ");
        let unreachable = |why: String| SharedError(format!("cannot reach {nodes}: {why}"));
        let (conn, listener) = tokio::time::timeout(timeout, connect::open(settings))
            .await
            .map_err(|_| unreachable(format!("no answer within {timeout:?}")))?
            .map_err(|e| unreachable(e.to_string()))?;
        let prefix = if settings.key_prefix.is_empty() {
            String::new()
        } else {
            format!("{}::", settings.key_prefix)
        };
        let channel = format!("{prefix}invalidate");
        let abort_channel = format!("{prefix}jobs:abort");
        let (events, _) = broadcast::channel(1024);
        let (aborts, _) = broadcast::channel(256);
        let single = (!settings.cluster).then(|| listener.clone());
        let (closed, closed_rx) = watch::channel(());
        let (ready_tx, mut ready) = watch::channel(false);
        tokio::spawn(listen::run(
            listener,
            channel.clone(),
            events.clone(),
            (abort_channel.clone(), aborts.clone()),
            closed_rx,
            ready_tx,
        ));
        // Subscribed before the first request, so no invalidation is missed from the start.
        tokio::time::timeout(timeout, ready.wait_for(|r| *r))
            .await
            .map_err(|_| unreachable("cannot subscribe to the invalidation channel".into()))?
            .map_err(|_| unreachable("the invalidation listener stopped".into()))?;
        Ok(Shared(Arc::new(Inner {
            conn,
            prefix,
            channel,
            events,
            abort_channel,
            aborts,
            single,
            streams: settings.streams,
            scripts: [Script::new(COUNT), Script::new(PEEK), Script::new(ADD)],
            warned: Mutex::new(Vec::new()),
            _closed: closed,
        })))
    }

    /// What `librechat doctor` checks: Redis can be reached and subscribed to (as
    /// [`Shared::connect`]), and it answers a PING and a PUBLISH.
    pub async fn check(settings: &RedisSettings) -> Result<(), SharedError> {
        let shared = Self::connect(settings).await?;
        shared.ping().await?;
        shared.publish(EVERYTHING).await
    }

    /// The full key of `name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.0.prefix)
    }

    /// Runs one command (or script) within [`COMMAND_TIMEOUT`].
    async fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut connect::Conn) -> redis::RedisResult<T>,
    ) -> Result<T, SharedError> {
        let mut conn = self.0.conn.clone();
        match tokio::time::timeout(COMMAND_TIMEOUT, f(&mut conn)).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(SharedError(format!("no answer within {COMMAND_TIMEOUT:?}"))),
        }
    }

    /// Counts one hit in the window `name` (created with length `window` by its first hit).
    pub async fn count(&self, name: &str, window: Duration) -> Result<Window, SharedError> {
        let key = self.key(name);
        let ms = window.as_millis().clamp(1, i64::MAX as u128) as i64;
        let (count, left): (u64, i64) = self
            .run(async |c| self.0.scripts[0].key(&key).arg(ms).invoke_async(c).await)
            .await?;
        Ok(Window {
            count,
            resets_in: Duration::from_millis(left.max(0) as u64),
        })
    }

    /// The window `name` as it stands, counting nothing; `None` when there is none.
    pub async fn peek(&self, name: &str) -> Result<Option<Window>, SharedError> {
        let key = self.key(name);
        let (count, left): (u64, i64) = self
            .run(async |c| self.0.scripts[1].key(&key).invoke_async(c).await)
            .await?;
        Ok((count > 0).then(|| Window {
            count,
            resets_in: Duration::from_millis(left.max(0) as u64),
        }))
    }

    /// Adds `by` to the total `name`, kept for `idle` after this addition; the new total.
    pub async fn add(&self, name: &str, by: u32, idle: Duration) -> Result<u64, SharedError> {
        let key = self.key(name);
        let ms = idle.as_millis().clamp(1, i64::MAX as u128) as i64;
        self.run(async |c| {
            self.0.scripts[2]
                .key(&key)
                .arg(by)
                .arg(ms)
                .invoke_async(c)
                .await
        })
        .await
    }

    /// Stores `value` under `name` for `ttl`.
    pub async fn put(&self, name: &str, value: &str, ttl: Duration) -> Result<(), SharedError> {
        let ms = ttl.as_millis().clamp(1, i64::MAX as u128) as i64;
        let cmd = redis::cmd("SET")
            .arg(self.key(name))
            .arg(value)
            .arg("PX")
            .arg(ms)
            .to_owned();
        self.run(async |c| cmd.query_async(c).await).await
    }

    /// The value under `name`, if any.
    pub async fn get(&self, name: &str) -> Result<Option<String>, SharedError> {
        let cmd = redis::cmd("GET").arg(self.key(name)).to_owned();
        self.run(async |c| cmd.query_async(c).await).await
    }

    /// Takes the value under `name` out (GETDEL): of several replicas asking at once, one
    /// gets it.
    pub async fn take(&self, name: &str) -> Result<Option<String>, SharedError> {
        let cmd = redis::cmd("GETDEL").arg(self.key(name)).to_owned();
        self.run(async |c| cmd.query_async(c).await).await
    }

    /// Whether `name` is there.
    pub async fn exists(&self, name: &str) -> Result<bool, SharedError> {
        let cmd = redis::cmd("EXISTS").arg(self.key(name)).to_owned();
        self.run(async |c| cmd.query_async(c).await).await
    }

    /// Removes `name`.
    pub async fn remove(&self, name: &str) -> Result<(), SharedError> {
        let cmd = redis::cmd("DEL").arg(self.key(name)).to_owned();
        self.run(async |c| cmd.query_async::<()>(c).await).await
    }

    /// Tells every replica (this one too) that `message` changed, on the invalidation channel.
    pub async fn publish(&self, message: &str) -> Result<(), SharedError> {
        let cmd = redis::cmd("PUBLISH")
            .arg(&self.0.channel)
            .arg(message)
            .to_owned();
        self.run(async |c| cmd.query_async::<()>(c).await).await
    }

    /// What the replicas publish, as it arrives (and [`EVERYTHING`] after a reconnection).
    pub fn invalidations(&self) -> broadcast::Receiver<String> {
        self.0.events.subscribe()
    }

    /// Whether Redis answers a PING within [`COMMAND_TIMEOUT`].
    pub async fn ping(&self) -> Result<(), SharedError> {
        let cmd = redis::cmd("PING").to_owned();
        self.run(async |c| cmd.query_async::<()>(c).await).await
    }

    /// Whether generation streams are shared (`USE_REDIS_STREAMS`).
    pub fn streams(&self) -> bool {
        self.0.streams
    }

    /// Runs `cmd` (within [`COMMAND_TIMEOUT`]).
    pub async fn query<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
    ) -> Result<T, SharedError> {
        self.run(async |c| cmd.query_async(c).await).await
    }

    /// Runs `pipe` (within [`COMMAND_TIMEOUT`]).
    pub async fn query_pipe<T: redis::FromRedisValue>(
        &self,
        pipe: &redis::Pipeline,
    ) -> Result<T, SharedError> {
        self.run(async |c| pipe.query_async(c).await).await
    }

    /// Runs `script` on full `keys` with `args` (within [`COMMAND_TIMEOUT`]).
    pub async fn invoke<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        keys: &[String],
        args: &[String],
    ) -> Result<T, SharedError> {
        let mut call = script.prepare_invoke();
        for k in keys {
            call.key(k);
        }
        for a in args {
            call.arg(a);
        }
        self.run(async |c| call.invoke_async(c).await).await
    }

    /// Asks every replica to stop the job `message` names (on `<prefix>jobs:abort`); how many
    /// replicas heard it.
    pub async fn publish_abort(&self, message: &str) -> Result<u64, SharedError> {
        let cmd = redis::cmd("PUBLISH")
            .arg(&self.0.abort_channel)
            .arg(message)
            .to_owned();
        self.query(&cmd).await
    }

    /// Requests to stop a job, as they arrive from any replica.
    pub fn aborts(&self) -> broadcast::Receiver<String> {
        self.0.aborts.subscribe()
    }

    /// A connection of its own for commands that block (XREAD BLOCK), answering within
    /// `timeout`; `None` for a cluster (whose readers poll through the shared connection).
    pub async fn own_connection(
        &self,
        timeout: Duration,
    ) -> Option<Result<redis::aio::MultiplexedConnection, SharedError>> {
        let client = self.0.single.as_ref()?;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(timeout));
        Some(
            client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(SharedError::from),
        )
    }

    /// Logs (at most once a minute per `what`) that `what` fell back because of `error`.
    pub fn degraded(&self, what: &'static str, fallback: &str, error: &SharedError) {
        let now = Instant::now();
        let mut warned = self.0.warned.lock().unwrap_or_else(|e| e.into_inner());
        let last = warned.iter_mut().find(|(w, _)| *w == what);
        let due = last
            .as_ref()
            .is_none_or(|(_, t)| now.duration_since(*t) >= Duration::from_secs(60));
        if !due {
            return;
        }
        match last {
            Some((_, t)) => *t = now,
            None => warned.push((what, now)),
        }
        tracing::warn!(use = what, error = %error, "Redis unreachable: {fallback}");
    }
}
