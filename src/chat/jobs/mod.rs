//! Generation jobs: an answer being generated, apart from the HTTP request that asked for it.
//!
//! `POST /api/agents/chat/:endpoint` starts a job and answers at once; any number of
//! `GET .../stream/:streamId` subscribers (tabs, a reconnecting client) watch it. Each job
//! keeps its frames (the SSE payloads) in a bounded [ring](super::ring) with increasing ids, so
//! a client that reconnects with `Last-Event-ID` gets exactly what it missed; when the ring no
//! longer reaches back that far, or on `?resume=true`, it gets a `sync` frame with everything
//! generated so far instead. The answer itself is bounded ([`MAX_ANSWER_BYTES`]). A finished
//! job lingers briefly (so a late subscriber still gets the final frame) and is then dropped:
//! nothing grows without bound.

mod registry;

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{broadcast, watch};

use super::ring::Ring;
use crate::shapes::ContentPart;
use crate::shapes::stream::{ResumeState, Sync};

/// The most one answer may hold, its text and its reasoning together: far above any real
/// answer (a very long one is well under 1 MiB), so that a provider streaming without end
/// cannot fill the server's memory. What passes it is refused and the answer ends there.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;
/// At most this much text goes into one frame, however large a piece the provider sent: the
/// ring and the live channel (which holds [`LIVE_SLOTS`] frames) stay small.
const FRAME_TEXT_BYTES: usize = 64 * 1024;
/// Frames a live subscriber may fall behind before it is caught up with a `sync` frame.
const LIVE_SLOTS: usize = 64;

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
    pub fn emit(&self, data: impl Serialize) {
        let data = frame_text(&data);
        let mut st = self.state.lock().expect("job state");
        self.push(&mut st, data, false);
    }

    /// Adds generated text (or reasoning) and sends it in the frames `frame` makes of its
    /// pieces (at most [`FRAME_TEXT_BYTES`] each), in one step: a subscriber joining meanwhile
    /// sees a piece in the summary or as a frame, never both. `Err` when the answer would pass
    /// [`MAX_ANSWER_BYTES`]: what fits is added, the rest is not.
    pub fn emit_delta(
        &self,
        text: &str,
        reasoning: bool,
        frame: impl Fn(&str) -> Value,
    ) -> Result<(), AnswerFull> {
        let mut st = self.state.lock().expect("job state");
        let room = MAX_ANSWER_BYTES.saturating_sub(st.text.len() + st.think.len());
        let fits = floor_boundary(text, room);
        let mut rest = &text[..fits];
        while !rest.is_empty() {
            let (piece, after) = rest.split_at(floor_boundary(rest, FRAME_TEXT_BYTES).max(1));
            rest = after;
            if reasoning {
                st.think.push_str(piece);
            } else {
                st.text.push_str(piece);
            }
            self.push(&mut st, frame(piece).to_string(), false);
        }
        if fits < text.len() {
            Err(AnswerFull)
        } else {
            Ok(())
        }
    }

    /// Sends the last frame and marks the job ended, in one step.
    pub fn emit_final(&self, data: impl Serialize, status: Status) {
        let data = frame_text(&data);
        let mut st = self.state.lock().expect("job state");
        st.status = status;
        self.push(&mut st, data, true);
    }

    fn push(&self, st: &mut State, data: String, terminal: bool) {
        let frame = Arc::new(Frame {
            id: st.next_id,
            data,
            terminal,
        });
        st.next_id += 1;
        st.ring.push(frame.clone());
        // Nobody listening is fine: the ring has it.
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
    pub fn aggregated_content(&self) -> Vec<ContentPart> {
        let st = self.state.lock().expect("job state");
        parts_of(&st)
    }

    /// The state of the job, as the `sync` frame gives it.
    pub fn resume_state(&self) -> ResumeState {
        let st = self.state.lock().expect("job state");
        self.resume_state_of(&st)
    }

    /// The `sync` frame now, the id of the last frame it covers, and the final frame when the
    /// job has ended (a `sync` does not replace it).
    pub fn catch_up(&self) -> (String, Option<u64>, Option<Arc<Frame>>) {
        let st = self.state.lock().expect("job state");
        (
            self.sync_of(&st),
            st.next_id.checked_sub(1),
            st.ring.terminal(),
        )
    }

    fn sync_of(&self, st: &State) -> String {
        frame_text(&Sync {
            sync: true,
            resume_state: self.resume_state_of(st),
            pending_events: [],
        })
    }

    fn resume_state_of(&self, st: &State) -> ResumeState {
        ResumeState {
            run_steps: [],
            aggregated_content: parts_of(st),
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

/// The reasoning, then the text (an empty text part when there is nothing yet).
fn parts_of(st: &State) -> Vec<ContentPart> {
    let mut parts = Vec::new();
    if !st.think.is_empty() {
        parts.push(ContentPart::think(st.think.clone()));
    }
    if !st.text.is_empty() || parts.is_empty() {
        parts.push(ContentPart::text(st.text.clone()));
    }
    parts
}

/// A frame's JSON. The shapes sent serialize without fail (their maps have string keys).
fn frame_text(data: &impl Serialize) -> String {
    serde_json::to_string(data).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a stream frame could not be written");
        String::from("{}")
    })
}

/// The answer reached [`MAX_ANSWER_BYTES`].
#[derive(Debug, PartialEq, Eq)]
pub struct AnswerFull;

/// The largest index up to `at` that starts a character of `s` (all of `s` when shorter).
fn floor_boundary(s: &str, at: usize) -> usize {
    let mut i = at.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
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
        job.emit_delta("hel", false, |_| json!({"n": 0})).unwrap();
        job.emit_delta("lo", false, |_| json!({"n": 1})).unwrap();
        job.emit_delta("hmm", true, |_| json!({"n": 2})).unwrap();
        let s = job.subscribe(None, true);
        let sync: Value = serde_json::from_str(s.sync.as_deref().unwrap()).unwrap();
        assert_eq!(
            sync["resumeState"]["aggregatedContent"],
            json!([{"type": "think", "think": "hmm"}, {"type": "text", "text": "hello"}])
        );
        assert!(s.replay.is_empty());
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

    #[test]
    fn an_answer_is_bounded_and_large_pieces_make_small_frames() {
        let (_, job) = job();
        let mut live = job.subscribe(None, false).live;
        // One piece of 200 KiB: several frames, none over the frame size.
        let piece = "é".repeat(100 * 1024);
        job.emit_delta(&piece, false, |t| json!({"t": t})).unwrap();
        let mut sizes = Vec::new();
        while let Ok(f) = live.try_recv() {
            let v: Value = serde_json::from_str(&f.data).unwrap();
            sizes.push(v["t"].as_str().unwrap().len());
        }
        assert_eq!(sizes.iter().sum::<usize>(), piece.len());
        assert!(sizes.iter().all(|&n| n <= FRAME_TEXT_BYTES), "{sizes:?}");
        assert_eq!(sizes.len(), piece.len().div_ceil(FRAME_TEXT_BYTES));

        // Text and reasoning together reach the bound: what fits is kept, then it refuses.
        let chunk = "x".repeat(1024 * 1024);
        let mut refused = 0;
        for n in 0..6 {
            if job.emit_delta(&chunk, n % 2 == 0, |_| json!({})).is_err() {
                refused += 1;
            }
        }
        assert_eq!(refused, 3, "the bound is reached during the fourth piece");
        let (think, text) = job.content();
        assert_eq!(think.len() + text.len(), MAX_ANSWER_BYTES);
        assert_eq!(
            job.emit_delta("more", false, |_| json!({})),
            Err(AnswerFull)
        );
        assert_eq!(job.content().1.len(), text.len(), "nothing more is kept");
    }

    #[test]
    fn the_bound_never_splits_a_character() {
        let (_, job) = job();
        let filler = "x".repeat(MAX_ANSWER_BYTES - 1);
        job.emit_delta(&filler, false, |_| json!({})).unwrap();
        assert_eq!(job.emit_delta("é", false, |_| json!({})), Err(AnswerFull));
        assert_eq!(job.content().1.len(), MAX_ANSWER_BYTES - 1);
        assert!(job.emit_delta("y", false, |_| json!({})).is_ok());
    }
}
