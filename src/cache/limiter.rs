//! Fixed-window request counters, like express-rate-limit's default store.
//!
//! In process by default. With Redis ([`RateLimiter::shared`]) every replica counts in the
//! same window (`limit:<limiter>:<subject>`, see [`Shared::count`]). When Redis cannot be
//! reached the limiter fails open to this replica's own counters: requests are still limited,
//! per replica, rather than all refused (a warning is logged once a minute).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::shared::Shared;
use crate::bounded::BoundedCache;
use crate::config::LimitSpec;

/// What is logged when the shared counters cannot be reached.
const FALLBACK: &str = "limits are counted on this replica alone until it is back";

/// Too many requests: how long until the window resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
}

/// Counters for every limiter, keyed by `<kind>:<subject>`.
pub struct RateLimiter {
    counters: BoundedCache<std::sync::Arc<Mutex<Window>>>,
    shared: Option<Shared>,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    count: u32,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimiter {
    pub fn new() -> Self {
        Self {
            // Bounded memory: a flood of distinct IPs evicts the least used counters.
            counters: BoundedCache::builder(200_000)
                .time_to_idle(Duration::from_secs(6 * 60 * 60))
                .build(),
            shared: None,
        }
    }

    /// Counters shared by the replicas on Redis.
    pub fn shared(shared: Shared) -> Self {
        Self {
            shared: Some(shared),
            ..Self::new()
        }
    }

    /// Whether `subject` has used up `spec` in the current window, without counting anything.
    pub async fn exhausted(&self, spec: &LimitSpec, name: &str, subject: &str) -> Option<Limited> {
        if let Some(shared) = &self.shared {
            match shared.peek(&format!("limit:{name}:{subject}")).await {
                Ok(window) => {
                    return window
                        .filter(|w| w.count >= u64::from(spec.max))
                        .map(|w| Limited {
                            retry_after: w.resets_in,
                        });
                }
                Err(e) => shared.degraded("limiter", FALLBACK, &e),
            }
        }
        self.exhausted_here(spec, name, subject)
    }

    /// Counts one request by `subject` against `spec`; refuses it past `spec.max` in the window.
    pub async fn hit(&self, spec: &LimitSpec, name: &str, subject: &str) -> Result<(), Limited> {
        if let Some(shared) = &self.shared {
            match shared
                .count(&format!("limit:{name}:{subject}"), spec.window)
                .await
            {
                Ok(w) if w.count > u64::from(spec.max) => {
                    return Err(Limited {
                        retry_after: w.resets_in,
                    });
                }
                Ok(_) => return Ok(()),
                Err(e) => shared.degraded("limiter", FALLBACK, &e),
            }
        }
        self.hit_here(spec, name, subject)
    }

    fn exhausted_here(&self, spec: &LimitSpec, name: &str, subject: &str) -> Option<Limited> {
        let window = self.counters.get(&format!("{name}:{subject}"))?;
        let w = window.lock().expect("limiter window");
        let elapsed = Instant::now().duration_since(w.started);
        (elapsed < spec.window && w.count >= spec.max).then(|| Limited {
            retry_after: spec.window.saturating_sub(elapsed),
        })
    }

    fn hit_here(&self, spec: &LimitSpec, name: &str, subject: &str) -> Result<(), Limited> {
        let key = format!("{name}:{subject}");
        let window = self.counters.get_with(key, || {
            std::sync::Arc::new(Mutex::new(Window {
                started: Instant::now(),
                count: 0,
            }))
        });
        let mut w = window.lock().expect("limiter window");
        let now = Instant::now();
        if now.duration_since(w.started) >= spec.window {
            w.started = now;
            w.count = 0;
        }
        w.count = w.count.saturating_add(1);
        if w.count > spec.max {
            Err(Limited {
                retry_after: spec.window.saturating_sub(now.duration_since(w.started)),
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(max: u32, window: Duration) -> LimitSpec {
        LimitSpec {
            kind: "logins",
            max,
            window,
            score: 1,
        }
    }

    #[tokio::test]
    async fn allows_max_per_window_per_subject() {
        let l = RateLimiter::new();
        let s = spec(2, Duration::from_secs(600));
        assert!(l.hit(&s, "login", "1.2.3.4").await.is_ok());
        assert!(l.hit(&s, "login", "1.2.3.4").await.is_ok());
        let refused = l.hit(&s, "login", "1.2.3.4").await.unwrap_err();
        assert!(refused.retry_after <= Duration::from_secs(600));
        assert!(
            l.hit(&s, "login", "5.6.7.8").await.is_ok(),
            "other subjects are counted apart"
        );
        assert!(
            l.hit(&s, "register", "1.2.3.4").await.is_ok(),
            "other limiters are counted apart"
        );
        assert!(l.exhausted(&s, "login", "1.2.3.4").await.is_some());
        assert!(l.exhausted(&s, "login", "5.6.7.8").await.is_none());
        assert!(l.exhausted(&s, "login", "never-seen").await.is_none());
    }

    #[tokio::test]
    async fn a_new_window_starts_fresh() {
        let l = RateLimiter::new();
        let s = spec(1, Duration::ZERO);
        assert!(l.hit(&s, "x", "a").await.is_ok());
        assert!(
            l.hit(&s, "x", "a").await.is_ok(),
            "zero-length windows always reset"
        );
    }
}
