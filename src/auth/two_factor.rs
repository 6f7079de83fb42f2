//! Two-factor authentication with TOTP (RFC 6238: SHA-1, 30-second steps, 6 digits, one step of
//! clock drift either way) and ten single-use backup codes, following LibreChat's flow:
//! enable (pending secret and codes) → confirm with a code → login asks for a code.
//!
//! The secret is stored encrypted with `CREDS_KEY`; backup codes only as SHA-256 hashes; each
//! TOTP step is accepted once, so a code seen over someone's shoulder cannot be replayed.

use serde_json::{Value, json};
use totp_rs::{Algorithm, Builder, Secret};

use super::accounts::AuthError;
use super::crypto::Cipher;
use super::tokens::{random_hex, token_hash};
use crate::db::{self, Db, DbError, users};

/// What the user proves their second factor with.
#[derive(Debug, Clone)]
pub enum Proof {
    Totp(String),
    BackupCode(String),
}

impl Proof {
    /// From LibreChat's request bodies: `{token}` or `{backupCode}`.
    pub fn from_body(token: Option<&str>, backup_code: Option<&str>) -> Result<Self, AuthError> {
        match (
            token.map(str::trim).filter(|t| !t.is_empty()),
            backup_code.map(str::trim).filter(|c| !c.is_empty()),
        ) {
            (Some(t), _) => Ok(Self::Totp(t.to_owned())),
            (None, Some(c)) => Ok(Self::BackupCode(c.to_lowercase())),
            (None, None) => Err(AuthError::Invalid(
                "A 2FA code or a backup code is required.".into(),
            )),
        }
    }
}

/// A new secret waiting for confirmation.
pub struct Enrollment {
    /// `otpauth://totp/...` for authenticator apps (shown as a QR code).
    pub otpauth_url: String,
    /// Shown once; only their hashes are kept.
    pub backup_codes: Vec<String>,
}

pub struct TwoFactor {
    db: Db,
    cipher: Cipher,
    issuer: String,
}

fn wrong_code() -> AuthError {
    AuthError::Invalid("Invalid or expired 2FA code.".into())
}

impl TwoFactor {
    pub fn new(db: Db, cipher: Cipher, issuer: &str) -> Self {
        // ':' separates issuer and account in otpauth URLs.
        Self {
            db,
            cipher,
            issuer: issuer.replace(':', " "),
        }
    }

    /// Starts enrollment: a fresh 160-bit secret and ten backup codes, pending until confirmed.
    pub async fn enable(&self, user: &users::User) -> Result<Enrollment, AuthError> {
        if user.two_factor_enabled {
            return Err(AuthError::Invalid(
                "Two-factor authentication is already enabled.".into(),
            ));
        }
        let mut raw = [0u8; 20];
        getrandom::fill(&mut raw).map_err(|e| DbError::Io(e.to_string()))?;
        let secret = Secret::from(raw.to_vec()).to_base32();
        let otpauth_url = totp(&secret, &user.email.replace(':', " "), Some(&self.issuer))
            .and_then(|t| t.to_url().ok())
            .ok_or_else(|| DbError::Io("cannot build the otpauth URL".into()))?;
        let codes: Vec<String> = (0..10).map(|_| random_hex(4)).collect();
        let stored = hashed(&codes);
        let (id, enc) = (user.id.clone(), self.cipher.encrypt(&secret));
        self.db
            .write(move |c| users::set_pending_two_factor(c, &id, &enc, &stored))
            .await?;
        Ok(Enrollment {
            otpauth_url,
            backup_codes: codes,
        })
    }

    /// Confirms enrollment with a code from the new secret.
    pub async fn confirm(&self, user: &users::User, code: &str) -> Result<(), AuthError> {
        let pending = user.pending_totp_secret.as_deref().ok_or_else(|| {
            AuthError::Invalid("Start by enabling two-factor authentication.".into())
        })?;
        let step = self.check_totp(pending, code, 0)?;
        let id = user.id.clone();
        self.db
            .write(move |c| users::activate_two_factor(c, &id, step))
            .await?;
        tracing::info!(user.id = %user.id, "two-factor authentication enabled");
        Ok(())
    }

    /// Checks a second factor: the active secret (or the pending one while enrolling), or an
    /// unused backup code, which is then used up.
    pub async fn verify(&self, user: &users::User, proof: &Proof) -> Result<(), AuthError> {
        match proof {
            Proof::Totp(code) => {
                let (secret, last) = match (&user.totp_secret, &user.pending_totp_secret) {
                    (Some(s), _) if user.two_factor_enabled => (s.as_str(), user.totp_last_step),
                    (_, Some(p)) => (p.as_str(), 0),
                    _ => {
                        return Err(AuthError::Invalid(
                            "Two-factor authentication is not set up.".into(),
                        ));
                    }
                };
                let step = self.check_totp(secret, code, last)?;
                if user.two_factor_enabled {
                    let id = user.id.clone();
                    if !self
                        .db
                        .write(move |c| users::advance_totp_step(c, &id, step))
                        .await?
                    {
                        return Err(wrong_code());
                    }
                }
                Ok(())
            }
            Proof::BackupCode(code) => self.use_backup_code(user, code).await,
        }
    }

    pub async fn disable(&self, user: &users::User, proof: &Proof) -> Result<(), AuthError> {
        if !user.two_factor_enabled {
            return Err(AuthError::Invalid(
                "Two-factor authentication is not enabled.".into(),
            ));
        }
        self.verify(user, proof).await?;
        let id = user.id.clone();
        self.db
            .write(move |c| users::clear_two_factor(c, &id))
            .await?;
        tracing::info!(user.id = %user.id, "two-factor authentication disabled");
        Ok(())
    }

    /// Replaces the backup codes after a valid second factor.
    pub async fn regenerate(
        &self,
        user: &users::User,
        proof: &Proof,
    ) -> Result<Vec<String>, AuthError> {
        if !user.two_factor_enabled {
            return Err(AuthError::Invalid(
                "Two-factor authentication is not enabled.".into(),
            ));
        }
        self.verify(user, proof).await?;
        let codes: Vec<String> = (0..10).map(|_| random_hex(4)).collect();
        let (id, stored) = (user.id.clone(), hashed(&codes));
        self.db
            .write(move |c| users::set_backup_codes(c, &id, &stored))
            .await?;
        Ok(codes)
    }

    /// The step number of a valid code newer than `after`.
    fn check_totp(&self, encrypted: &str, code: &str, after: u64) -> Result<u64, AuthError> {
        let secret = self
            .cipher
            .decrypt(encrypted)
            .map_err(|e| DbError::Io(e.to_string()))?;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(wrong_code());
        }
        let totp = totp(&secret, "", None).ok_or_else(wrong_code)?;
        let now = super::tokens::now_secs();
        let step = totp.check(&code, now).ok_or_else(wrong_code)?;
        if step <= after {
            Err(wrong_code())
        } else {
            Ok(step)
        }
    }

    /// Marks a matching unused backup code as used, atomically.
    async fn use_backup_code(&self, user: &users::User, code: &str) -> Result<(), AuthError> {
        let (id, hash) = (user.id.clone(), token_hash(code));
        let used = self
            .db
            .write(move |c| {
                let tx = c.transaction()?;
                let Some(u) = users::find_by_id(&tx, &id)? else {
                    return Ok(false);
                };
                let mut codes = u.backup_codes;
                let slot = codes.as_array_mut().and_then(|all| {
                    all.iter_mut()
                        .find(|e| e["codeHash"] == hash.as_str() && e["used"] == false)
                });
                let Some(slot) = slot else { return Ok(false) };
                slot["used"] = Value::Bool(true);
                slot["usedAt"] = Value::String(db::now());
                users::set_backup_codes(&tx, &id, &codes)?;
                tx.commit()?;
                Ok(true)
            })
            .await?;
        if used {
            Ok(())
        } else {
            Err(AuthError::Invalid(
                "Invalid or already used backup code.".into(),
            ))
        }
    }
}

fn totp(secret_b32: &str, account: &str, issuer: Option<&str>) -> Option<totp_rs::Totp> {
    let secret = Secret::try_from_base32(secret_b32).ok()?;
    // Non-compliant build accepts the 80-bit secrets of accounts migrated from LibreChat.
    Some(
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_step_duration(30)
            .with_skew(1)
            .with_secret(secret)
            .with_account_name(account)
            .with_issuer(issuer)
            .build_noncompliant(),
    )
}

fn hashed(codes: &[String]) -> Value {
    Value::Array(
        codes
            .iter()
            .map(|c| json!({ "codeHash": token_hash(c), "used": false, "usedAt": null }))
            .collect(),
    )
}

/// The current code of a base32 secret; for tests that play the authenticator app.
pub fn current_code(secret_b32: &str, at: u64) -> Option<String> {
    totp(secret_b32, "", None).map(|t| t.generate(at).to_string())
}
