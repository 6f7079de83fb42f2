//! Following a job another replica runs, from Redis: what the client missed (the frames after
//! its `Last-Event-ID`, with their ids), or the summary (`sync`) and the frames after the last
//! one it covers, then new frames as they are written, ending with the final one, as
//! [`crate::chat::follow::Follower`] does for a local job. The rules for which of these a
//! client gets are the local ones ([`Job::subscribe`](crate::chat::jobs::Job::subscribe)).
//!
//! New frames are read with XREAD BLOCK on a connection of the follower's own (on a cluster,
//! or past [`MAX_BLOCKING_READERS`](super::MAX_BLOCKING_READERS) followers on this replica, by
//! polling through the shared connection). Frame ids follow one another: a frame that skips
//! some (trimmed from the stream before this follower read them, or lost when Redis failed a
//! write) makes the follower send the summary again and go on after the last frame it covers,
//! as a local follower that fell behind does. Whenever no frame came for a while, the follower
//! checks the job's status (not its summary): when its owner's heartbeat is gone while the job was running, the client is
//! sent a final error frame saying the answer was cut off; when the job's keys are gone, the
//! stream just ends. It never waits forever.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::Value;

use super::{Keys, Record, SharedJobs};
use crate::cache::shared::SharedError;
use crate::chat::follow::Next;
use crate::chat::jobs::{Frame, frame_text};
use crate::shapes::stream::{Failed, StreamError};

/// How long one blocking read waits for new frames.
const BLOCK: Duration = Duration::from_millis(1500);
/// Between reads when polling (a cluster).
const POLL: Duration = Duration::from_millis(100);
/// Frames read at once.
const COUNT: usize = 500;
/// Failed reads in a row after which the follower gives up (with an error frame).
const MAX_FAILURES: u32 = 10;
/// Times a follower waits for the summary to cover frames missing from the stream before it
/// goes on without them.
const MAX_GAP_WAITS: u32 = 3;

/// What the client is told when the replica generating the answer stopped mid-answer.
pub const CUT_OFF: &str = "The answer was cut off: the server generating it stopped. \
     What was generated so far is saved.";

pub struct RemoteFollower {
    jobs: SharedJobs,
    user_id: String,
    stream_id: String,
    keys: Keys,
    own: Option<(
        redis::aio::MultiplexedConnection,
        tokio::sync::OwnedSemaphorePermit,
    )>,
    queue: VecDeque<Next>,
    /// Frames up to this id are covered; new ones are read after it.
    cursor: Option<u64>,
    /// Reads that found nothing since the job ended.
    idle_after_end: u32,
    failures: u32,
    /// Waits so far for a summary covering missing frames.
    gap_waits: u32,
    last_check: Instant,
    done: bool,
}

impl RemoteFollower {
    /// Joins the user's job `stream_id` from Redis, `record` being its record as just read.
    /// `after` and `resume` as for a local job.
    pub async fn open(
        jobs: &SharedJobs,
        record: Record,
        user_id: &str,
        stream_id: &str,
        after: Option<u64>,
        resume: bool,
    ) -> Result<Self, SharedError> {
        let keys = jobs.keys(user_id, stream_id);
        let mut pipe = redis::pipe();
        pipe.cmd("XRANGE")
            .arg(&keys.frames)
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(1);
        pipe.cmd("XREVRANGE")
            .arg(&keys.frames)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1);
        let (oldest, newest): (Value, Value) = jobs.shared.query_pipe(&pipe).await?;
        let oldest = entries(&oldest).first().map(|f| f.id);
        let newest = entries(&newest).into_iter().next();
        let next_id = newest
            .as_ref()
            .map_or(record.first_id, |f| f.id.saturating_add(1));
        let oldest = oldest.unwrap_or(next_id);
        let trimmed = oldest > record.first_id;
        let ended = record.status != "running";
        let resumable = |last: u64| {
            last.checked_add(1)
                .is_some_and(|n| n >= oldest && n <= next_id)
        };
        let mut queue = VecDeque::new();
        let mut done = false;
        let summary = match after {
            Some(last) if resumable(last) => false,
            Some(_) => true,
            None => resume || trimmed,
        };
        let cursor = if summary {
            queue.extend(record.sync.iter().cloned().map(Next::Sync));
            // A summary replaces the early frames, but a finished job's final frame still comes.
            if ended {
                done = true;
                queue.extend(newest.filter(|f| f.terminal).map(Next::Frame));
            }
            record.sync_id
        } else {
            // Already has everything of a job that ended: nothing more comes.
            done = ended
                && newest
                    .as_ref()
                    .is_none_or(|n| after.is_some_and(|a| a >= n.id));
            after
        };
        let own = match jobs.readers.clone().try_acquire_owned() {
            Ok(permit) => match jobs.shared.own_connection(BLOCK * 2).await {
                Some(Ok(c)) => Some((c, permit)),
                Some(Err(e)) => return Err(e),
                None => None,
            },
            Err(_) => None,
        };
        Ok(RemoteFollower {
            jobs: jobs.clone(),
            user_id: user_id.to_owned(),
            stream_id: stream_id.to_owned(),
            keys,
            own,
            queue,
            cursor,
            idle_after_end: 0,
            failures: 0,
            gap_waits: 0,
            last_check: Instant::now(),
            done,
        })
    }

    /// The next thing to send; `None` once the final frame was sent (or the job is gone).
    pub async fn next(&mut self) -> Option<Next> {
        loop {
            if let Some(n) = self.queue.pop_front() {
                return Some(n);
            }
            if self.done {
                return None;
            }
            match self.read().await {
                Ok(frames) if !frames.is_empty() => {
                    self.failures = 0;
                    for f in frames {
                        if self.cursor.is_some_and(|c| f.id <= c) {
                            continue;
                        }
                        if let Some(c) = self.cursor
                            && f.id > c.saturating_add(1)
                            && self.catch_up(f.id).await
                        {
                            // Read again after the summary's last frame.
                            break;
                        }
                        self.cursor = Some(f.id);
                        let terminal = f.terminal;
                        self.queue.push_back(Next::Frame(f));
                        if terminal {
                            self.done = true;
                            break;
                        }
                    }
                }
                Ok(_) => {
                    self.failures = 0;
                    // A blocking read waited; polls check once as long.
                    if self.own.is_some() || self.last_check.elapsed() >= BLOCK {
                        self.last_check = Instant::now();
                        self.check().await;
                    }
                }
                Err(e) => {
                    self.jobs
                        .shared
                        .degraded("streams", "a stream followed from Redis waits", &e);
                    self.failures += 1;
                    if self.failures >= MAX_FAILURES {
                        self.end_with("The answer's stream could not be read any more.", None);
                    } else {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
    }

    /// The frames after the cursor, waiting a little for some to come.
    async fn read(&mut self) -> Result<Vec<Arc<Frame>>, SharedError> {
        let from = self.cursor.map_or("0-0".to_owned(), |c| format!("{c}-0"));
        let mut cmd = redis::cmd("XREAD");
        cmd.arg("COUNT").arg(COUNT);
        let reply: Value = match &mut self.own {
            Some((conn, _)) => {
                cmd.arg("BLOCK").arg(BLOCK.as_millis() as u64);
                cmd.arg("STREAMS").arg(&self.keys.frames).arg(&from);
                let read = cmd.query_async(conn);
                match tokio::time::timeout(BLOCK * 2, read).await {
                    Ok(r) => r?,
                    Err(_) => {
                        return Err(SharedError::from(redis::RedisError::from((
                            redis::ErrorKind::Io,
                            "no answer to XREAD",
                        ))));
                    }
                }
            }
            None => {
                cmd.arg("STREAMS").arg(&self.keys.frames).arg(&from);
                let v: Value = self.jobs.shared.query(&cmd).await?;
                if matches!(v, Value::Nil) {
                    tokio::time::sleep(POLL).await;
                }
                v
            }
        };
        // [[key, [entries]]], or nil when nothing came.
        Ok(match reply {
            Value::Array(streams) => streams
                .first()
                .and_then(|s| match s {
                    Value::Array(pair) => pair.get(1).map(entries),
                    _ => None,
                })
                .unwrap_or_default(),
            Value::Map(streams) => streams.first().map(|(_, v)| entries(v)).unwrap_or_default(),
            _ => Vec::new(),
        })
    }

    /// Frames before `id` are missing: when the summary covers them, it is sent again and the
    /// cursor moves to its last frame (true: read again from there). When it does not yet
    /// (the owner refreshes it every second), the follower waits for it a few times, then
    /// goes on without them (false).
    async fn catch_up(&mut self, id: u64) -> bool {
        loop {
            let record = self
                .jobs
                .record(&self.user_id, &self.stream_id)
                .await
                .ok()
                .flatten();
            if let Some(r) = record
                && let Some(covered) = r.sync_id
                && covered.saturating_add(1) >= id
            {
                self.queue.extend(r.sync.into_iter().map(Next::Sync));
                self.cursor = Some(covered);
                self.gap_waits = 0;
                return true;
            }
            if self.gap_waits >= MAX_GAP_WAITS {
                self.gap_waits = 0;
                return false;
            }
            self.gap_waits += 1;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Nothing new came: is anyone still generating? Reads the job's status and heartbeat
    /// only (its summary may be megabytes).
    async fn check(&mut self) {
        let mut pipe = redis::pipe();
        pipe.cmd("HGET")
            .arg(&self.keys.job)
            .arg("status")
            .cmd("EXISTS")
            .arg(&self.keys.alive);
        let (status, alive): (Option<String>, bool) = match self.jobs.shared.query_pipe(&pipe).await
        {
            Ok(answer) => answer,
            Err(e) => {
                self.jobs
                    .shared
                    .degraded("streams", "a stream followed from Redis waits", &e);
                return;
            }
        };
        match status.as_deref() {
            None => self.done = true,
            Some("running") if !alive => {
                self.end_with(CUT_OFF, Some("cut_off"));
            }
            Some("running") => {}
            Some(_) => {
                // Ended: its last frames are written before its status, so one more read
                // finds them; then there is nothing more to wait for.
                self.idle_after_end += 1;
                if self.idle_after_end > 1 {
                    self.done = true;
                }
            }
        }
    }

    /// Ends the stream with a final error frame (without an id: there is no frame after it).
    fn end_with(&mut self, message: &str, code: Option<&'static str>) {
        let failed = Failed {
            is_final: true,
            error: StreamError {
                message: message.to_owned(),
                code,
            },
        };
        self.queue.push_back(Next::Sync(frame_text(&failed)));
        self.done = true;
    }
}

/// A stream's entries (`[[id, [field, value, ...]], ...]`) as frames; entries not written by
/// a mirror are skipped.
fn entries(v: &Value) -> Vec<Arc<Frame>> {
    let Value::Array(items) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(pair) = item else {
                return None;
            };
            let id = text(pair.first()?)?;
            let id: u64 = id.split('-').next()?.parse().ok()?;
            let Value::Array(fields) = pair.get(1)? else {
                return None;
            };
            let mut data = None;
            let mut terminal = false;
            for kv in fields.chunks(2) {
                match (
                    kv.first().and_then(text).as_deref(),
                    kv.get(1).and_then(text),
                ) {
                    (Some("d"), Some(d)) => data = Some(d),
                    (Some("t"), Some(t)) => terminal = t == "1",
                    _ => {}
                }
            }
            Some(Arc::new(Frame {
                id,
                data: data?,
                terminal,
            }))
        })
        .collect()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn entries_are_read_back_as_the_frames_written() {
        let entry = |id: &str, data: &str, t: &str| {
            Value::Array(vec![
                bulk(id),
                Value::Array(vec![bulk("d"), bulk(data), bulk("t"), bulk(t)]),
            ])
        };
        let reply = Value::Array(vec![
            entry("1700000000000005-0", "{\"n\":5}", "0"),
            entry("1700000000000006-0", "{\"final\":true}", "1"),
            // Not a mirror's: skipped.
            Value::Array(vec![bulk("7-0"), Value::Array(vec![bulk("x"), bulk("y")])]),
        ]);
        let frames = entries(&reply);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].id, 1_700_000_000_000_005);
        assert_eq!(frames[0].data, "{\"n\":5}");
        assert!(!frames[0].terminal && frames[1].terminal);
        assert!(entries(&Value::Nil).is_empty());
    }

    #[test]
    fn a_record_says_whether_its_job_is_still_being_generated() {
        let fields = |status: &str| {
            [
                ("stream", "c1"),
                ("status", status),
                ("first_id", "42"),
                ("sync_id", "44"),
                (
                    "sync",
                    r#"["{\"sync\":true,\"resumeState\":{\"aggregatedContent\":[]}}"]"#,
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
        };
        let r = super::super::record_of(fields("running"), true).unwrap();
        assert!(r.active());
        assert_eq!((r.first_id, r.sync_id), (42, Some(44)));
        assert_eq!(r.resume_state()["aggregatedContent"], serde_json::json!([]));
        let orphan = super::super::record_of(fields("running"), false).unwrap();
        assert!(!orphan.active(), "its owner stopped beating");
        assert!(
            !super::super::record_of(fields("complete"), true)
                .unwrap()
                .active()
        );
        assert!(super::super::record_of(Default::default(), false).is_none());
    }
}
