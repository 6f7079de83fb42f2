//! Jobs shared across replicas on Redis (`USE_REDIS_STREAMS`, on by default with `USE_REDIS`).
//!
//! The replica running a job (its owner) keeps it in memory as always, and mirrors it
//! ([`mirror`]) under `<prefix>stream:{<user>}:<stream id>:` (the user in braces: one cluster
//! slot holds all of a user's keys, so the scripts below stay atomic on a cluster too):
//! - `:frames`, a Redis stream of the job's frames with their own ids (`<frame id>-0`),
//!   bounded like the in-memory ring (`MAXLEN ~ 2000`);
//! - `:job`, a hash: owner replica, user, stream and conversation ids, the response's message
//!   id, `created_at`, `status`, the id of the job's first frame, and a summary of the answer
//!   so far (the `sync` frame and the attachments, refreshed every second) with `sync_id`, the
//!   last frame it covers;
//! - `:alive`, the owner's heartbeat, refreshed every [`HEARTBEAT`] and gone [`ALIVE`] after
//!   the owner stops refreshing it;
//! - `:abort`, set for a minute when someone asks (through any replica) to stop the job: the
//!   owner hears it at once on `<prefix>jobs:abort`, and finds it with its next heartbeat
//!   when that message was lost (its pub/sub connection was being re-established);
//! - `stream:{<user>}:running`, the user's running jobs' stream ids.
//!
//! Starting a job claims it with one script ([`CLAIM`]): refused while another replica runs one
//! for the same user and stream (and is alive), or when the user runs `CONCURRENT_MESSAGE_MAX`
//! already on all replicas together. A finished job's keys expire with its linger (60 s);
//! those of a job whose owner died expire ten minutes after its last heartbeat.
//!
//! Another replica follows such a job from Redis ([`follow`]): the frames after the client's
//! `Last-Event-ID`, or the summary and the frames after it, then new frames as they come
//! (XREAD BLOCK); when the owner's heartbeat stops before the job ended, the follower is sent
//! a final error frame saying the answer was cut off (the part saved so far stays saved).
//! Stopping a job through another replica sets its `:abort` key and publishes on
//! `<prefix>jobs:abort`; the owner hears it and stops the job as if asked directly.
//!
//! Which job a request means ([`SharedJobs::locate`]): this replica's while it runs; else the
//! one the record names when another replica claimed the stream since (the record is
//! rewritten by every claim, so it names the newest), else this replica's finished one.
//!
//! When Redis fails, jobs still run and stream on their own replica (fail open); the mirror
//! and the lookups log it at most once a minute, and following a job of another replica
//! answers 404 as for a job that is not there.

pub mod follow;
mod mirror;

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::Script;

use super::{Job, Jobs};
use crate::cache::shared::{Shared, SharedError};

/// How often the owner refreshes its heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// How long a heartbeat lasts: a job whose owner has not refreshed it for this long is cut off.
pub const ALIVE: Duration = Duration::from_secs(10);
/// How long a running job's keys outlive its last heartbeat.
const ORPHAN_TTL: Duration = Duration::from_secs(600);
/// How long a finished job's keys stay (as long as it lingers in its owner's memory).
const ENDED_TTL: Duration = Duration::from_secs(60);
/// Frames kept in the Redis stream (approximately, as Redis trims whole nodes).
const MAX_FRAMES: usize = super::super::ring::MAX_FRAMES;

/// Claims a job. KEYS: job, frames, alive, running, abort. ARGV: stream id, max running (0: no
/// limit), heartbeat ms, keys ms, the user's key base, owner, then the record's fields and
/// values. 1: claimed; 0: running elsewhere; -1: too many running. A record still `running`
/// for this same replica is its previous job whose end the mirror has not written yet (this
/// replica's own map already refused a job still running), so it does not count.
const CLAIM: &str = r"
if redis.call('HGET', KEYS[1], 'status') == 'running' and redis.call('EXISTS', KEYS[3]) == 1
   and redis.call('HGET', KEYS[1], 'owner') ~= ARGV[6] then
  return 0
end
local max = tonumber(ARGV[2])
if max > 0 then
  local n = 0
  for _, s in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    if s ~= ARGV[1] then
      if redis.call('EXISTS', ARGV[5] .. s .. ':alive') == 1 then
        n = n + 1
      else
        redis.call('SREM', KEYS[4], s)
      end
    end
  end
  if n >= max then return -1 end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[5])
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[3], ARGV[6], 'PX', ARGV[3])
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('PEXPIRE', KEYS[4], ARGV[4])
return 1";

/// Forgets a claim this replica could not see through (its answer was lost, or the request
/// was dropped meanwhile): the record goes if it is still this replica's. KEYS: job, alive,
/// running. ARGV: owner, stream id.
const RELEASE: &str = r"
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('SREM', KEYS[3], ARGV[2])
end
return 1";

/// Remote followers reading with a blocking connection of their own, at most, per replica;
/// those past it poll through the shared connection.
const MAX_BLOCKING_READERS: usize = 64;

/// The keys of one job.
#[derive(Clone, Debug)]
pub struct Keys {
    pub job: String,
    pub frames: String,
    pub alive: String,
    pub running: String,
    pub abort: String,
    /// What a stream id is appended to for the user's other jobs' keys.
    base: String,
}

/// What claiming a job in Redis answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    Claimed,
    Busy,
    TooMany,
}

/// A job as its record in Redis describes it (for `/status` and `/active` elsewhere).
#[derive(Debug, Clone)]
pub struct Record {
    pub stream_id: String,
    /// The replica running (or that ran) it.
    pub owner: String,
    pub status: String,
    pub created_at: String,
    pub first_id: u64,
    /// The `sync` frame and attachments, as of `sync_id`.
    pub sync: Vec<String>,
    pub sync_id: Option<u64>,
    /// The owner's heartbeat is there (meaningful while `status` is `running`).
    pub alive: bool,
}

impl Record {
    /// Running, with an owner alive to run it.
    pub fn active(&self) -> bool {
        self.status == "running" && self.alive
    }

    /// What the summary says of the job (LibreChat's `resumeState`), `null` when it has none.
    pub fn resume_state(&self) -> serde_json::Value {
        self.sync
            .first()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            .map(|v| v["resumeState"].clone())
            .unwrap_or(serde_json::Value::Null)
    }
}

/// This replica's side of the shared jobs.
#[derive(Clone)]
pub struct SharedJobs {
    pub shared: Shared,
    /// This replica, as job records name their owner.
    pub replica: String,
    claim: Arc<Script>,
    release: Arc<Script>,
    /// Permits for remote followers' own blocking connections ([`MAX_BLOCKING_READERS`]).
    pub(super) readers: Arc<tokio::sync::Semaphore>,
    /// Mirrors still writing, for shutdown to wait for.
    mirrors: Arc<Mirrors>,
}

/// Counts the mirrors still writing.
#[derive(Default)]
struct Mirrors {
    running: std::sync::atomic::AtomicUsize,
    done: tokio::sync::Notify,
}

/// A job as a request names it (see [`SharedJobs::locate`]).
pub enum Located {
    Local(Arc<Job>),
    Remote(Record),
    Nowhere,
}

impl std::fmt::Debug for SharedJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedJobs")
            .field("replica", &self.replica)
            .finish()
    }
}

fn ms(d: Duration) -> String {
    d.as_millis().to_string()
}

impl SharedJobs {
    /// Shares `jobs` through `shared`, and stops the local jobs other replicas are asked to.
    pub fn new(shared: &Shared, jobs: &Arc<Jobs>) -> Self {
        let me = SharedJobs {
            shared: shared.clone(),
            replica: uuid::Uuid::new_v4().to_string(),
            claim: Arc::new(Script::new(CLAIM)),
            release: Arc::new(Script::new(RELEASE)),
            readers: Arc::new(tokio::sync::Semaphore::new(MAX_BLOCKING_READERS)),
            mirrors: Arc::default(),
        };
        tokio::spawn(hear_aborts(shared.aborts(), Arc::downgrade(jobs)));
        me
    }

    pub fn keys(&self, user_id: &str, stream_id: &str) -> Keys {
        let base = self.shared.key(&format!("stream:{{{user_id}}}:"));
        Keys {
            job: format!("{base}{stream_id}:job"),
            frames: format!("{base}{stream_id}:frames"),
            alive: format!("{base}{stream_id}:alive"),
            running: format!("{base}running"),
            abort: format!("{base}{stream_id}:abort"),
            base,
        }
    }

    /// Claims `job` for this replica (see [`CLAIM`]); when claimed, mirrors it from its next
    /// frame on.
    pub async fn claim(&self, job: &Arc<Job>, max: Option<usize>) -> Result<Claim, SharedError> {
        let keys = self.keys(&job.user_id, &job.stream_id);
        // Unbounded on purpose: the answer must never wait for Redis. What queues is shared
        // (`Arc`s of the frames the job sends anyway) and ends with the answer; each write
        // gives up after two tries of COMMAND_TIMEOUT, so a Redis gone quiet delays the mirror
        // (followers elsewhere then catch up from the summary), not the answer.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        // Frames from here on are handed to the mirror; the first one's id goes in the record.
        let first = job.mirror_to(tx);
        let (sync, covered) = job.snapshot();
        let mut args = vec![
            job.stream_id.clone(),
            max.unwrap_or(0).to_string(),
            ms(ALIVE),
            ms(ORPHAN_TTL),
            keys.base.clone(),
            self.replica.clone(),
        ];
        for (k, v) in [
            ("owner", self.replica.as_str()),
            ("user", &job.user_id),
            ("stream", &job.stream_id),
            ("conversation", &job.conversation_id),
            ("response", &job.response_message_id),
            ("created_at", &job.created_at),
            ("status", "running"),
            ("first_id", &first.to_string()),
            ("sync", &serde_json::to_string(&sync).unwrap_or_default()),
            (
                "sync_id",
                &covered.map(|c| c.to_string()).unwrap_or_default(),
            ),
        ] {
            args.push(k.to_owned());
            args.push(v.to_owned());
        }
        let all = [
            keys.job.clone(),
            keys.frames.clone(),
            keys.alive.clone(),
            keys.running.clone(),
            keys.abort.clone(),
        ];
        // Dropped before the answer came (the request went away): the claim is undone.
        let mut unclaimed = Unclaimed {
            jobs: Some(self),
            job,
        };
        let answer: Result<i64, _> = self.shared.invoke(&self.claim, &all, &args).await;
        let claim = match answer {
            Ok(1) => Claim::Claimed,
            Ok(0) => Claim::Busy,
            Ok(_) => Claim::TooMany,
            // Maybe claimed: undone, as the job runs here alone.
            Err(e) => return Err(e),
        };
        unclaimed.jobs = None;
        if claim == Claim::Claimed {
            let mirrors = self.mirrors.clone();
            mirrors
                .running
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let run = mirror::run(self.clone(), job.clone(), keys, rx);
            tokio::spawn(async move {
                run.await;
                mirrors
                    .running
                    .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                mirrors.done.notify_waiters();
            });
        } else {
            job.end_mirror();
        }
        Ok(claim)
    }

    /// Undoes a claim whose answer never came, in the background (best effort: the record
    /// expires anyway once its heartbeat does).
    fn release(&self, job: &Job) {
        let keys = self.keys(&job.user_id, &job.stream_id);
        let all = [keys.job, keys.alive, keys.running];
        let args = [self.replica.clone(), job.stream_id.clone()];
        let (shared, script) = (self.shared.clone(), self.release.clone());
        tokio::spawn(async move {
            let _: Result<i64, _> = shared.invoke(&script, &all, &args).await;
        });
    }

    /// Waits up to `limit` for the mirrors to have written what they were handed (at
    /// shutdown: followers elsewhere then get the final frames, not a cut-off).
    pub async fn flush(&self, limit: Duration) {
        let all_written = async {
            loop {
                let done = self.mirrors.done.notified();
                if self
                    .mirrors
                    .running
                    .load(std::sync::atomic::Ordering::SeqCst)
                    == 0
                {
                    return;
                }
                done.await;
            }
        };
        let _ = tokio::time::timeout(limit, all_written).await;
    }

    /// Which job the user's request for `stream_id` means: this replica's `local` one while
    /// it runs; another replica's when the record says one claimed the stream since (or
    /// there is no local one); else the local one, finished. Redis failing leaves the local
    /// one (logged as `what` cannot be done).
    pub async fn locate(
        &self,
        local: Option<Arc<Job>>,
        user_id: &str,
        stream_id: &str,
        what: &str,
    ) -> Located {
        if let Some(job) = &local
            && job.status() == super::Status::Running
        {
            return Located::Local(job.clone());
        }
        let record = match self.record(user_id, stream_id).await {
            Ok(r) => r,
            Err(e) => {
                self.shared.degraded("streams", what, &e);
                None
            }
        };
        match (local, record) {
            (Some(job), Some(r)) if r.owner == self.replica || r.created_at < job.created_at => {
                Located::Local(job)
            }
            (_, Some(r)) => Located::Remote(r),
            (Some(job), None) => Located::Local(job),
            (None, None) => Located::Nowhere,
        }
    }

    /// The record of the user's job for `stream_id`, if Redis has one.
    pub async fn record(
        &self,
        user_id: &str,
        stream_id: &str,
    ) -> Result<Option<Record>, SharedError> {
        let keys = self.keys(user_id, stream_id);
        let mut pipe = redis::pipe();
        pipe.cmd("HGETALL")
            .arg(&keys.job)
            .cmd("EXISTS")
            .arg(&keys.alive);
        let (fields, alive): (HashMap<String, String>, bool) =
            self.shared.query_pipe(&pipe).await?;
        Ok(record_of(fields, alive))
    }

    /// The stream ids of the user's jobs running on any replica (with an owner alive).
    pub async fn running(&self, user_id: &str) -> Result<Vec<String>, SharedError> {
        let keys = self.keys(user_id, "");
        let members: Vec<String> = self
            .shared
            .query(redis::cmd("SMEMBERS").arg(&keys.running))
            .await?;
        if members.is_empty() {
            return Ok(members);
        }
        let mut pipe = redis::pipe();
        for m in &members {
            pipe.cmd("EXISTS").arg(format!("{}{m}:alive", keys.base));
        }
        let alive: Vec<bool> = self.shared.query_pipe(&pipe).await?;
        Ok(members
            .into_iter()
            .zip(alive)
            .filter_map(|(m, a)| a.then_some(m))
            .collect())
    }

    /// Asks the replica running the user's job for `stream_id` to stop it: at once through
    /// pub/sub, and at its next heartbeat through the job's `:abort` key should the message
    /// be lost.
    pub async fn abort(&self, user_id: &str, stream_id: &str) -> Result<(), SharedError> {
        let keys = self.keys(user_id, stream_id);
        self.shared
            .query::<()>(
                redis::cmd("SET")
                    .arg(&keys.abort)
                    .arg(1)
                    .arg("PX")
                    .arg(ms(ENDED_TTL)),
            )
            .await?;
        self.shared
            .publish_abort(&format!("{user_id}\u{1f}{stream_id}"))
            .await
            .map(|_| ())
    }
}

/// A record from its hash's fields; `None` when there are none (no such job).
fn record_of(mut f: HashMap<String, String>, alive: bool) -> Option<Record> {
    let stream_id = f.remove("stream")?;
    let owner = f.remove("owner").unwrap_or_default();
    let sync_id = f.get("sync_id").and_then(|s| s.parse().ok());
    Some(Record {
        stream_id,
        owner,
        status: f.remove("status").unwrap_or_default(),
        created_at: f.remove("created_at").unwrap_or_default(),
        first_id: f.get("first_id").and_then(|s| s.parse().ok()).unwrap_or(0),
        sync: f
            .get("sync")
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default(),
        sync_id,
        alive,
    })
}

/// Undoes a claim when dropped armed (see [`SharedJobs::claim`]): the job is not mirrored, and
/// the record goes if it is this replica's.
struct Unclaimed<'a> {
    jobs: Option<&'a SharedJobs>,
    job: &'a Job,
}

impl Drop for Unclaimed<'_> {
    fn drop(&mut self) {
        if let Some(jobs) = self.jobs {
            self.job.end_mirror();
            jobs.release(self.job);
        }
    }
}

/// Stops the local jobs other replicas ask to stop, until `jobs` is gone.
async fn hear_aborts(mut aborts: tokio::sync::broadcast::Receiver<String>, jobs: Weak<Jobs>) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let message = match aborts.recv().await {
            Ok(m) => m,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        let Some(jobs) = jobs.upgrade() else { return };
        if let Some((user, stream)) = message.split_once('\u{1f}')
            && let Some(job) = jobs.get(user, stream)
            && job.status() == super::Status::Running
        {
            job.abort();
        }
    }
}
