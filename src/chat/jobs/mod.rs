//! Generation jobs: an answer being generated, apart from the HTTP request that asked for it.
//!
//! `POST /api/agents/chat/:endpoint` starts a job and answers at once; any number of
//! `GET .../stream/:streamId` subscribers (tabs, a reconnecting client) watch it. Each job
//! keeps its frames (the SSE payloads) in a bounded [ring](super::ring) with increasing ids, so
//! a client that reconnects with `Last-Event-ID` gets exactly what it missed; when the ring no
//! longer reaches back that far, or on `?resume=true`, it gets a `sync` frame with everything
//! generated so far instead, followed by the `attachment` events sent so far (LibreChat's
//! `sync` has no place for them; its client shows one whenever it comes, so a client that
//! reloaded mid-answer still shows what the memory agent did). The answer itself is bounded
//! ([`MAX_ANSWER_BYTES`]). A finished job lingers briefly (so a late subscriber still gets
//! the final frame) and is then dropped: nothing grows without bound.
//!
//! With `USE_REDIS_STREAMS`, each job is also mirrored to Redis ([`shared`]): its frames, a
//! record with a summary of the answer so far, and a heartbeat, so that a client can follow,
//! resume and stop it through any replica.

mod registry;
pub mod shared;

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, watch};

use super::ring::Ring;
use crate::agents::steps::Steps;
use crate::shapes::ContentPart;
use crate::shapes::stream::{ResumeState, Sync};

pub use crate::agents::steps::MAX_ANSWER_BYTES;
/// Frames a live subscriber may fall behind before it is caught up with a `sync` frame.
const LIVE_SLOTS: usize = 64;
/// The most `attachment` events a job keeps for subscribers that join from a `sync` frame
/// (the memory agent makes a handful; more are still streamed and saved, not replayed).
const MAX_KEPT_ATTACHMENTS: usize = 64;

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
    ring: Ring,
    next_id: u64,
    status: Status,
    /// What was generated so far, as LibreChat's run steps and content parts.
    steps: Steps,
    user_message: Value,
    /// The `attachment` events sent so far, as sent.
    attachments: Vec<String>,
    /// Where frames go to be mirrored to Redis, while the job is shared.
    mirror: Option<mpsc::UnboundedSender<Arc<Frame>>>,
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
    /// The `sync` frame and the `attachment` events sent so far, when the subscriber starts
    /// from the summary (these have no ids).
    pub sync: Option<Vec<String>>,
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
    pub fn emit(&self, data: impl Serialize) {
        let data = frame_text(&data);
        let mut st = self.state.lock().expect("job state");
        push(&self.tx, &mut st, data, false);
    }

    /// Changes the answer's steps and sends the frames the change made, in one step: a
    /// subscriber joining meanwhile sees the change in the summary or as frames, never both.
    pub fn update<R>(&self, change: impl FnOnce(&mut Steps) -> R) -> R {
        let mut st = self.state.lock().expect("job state");
        let st = &mut *st;
        let r = change(&mut st.steps);
        let State {
            steps,
            ring,
            next_id,
            mirror,
            ..
        } = st;
        for data in steps.drain() {
            send(&self.tx, ring, next_id, mirror.as_ref(), data, false);
        }
        r
    }

    /// Sends an `attachment` event (`{"event": "attachment", "data": attachment}`, as
    /// LibreChat sends what a tool or the memory agent made) and keeps it for subscribers that
    /// join from a `sync` frame. Only while the job runs: answers whether it was sent.
    pub fn attach(&self, attachment: &Value) -> bool {
        let data = frame_text(&serde_json::json!({"event": "attachment", "data": attachment}));
        let mut st = self.state.lock().expect("job state");
        if st.status != Status::Running {
            return false;
        }
        if st.attachments.len() < MAX_KEPT_ATTACHMENTS {
            st.attachments.push(data.clone());
        }
        push(&self.tx, &mut st, data, false);
        true
    }

    /// Reads the answer's steps.
    pub fn read<R>(&self, look: impl FnOnce(&Steps) -> R) -> R {
        look(&self.state.lock().expect("job state").steps)
    }

    /// Sends the last frame and marks the job ended, in one step.
    pub fn emit_final(&self, data: impl Serialize, status: Status) {
        let data = frame_text(&data);
        let mut st = self.state.lock().expect("job state");
        st.status = status;
        push(&self.tx, &mut st, data, true);
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
    pub fn aggregated_content(&self) -> Vec<ContentPart> {
        self.read(Steps::parts)
    }

    /// The state of the job, as the `sync` frame gives it.
    pub fn resume_state(&self) -> ResumeState {
        let st = self.state.lock().expect("job state");
        self.resume_state_of(&st)
    }

    /// The `sync` frame now (with the attachments so far), the id of the last frame it
    /// covers, and the final frame when the job has ended (a `sync` does not replace it).
    pub fn catch_up(&self) -> (Vec<String>, Option<u64>, Option<Arc<Frame>>) {
        let st = self.state.lock().expect("job state");
        (
            self.sync_of(&st),
            st.next_id.checked_sub(1),
            st.ring.terminal(),
        )
    }

    /// The `sync` frame, then the `attachment` events sent so far.
    fn sync_of(&self, st: &State) -> Vec<String> {
        let sync = frame_text(&Sync {
            sync: true,
            resume_state: self.resume_state_of(st),
            pending_events: [],
        });
        std::iter::once(sync)
            .chain(st.attachments.iter().cloned())
            .collect()
    }

    fn resume_state_of(&self, st: &State) -> ResumeState {
        ResumeState {
            run_steps: st.steps.run_steps(),
            aggregated_content: st.steps.parts(),
            user_message: st.user_message.clone(),
            response_message_id: self.response_message_id.clone(),
            conversation_id: self.conversation_id.clone(),
            status: st.status.as_str(),
        }
    }

    /// Joins the job. `after`: the last frame id the client has (from `Last-Event-ID`);
    /// `resume`: the client wants the state so far rather than every frame. All under the
    /// state lock: no frame falls between the replay (or summary) and the live feed, and none
    /// is counted twice.
    pub fn subscribe(&self, after: Option<u64>, resume: bool) -> Subscription {
        let st = self.state.lock().expect("job state");
        let live = self.tx.subscribe();
        let oldest = st.ring.oldest_id().unwrap_or(st.next_id);
        let ended = st.status != Status::Running;
        let covered = st.next_id.checked_sub(1);
        // `after` must name a frame of this job that is still in the ring (or the one just
        // before it); anything else (an earlier turn's id, a made-up one) gets the summary.
        let resumable = |last: u64| {
            last.checked_add(1)
                .is_some_and(|n| n >= oldest && n <= st.next_id)
        };
        let (sync, from, last_id) = match after {
            Some(last) if resumable(last) => (false, last + 1, Some(last)),
            Some(_) => (true, st.next_id, covered),
            None if resume || st.ring.trimmed() => (true, st.next_id, covered),
            None => (false, 0, None),
        };
        let mut replay = st.ring.since(from);
        // A summary replaces the early frames, but a finished job's final frame still comes.
        if sync
            && ended
            && let Some(last) = st.ring.terminal()
        {
            replay = vec![last];
        }
        Subscription {
            sync: sync.then(|| self.sync_of(&st)),
            replay,
            live,
            last_id,
            ended,
        }
    }

    /// Starts handing frames to `mirror` (those sent from now on); the id of the first.
    fn mirror_to(&self, mirror: mpsc::UnboundedSender<Arc<Frame>>) -> u64 {
        let mut st = self.state.lock().expect("job state");
        st.mirror = Some(mirror);
        st.next_id
    }

    /// Stops mirroring: the mirror ends once it has written what it was handed.
    fn end_mirror(&self) {
        self.state.lock().expect("job state").mirror = None;
    }

    /// The `sync` frame (and attachments) now, and the id of the last frame it covers.
    fn snapshot(&self) -> (Vec<String>, Option<u64>) {
        let st = self.state.lock().expect("job state");
        (self.sync_of(&st), st.next_id.checked_sub(1))
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

/// Sends a frame to every subscriber, keeps it in the ring for later ones, and hands it to
/// the mirror (in order: all under the state lock).
fn push(tx: &broadcast::Sender<Arc<Frame>>, st: &mut State, data: String, terminal: bool) {
    let State {
        ring,
        next_id,
        mirror,
        ..
    } = st;
    send(tx, ring, next_id, mirror.as_ref(), data, terminal);
}

/// [`push`], on the parts of the state it needs.
fn send(
    tx: &broadcast::Sender<Arc<Frame>>,
    ring: &mut Ring,
    next_id: &mut u64,
    mirror: Option<&mpsc::UnboundedSender<Arc<Frame>>>,
    data: String,
    terminal: bool,
) {
    let frame = Arc::new(Frame {
        id: *next_id,
        data,
        terminal,
    });
    *next_id += 1;
    ring.push(frame.clone());
    if let Some(mirror) = mirror {
        let _ = mirror.send(frame.clone());
    }
    // Nobody listening is fine: the ring has it.
    let _ = tx.send(frame);
}

/// A frame's JSON. The shapes sent serialize without fail (their maps have string keys).
pub(crate) fn frame_text(data: &impl Serialize) -> String {
    serde_json::to_string(data).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a stream frame could not be written");
        String::from("{}")
    })
}

pub use registry::{Jobs, StartError};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        job.update(|s| s.text("hmm", true)).unwrap();
        job.update(|s| s.text("hel", false)).unwrap();
        job.update(|s| s.text("lo", false)).unwrap();
        let call = job.update(|s| s.call_start("call_1", "calculator"));
        job.update(|s| s.call_args(call, "{}")).unwrap();
        let s = job.subscribe(None, true);
        let sync: Value = serde_json::from_str(&s.sync.unwrap()[0]).unwrap();
        let state = &sync["resumeState"];
        assert_eq!(
            state["aggregatedContent"],
            json!([{"type": "think", "think": "hmm"}, {"type": "text", "text": "hello"},
                {"type": "tool_call", "tool_call": {"id": "call_1", "name": "calculator", "args": "{}", "type": "tool_call"}}])
        );
        let steps = state["runSteps"].as_array().unwrap();
        let kinds: Vec<&str> = steps.iter().map(|s| s["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["message_creation", "message_creation", "tool_calls"]
        );
        assert_eq!(steps[2]["index"], 2);
        assert!(s.replay.is_empty());
    }

    #[test]
    fn changes_and_their_frames_are_one_step() {
        let (_, job) = job();
        let mut live = job.subscribe(None, false).live;
        job.update(|s| s.text("hi", false)).unwrap();
        let events: Vec<String> = std::iter::from_fn(|| live.try_recv().ok())
            .map(|f| serde_json::from_str::<Value>(&f.data).unwrap()["event"].to_string())
            .collect();
        assert_eq!(events, ["\"on_run_step\"", "\"on_message_delta\""]);
        // Whoever joins now has the text in the summary, and no frame of it again.
        let late = job.subscribe(None, true);
        assert!(late.sync.unwrap()[0].contains("\"text\":\"hi\""));
        assert!(late.replay.is_empty());
        assert_eq!(job.read(|s| s.answer_text()), "hi");
    }

    #[test]
    fn attachments_follow_the_sync_and_stop_with_the_job() {
        let (_, job) = job();
        job.update(|s| s.text("hi", false)).unwrap();
        assert!(job.attach(&json!({"type": "memory", "memory": {"key": "likes"}})));
        let s = job.subscribe(None, true);
        let sent = s.sync.unwrap();
        assert_eq!(sent.len(), 2, "{sent:?}");
        let a: Value = serde_json::from_str(&sent[1]).unwrap();
        assert_eq!(a["event"], "attachment");
        assert_eq!(a["data"]["memory"]["key"], "likes");
        // Covered by the summary: not sent again as a frame.
        assert!(s.replay.is_empty());
        // One who follows frame by frame gets it in its place.
        let all = job.subscribe(None, false);
        assert!(all.sync.is_none());
        assert!(all.replay.iter().any(|f| f.data.contains("\"attachment\"")));
        job.emit_final(json!({"final": true}), Status::Done);
        assert!(
            !job.attach(&json!({"type": "memory"})),
            "nothing after the end"
        );
        let (sync, _, last) = job.catch_up();
        assert_eq!(sync.len(), 2);
        assert!(last.is_some_and(|f| f.terminal));
    }

    #[test]
    fn the_ring_is_bounded_and_a_gap_becomes_a_sync() {
        let (_, job) = job();
        for n in 0..(super::super::ring::MAX_FRAMES + 10) {
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
