//! Violations and bans (LibreChat's `logViolation` / `banViolation` / `checkBan`).
//!
//! Each refused request adds its limiter's score to the requester's count for that violation
//! type: the signed-in user's when there is one, else the address's (even for a limiter
//! counted per address, such as `MESSAGE_IP_MAX`). Each time a count crosses a multiple of
//! `BAN_INTERVAL`, the requester is banned for `BAN_DURATION`: the user (whose sessions are
//! ended) when signed in, else the address, never the address for what an account did. Bans
//! live in the database (so a restart does not lift them) with a short in-memory cache in
//! front, which also picks up bans made by `librechat user ban` within seconds.
//!
//! An address ban stops anonymous requests from that address (sign-in, registration, resets);
//! a request signed in as an account is judged by that account's ban alone. Many people can
//! share one address (an office, a school, a proxy without `TRUST_PROXY`): one of them failing
//! to log in must not lock every signed-in colleague out. IPv6 clients are counted per /64
//! (see [`client_key`](super::client_key)).

use std::net::IpAddr;
use std::time::Duration;

use super::RateLimiter;
use crate::bounded::BoundedCache;
use crate::config::{BanSettings, LimitSpec};
use crate::db::{self, Db, DbError, bans::Ban};

/// How long a ban lookup is trusted before the database is asked again.
const BAN_CACHE_TTL: Duration = Duration::from_secs(5);

/// A ban in force, for the 403 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanNotice {
    pub expires_at: String,
}

pub struct Guard {
    db: Db,
    settings: BanSettings,
    pub limiter: RateLimiter,
    /// `<type>:<subject>` → score.
    scores: BoundedCache<u32>,
    /// `user:<id>` / `ip:<addr>` → the ban in force, if any.
    bans: BoundedCache<Option<Ban>>,
}

impl Guard {
    pub fn new(db: Db, settings: BanSettings) -> Self {
        Self {
            db,
            settings,
            limiter: RateLimiter::new(),
            scores: BoundedCache::builder(200_000)
                .time_to_idle(Duration::from_secs(24 * 60 * 60))
                .build(),
            bans: BoundedCache::builder(200_000)
                .time_to_live(BAN_CACHE_TTL)
                .build(),
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

    /// The ban in force on `subject`, from the cache or the database.
    async fn live_ban(&self, subject: String) -> Result<Option<Ban>, DbError> {
        let ban = match self.bans.get(&subject) {
            Some(cached) => cached,
            None => {
                let key = subject.clone();
                let found = self.db.read(move |c| db::bans::find_live(c, &key)).await?;
                self.bans.insert(subject, found.clone());
                found
            }
        };
        Ok(ban.filter(|ban| ban.expires_at > db::now()))
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
        match self.limiter.hit(spec, name, &bucket) {
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
        let key = format!("{kind}:{subject}");
        let new = self
            .scores
            .upsert_with(key, |prev| prev.unwrap_or(0).saturating_add(score));
        let prev = new - score;
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
        let user = user_id.map(str::to_owned);
        let stored = bans.clone();
        self.db
            .write(move |conn| {
                let tx = conn.transaction()?;
                for ban in &stored {
                    db::bans::upsert(&tx, ban)?;
                }
                if let Some(u) = &user {
                    db::sessions::delete_for_user(&tx, u)?;
                }
                tx.commit()?;
                Ok(())
            })
            .await?;
        for ban in bans {
            tracing::warn!(subject = %ban.subject, until = %ban.expires_at, violation = kind, "banned");
            self.bans.insert(ban.subject.clone(), Some(ban));
        }
        Ok(())
    }

    /// Forgets cached lookups for these subjects (after an unban).
    pub fn forget(&self, subject: &str) {
        self.bans.invalidate(subject);
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
