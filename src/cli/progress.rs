//! A one-line progress display on stderr for the long commands (`import`, `search reindex`),
//! drawn only when stderr is a terminal, at most five times a second. Written here rather than
//! taken from a progress-bar crate: this is all the commands need, and the crate cost more of
//! the binary's size budget than the feature is worth.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Progress {
    label: &'static str,
    total: u64,
    bytes: bool,
    started: Instant,
    /// When the line was last drawn; `None` when not drawing (stderr is not a terminal).
    drawn: Mutex<Option<Instant>>,
}

impl Progress {
    /// `total` items (or bytes, with `bytes`) to go through.
    pub fn new(label: &'static str, total: u64, bytes: bool) -> Self {
        let now = Instant::now();
        let tty = std::io::stderr().is_terminal();
        Self {
            label,
            total,
            bytes,
            started: now,
            drawn: Mutex::new(tty.then(|| now - Duration::from_secs(1))),
        }
    }

    /// `done` of the total are through.
    pub fn set(&self, done: u64) {
        let mut drawn = self.drawn.lock().unwrap_or_else(|p| p.into_inner());
        let Some(last) = *drawn else {
            return;
        };
        if last.elapsed() < Duration::from_millis(200) {
            return;
        }
        *drawn = Some(Instant::now());
        let line = self.line(done, self.started.elapsed());
        let _ = write!(std::io::stderr(), "\r\x1b[2K{line}");
    }

    /// Clears the line.
    pub fn finish(&self) {
        if self
            .drawn
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
        {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }

    fn line(&self, done: u64, took: Duration) -> String {
        let pct = done
            .saturating_mul(100)
            .checked_div(self.total)
            .unwrap_or(100);
        let rate = done as f64 / took.as_secs_f64().max(0.001);
        let eta = if rate > 0.0 && done < self.total {
            format!(", {:.0} s left", (self.total - done) as f64 / rate)
        } else {
            String::new()
        };
        if self.bytes {
            let mb = |b: f64| b / 1e6;
            format!(
                "{} {:.1}/{:.1} MB ({pct}%, {:.1} MB/s{eta})",
                self.label,
                mb(done as f64),
                mb(self.total as f64),
                mb(rate)
            )
        } else {
            format!(
                "{} {done}/{} ({pct}%, {rate:.0}/s{eta})",
                self.label, self.total
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_how_far_and_how_fast() {
        let p = Progress::new("indexing", 1000, false);
        assert_eq!(
            p.line(250, Duration::from_secs(1)),
            "indexing 250/1000 (25%, 250/s, 3 s left)"
        );
        let b = Progress::new("importing", 10_000_000, true);
        assert_eq!(
            b.line(10_000_000, Duration::from_secs(2)),
            "importing 10.0/10.0 MB (100%, 5.0 MB/s)"
        );
        assert!(
            Progress::new("x", 0, false)
                .line(0, Duration::ZERO)
                .contains("100%")
        );
    }
}
