//! The four secrets LibreChat needs: token signing keys and the credential encryption key.
//!
//! Taken from the environment when given there; otherwise generated once on first start and kept
//! in `<data>/secrets.env` (mode 0600), so that sessions and encrypted user keys survive restarts.

use std::fs::{self, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use super::ConfigError;
use super::env::Env;

/// Name of the file in the data folder that holds generated secrets.
pub const SECRETS_FILE: &str = "secrets.env";

/// A value that must never be printed: `Debug` and `Serialize` show a mask.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"********\"")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("********")
    }
}

/// Where a secret came from, shown by `config check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Environment,
    DataFolder,
    /// Not given anywhere: generated on first start.
    Generated,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretValue {
    pub value: Secret,
    pub origin: Origin,
}

/// `JWT_SECRET`, `JWT_REFRESH_SECRET`, `CREDS_KEY` (32 bytes, hex), `CREDS_IV` (16 bytes, hex).
#[derive(Debug, Clone, Serialize)]
pub struct Secrets {
    pub jwt_secret: SecretValue,
    pub jwt_refresh_secret: SecretValue,
    pub creds_key: SecretValue,
    pub creds_iv: SecretValue,
}

/// (variable, random bytes when generated, required hex length if any)
const SPECS: [(&str, usize, Option<usize>); 4] = [
    ("JWT_SECRET", 32, None),
    ("JWT_REFRESH_SECRET", 32, None),
    ("CREDS_KEY", 32, Some(64)),
    ("CREDS_IV", 16, Some(32)),
];

impl Secrets {
    /// Resolves each secret from the environment, then the data folder's file, then a fresh random
    /// value. With `persist`, new values are written to the file before they are used, so they
    /// are never used once and lost; without it (e.g. `config check`) nothing is written.
    pub fn resolve(env: &Env, data_dir: &Path, persist: bool) -> Result<Self, ConfigError> {
        let path = data_dir.join(SECRETS_FILE);
        let stored = read_file(&path)?;
        let mut values = Vec::with_capacity(SPECS.len());
        let mut generated = false;
        for (name, bytes, hex_len) in SPECS {
            let (value, origin) = if let Some(v) = env.get(name) {
                (v.to_owned(), Origin::Environment)
            } else if let Some(v) = stored.iter().find(|(k, _)| k == name).map(|(_, v)| v) {
                (v.clone(), Origin::DataFolder)
            } else {
                generated = true;
                (random_hex(bytes)?, Origin::Generated)
            };
            if let Some(len) = hex_len {
                let valid = value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit());
                if !valid {
                    let source = match origin {
                        Origin::DataFolder => path.display().to_string(),
                        _ => "the environment".to_owned(),
                    };
                    return Err(ConfigError::Invalid {
                        key: name.to_owned(),
                        value: format!("(from {source}, hidden)"),
                        expected: format!("{len} hexadecimal characters"),
                    });
                }
            }
            values.push(SecretValue {
                value: Secret(value),
                origin,
            });
        }
        check_given(&values)?;
        if generated && persist {
            write_file(&path, &values)?;
        } else if persist && !stored.is_empty() {
            tighten_permissions(&path)?;
        }
        let mut it = values.into_iter();
        let mut next = || it.next().expect("four secrets");
        Ok(Self {
            jwt_secret: next(),
            jwt_refresh_secret: next(),
            creds_key: next(),
            creds_iv: next(),
        })
    }

    /// Each secret with its variable's name.
    fn named(&self) -> impl Iterator<Item = (&'static str, &SecretValue)> {
        let values = [
            &self.jwt_secret,
            &self.jwt_refresh_secret,
            &self.creds_key,
            &self.creds_iv,
        ];
        SPECS.iter().map(|(name, _, _)| *name).zip(values)
    }

    /// The variables not given (in the environment or the data folder's file): generated.
    pub fn not_given(&self) -> Vec<&'static str> {
        self.named()
            .filter(|(_, v)| v.origin == Origin::Generated)
            .map(|(name, _)| name)
            .collect()
    }

    /// Each secret's variable and a one-way fingerprint of its value (SHA-256 over the name and
    /// the value, hex), for replicas to check that they share their secrets without showing
    /// them to each other.
    pub fn fingerprints(&self) -> Vec<(&'static str, String)> {
        use sha2::{Digest, Sha256};
        self.named()
            .map(|(name, v)| {
                let mut h = Sha256::new();
                h.update(b"librechat secret fingerprint\0");
                h.update(name.as_bytes());
                h.update(b"\0");
                h.update(v.value.expose().as_bytes());
                (name, hex::encode(h.finalize()))
            })
            .collect()
    }
}

/// The shortest signing key accepted from the environment: 32 characters, as long as the
/// 256-bit key HS256 wants (RFC 7518, 3.2) when written as text.
const MIN_JWT_SECRET_CHARS: usize = 32;

/// The values LibreChat's `.env.example` and documentation published for everyone to copy.
/// A server using one signs tokens anyone can forge, or encrypts with a key anyone has.
const PUBLISHED_EXAMPLES: [(&str, &str); 4] = [
    (
        "JWT_SECRET",
        "16f8c0ef4a5d391b26034086c628469d3f9f497f08163ab9b40137092f2909ef",
    ),
    (
        "JWT_REFRESH_SECRET",
        "eaa5191f2914e30b9387fd84e254e4ba6fc51b4654968a9b0803b456a54b8418",
    ),
    (
        "CREDS_KEY",
        "f34be427ebb29de8d88c107a71546019685ed8b241d8f2ed00c3df97ad2566f0",
    ),
    ("CREDS_IV", "e2341419ec3dd3d19b13a1a87fafcbfb"),
];

/// Refuses secrets given in the environment that protect nothing: too short, trivially
/// simple, one of LibreChat's published examples (under any of the four names), or the same
/// value for two of them. Generated and stored values are random and not checked.
fn check_given(values: &[SecretValue]) -> Result<(), ConfigError> {
    const HOW: &str = "generate one with `openssl rand -hex 32`, or leave it unset to have one \
                       generated in the data folder";
    let refuse = |name: &str, expected: String| {
        Err(ConfigError::invalid(
            name,
            "(from the environment, hidden)",
            &expected,
        ))
    };
    let given = || {
        SPECS
            .iter()
            .zip(values)
            .filter(|(_, v)| v.origin == Origin::Environment)
            .map(|((name, _, _), v)| (*name, v.value.expose()))
    };
    for (name, value) in given() {
        if PUBLISHED_EXAMPLES
            .iter()
            .any(|(_, example)| value.eq_ignore_ascii_case(example))
        {
            return refuse(
                name,
                format!(
                    "a value of your own, not the example LibreChat publishes, which \
                     everyone knows ({HOW})"
                ),
            );
        }
        let chars = value.chars().count();
        if name.starts_with("JWT_") && chars < MIN_JWT_SECRET_CHARS {
            return refuse(
                name,
                format!("at least {MIN_JWT_SECRET_CHARS} characters, not {chars} ({HOW})"),
            );
        }
        let mut distinct: Vec<char> = value.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 8 {
            return refuse(
                name,
                format!(
                    "a random value, not one of {} different characters ({HOW})",
                    distinct.len()
                ),
            );
        }
    }
    for (i, (name, value)) in given().enumerate() {
        if let Some((other, _)) = given().take(i).find(|(_, v)| *v == value) {
            return refuse(name, format!("a value different from {other}'s ({HOW})"));
        }
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(super::dotenv::parse(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(ConfigError::DataDir {
            path: path.to_path_buf(),
            reason: format!("cannot read the secrets file: {e}"),
        }),
    }
}

/// Writes all four values (those from the environment too are kept out: only the values that
/// live in the data folder are written) through a temporary file and a rename.
fn write_file(path: &Path, values: &[SecretValue]) -> Result<(), ConfigError> {
    let fail = |e: std::io::Error| ConfigError::DataDir {
        path: path.to_path_buf(),
        reason: format!("cannot write the secrets file: {e}"),
    };
    let mut text = String::from(
        "# Generated by librechat on first start. Keep this file private and back it up with the\n\
         # database: without CREDS_KEY/CREDS_IV stored user API keys cannot be decrypted.\n",
    );
    for ((name, _, _), v) in SPECS.iter().zip(values) {
        if v.origin != Origin::Environment {
            text.push_str(&format!("{name}={}\n", v.value.expose()));
        }
    }
    let tmp: PathBuf = path.with_extension("env.tmp");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    fs::rename(&tmp, path).map_err(fail)?;
    tighten_permissions(path)
}

/// A secrets file readable by others is made private again, loudly.
fn tighten_permissions(path: &Path) -> Result<(), ConfigError> {
    let meta = fs::metadata(path).map_err(|e| ConfigError::DataDir {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "secrets file was readable by others; setting mode 0600");
        fs::set_permissions(path, Permissions::from_mode(0o600)).map_err(|e| {
            ConfigError::DataDir {
                path: path.to_path_buf(),
                reason: format!("cannot restrict the secrets file to mode 0600: {e}"),
            }
        })?;
    }
    Ok(())
}

fn random_hex(bytes: usize) -> Result<String, ConfigError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| ConfigError::Other(format!("no system randomness: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::default();
        let first = Secrets::resolve(&env, dir.path(), true).unwrap();
        assert_eq!(first.creds_key.origin, Origin::Generated);
        assert_eq!(first.creds_key.value.expose().len(), 64);
        assert_eq!(first.creds_iv.value.expose().len(), 32);
        let mode = fs::metadata(dir.path().join(SECRETS_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let second = Secrets::resolve(&env, dir.path(), true).unwrap();
        assert_eq!(second.jwt_secret.origin, Origin::DataFolder);
        assert_eq!(first.jwt_secret.value, second.jwt_secret.value);
        assert_eq!(first.creds_iv.value, second.creds_iv.value);
        assert_ne!(first.jwt_secret.value, first.jwt_refresh_secret.value);
    }

    #[test]
    fn environment_wins_and_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let chosen = "from-env-0123456789abcdefghijklmnopq";
        let env = Env::from_pairs([("JWT_SECRET", chosen)]);
        let s = Secrets::resolve(&env, dir.path(), true).unwrap();
        assert_eq!(s.jwt_secret.value.expose(), chosen);
        let text = fs::read_to_string(dir.path().join(SECRETS_FILE)).unwrap();
        assert!(!text.contains(chosen) && !text.contains("JWT_SECRET="));
        assert!(text.contains("JWT_REFRESH_SECRET="));
    }

    #[test]
    fn bad_creds_key_is_refused_without_echoing_it() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([("CREDS_KEY", "tooshort-secretvalue")]);
        let msg = Secrets::resolve(&env, dir.path(), false)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("CREDS_KEY") && !msg.contains("secretvalue"),
            "{msg}"
        );
    }

    #[test]
    fn debug_and_serialize_mask_values() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&s).unwrap().contains("hunter2"));
    }

    #[test]
    fn weak_secrets_from_the_environment_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let strong = "7d1f0c2e9b8a4c6d5e3f1a0b9c8d7e6f";
        let other = "0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d";
        let refused = |pairs: &[(&str, &str)], name: &str, why: &str| {
            let env = Env::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)));
            let msg = Secrets::resolve(&env, dir.path(), false)
                .unwrap_err()
                .to_string();
            assert!(msg.starts_with(name) && msg.contains(why), "{msg}");
            for (_, v) in pairs {
                assert!(!msg.contains(v), "the value is not shown: {msg}");
            }
        };
        for (name, _) in PUBLISHED_EXAMPLES {
            let example = PUBLISHED_EXAMPLES
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap()
                .1;
            refused(&[(name, example)], name, "example LibreChat publishes");
        }
        // LibreChat's JWT example used as the refresh secret is just as public.
        refused(
            &[("JWT_REFRESH_SECRET", PUBLISHED_EXAMPLES[0].1)],
            "JWT_REFRESH_SECRET",
            "example",
        );
        refused(
            &[("JWT_SECRET", "hunter2-hunter2")],
            "JWT_SECRET",
            "at least 32",
        );
        refused(
            &[("JWT_REFRESH_SECRET", &"ab".repeat(20))],
            "JWT_REFRESH_SECRET",
            "random",
        );
        refused(&[("CREDS_IV", &"0".repeat(32))], "CREDS_IV", "random");
        refused(
            &[("JWT_SECRET", strong), ("JWT_REFRESH_SECRET", strong)],
            "JWT_REFRESH_SECRET",
            "different from JWT_SECRET",
        );
        // Strong, distinct values are taken; generated ones are never refused.
        let env = Env::from_pairs([("JWT_SECRET", strong), ("JWT_REFRESH_SECRET", other)]);
        let s = Secrets::resolve(&env, dir.path(), true).unwrap();
        assert_eq!(s.jwt_refresh_secret.value.expose(), other);
        assert_eq!(s.creds_key.origin, Origin::Generated);
    }
}
