//! Outgoing mail, with LibreChat's `EMAIL_*` names.

use serde::Serialize;

use super::{ConfigError, Env, Secret};

/// How to reach the SMTP server. `None` in the settings when mail is not configured.
#[derive(Debug, Clone, Serialize)]
pub struct EmailSettings {
    /// `EMAIL_HOST`, or the server of a well-known `EMAIL_SERVICE` (gmail, outlook, yahoo).
    pub host: String,
    /// `EMAIL_PORT` (default 25, or the service's).
    pub port: u16,
    /// `EMAIL_ENCRYPTION`: `tls` (implicit TLS), `starttls` (required), or unset (STARTTLS when
    /// the server offers it).
    pub encryption: Encryption,
    /// `EMAIL_ENCRYPTION_HOSTNAME`: the name to check the server's certificate against.
    pub tls_hostname: Option<String>,
    /// `EMAIL_ALLOW_SELFSIGNED`: accept certificates that do not verify.
    pub allow_self_signed: bool,
    /// `EMAIL_USERNAME` / `EMAIL_PASSWORD`; no login when unset.
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// `EMAIL_FROM` (required) and `EMAIL_FROM_NAME` (default: the app title).
    pub from: String,
    pub from_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    Tls,
    Starttls,
    Opportunistic,
}

impl EmailSettings {
    /// Mail is configured when a host (or service) and a sender are given.
    pub fn from_env(env: &Env, app_title: &str) -> Result<Option<Self>, ConfigError> {
        let service = env.get("EMAIL_SERVICE").map(str::to_ascii_lowercase);
        let known = service.as_deref().and_then(|s| match s {
            "gmail" => Some(("smtp.gmail.com", 465, Encryption::Tls)),
            "outlook" | "outlook365" | "hotmail" => {
                Some(("smtp-mail.outlook.com", 587, Encryption::Starttls))
            }
            "yahoo" => Some(("smtp.mail.yahoo.com", 465, Encryption::Tls)),
            _ => None,
        });
        let host = match (env.string("EMAIL_HOST"), known, &service) {
            (Some(h), _, _) => h,
            (None, Some((h, _, _)), _) => h.to_owned(),
            (None, None, Some(s)) => {
                return Err(ConfigError::invalid(
                    "EMAIL_SERVICE",
                    s,
                    "gmail, outlook or yahoo; or set EMAIL_HOST",
                ));
            }
            (None, None, None) => return Ok(None),
        };
        let Some(from) = env.string("EMAIL_FROM") else {
            return Err(ConfigError::invalid(
                "EMAIL_FROM",
                "",
                "the sender address, required when EMAIL_HOST is set",
            ));
        };
        if !from.contains('@') {
            return Err(ConfigError::invalid(
                "EMAIL_FROM",
                &from,
                "an email address",
            ));
        }
        let encryption = match env
            .get("EMAIL_ENCRYPTION")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("tls") => Encryption::Tls,
            Some("starttls") => Encryption::Starttls,
            None => known.map(|k| k.2).unwrap_or(Encryption::Opportunistic),
            Some(other) => {
                return Err(ConfigError::invalid(
                    "EMAIL_ENCRYPTION",
                    other,
                    "tls or starttls",
                ));
            }
        };
        let port = match env.int("EMAIL_PORT")? {
            Some(p) => u16::try_from(p)
                .map_err(|_| ConfigError::invalid("EMAIL_PORT", &p.to_string(), "a port number"))?,
            None => known.map(|k| k.1).unwrap_or(25),
        };
        Ok(Some(Self {
            host,
            port,
            encryption,
            tls_hostname: env.string("EMAIL_ENCRYPTION_HOSTNAME"),
            allow_self_signed: env.bool("EMAIL_ALLOW_SELFSIGNED")?.unwrap_or(false),
            username: env.string("EMAIL_USERNAME"),
            password: env.get("EMAIL_PASSWORD").map(Secret::new),
            from,
            from_name: env
                .string("EMAIL_FROM_NAME")
                .unwrap_or_else(|| app_title.to_owned()),
        }))
    }
}
