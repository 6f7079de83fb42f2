//! Generation jobs: an answer being generated, apart from the HTTP request that asked for it.
//!
//! `POST /api/agents/chat/:endpoint` starts a job and answers at once; any number of
//! `GET .../stream/:streamId` subscribers (tabs, a reconnecting client) watch it. Each job
//! keeps its frames (the SSE payloads) in a bounded buffer with increasing ids, so a client
//! that reconnects with `Last-Event-ID` gets exactly what it missed; when the buffer no longer
//! reaches back that far, or on `?resume=true`, it gets a `sync` frame with everything
//! generated so far instead. A finished job lingers briefly (so a late subscriber still gets
//! the final frame) and is then dropped: nothing grows without bound.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast, watch};

/// Frames kept per job for reconnecting clients; older ones are summarized by `sync`.
const BUFFER: usize = 2_000;
/// Frames a live subscriber may fall behind before it is caught up with a `sync` frame.
const LIVE_SLOTS: usize = 64;
/// How long a finished job stays reachable.
const LINGER: Duration = Duration::from_secs(60);

/// One SSE payload with its id.
#[derive(Debug)]
pub struct Frame {
    pub id: u64,
    pub data: String,
    /// The last frame of the job (`final`).
    pub terminal: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    Done,
    Aborted,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Done => "complete",
            Status::Aborted => "aborted",
            Status::Failed => "error",
        }
    }
}

struct State {
    buffer: VecDeque<Arc<Frame>>,
    next_id: u64,
    /// Whether frames were dropped from the front of the buffer.
    trimmed: bool,
    status: Status,
    text: String,
    think: String,
    user_message: Value,
}

pub struct Job {
    pub stream_id: String,
    pub user_id: String,
    pub conversation_id: String,
    pub response_message_id: String,
    pub created_at: String,
    state: Mutex<State>,
    tx: broadcast::Sender<Arc<Frame>>,
    abort: watch::Sender<bool>,
}

/// What a subscriber gets first: missed frames, or a summary, then the live ones.
pub struct Subscription {
    pub sync: Option<String>,
    pub replay: Vec<Arc<Frame>>,
    pub live: broadcast::Receiver<Arc<Frame>>,
    /// Live frames up to this id are already covered (by the replay or the summary).
    pub last_id: Option<u64>,
    /// The job had already ended: `replay` holds its final frame.
    pub ended: bool,
}

/// Frame ids start here for each job, so that ids never repeat across the turns of a
/// conversation (whose stream id is the conversation id) nor across restarts: a client's
/// `Last-Event-ID` from an earlier turn is recognised as such.
fn first_frame_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64 * 1_000_000;
    // Each job gets a range of a million ids; a restart starts past every earlier range.
    let _ = NEXT.compare_exchange(0, base, Ordering::AcqRel, Ordering::Acquire);
    NEXT.fetch_add(1_000_000, Ordering::AcqRel)
}

impl Job {
    /// Sends a frame to every subscriber and keeps it for later ones.
    pub fn emit(&self, data: Value) {
        let mut st = self.state.lock().expect("job state");
        self.push(&mut st, data, false);
    }

    /// Adds generated text (or reasoning) and sends its frame, in one step: a subscriber
    /// joining meanwhile sees it in the summary or as a frame, never both.
    pub fn emit_delta(&self, text: &str, reasoning: bool, data: Value) {
        let mut st = self.state.lock().expect("job state");
        if reasoning {
            st.think.push_str(text);
        } else {
            st.text.push_str(text);
        }
        self.push(&mut st, data, false);
    }

    /// Sends the last frame and marks the job ended, in one step.
    pub fn emit_final(&self, data: Value, status: Status) {
        let mut st = self.state.lock().expect("job state");
        st.status = status;
        self.push(&mut st, data, true);
    }

    fn push(&self, st: &mut State, data: Value, terminal: bool) {
        let frame = Arc::new(Frame {
            id: st.next_id,
            data: data.to_string(),
            terminal,
        });
        st.next_id += 1;
        if st.buffer.len() >= BUFFER {
            st.buffer.pop_front();
            st.trimmed = true;
        }
        st.buffer.push_back(frame.clone());
        // Nobody listening is fine: the buffer has it.
        let _ = self.tx.send(frame);
    }

    /// Adds generated text (or reasoning) to what a `sync` frame reports.
    pub fn append(&self, text: &str, reasoning: bool) {
        let mut st = self.state.lock().expect("job state");
        if reasoning {
            st.think.push_str(text);
        } else {
            st.text.push_str(text);
        }
    }

    /// Everything generated so far: (reasoning, text).
    pub fn content(&self) -> (String, String) {
        let st = self.state.lock().expect("job state");
        (st.think.clone(), st.text.clone())
    }

    pub fn set_user_message(&self, message: Value) {
        self.state.lock().expect("job state").user_message = message;
    }

    pub fn status(&self) -> Status {
        self.state.lock().expect("job state").status
    }

    pub fn set_status(&self, status: Status) {
        self.state.lock().expect("job state").status = status;
    }

    /// LibreChat's content parts for what was generated so far.
    pub fn aggregated_content(&self) -> Value {
        let (think, text) = self.content();
        let mut parts = Vec::new();
        if !think.is_empty() {
            parts.push(json!({"type": "think", "think": think}));
        }
        if !text.is_empty() || parts.is_empty() {
            parts.push(json!({"type": "text", "text": text}));
        }
        Value::Array(parts)
    }

    /// The `sync` frame: the state of the job, for a client that (re)joins.
    pub fn sync_frame(&self) -> String {
        let st = self.state.lock().expect("job state");
        self.sync_of(&st)
    }

    /// The `sync` frame now, the id of the last frame it covers, and the final frame when the
    /// job has ended (a `sync` does not replace it).
    pub fn catch_up(&self) -> (String, Option<u64>, Option<Arc<Frame>>) {
        let st = self.state.lock().expect("job state");
        let last = st.buffer.back().filter(|f| f.terminal).cloned();
        (self.sync_of(&st), st.next_id.checked_sub(1), last)
    }

    fn sync_of(&self, st: &State) -> String {
        let mut parts = Vec::new();
        if !st.think.is_empty() {
            parts.push(json!({"type": "think", "think": st.think}));
        }
        if !st.text.is_empty() || parts.is_empty() {
            parts.push(json!({"type": "text", "text": st.text}));
        }
        let user_message = st.user_message.clone();
        json!({
            "sync": true,
            "resumeState": {
                "runSteps": [],
                "aggregatedContent": parts,
                "userMessage": user_message,
                "responseMessageId": self.response_message_id,
                "conversationId": self.conversation_id,
                "status": st.status.as_str(),
            },
            "pendingEvents": [],
        })
        .to_string()
    }

    /// Joins the job. `after`: the last frame id the client has (from `Last-Event-ID`);
    /// `resume`: the client wants the state so far rather than every frame. All under the
    /// state lock: no frame falls between the replay (or summary) and the live feed, and none
    /// is counted twice.
    pub fn subscribe(&self, after: Option<u64>, resume: bool) -> Subscription {
        let st = self.state.lock().expect("job state");
        let live = self.tx.subscribe();
        let oldest = st.buffer.front().map_or(st.next_id, |f| f.id);
        let ended = st.status != Status::Running;
        let covered = st.next_id.checked_sub(1);
        // `after` must name a frame of this job that is still in the buffer (or the one just
        // before it); anything else (an earlier turn's id, a made-up one) gets the summary.
        let resumable = |last: u64| {
            last.checked_add(1)
                .is_some_and(|n| n >= oldest && n <= st.next_id)
        };
        let (sync, from, last_id) = match after {
            Some(last) if resumable(last) => (false, last + 1, Some(last)),
            Some(_) => (true, st.next_id, covered),
            None if resume || st.trimmed => (true, st.next_id, covered),
            None => (false, 0, None),
        };
        let mut replay: Vec<Arc<Frame>> =
            st.buffer.iter().filter(|f| f.id >= from).cloned().collect();
        // A summary replaces the early frames, but a finished job's final frame still comes.
        if sync
            && ended
            && let Some(last) = st.buffer.back().filter(|f| f.terminal)
        {
            replay = vec![last.clone()];
        }
        Subscription {
            sync: sync.then(|| self.sync_of(&st)),
            replay,
            live,
            last_id,
            ended,
        }
    }

    /// Asks the job to stop; it saves what it has.
    pub fn abort(&self) {
        let _ = self.abort.send(true);
    }

    /// Resolves when [`Job::abort`] is called.
    pub fn aborted(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.abort.subscribe();
        async move {
            let _ = rx.wait_for(|a| *a).await;
        }
    }
}

/// Frames all finished jobs may hold together while they linger.
const LINGER_FRAMES: usize = 20_000;

/// Finished jobs, oldest first, and how many frames they hold.
#[derive(Default)]
struct Lingering {
    jobs: VecDeque<Arc<Job>>,
    frames: usize,
}

/// Every job of this server.
#[derive(Default)]
pub struct Jobs {
    map: Mutex<HashMap<String, Arc<Job>>>,
    lingering: Mutex<Lingering>,
    ended: Notify,
    /// Titles of new conversations being written (with their first answer).
    pub titles: Arc<super::titles::Titles>,
}

/// Why a job cannot start.
#[derive(Debug, PartialEq, Eq)]
pub enum StartError {
    /// One is already running for this stream (conversation).
    Busy,
    /// The user already has this many running.
    TooMany(usize),
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
                buffer: VecDeque::new(),
                next_id: first_frame_id(),
                trimmed: false,
                status: Status::Running,
                text: String::new(),
                think: String::new(),
                user_message: Value::Null,
            }),
            tx,
            abort: watch::channel(false).0,
        });
        map.insert(key, job.clone());
        Ok(job)
    }

    /// Marks a job as ended; it stays reachable for [`LINGER`], then is dropped. Meanwhile a
    /// late subscriber gets its frames, unless finished jobs together hold more than
    /// [`LINGER_FRAMES`]: then the oldest are cut down to their final frame (a late subscriber
    /// of those gets a `sync` frame and the final one).
    pub fn finish(self: &Arc<Self>, job: &Arc<Job>, status: Status) {
        job.set_status(status);
        {
            let mut lingering = self.lingering.lock().expect("jobs");
            lingering.frames += job.state.lock().expect("job state").buffer.len();
            lingering.jobs.push_back(job.clone());
            while lingering.frames > LINGER_FRAMES
                && let Some(old) = lingering.jobs.pop_front()
            {
                let mut st = old.state.lock().expect("job state");
                lingering.frames = lingering.frames.saturating_sub(st.buffer.len());
                let last = st.buffer.pop_back();
                if !st.buffer.is_empty() {
                    st.trimmed = true;
                }
                st.buffer = last.into_iter().collect();
            }
        }
        self.ended.notify_waiters();
        let (jobs, job) = (self.clone(), job.clone());
        tokio::spawn(async move {
            tokio::time::sleep(LINGER).await;
            {
                let mut map = jobs.map.lock().expect("jobs");
                let k = key(&job.user_id, &job.stream_id);
                if map.get(&k).is_some_and(|j| Arc::ptr_eq(j, &job)) {
                    map.remove(&k);
                }
            }
            let mut lingering = jobs.lingering.lock().expect("jobs");
            if let Some(i) = lingering.jobs.iter().position(|j| Arc::ptr_eq(j, &job)) {
                lingering.jobs.remove(i);
                let n = job.state.lock().expect("job state").buffer.len();
                lingering.frames = lingering.frames.saturating_sub(n);
            }
        });
    }

    /// The user's job for this stream id.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> (Arc<Jobs>, Arc<Job>) {
        let jobs = Arc::new(Jobs::new());
        let job = jobs.start("s", "u", "c", "r", None).unwrap();
        (jobs, job)
    }

    #[test]
    fn late_subscribers_get_what_they_missed_then_live_frames() {
        let (jobs, job) = job();
        job.emit(json!({"n": 0}));
        job.emit(json!({"n": 1}));
        let mut fresh = job.subscribe(None, false);
        assert!(fresh.sync.is_none());
        assert_eq!(fresh.replay.len(), 2);
        let first = fresh.replay[0].id;
        let after = job.subscribe(Some(first), false);
        assert_eq!(
            after.replay.iter().map(|f| f.id).collect::<Vec<_>>(),
            [first + 1]
        );
        assert!(
            job.subscribe(Some(first + 1000), false).sync.is_some(),
            "an id from elsewhere"
        );
        assert!(job.subscribe(Some(u64::MAX), false).sync.is_some());
        assert_eq!(
            jobs.start("s", "u", "c", "r", None).err(),
            Some(StartError::Busy)
        );
        assert!(
            jobs.start("s", "other user", "c", "r", None).is_ok(),
            "jobs are per user"
        );
        assert_eq!(
            jobs.start("t", "u", "c", "r", Some(1)).err(),
            Some(StartError::TooMany(1))
        );
        job.emit_final(json!({"n": 2}), Status::Done);
        assert_eq!(fresh.live.try_recv().unwrap().id, first + 2);
        assert_eq!(
            job.status(),
            Status::Done,
            "the final frame ends the job at once"
        );
    }

    #[test]
    fn resume_gets_the_state_so_far() {
        let (_, job) = job();
        job.emit_delta("hel", false, json!({"n": 0}));
        job.emit_delta("lo", false, json!({"n": 1}));
        job.emit_delta("hmm", true, json!({"n": 2}));
        let s = job.subscribe(None, true);
        let sync: Value = serde_json::from_str(s.sync.as_deref().unwrap()).unwrap();
        assert_eq!(
            sync["resumeState"]["aggregatedContent"],
            json!([{"type": "think", "think": "hmm"}, {"type": "text", "text": "hello"}])
        );
        assert!(s.replay.is_empty());
    }

    #[test]
    fn the_buffer_is_bounded_and_a_gap_becomes_a_sync() {
        let (_, job) = job();
        for n in 0..(BUFFER + 10) {
            job.emit(json!({"n": n}));
        }
        let s = job.subscribe(Some(3), false);
        assert!(s.last_id.is_some());
        assert!(s.sync.is_some());
        assert!(s.replay.is_empty());
        let s = job.subscribe(None, false);
        assert!(
            s.sync.is_some(),
            "a fresh subscriber cannot get every frame either"
        );
    }
}
