//! `Settings`: every option of the server, built once at start and passed down in `AppState`.
//!
//! Layers, lowest first: built-in defaults < `librechat.yaml` < `.env` < process environment <
//! command-line flags. Names follow LibreChat's (`HOST`, `PORT`, `CONFIG_PATH`, `ALLOW_REGISTRATION`,
//! ...), so an existing LibreChat `.env` and `librechat.yaml` keep working.

pub mod actions;
pub mod agents;
mod apple;
mod dotenv;
mod email;
pub mod embeddings;
mod env;
pub mod features;
pub mod file_store;
mod files;
mod group_sync;
mod images;
mod ldap;
mod limits;
pub mod memory;
mod openid;
pub mod redis;
mod saml;
mod secrets;
mod settings;
mod social;
pub mod tools;
mod unsupported;
pub mod web_search;
pub mod yaml;

use std::path::PathBuf;

pub use apple::{AppleSettings, apple_issuer};
pub use email::{EmailSettings, Encryption};
pub use env::{Env, eval_int};
pub use files::{EndpointFiles, FileSettings};
pub use group_sync::GroupPattern;
pub use images::ImageHosts;
pub use ldap::LdapSettings;
pub use limits::{BanSettings, LimitSettings, LimitSpec};
pub use openid::{OpenIdSettings, RoleRule, TokenKind};
pub use saml::{SamlClaims, SamlSettings};
pub use secrets::{Origin, SECRETS_FILE, Secret, SecretValue, Secrets};
pub use settings::*;
pub use social::SocialSettings;

/// Anything wrong with the configuration; each message names the key or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{key}={value:?} is not valid: expected {expected}")]
    Invalid {
        key: String,
        value: String,
        expected: String,
    },
    #[error("{path}: {reason}")]
    DotEnv { path: String, reason: String },
    #[error("cannot read the configuration file {path}: {reason}")]
    ReadFile { path: String, reason: String },
    #[error("{file}:{line}:{column}: {}{message}", key.as_ref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Yaml {
        file: String,
        line: u64,
        column: u64,
        key: Option<String>,
        message: String,
    },
    #[error("data folder {}: {reason}", path.display())]
    DataDir { path: PathBuf, reason: String },
    #[error("{0}")]
    Other(String),
}

impl ConfigError {
    pub(crate) fn invalid(key: &str, value: &str, expected: &str) -> Self {
        Self::Invalid {
            key: key.to_owned(),
            value: value.to_owned(),
            expected: expected.to_owned(),
        }
    }
}

/// What the command line can override (the top layer).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub data_dir: Option<PathBuf>,
    pub config: Option<PathBuf>,
    /// `serve --client-dir`: LibreChat's client build to serve (`CLIENT_DIR`).
    pub client_dir: Option<PathBuf>,
}
