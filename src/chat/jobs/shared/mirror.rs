//! The owner's side: a task per shared job that writes its frames to the Redis stream in
//! order, refreshes the summary in its record (every second, or every [`SNAPSHOT_FRAMES`]
//! frames, so a follower resuming from it never needs a frame trimmed away) and the
//! heartbeat, stops the job when its `:abort` key says to (a request whose pub/sub message
//! was lost), and records how the job ended.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedReceiver;

use super::{ENDED_TTL, HEARTBEAT, Keys, MAX_FRAMES, ORPHAN_TTL, SharedJobs, ms};
use crate::chat::jobs::{Frame, Job};

/// Frames written in one round trip at most.
const BATCH: usize = 256;
/// The summary is refreshed at least this often while frames come...
const SNAPSHOT_EVERY: Duration = Duration::from_secs(1);
/// ... and after this many frames, well within what the stream keeps.
const SNAPSHOT_FRAMES: usize = MAX_FRAMES / 4;

/// Mirrors `job` until its frames end (see [`Job::end_mirror`]).
pub(super) async fn run(
    shared: SharedJobs,
    job: Arc<Job>,
    keys: Keys,
    mut frames: UnboundedReceiver<Arc<Frame>>,
) {
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.tick().await;
    let mut last_snapshot = Instant::now();
    let mut unsummarised = 0usize;
    loop {
        tokio::select! {
            next = frames.recv() => {
                let Some(first) = next else { break };
                let mut batch = vec![first];
                while batch.len() < BATCH
                    && let Ok(f) = frames.try_recv()
                {
                    batch.push(f);
                }
                unsummarised += batch.len();
                let mut pipe = redis::pipe();
                for f in &batch {
                    pipe.cmd("XADD")
                        .arg(&keys.frames)
                        .arg("MAXLEN")
                        .arg("~")
                        .arg(MAX_FRAMES)
                        .arg(format!("{}-0", f.id))
                        .arg("d")
                        .arg(&f.data)
                        .arg("t")
                        .arg(u8::from(f.terminal))
                        .ignore();
                }
                if unsummarised >= SNAPSHOT_FRAMES || last_snapshot.elapsed() >= SNAPSHOT_EVERY {
                    add_snapshot(&mut pipe, &job, &keys);
                    last_snapshot = Instant::now();
                    unsummarised = 0;
                }
                write::<()>(&shared, &pipe).await;
            }
            _ = beat.tick() => {
                let mut pipe = redis::pipe();
                pipe.cmd("SET").arg(&keys.alive).arg(&shared.replica)
                    .arg("PX").arg(ms(super::ALIVE)).ignore();
                for key in [&keys.job, &keys.frames, &keys.running] {
                    pipe.cmd("PEXPIRE").arg(key).arg(ms(ORPHAN_TTL)).ignore();
                }
                if unsummarised > 0 {
                    add_snapshot(&mut pipe, &job, &keys);
                    last_snapshot = Instant::now();
                    unsummarised = 0;
                }
                pipe.cmd("EXISTS").arg(&keys.abort);
                if let Some((asked,)) = write::<(bool,)>(&shared, &pipe).await
                    && asked
                {
                    job.abort();
                }
            }
        }
    }
    // Every frame is written: the job's end, its last summary, and its keys' linger.
    let mut pipe = redis::pipe();
    add_snapshot(&mut pipe, &job, &keys);
    pipe.cmd("HSET")
        .arg(&keys.job)
        .arg("status")
        .arg(job.status().as_str())
        .ignore();
    for key in [&keys.job, &keys.frames] {
        pipe.cmd("PEXPIRE").arg(key).arg(ms(ENDED_TTL)).ignore();
    }
    pipe.cmd("DEL").arg(&keys.alive).ignore();
    pipe.cmd("SREM")
        .arg(&keys.running)
        .arg(&job.stream_id)
        .ignore();
    write::<()>(&shared, &pipe).await;
}

/// The summary of the answer so far, and the last frame it covers.
fn add_snapshot(pipe: &mut redis::Pipeline, job: &Job, keys: &Keys) {
    let (sync, covered) = job.snapshot();
    pipe.cmd("HSET")
        .arg(&keys.job)
        .arg("sync")
        .arg(serde_json::to_string(&sync).unwrap_or_default())
        .arg("sync_id")
        .arg(covered.map(|c| c.to_string()).unwrap_or_default())
        .ignore();
}

/// Writes `pipe`, once more if the first try fails (a follower elsewhere would have to catch
/// up from a summary for the frames lost); a second failure is logged (at most once a
/// minute) and the job goes on locally.
async fn write<T: redis::FromRedisValue>(shared: &SharedJobs, pipe: &redis::Pipeline) -> Option<T> {
    let mut tried = false;
    loop {
        match shared.shared.query_pipe::<T>(pipe).await {
            Ok(answer) => return Some(answer),
            Err(_) if !tried => tried = true,
            Err(e) => {
                shared.shared.degraded(
                    "streams",
                    "answers go on streaming from their own replica only",
                    &e,
                );
                return None;
            }
        }
    }
}
