//! Every job of this server: started one per stream and user, found again by subscribers,
//! kept a minute after it ends (bounded in bytes), and stopped at shutdown.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Notify, broadcast, watch};

use super::shared::Located;
use super::{Job, LIVE_SLOTS, Ring, State, Status, first_frame_id};

/// How long a finished job stays reachable.
const LINGER: Duration = Duration::from_secs(60);

/// How long a claim refused as Busy by another replica is asked again: that replica's
/// previous job in the conversation may have ended a moment ago, its end not yet in Redis.
const BUSY_GRACE: Duration = Duration::from_secs(2);

/// What the frames of all finished jobs may weigh together while they linger.
const LINGER_BYTES: usize = 32 * 1024 * 1024;

/// Finished jobs, oldest first, and what their frames weigh.
#[derive(Default)]
struct Lingering {
    jobs: VecDeque<Arc<Job>>,
    bytes: usize,
}

/// Every job of this server.
#[derive(Default)]
pub struct Jobs {
    map: Mutex<HashMap<String, Arc<Job>>>,
    lingering: Mutex<Lingering>,
    ended: Notify,
    /// Titles of new conversations being written (with their first answer).
    pub titles: Arc<crate::chat::title::Titles>,
    /// With `USE_REDIS_STREAMS`: the jobs of every replica.
    shared: OnceLock<super::shared::SharedJobs>,
}

/// Why a job cannot start.
#[derive(Debug, PartialEq, Eq)]
pub enum StartError {
    /// One is already running for this stream (conversation).
    Busy,
    /// The user already has this many running.
    TooMany(usize),
}

/// A job started but not (yet) claimed: dropped armed, it ends as aborted and is forgotten,
/// so a request that went away mid-claim leaves nothing running.
struct Forget<'a> {
    jobs: Option<&'a Jobs>,
    job: &'a Arc<Job>,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        if let Some(jobs) = self.jobs {
            self.job.set_status(Status::Aborted);
            jobs.forget(self.job);
        }
    }
}

/// Jobs are the user's own: keyed by user and stream, so nobody can collide with (or detect)
/// another person's.
fn key(user_id: &str, stream_id: &str) -> String {
    format!("{user_id}\u{1f}{stream_id}")
}

impl Jobs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a new running job for `stream_id`.
    pub fn start(
        &self,
        stream_id: &str,
        user_id: &str,
        conversation_id: &str,
        response_message_id: &str,
        max_running: Option<usize>,
    ) -> Result<Arc<Job>, StartError> {
        let mut map = self.map.lock().expect("jobs");
        let key = key(user_id, stream_id);
        if map.get(&key).is_some_and(|j| j.status() == Status::Running) {
            return Err(StartError::Busy);
        }
        // Counted under the same lock as the insert: parallel requests cannot overshoot.
        if let Some(max) = max_running {
            let running = map
                .values()
                .filter(|j| j.user_id == user_id && j.status() == Status::Running)
                .count();
            if running >= max {
                return Err(StartError::TooMany(max));
            }
        }
        // Subscribers read as frames come; one that falls this far behind catches up from a
        // `sync` frame. The slots are allocated up front, so keep them few.
        let (tx, _) = broadcast::channel(LIVE_SLOTS);
        let job = Arc::new(Job {
            stream_id: stream_id.to_owned(),
            user_id: user_id.to_owned(),
            conversation_id: conversation_id.to_owned(),
            response_message_id: response_message_id.to_owned(),
            created_at: crate::db::now(),
            state: Mutex::new(State {
                ring: Ring::default(),
                next_id: first_frame_id(),
                status: Status::Running,
                steps: crate::agents::steps::Steps::new(response_message_id),
                user_message: Value::Null,
                attachments: Vec::new(),
                mirror: None,
            }),
            tx,
            abort: watch::channel(false).0,
        });
        map.insert(key, job.clone());
        Ok(job)
    }

    /// Shares jobs with the other replicas through Redis (`USE_REDIS_STREAMS`).
    pub fn share(self: &Arc<Self>, shared: &crate::cache::shared::Shared) {
        if shared.streams() {
            let _ = self
                .shared
                .set(super::shared::SharedJobs::new(shared, self));
        }
    }

    /// The jobs of every replica, when shared.
    pub fn shared(&self) -> Option<&super::shared::SharedJobs> {
        self.shared.get()
    }

    /// With shared jobs: claims `job` (just [started](Jobs::start)) across the replicas, and
    /// forgets it again when another replica runs one for the same stream or the user runs
    /// `max` already, or when the request goes away before the claim is answered. When Redis
    /// cannot be reached, the job runs on this replica alone.
    pub async fn claim(&self, job: &Arc<Job>, max: Option<usize>) -> Result<(), StartError> {
        let Some(shared) = self.shared.get() else {
            return Ok(());
        };
        let mut pending = Forget {
            jobs: Some(self),
            job,
        };
        // The conversation's previous turn may have just ended on another replica whose
        // mirror has not written its end yet: a Busy is asked again for a little while.
        let deadline = tokio::time::Instant::now() + BUSY_GRACE;
        let mut answer = shared.claim(job, max).await;
        while matches!(answer, Ok(super::shared::Claim::Busy))
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
            answer = shared.claim(job, max).await;
        }
        let refused = match answer {
            Ok(super::shared::Claim::Claimed) => None,
            Ok(super::shared::Claim::Busy) => Some(StartError::Busy),
            Ok(super::shared::Claim::TooMany) => Some(StartError::TooMany(max.unwrap_or(0))),
            Err(e) => {
                shared.shared.degraded(
                    "streams",
                    "answers stream from the replica generating them only",
                    &e,
                );
                None
            }
        };
        match refused {
            None => {
                pending.jobs = None;
                Ok(())
            }
            // `pending` forgets the job.
            Some(refused) => Err(refused),
        }
    }

    /// Drops `job` from the map (if it is still the one there).
    fn forget(&self, job: &Arc<Job>) {
        let mut map = self.map.lock().expect("jobs");
        let k = key(&job.user_id, &job.stream_id);
        if map.get(&k).is_some_and(|j| Arc::ptr_eq(j, job)) {
            map.remove(&k);
        }
    }

    /// Marks a job as ended; it stays reachable for [`LINGER`], then is dropped. Meanwhile a
    /// late subscriber gets its frames, unless finished jobs' frames together weigh more than
    /// [`LINGER_BYTES`]: then the oldest are cut down to their final frame (a late subscriber
    /// of those gets a `sync` frame and the final one).
    pub fn finish(self: &Arc<Self>, job: &Arc<Job>, status: Status) {
        job.set_status(status);
        job.end_mirror();
        {
            let mut lingering = self.lingering.lock().expect("jobs");
            lingering.bytes += job.state.lock().expect("job state").ring.bytes();
            lingering.jobs.push_back(job.clone());
            while lingering.bytes > LINGER_BYTES
                && let Some(old) = lingering.jobs.pop_front()
            {
                let mut st = old.state.lock().expect("job state");
                let freed = st.ring.keep_last();
                lingering.bytes = lingering.bytes.saturating_sub(freed + st.ring.bytes());
            }
        }
        self.ended.notify_waiters();
        let (jobs, job) = (self.clone(), job.clone());
        tokio::spawn(async move {
            tokio::time::sleep(LINGER).await;
            jobs.forget(&job);
            let mut lingering = jobs.lingering.lock().expect("jobs");
            if let Some(i) = lingering.jobs.iter().position(|j| Arc::ptr_eq(j, &job)) {
                lingering.jobs.remove(i);
                let n = job.state.lock().expect("job state").ring.bytes();
                lingering.bytes = lingering.bytes.saturating_sub(n);
            }
        });
    }

    /// Which job the user's request for `stream_id` means, on this replica or (with shared
    /// jobs) another one; see [`SharedJobs::locate`](super::shared::SharedJobs::locate).
    /// `what` names what cannot be done when Redis fails.
    pub async fn locate(&self, user_id: &str, stream_id: &str, what: &str) -> Located {
        let local = self.get(user_id, stream_id);
        match self.shared.get() {
            Some(shared) => shared.locate(local, user_id, stream_id, what).await,
            None => local.map_or(Located::Nowhere, Located::Local),
        }
    }

    /// The user's job for this stream id, on this replica.
    pub fn get(&self, user_id: &str, stream_id: &str) -> Option<Arc<Job>> {
        self.map
            .lock()
            .expect("jobs")
            .get(&key(user_id, stream_id))
            .cloned()
    }

    /// The user's running jobs.
    pub fn running(&self, user_id: &str) -> Vec<Arc<Job>> {
        self.map
            .lock()
            .expect("jobs")
            .values()
            .filter(|j| j.user_id == user_id && j.status() == Status::Running)
            .cloned()
            .collect()
    }

    fn all_running(&self) -> Vec<Arc<Job>> {
        self.map
            .lock()
            .expect("jobs")
            .values()
            .filter(|j| j.status() == Status::Running)
            .cloned()
            .collect()
    }

    /// How many answers are being generated now.
    pub fn running_count(&self) -> usize {
        self.map
            .lock()
            .expect("jobs")
            .values()
            .filter(|j| j.status() == Status::Running)
            .count()
    }

    /// How many jobs are held (running or lingering).
    pub fn len(&self) -> usize {
        self.map.lock().expect("jobs").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// For shutdown: lets running jobs finish for up to `grace`, then aborts the rest (they
    /// save what they have as unfinished) and waits briefly for them to do so.
    pub async fn stop(&self, grace: Duration) {
        self.stop_local(grace).await;
        // Followers on other replicas get the final frames rather than a cut-off.
        if let Some(shared) = self.shared.get() {
            shared.flush(Duration::from_secs(3)).await;
        }
    }

    async fn stop_local(&self, grace: Duration) {
        let wait_idle = async {
            loop {
                let ended = self.ended.notified();
                if self.all_running().is_empty() {
                    return;
                }
                ended.await;
            }
        };
        if tokio::time::timeout(grace, wait_idle).await.is_ok() {
            return;
        }
        let left = self.all_running();
        tracing::warn!(
            jobs = left.len(),
            "stopping answers still being generated; their text so far is saved"
        );
        for job in &left {
            job.abort();
        }
        let saved = async {
            loop {
                let ended = self.ended.notified();
                if self.all_running().is_empty() {
                    return;
                }
                ended.await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), saved).await;
    }
}
