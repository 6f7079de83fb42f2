//! Following a job: what one subscriber (a tab, a reconnecting client) receives, in order.
//!
//! First the summary or the frames it missed, then live frames until the final one. A
//! subscriber that falls more than the live channel holds behind (a slow phone on a fast
//! provider) is caught up with a `sync` frame of everything generated so far instead of each
//! delta it missed, followed by the final frame when the job ended meanwhile: whatever it
//! skipped, every subscriber sees the end.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

use super::jobs::{Frame, Job};

/// What a subscriber is sent next.
#[derive(Debug)]
pub enum Next {
    /// A payload without an id: a `sync` frame (the state so far), or one of the `attachment`
    /// events that follow it.
    Sync(String),
    Frame(Arc<Frame>),
}

pub struct Follower {
    /// The `sync` frame and the attachments after it, still to send.
    sync: VecDeque<String>,
    replay: VecDeque<Arc<Frame>>,
    live: Receiver<Arc<Frame>>,
    /// Live frames up to this id are covered already.
    last_id: Option<u64>,
    done: bool,
    job: Arc<Job>,
}

impl Follower {
    /// Joins `job`; `after` and `resume` as for [`Job::subscribe`].
    pub fn new(job: Arc<Job>, after: Option<u64>, resume: bool) -> Self {
        let sub = job.subscribe(after, resume);
        let done = sub.ended && !sub.replay.iter().any(|f| f.terminal);
        Follower {
            sync: sub.sync.unwrap_or_default().into(),
            replay: sub.replay.into(),
            live: sub.live,
            last_id: sub.last_id,
            done,
            job,
        }
    }

    /// The next thing to send; `None` once the final frame was sent (or the job is gone).
    pub async fn next(&mut self) -> Option<Next> {
        if let Some(s) = self.sync.pop_front() {
            return Some(Next::Sync(s));
        }
        if let Some(f) = self.replay.pop_front() {
            return Some(self.deliver(f));
        }
        if self.done {
            return None;
        }
        loop {
            match self.live.recv().await {
                Ok(f) if self.last_id.is_some_and(|l| f.id <= l) => continue,
                Ok(f) => return Some(self.deliver(f)),
                Err(RecvError::Lagged(_)) => {
                    let (sync, covered, last) = self.job.catch_up();
                    self.last_id = covered;
                    self.replay.extend(last);
                    self.sync = sync.into();
                    return self.sync.pop_front().map(Next::Sync);
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    fn deliver(&mut self, f: Arc<Frame>) -> Next {
        self.last_id = Some(f.id);
        if f.terminal {
            self.done = true;
        }
        Next::Frame(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::jobs::{Jobs, Status};
    use serde_json::json;

    async fn drain(f: &mut Follower) -> Vec<Next> {
        let mut all = Vec::new();
        while let Some(n) = f.next().await {
            all.push(n);
        }
        all
    }

    #[tokio::test]
    async fn a_follower_that_fell_behind_still_gets_the_final_frame() {
        let jobs = Arc::new(Jobs::new());
        let job = jobs.start("s", "u", "c", "r", None).unwrap();
        let mut slow = Follower::new(job.clone(), None, false);
        // The whole answer streams out while this follower reads nothing.
        for _ in 0..500 {
            job.update(|s| s.text("t ", false)).unwrap();
        }
        job.emit_final(json!({"final": true}), Status::Done);
        jobs.finish(&job, Status::Done);
        let got = drain(&mut slow).await;
        assert!(
            matches!(got.first(), Some(Next::Sync(s)) if s.contains(&"t ".repeat(500))),
            "caught up with everything generated"
        );
        assert!(
            matches!(got.last(), Some(Next::Frame(f)) if f.terminal),
            "and then the end: {:?}",
            got.last()
        );
        assert_eq!(got.len(), 2);
    }

    #[tokio::test]
    async fn a_follower_caught_up_gets_the_attachments_after_the_summary() {
        let jobs = Arc::new(Jobs::new());
        let job = jobs.start("s", "u", "c", "r", None).unwrap();
        let mut slow = Follower::new(job.clone(), None, false);
        assert!(job.attach(&json!({"type": "memory", "memory": {"key": "likes"}})));
        for _ in 0..500 {
            job.update(|s| s.text("t ", false)).unwrap();
        }
        job.emit_final(json!({"final": true}), Status::Done);
        let got = drain(&mut slow).await;
        let kinds: Vec<&str> = got
            .iter()
            .map(|n| match n {
                Next::Sync(s) if s.contains("\"sync\":true") => "sync",
                Next::Sync(s) if s.contains("\"attachment\"") => "attachment",
                Next::Sync(_) => "?",
                Next::Frame(f) if f.terminal => "final",
                Next::Frame(_) => "frame",
            })
            .collect();
        assert_eq!(kinds, ["sync", "attachment", "final"]);
    }

    #[tokio::test]
    async fn a_follower_that_keeps_up_gets_every_frame_in_order() {
        let jobs = Arc::new(Jobs::new());
        let job = jobs.start("s", "u", "c", "r", None).unwrap();
        job.emit(json!({"created": true}));
        let mut f = Follower::new(job.clone(), None, false);
        let feeder = {
            let job = job.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    job.update(|s| s.text("x", false)).unwrap();
                    tokio::task::yield_now().await;
                }
                job.emit_final(json!({"final": true}), Status::Done);
            })
        };
        let got = drain(&mut f).await;
        feeder.await.unwrap();
        let ids: Vec<u64> = got
            .iter()
            .map(|n| match n {
                Next::Frame(f) => f.id,
                Next::Sync(_) => panic!("no lag here"),
            })
            .collect();
        // `created`, the step, ten pieces and the final frame.
        assert_eq!(ids.len(), 13);
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
    }
}
