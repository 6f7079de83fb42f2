//! The frames a job keeps for subscribers that join late or reconnect with `Last-Event-ID`:
//! the newest ones, at most [`MAX_FRAMES`] of them and about [`MAX_BYTES`] together. Older
//! ones are dropped; a subscriber that needs them gets a `sync` frame (everything generated so
//! far) instead, so nothing a client sees is lost, only the way it arrives.

use std::collections::VecDeque;
use std::sync::Arc;

use super::jobs::Frame;

/// Frames kept per job.
pub const MAX_FRAMES: usize = 2_000;
/// Bytes kept per job (a frame's payload and its bookkeeping). Two thousand deltas of a few
/// hundred bytes fit; a provider sending huge deltas is held to this, not to 2,000 of them.
pub const MAX_BYTES: usize = 1024 * 1024;
/// What a frame costs besides its payload: the `Frame`, its `Arc` and the queue's slot.
const FRAME_OVERHEAD: usize = 64;

/// What a frame weighs in the ring.
pub fn cost(frame: &Frame) -> usize {
    frame.data.len() + FRAME_OVERHEAD
}

/// The newest frames of one job, oldest first.
#[derive(Default)]
pub struct Ring {
    frames: VecDeque<Arc<Frame>>,
    bytes: usize,
    /// Whether frames were dropped from the front.
    trimmed: bool,
}

impl Ring {
    /// Keeps `frame`, dropping the oldest ones past either bound. The newest frame always
    /// stays, however large: a finished job's final frame must reach late subscribers.
    pub fn push(&mut self, frame: Arc<Frame>) {
        self.bytes += cost(&frame);
        self.frames.push_back(frame);
        while self.frames.len() > MAX_FRAMES || (self.bytes > MAX_BYTES && self.frames.len() > 1) {
            let Some(old) = self.frames.pop_front() else {
                break;
            };
            self.bytes -= cost(&old);
            self.trimmed = true;
        }
    }

    /// The id of the oldest frame kept.
    pub fn oldest_id(&self) -> Option<u64> {
        self.frames.front().map(|f| f.id)
    }

    /// The frames kept from id `from` on.
    pub fn since(&self, from: u64) -> Vec<Arc<Frame>> {
        self.frames
            .iter()
            .filter(|f| f.id >= from)
            .cloned()
            .collect()
    }

    /// The last frame, if it is a job's final one.
    pub fn terminal(&self) -> Option<Arc<Frame>> {
        self.frames.back().filter(|f| f.terminal).cloned()
    }

    /// Whether older frames were dropped.
    pub fn trimmed(&self) -> bool {
        self.trimmed
    }

    /// What the frames kept weigh.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Keeps only the last frame (a finished job's final one); the bytes freed.
    pub fn keep_last(&mut self) -> usize {
        let before = self.bytes;
        if self.frames.len() > 1 {
            self.trimmed = true;
        }
        let last = self.frames.pop_back();
        self.frames.clear();
        self.bytes = 0;
        if let Some(f) = last {
            self.bytes = cost(&f);
            self.frames.push_back(f);
        }
        before - self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(id: u64, len: usize, terminal: bool) -> Arc<Frame> {
        Arc::new(Frame {
            id,
            data: "x".repeat(len),
            terminal,
        })
    }

    #[test]
    fn bounded_by_count_and_by_bytes() {
        let mut ring = Ring::default();
        for id in 0..(MAX_FRAMES as u64 + 5) {
            ring.push(frame(id, 10, false));
        }
        assert_eq!(ring.oldest_id(), Some(5));
        assert!(ring.trimmed());

        // Large frames: the byte bound decides.
        let mut ring = Ring::default();
        let big = 100 * 1024;
        for id in 0..100 {
            ring.push(frame(id, big, false));
        }
        assert!(ring.bytes() <= MAX_BYTES, "{}", ring.bytes());
        assert_eq!(ring.since(0).len(), MAX_BYTES / (big + FRAME_OVERHEAD));
        assert_eq!(ring.since(0).last().unwrap().id, 99);

        // One frame larger than the bound is still kept, alone.
        ring.push(frame(100, 2 * MAX_BYTES, true));
        assert_eq!(ring.since(0).len(), 1);
        assert_eq!(ring.terminal().unwrap().id, 100);
    }

    #[test]
    fn keep_last_leaves_the_final_frame() {
        let mut ring = Ring::default();
        for id in 0..10 {
            ring.push(frame(id, 100, id == 9));
        }
        let freed = ring.keep_last();
        assert_eq!(freed, 9 * cost(&frame(0, 100, false)));
        assert_eq!(ring.terminal().unwrap().id, 9);
        assert_eq!(ring.bytes(), cost(&frame(9, 100, true)));
        assert!(ring.trimmed());
    }
}
