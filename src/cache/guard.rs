//! Violations and bans (LibreChat's `logViolation` / `banViolation` / `checkBan`).
//!
//! Each refused request adds its limiter's score to the requester's count for that violation
//! type: the signed-in user's when there is one, else the address's (even for a limiter
//! counted per address, such as `MESSAGE_IP_MAX`). Each time a count crosses a multiple of
//! `BAN_INTERVAL`, the requester is banned for `BAN_DURATION`: the user (whose sessions are
//! ended) when signed in, else the address, never the address for what an account did. Bans
//! are kept as [`Bans`] says (the database, a short cache, and Redis when shared).
//!
//! With Redis, scores are shared too (`score:<kind>:<subject>`, kept a day after the last
//! violation), so violations on every replica add up to one ban. When Redis cannot be reached,
//! scores fail open to this replica's own count.
//!
//! An address ban stops anonymous requests from that address (sign-in, registration, resets);
//! a request signed in as an account is judged by that account's ban alone. Many people can
//! share one address (an office, a school, a proxy without `TRUST_PROXY`): one of them failing
//! to log in must not lock every signed-in colleague out. IPv6 clients are counted per /64
//! (see [`client_key`](super::client_key)).

use std::net::IpAddr;
use std::time::Duration;

use super::RateLimiter;
use super::bans::Bans;
use super::shared::{Shared, SharedError};
use crate::bounded::BoundedCache;
use crate::config::{BanSettings, LimitSpec};
use crate::db::{self, Db, DbError, bans::Ban};

/// How long a violation score is kept after the last violation.
const SCORE_IDLE: Duration = Duration::from_secs(24 * 60 * 60);

/// A ban in force, for the 403 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanNotice {
    pub expires_at: String,
}

pub struct Guard {
    settings: BanSettings,
    pub limiter: RateLimiter,
    /// `<type>:<subject>` → score (this replica's, or all of them when Redis is down).
    scores: BoundedCache<u32>,
    bans: Bans,
    shared: Option<Shared>,
}

impl Guard {
    /// In process, or shared by the replicas through `shared` (Redis).
    pub fn new(db: Db, settings: BanSettings, shared: Option<Shared>) -> Self {
        Self {
            settings,
            limiter: match &shared {
                Some(s) => RateLimiter::shared(s.clone()),
                None => RateLimiter::new(),
            },
            scores: BoundedCache::builder(200_000)
                .time_to_idle(SCORE_IDLE)
                .build(),
            bans: Bans::new(db, shared.clone()),
            shared,
        }
    }

    /// The ban in force on this request, if any: the signed-in user's (`user_id`), else the
    /// address's.
    pub async fn ban_of(
        &self,
        user_id: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<Option<BanNotice>, DbError> {
        let subjects = match (user_id, ip) {
            (Some(u), _) => vec![format!("user:{u}")],
            (None, Some(ip)) => {
                // Bans made before IPv6 clients were counted per /64 name the single address.
                let literal = format!("ip:{ip}");
                let key = ip_subject(ip);
                if literal == key {
                    vec![key]
                } else {
                    vec![key, literal]
                }
            }
            (None, None) => return Ok(None),
        };
        for subject in subjects {
            if let Some(ban) = self.live_ban(subject).await? {
                return Ok(Some(BanNotice {
                    expires_at: ban.expires_at,
                }));
            }
        }
        Ok(None)
    }

    async fn live_ban(&self, subject: String) -> Result<Option<Ban>, DbError> {
        self.bans.live(subject).await
    }

    /// Counts a request against a limiter, per user when signed in (else per address); on
    /// refusal records the violation (which may ban).
    pub async fn limit(
        &self,
        spec: &LimitSpec,
        name: &str,
        user_id: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<Result<(), super::Limited>, DbError> {
        let bucket = user_id
            .map(str::to_owned)
            .or_else(|| ip.map(super::client_key));
        self.hit(spec, name, bucket, user_id, ip).await
    }

    /// Counts a request against a per-address limiter (`MESSAGE_IP_MAX`, ...), whoever sends
    /// it; a refusal is scored on the signed-in `user_id` when there is one, so it is that
    /// account that may be banned, not everyone behind the same address.
    pub async fn limit_address(
        &self,
        spec: &LimitSpec,
        name: &str,
        user_id: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<Result<(), super::Limited>, DbError> {
        self.hit(spec, name, ip.map(super::client_key), user_id, ip)
            .await
    }

    async fn hit(
        &self,
        spec: &LimitSpec,
        name: &str,
        bucket: Option<String>,
        user_id: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<Result<(), super::Limited>, DbError> {
        let bucket = bucket.unwrap_or_else(|| "unknown".into());
        match self.limiter.hit(spec, name, &bucket).await {
            Ok(()) => Ok(Ok(())),
            Err(limited) => {
                self.violation(spec.kind, spec.score, user_id, ip).await?;
                Ok(Err(limited))
            }
        }
    }

    /// Adds `score` to the requester's count of `kind`; bans when a multiple of the interval is
    /// crossed. Scored by user when known, else by address.
    pub async fn violation(
        &self,
        kind: &str,
        score: u32,
        user_id: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<(), DbError> {
        if score == 0 {
            return Ok(());
        }
        let Some(subject) = ban_subject(user_id, ip) else {
            return Ok(());
        };
        let new = self.add_score(format!("{kind}:{subject}"), score).await;
        let prev = new.saturating_sub(score);
        let interval = self.settings.interval;
        tracing::warn!(violation = kind, subject = %subject, score = new, "rate limit violation");
        if self.settings.enabled && prev / interval < new / interval {
            self.ban(
                kind,
                new,
                user_id,
                ip,
                Duration::from_millis(self.settings.duration_ms),
            )
            .await?;
        }
        Ok(())
    }

    /// Adds `score` to the total under `key`: in Redis when shared (else, or when it cannot be
    /// reached, here); the new total.
    async fn add_score(&self, key: String, score: u32) -> u32 {
        if let Some(shared) = &self.shared {
            match shared.add(&format!("score:{key}"), score, SCORE_IDLE).await {
                Ok(total) => return u32::try_from(total).unwrap_or(u32::MAX),
                Err(e) => shared.degraded(
                    "violation scores",
                    "violations are scored on this replica alone until it is back",
                    &e,
                ),
            }
        }
        self.scores
            .upsert_with(key, |prev| prev.unwrap_or(0).saturating_add(score))
    }

    /// Whether `subject` has used up `spec` in the current window, counting nothing.
    pub async fn exhausted(
        &self,
        spec: &LimitSpec,
        name: &str,
        subject: &str,
    ) -> Option<super::Limited> {
        self.limiter.exhausted(spec, name, subject).await
    }

    /// Bans the user, or the address when there is no user, for `duration` and ends the
    /// user's sessions. A zero duration only ends the sessions ("soft ban"), as in LibreChat.
    pub async fn ban(
        &self,
        kind: &str,
        violations: u32,
        user_id: Option<&str>,
        ip: Option<IpAddr>,
        duration: Duration,
    ) -> Result<(), DbError> {
        let expires_at = db::to_rfc3339(time::OffsetDateTime::now_utc() + duration);
        let bans: Vec<Ban> = if duration.is_zero() {
            Vec::new()
        } else {
            ban_subject(user_id, ip)
                .into_iter()
                .map(|subject| Ban {
                    subject,
                    kind: kind.to_owned(),
                    violation_count: violations,
                    expires_at: expires_at.clone(),
                })
                .collect()
        };
        self.bans.record(bans, user_id.map(str::to_owned)).await
    }

    /// Forgets `subject`'s ban everywhere it is cached or shared (after its database row is
    /// deleted). An error means Redis could not be told and still holds the ban.
    pub async fn forget(&self, subject: &str) -> Result<(), SharedError> {
        self.bans.lift(subject).await
    }

    /// The shared state, when the replicas share one (Redis).
    pub fn shared(&self) -> Option<&Shared> {
        self.shared.as_ref()
    }
}

/// Whom a ban falls on: the account when one is known (an address may be shared by many
/// people), else the address.
fn ban_subject(user_id: Option<&str>, ip: Option<IpAddr>) -> Option<String> {
    match (user_id, ip) {
        (Some(u), _) => Some(format!("user:{u}")),
        (None, Some(ip)) => Some(ip_subject(ip)),
        (None, None) => None,
    }
}

/// How an address's bans and scores are stored: `ip:` and its client key.
pub fn ip_subject(ip: IpAddr) -> String {
    format!("ip:{}", super::client_key(ip))
}
