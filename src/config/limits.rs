//! Rate limits and bans, with LibreChat's environment names and defaults.

use std::time::Duration;

use serde::Serialize;

use super::{ConfigError, Env};

/// One limiter: at most `max` requests per `window` per key (an IP or a user). Exceeding it
/// answers 429 and adds `score` to the requester's violations of type `kind`.
#[derive(Debug, Clone, Serialize)]
pub struct LimitSpec {
    /// LibreChat's violation type, e.g. `logins`.
    pub kind: &'static str,
    pub max: u32,
    #[serde(serialize_with = "as_minutes")]
    pub window: Duration,
    pub score: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct BanSettings {
    /// `BAN_VIOLATIONS` (default true): ban when violations pile up.
    pub enabled: bool,
    /// `BAN_DURATION` in ms (default 2 h). 0 kills the user's sessions without a lasting ban.
    pub duration_ms: u64,
    /// `BAN_INTERVAL` (default 20): a ban fires each time a score crosses a multiple of this.
    pub interval: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct LimitSettings {
    /// `LOGIN_MAX` (7) per `LOGIN_WINDOW` (5 min), per IP; `LOGIN_VIOLATION_SCORE` (1).
    pub login: LimitSpec,
    /// `REGISTER_MAX` (5) per `REGISTER_WINDOW` (60 min), per IP.
    pub register: LimitSpec,
    /// `RESET_PASSWORD_MAX` (2) per `RESET_PASSWORD_WINDOW` (2 min), per IP.
    pub reset_password: LimitSpec,
    /// `RESET_PASSWORD_SUBMISSION_*`, falling back to the reset limiter's values.
    pub reset_password_submission: LimitSpec,
    /// `VERIFY_EMAIL_MAX` (2) per `VERIFY_EMAIL_WINDOW` (2 min), per IP.
    pub verify_email: LimitSpec,
    /// `VERIFY_EMAIL_SUBMISSION_*`, falling back to the verify limiter's values.
    pub verify_email_submission: LimitSpec,
    /// Forks and duplicates per IP: `LIMIT_FORK_IP` (on), `FORK_IP_MAX` (30) per
    /// `FORK_IP_WINDOW` (1 min); `FORK_VIOLATION_SCORE` (1).
    pub fork_ip: Option<LimitSpec>,
    /// Per user: `LIMIT_FORK_USER` (off), `FORK_USER_MAX` (7) per `FORK_USER_WINDOW` (1 min).
    pub fork_user: Option<LimitSpec>,
    /// Imports per IP: `LIMIT_IMPORT_IP` (on), `IMPORT_IP_MAX` (100) per `IMPORT_IP_WINDOW`
    /// (1 min); `IMPORT_VIOLATION_SCORE` (1). librechat.yaml's `rateLimits.conversationsImport`
    /// (`ipMax`, `ipWindowInMinutes`) overrides the numbers.
    pub import_ip: Option<LimitSpec>,
    /// Per user: `LIMIT_IMPORT_USER` (off), `IMPORT_USER_MAX` (50) per `IMPORT_USER_WINDOW`
    /// (1 min); yaml `userMax`, `userWindowInMinutes`.
    pub import_user: Option<LimitSpec>,
    /// Chat messages per IP: `LIMIT_MESSAGE_IP` (on), `MESSAGE_IP_MAX` (40) per
    /// `MESSAGE_IP_WINDOW` (1 min); `MESSAGE_VIOLATION_SCORE` (1).
    pub message_ip: Option<LimitSpec>,
    /// Per user: `LIMIT_MESSAGE_USER` (off), `MESSAGE_USER_MAX` (40) per `MESSAGE_USER_WINDOW`.
    pub message_user: Option<LimitSpec>,
    /// Uploads (`POST /api/files...`) per IP: `FILE_UPLOAD_IP_MAX` (100) per
    /// `FILE_UPLOAD_IP_WINDOW` (15 min); `FILE_UPLOAD_VIOLATION_SCORE` (1). Always on, as in
    /// LibreChat; librechat.yaml's `rateLimits.fileUploads` overrides the numbers.
    pub file_upload_ip: LimitSpec,
    /// Per user: `FILE_UPLOAD_USER_MAX` (50) per `FILE_UPLOAD_USER_WINDOW` (15 min).
    pub file_upload_user: LimitSpec,
    /// Markdown rendering (`POST /api/render`, ours; LibreChat's client renders in the
    /// browser) per user: `LIMIT_RENDER_USER` (on), `RENDER_USER_MAX` (1000) per
    /// `RENDER_USER_WINDOW` (1 min); `RENDER_VIOLATION_SCORE` (0: the bundled app re-renders
    /// a streaming answer several times a second, which must not lead to a ban).
    pub render_user: Option<LimitSpec>,
    /// Prompt uses counted (`POST /api/prompts/groups/:id/use`) per user: LibreChat's
    /// `promptUsageLimiter`, 30 per minute with no violation score; `PROMPT_USAGE_MAX` and
    /// `PROMPT_USAGE_WINDOW` (minutes) are ours (LibreChat's numbers are fixed).
    pub prompt_usage: LimitSpec,
    /// Answers one user may have generating at once: `LIMIT_CONCURRENT_MESSAGES` (on),
    /// `CONCURRENT_MESSAGE_MAX` (2); `CONCURRENT_VIOLATION_SCORE` (1).
    pub concurrent_messages: Option<u32>,
    pub concurrent_score: u32,
    /// `ILLEGAL_MODEL_REQ_SCORE` (5): asking for a model the endpoint does not offer.
    pub illegal_model_score: u32,
    pub ban: BanSettings,
}

fn as_minutes<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{} min", d.as_secs() / 60))
}

impl LimitSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let spec = |prefix: &str, kind: &'static str, max: u64, window: u64, score_var: &str| {
            Ok::<_, ConfigError>(LimitSpec {
                kind,
                max: small(env, &format!("{prefix}_MAX"), max)?,
                window: Duration::from_secs(
                    60 * env
                        .int(&format!("{prefix}_WINDOW"))?
                        .unwrap_or(window)
                        .max(1),
                ),
                score: small(env, score_var, 1)?,
            })
        };
        let reset = spec(
            "RESET_PASSWORD",
            "reset_password_limit",
            2,
            2,
            "RESET_PASSWORD_VIOLATION_SCORE",
        )?;
        let verify = spec(
            "VERIFY_EMAIL",
            "verify_email_limit",
            2,
            2,
            "VERIFY_EMAIL_VIOLATION_SCORE",
        )?;
        Ok(Self {
            login: spec("LOGIN", "logins", 7, 5, "LOGIN_VIOLATION_SCORE")?,
            register: spec(
                "REGISTER",
                "registrations",
                5,
                60,
                "REGISTRATION_VIOLATION_SCORE",
            )?,
            reset_password_submission: spec(
                "RESET_PASSWORD_SUBMISSION",
                "reset_password_limit",
                u64::from(reset.max),
                reset.window.as_secs() / 60,
                "RESET_PASSWORD_SUBMISSION_VIOLATION_SCORE",
            )?,
            verify_email_submission: spec(
                "VERIFY_EMAIL_SUBMISSION",
                "verify_email_limit",
                u64::from(verify.max),
                verify.window.as_secs() / 60,
                "VERIFY_EMAIL_SUBMISSION_VIOLATION_SCORE",
            )?,
            fork_ip: env
                .bool("LIMIT_FORK_IP")?
                .unwrap_or(true)
                .then(|| spec("FORK_IP", "fork_limit", 30, 1, "FORK_VIOLATION_SCORE"))
                .transpose()?,
            fork_user: env
                .bool("LIMIT_FORK_USER")?
                .unwrap_or(false)
                .then(|| spec("FORK_USER", "fork_limit", 7, 1, "FORK_VIOLATION_SCORE"))
                .transpose()?,
            import_ip: env
                .bool("LIMIT_IMPORT_IP")?
                .unwrap_or(true)
                .then(|| {
                    spec(
                        "IMPORT_IP",
                        "import_limit",
                        100,
                        1,
                        "IMPORT_VIOLATION_SCORE",
                    )
                })
                .transpose()?,
            import_user: env
                .bool("LIMIT_IMPORT_USER")?
                .unwrap_or(false)
                .then(|| {
                    spec(
                        "IMPORT_USER",
                        "import_limit",
                        50,
                        1,
                        "IMPORT_VIOLATION_SCORE",
                    )
                })
                .transpose()?,
            file_upload_ip: spec(
                "FILE_UPLOAD_IP",
                "file_upload_limit",
                100,
                15,
                "FILE_UPLOAD_VIOLATION_SCORE",
            )?,
            file_upload_user: spec(
                "FILE_UPLOAD_USER",
                "file_upload_limit",
                50,
                15,
                "FILE_UPLOAD_VIOLATION_SCORE",
            )?,
            message_ip: env
                .bool("LIMIT_MESSAGE_IP")?
                .unwrap_or(true)
                .then(|| {
                    spec(
                        "MESSAGE_IP",
                        "message_limit",
                        40,
                        1,
                        "MESSAGE_VIOLATION_SCORE",
                    )
                })
                .transpose()?,
            message_user: env
                .bool("LIMIT_MESSAGE_USER")?
                .unwrap_or(false)
                .then(|| {
                    spec(
                        "MESSAGE_USER",
                        "message_limit",
                        40,
                        1,
                        "MESSAGE_VIOLATION_SCORE",
                    )
                })
                .transpose()?,
            render_user: env
                .bool("LIMIT_RENDER_USER")?
                .unwrap_or(true)
                .then(|| {
                    Ok::<_, ConfigError>(LimitSpec {
                        score: small(env, "RENDER_VIOLATION_SCORE", 0)?,
                        ..spec(
                            "RENDER_USER",
                            "render_limit",
                            1000,
                            1,
                            "RENDER_VIOLATION_SCORE",
                        )?
                    })
                })
                .transpose()?,
            prompt_usage: LimitSpec {
                kind: "prompt_usage_limit",
                max: small(env, "PROMPT_USAGE_MAX", 30)?,
                window: Duration::from_secs(
                    60 * env.int("PROMPT_USAGE_WINDOW")?.unwrap_or(1).max(1),
                ),
                score: 0,
            },
            concurrent_messages: if env.bool("LIMIT_CONCURRENT_MESSAGES")?.unwrap_or(true) {
                Some(small(env, "CONCURRENT_MESSAGE_MAX", 2)?.max(1))
            } else {
                None
            },
            concurrent_score: small(env, "CONCURRENT_VIOLATION_SCORE", 1)?,
            illegal_model_score: small(env, "ILLEGAL_MODEL_REQ_SCORE", 5)?,
            reset_password: reset,
            verify_email: verify,
            ban: BanSettings {
                enabled: env.bool("BAN_VIOLATIONS")?.unwrap_or(true),
                duration_ms: env.int("BAN_DURATION")?.unwrap_or(2 * 60 * 60 * 1000),
                interval: small(env, "BAN_INTERVAL", 20)?.max(1),
            },
        })
    }
}

impl LimitSettings {
    /// Applies librechat.yaml's `rateLimits` (`conversationsImport`, `fileUploads`), which
    /// LibreChat lets override the environment's numbers.
    pub fn with_yaml(mut self, rate_limits: Option<&serde_json::Value>) -> Self {
        let Some(rate_limits) = rate_limits else {
            return self;
        };
        let sections = [
            (
                "conversationsImport",
                self.import_ip.as_mut(),
                self.import_user.as_mut(),
            ),
            (
                "fileUploads",
                Some(&mut self.file_upload_ip),
                Some(&mut self.file_upload_user),
            ),
        ];
        for (name, ip, user) in sections {
            let Some(section) = rate_limits.get(name) else {
                continue;
            };
            let num = |key: &str| section.get(key).and_then(serde_json::Value::as_u64);
            for (spec, max, window) in [
                (ip, "ipMax", "ipWindowInMinutes"),
                (user, "userMax", "userWindowInMinutes"),
            ] {
                if let Some(spec) = spec {
                    if let Some(m) = num(max) {
                        spec.max = u32::try_from(m).unwrap_or(u32::MAX);
                    }
                    if let Some(w) = num(window) {
                        spec.window = Duration::from_secs(60 * w.max(1));
                    }
                }
            }
        }
        self
    }
}

fn small(env: &Env, key: &str, default: u64) -> Result<u32, ConfigError> {
    let v = env.int(key)?.unwrap_or(default);
    u32::try_from(v)
        .map_err(|_| ConfigError::invalid(key, &v.to_string(), "a number below 4294967296"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_usage_is_librechats_30_a_minute_unless_told() {
        let default = LimitSettings::from_env(&Env::from_pairs::<&str, &str>([])).unwrap();
        let p = default.prompt_usage;
        assert_eq!((p.max, p.window.as_secs(), p.score), (30, 60, 0));
        let env = Env::from_pairs([("PROMPT_USAGE_MAX", "3"), ("PROMPT_USAGE_WINDOW", "5")]);
        let p = LimitSettings::from_env(&env).unwrap().prompt_usage;
        assert_eq!((p.max, p.window.as_secs()), (3, 300));
    }
}
