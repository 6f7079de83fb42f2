//! Sign in with Apple settings, from LibreChat's environment names: on when
//! `APPLE_CLIENT_ID` (the Services ID), `APPLE_TEAM_ID`, `APPLE_KEY_ID` and
//! `APPLE_PRIVATE_KEY_PATH` (the `.p8` key) are set; `APPLE_CALLBACK_URL` defaults to
//! `/oauth/apple/callback`. `APPLE_OAUTH_BASE_URL` (ours, for a proxy or tests) replaces
//! `https://appleid.apple.com` for the authorize, token and keys endpoints.

use serde::Serialize;

use super::{ConfigError, Env};

/// Who signs Apple's ID tokens.
pub const APPLE_ISSUER: &str = "https://appleid.apple.com";

/// [`APPLE_ISSUER`], the issuer and audience Apple's tokens name.
pub fn apple_issuer() -> &'static str {
    APPLE_ISSUER
}

#[derive(Debug, Clone, Serialize)]
pub struct AppleSettings {
    pub client_id: String,
    pub team_id: String,
    pub key_id: String,
    /// The `.p8` key's PEM, read at start.
    #[serde(skip)]
    pub private_key_pem: String,
    pub callback_url: String,
    pub base_url: String,
}

impl AppleSettings {
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let get = |k: &str| env.string(k);
        let (Some(client_id), Some(team_id), Some(key_id), Some(path)) = (
            get("APPLE_CLIENT_ID"),
            get("APPLE_TEAM_ID"),
            get("APPLE_KEY_ID"),
            get("APPLE_PRIVATE_KEY_PATH"),
        ) else {
            return Ok(None);
        };
        let private_key_pem = std::fs::read_to_string(&path).map_err(|_| {
            ConfigError::invalid("APPLE_PRIVATE_KEY_PATH", &path, "a readable .p8 key file")
        })?;
        if jsonwebtoken::EncodingKey::from_ec_pem(private_key_pem.as_bytes()).is_err() {
            return Err(ConfigError::invalid(
                "APPLE_PRIVATE_KEY_PATH",
                &path,
                "an EC P-256 private key in PEM (PKCS#8), as Apple's .p8 files are",
            ));
        }
        let base_url = match get("APPLE_OAUTH_BASE_URL") {
            Some(b) => {
                url::Url::parse(&b)
                    .map_err(|_| ConfigError::invalid("APPLE_OAUTH_BASE_URL", &b, "a URL"))?;
                b.trim_end_matches('/').to_owned()
            }
            None => APPLE_ISSUER.to_owned(),
        };
        Ok(Some(Self {
            client_id,
            team_id,
            key_id,
            private_key_pem,
            callback_url: get("APPLE_CALLBACK_URL")
                .unwrap_or_else(|| "/oauth/apple/callback".into()),
            base_url,
        }))
    }
}
