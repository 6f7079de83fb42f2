//! Sensitive changes (deleting the account, starting two-factor enrolment, changing the
//! password) and the recent proof of identity they need, so that a stolen access token alone
//! (an XSS, a borrowed unlocked laptop) can neither lock the owner out nor take the account.
//!
//! What counts as proof ([`Rule::Recent`]), in order:
//! 1. with 2FA on, a code from the authenticator or a backup code (`token` / `backupCode`),
//!    and nothing else: what LibreChat asks for, and what its client sends;
//! 2. else the account's password (`password`), which the bundled app asks for;
//! 3. else a session started by a sign-in less than `REAUTH_WINDOW` ago. LibreChat's client
//!    sends nothing when it starts 2FA enrolment, or deletes an account without 2FA: this keeps
//!    it working right after a sign-in, and shrinks what a stolen token can do to that window.
//!
//! Changing the password ([`Rule::PasswordAndCode`]) always needs the current one, and with
//! 2FA on a code as well, so that a stolen token and a phished password together still cannot
//! take the account; it ends every other session.

use serde::Deserialize;

use super::accounts::{Accounts, AuthError};
use super::password::{self, Check};
use super::two_factor::{Proof, TwoFactor};
use super::validate;
use crate::db::users::{self, User};
use crate::db::{self, DbError, sessions};

/// The proof a refused sensitive change should come back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofNeeded {
    /// A 2FA code or backup code.
    Code,
    /// The account's password.
    Password,
    /// The account has no password here (single sign-on): sign in again.
    SignIn,
}

impl ProofNeeded {
    /// The error `type` clients tell the cases apart by.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Code => "reauth_code",
            Self::Password => "reauth_password",
            Self::SignIn => "reauth_sign_in",
        }
    }

    /// The sentence shown to the person, saying what to enter.
    pub fn message(self) -> &'static str {
        match self {
            Self::Code => "Enter a code from your authenticator app or a backup code to confirm.",
            Self::Password => "Enter your password to confirm.",
            Self::SignIn => "For your security, sign in again, then try again.",
        }
    }
}

/// The proof a request may carry: LibreChat's `{token}` / `{backupCode}`, or our `{password}`.
#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
pub struct Confirmation {
    /// The account's password (ours: LibreChat's client never sends it).
    #[serde(default)]
    pub password: Option<String>,
    /// A six-digit code from the authenticator app, as LibreChat's client sends it.
    #[serde(default)]
    pub token: Option<String>,
    /// One of the account's backup codes (each works once), as LibreChat's client sends it.
    #[serde(default, rename = "backupCode")]
    pub backup_code: Option<String>,
}

/// What a sensitive change takes as proof (see the module's rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// With 2FA on a code; else the password, or a sign-in within `REAUTH_WINDOW`.
    Recent,
    /// The password, always; with 2FA on, a code as well.
    PasswordAndCode,
}

impl Accounts {
    /// Checks that the person making a sensitive change has just proven who they are, as
    /// `rule` asks. `session_id` is the session of the request's access token.
    pub async fn confirm(
        &self,
        two_factor: &TwoFactor,
        user: &User,
        session_id: Option<&str>,
        given: &Confirmation,
        rule: Rule,
    ) -> Result<(), AuthError> {
        let code = || {
            Proof::from_body(given.token.as_deref(), given.backup_code.as_deref())
                .map_err(|_| AuthError::ProofRequired(ProofNeeded::Code))
        };
        let password = given.password.as_deref().filter(|p| !p.is_empty());
        match rule {
            Rule::Recent if user.two_factor_enabled => two_factor.verify(user, &code()?).await,
            Rule::Recent => {
                if let Some(pw) = password {
                    return self.check_password(user, pw).await;
                }
                if self.signed_in_recently(user, session_id).await? {
                    return Ok(());
                }
                Err(AuthError::ProofRequired(if user.password.is_some() {
                    ProofNeeded::Password
                } else {
                    ProofNeeded::SignIn
                }))
            }
            Rule::PasswordAndCode => {
                // Both are asked for before either is checked, and the password is checked
                // first: a mistyped password must not use up a backup code.
                let code = if user.two_factor_enabled {
                    Some(code()?)
                } else {
                    None
                };
                let pw = password.ok_or(AuthError::ProofRequired(ProofNeeded::Password))?;
                self.check_password(user, pw).await?;
                match code {
                    Some(code) => two_factor.verify(user, &code).await,
                    None => Ok(()),
                }
            }
        }
    }

    /// Whether `new` (typed twice) may become the account's password. Checked before any
    /// proof, so that a typo here costs none of the guesses the limiter allows.
    pub fn check_new_password(
        &self,
        user: &User,
        new: &str,
        confirm: &str,
    ) -> Result<(), AuthError> {
        if user.password.is_none() {
            return Err(AuthError::Forbidden(
                "This account signs in elsewhere and has no password here.".into(),
            ));
        }
        validate::password(new, self.settings.min_password_length)?;
        if new != confirm {
            return Err(AuthError::Invalid("Passwords do not match.".into()));
        }
        Ok(())
    }

    /// Sets a new password, and ends every other session (with their access tokens): whoever
    /// else was signed in has to sign in with the new password. The caller has checked the
    /// proof ([`Rule::PasswordAndCode`]) and the password ([`Self::check_new_password`]).
    /// Returns how many sessions ended.
    pub async fn set_password(
        &self,
        user: &User,
        session_id: Option<&str>,
        new: &str,
    ) -> Result<usize, AuthError> {
        let pw = new.to_owned();
        let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
            .await
            .map_err(|e| DbError::Io(e.to_string()))?;
        let (id, keep) = (user.id.clone(), session_id.unwrap_or_default().to_owned());
        let ended = self
            .db
            .write(move |c| {
                let tx = c.transaction()?;
                users::set_password(&tx, &id, &hash)?;
                let ended = sessions::delete_others(&tx, &id, &keep)?;
                tx.commit()?;
                Ok(ended)
            })
            .await?;
        tracing::info!(user.id = %user.id, sessions.ended = ended, "password changed");
        Ok(ended)
    }

    /// Right or wrong, never "right but rehash": a sensitive change does not upgrade hashes.
    async fn check_password(&self, user: &User, given: &str) -> Result<(), AuthError> {
        if given.chars().count() > validate::MAX_PASSWORD {
            return Err(wrong_password());
        }
        let Some(stored) = user.password.clone() else {
            return Err(AuthError::ProofRequired(ProofNeeded::SignIn));
        };
        let pw = given.to_owned();
        let check = tokio::task::spawn_blocking(move || password::verify(&pw, &stored))
            .await
            .map_err(|e| DbError::Io(e.to_string()))?;
        match check {
            Check::Right | Check::RightButRehash => Ok(()),
            Check::Wrong => Err(wrong_password()),
        }
    }

    /// Whether the request's session began with a sign-in less than `REAUTH_WINDOW` ago.
    async fn signed_in_recently(
        &self,
        user: &User,
        session_id: Option<&str>,
    ) -> Result<bool, AuthError> {
        let window = self.settings.reauth_window_secs;
        let Some(sid) = session_id else {
            return Ok(false);
        };
        let (sid, uid) = (sid.to_owned(), user.id.clone());
        let Some(at) = self
            .db
            .read(move |c| sessions::signed_in_at(c, &sid, &uid))
            .await?
        else {
            return Ok(false);
        };
        let window = time::Duration::seconds(i64::try_from(window).unwrap_or(i64::MAX));
        // A window reaching back before year 1 covers every session.
        let Some(since) = time::OffsetDateTime::now_utc().checked_sub(window) else {
            return Ok(true);
        };
        // Both in the database's fixed-width RFC 3339, so they compare as text.
        Ok(at >= db::to_rfc3339(since))
    }
}

fn wrong_password() -> AuthError {
    AuthError::Forbidden("Incorrect password.".into())
}
