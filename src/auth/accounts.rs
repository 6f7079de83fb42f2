//! Local accounts: register, log in, refresh, log out, delete. LibreChat's rules (section 5 of
//! the API contract), without the HTTP: handlers call these and map [`AuthError`] to a status.

use crate::config::AuthSettings;
use crate::db::{self, Db, DbError, sessions, users};

use super::password::{self, Check};
use super::tokens::{Tokens, now_secs, random_hex, token_hash};
use super::validate;

/// Why an account operation was refused. Messages are safe to show.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Bad input (400).
    #[error("{0}")]
    Invalid(String),
    /// Not allowed by configuration or account state (403).
    #[error("{0}")]
    Forbidden(String),
    /// Wrong credentials or token (401).
    #[error("{0}")]
    Unauthorized(String),
    /// A sensitive change without recent proof of identity: ask for this one (400).
    #[error("{}", .0.message())]
    ProofRequired(super::sensitive::ProofNeeded),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The one answer for an unknown email and a wrong password alike.
pub const BAD_CREDENTIALS: &str = "Incorrect email or password.";

/// What `POST /api/auth/register` receives.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct Registration {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm_password: String,
    /// An invite token, which lets an invited email register while registration is closed.
    #[serde(default)]
    pub token: Option<String>,
}

/// A signed-in session: the tokens the client gets.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: users::User,
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the session (and its cookie) expires.
    pub refresh_max_age: u64,
}

#[derive(Debug, Clone)]
pub enum LoginOutcome {
    SignedIn(Box<SignedIn>),
    /// Two-factor authentication is on: the client must send a code with this token.
    TwoFactorPending {
        temp_token: String,
    },
}

pub struct Accounts {
    pub(super) db: Db,
    pub tokens: Tokens,
    pub(super) settings: AuthSettings,
    /// Mail can be sent: new users must verify their address.
    email_enabled: bool,
}

impl Accounts {
    pub fn new(db: Db, tokens: Tokens, settings: AuthSettings, email_enabled: bool) -> Self {
        Self {
            db,
            tokens,
            settings,
            email_enabled,
        }
    }

    /// The message a registration answers with, the same whether or not the email was taken.
    pub fn registration_message(&self) -> &'static str {
        if self.email_enabled {
            "Please check your email to verify your email address."
        } else {
            "Registration successful"
        }
    }

    /// Registers a local account. An email that is already registered gets the same answer as
    /// a new one, after the same work, so registration cannot be used to probe for accounts.
    /// Returns the new user, or `None` when the email was already registered.
    pub async fn register(&self, r: Registration) -> Result<Option<users::User>, AuthError> {
        let email = validate::email(&r.email)?;
        validate::name(&r.name)?;
        let username = validate::username(r.username.as_deref())?;
        validate::password(&r.password, self.settings.min_password_length)?;
        if r.password != r.confirm_password {
            return Err(AuthError::Invalid("Passwords do not match.".into()));
        }
        if !validate::domain_allowed(&email, &self.settings.allowed_domains) {
            return Err(AuthError::Forbidden(
                "The email address provided cannot be used. Please use a different email address."
                    .into(),
            ));
        }
        let invite = r.token.as_deref().filter(|t| !t.is_empty()).map(token_hash);
        if !self.settings.allow_registration && invite.is_none() {
            return Err(AuthError::Forbidden("Registration is not allowed.".into()));
        }
        let pw = r.password.clone();
        let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
            .await
            .map_err(|e| DbError::Io(e.to_string()))?;
        let new = users::NewUser {
            email: email.clone(),
            name: r.name.trim().to_owned(),
            username,
            password: Some(hash),
            provider: "local".into(),
            email_verified: !self.email_enabled,
            role: None,
        };
        let allow_open = self.settings.allow_registration;
        let created = self
            .db
            .write(move |conn| {
                let tx = conn.transaction()?;
                if let Some(hash) = &invite {
                    // An invite is used up by the registration it allows, and only for its email.
                    let n = tx.execute(
                        "DELETE FROM tokens WHERE kind = 'invite' AND token_hash = ?1 AND email = ?2
                         AND expires_at > ?3",
                        rusqlite::params![hash, email, db::now()],
                    )?;
                    if n == 0 && !allow_open {
                        return Ok(Err(AuthError::Forbidden(
                            "The invitation is invalid or has expired.".into(),
                        )));
                    }
                }
                let user = users::create(&tx, &new)?;
                tx.commit()?;
                Ok(Ok(user))
            })
            .await??;
        match &created {
            Some(user) => tracing::info!(user.id = %user.id, role = %user.role, "user registered"),
            None => tracing::info!("registration for an existing email answered generically"),
        }
        Ok(created)
    }

    /// The id of the account with this email, if any (for the ban check before a login).
    pub async fn user_id_for(&self, email: &str) -> Result<Option<String>, AuthError> {
        let email = users::normalize_email(email);
        let user = self
            .db
            .read(move |c| users::find_by_email(c, &email))
            .await?;
        Ok(user.map(|u| u.id))
    }

    /// Checks email and password. Unknown emails cost the same time as wrong passwords.
    pub async fn login(
        &self,
        email: &str,
        password_given: &str,
    ) -> Result<LoginOutcome, AuthError> {
        if !self.settings.allow_email_login {
            return Err(AuthError::Forbidden("Email login is not allowed.".into()));
        }
        if email.trim().is_empty() || password_given.is_empty() {
            return Err(AuthError::Invalid(
                "Email and password are required.".into(),
            ));
        }
        if password_given.chars().count() > validate::MAX_PASSWORD {
            return Err(AuthError::Unauthorized(BAD_CREDENTIALS.into()));
        }
        let email = users::normalize_email(email);
        let user = self
            .db
            .read(move |c| users::find_by_email(c, &email))
            .await?;
        let pw = password_given.to_owned();
        let stored = user.as_ref().and_then(|u| u.password.clone());
        let check = tokio::task::spawn_blocking(move || match stored {
            Some(hash) => password::verify(&pw, &hash),
            None => {
                password::verify_dummy(&pw);
                Check::Wrong
            }
        })
        .await
        .map_err(|e| DbError::Io(e.to_string()))?;
        let user = match (user, check) {
            (Some(u), Check::Right | Check::RightButRehash) => u,
            _ => return Err(AuthError::Unauthorized(BAD_CREDENTIALS.into())),
        };
        if check == Check::RightButRehash {
            let (id, pw) = (user.id.clone(), password_given.to_owned());
            let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
                .await
                .map_err(|e| DbError::Io(e.to_string()))?;
            self.db
                .write(move |c| users::set_password(c, &id, &hash))
                .await?;
            tracing::info!(user.id = %user.id, "password hash upgraded to argon2id");
        }
        if !user.email_verified && !self.settings.allow_unverified_email_login {
            return Err(AuthError::Forbidden(
                "Email not verified. Please check your inbox for the verification email.".into(),
            ));
        }
        if user.two_factor_enabled {
            return Ok(LoginOutcome::TwoFactorPending {
                temp_token: self.tokens.issue_temp(&user.id),
            });
        }
        Ok(LoginOutcome::SignedIn(Box::new(
            self.start_session(user).await?,
        )))
    }

    /// Opens a new session for a user who has proven who they are.
    pub async fn start_session(&self, user: users::User) -> Result<SignedIn, AuthError> {
        let session_id = db::new_object_id();
        let exp = now_secs() + self.tokens.refresh_ttl;
        let refresh = self.tokens.issue_refresh(&user.id, &session_id, exp);
        let expires_at = db::to_rfc3339(
            time::OffsetDateTime::from_unix_timestamp(exp as i64)
                .unwrap_or_else(|_| time::OffsetDateTime::now_utc()),
        );
        let (sid, uid, hash) = (session_id.clone(), user.id.clone(), token_hash(&refresh));
        self.db
            .write(move |c| sessions::create(c, &sid, &uid, &hash, &expires_at))
            .await?;
        Ok(SignedIn {
            access_token: self.tokens.issue_access(&user, &session_id),
            refresh_token: refresh,
            refresh_max_age: self.tokens.refresh_ttl,
            user,
        })
    }

    /// Trades a refresh token for a new access token and a new refresh token in the same
    /// session. A token that was already rotated away means it leaked: the session is ended.
    pub async fn refresh(&self, refresh_token: &str) -> Result<SignedIn, AuthError> {
        let invalid = || AuthError::Unauthorized("Invalid refresh token.".into());
        let claims = self
            .tokens
            .verify_refresh(refresh_token)
            .ok_or_else(invalid)?;
        let sid = claims.session_id.clone();
        let session = self.db.read(move |c| sessions::find_live(c, &sid)).await?;
        let Some(session) = session.filter(|s| s.user_id == claims.id) else {
            return Err(invalid());
        };
        let presented = token_hash(refresh_token);
        let next = self
            .tokens
            .issue_refresh(&claims.id, &session.id, claims.exp);
        let (sid, uid, next_hash) = (session.id.clone(), claims.id.clone(), token_hash(&next));
        let outcome = self
            .db
            .write(move |c| {
                if sessions::rotate(c, &sid, &presented, &next_hash)? {
                    Ok(users::find_by_id(c, &uid)?)
                } else {
                    sessions::delete(c, &sid)?;
                    Err(DbError::NotFound)
                }
            })
            .await;
        let user = match outcome {
            Ok(Some(user)) => user,
            Ok(None) => return Err(invalid()),
            Err(DbError::NotFound) => {
                tracing::warn!(user.id = %claims.id, "a rotated refresh token was presented again; session revoked");
                return Err(AuthError::Unauthorized(
                    "Refresh token was already used; please log in again.".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(SignedIn {
            access_token: self.tokens.issue_access(&user, &session.id),
            refresh_token: next,
            refresh_max_age: claims.exp.saturating_sub(now_secs()),
            user,
        })
    }

    /// The account whose current refresh token this is (the one last issued in a live session),
    /// without rotating it: how a browser's `<img>` request, which carries the cookie but no
    /// bearer token, is known to be its owner's.
    pub async fn user_of_refresh_token(
        &self,
        refresh_token: &str,
    ) -> Result<Option<String>, AuthError> {
        let Some(claims) = self.tokens.verify_refresh(refresh_token) else {
            return Ok(None);
        };
        let sid = claims.session_id.clone();
        let session = self.db.read(move |c| sessions::find_live(c, &sid)).await?;
        let current = token_hash(refresh_token);
        Ok(session
            .filter(|s| s.user_id == claims.id && s.refresh_token_hash == current)
            .map(|s| s.user_id))
    }

    /// Ends the session of the refresh cookie (if it is current) and the session of the access
    /// token (if valid): with the session go its refresh token and every access token issued
    /// in it. Either alone is enough, so a client holding only one can still sign out.
    pub async fn logout(
        &self,
        refresh_token: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<(), AuthError> {
        let by_refresh =
            refresh_token.and_then(|t| Some((self.tokens.verify_refresh(t)?, token_hash(t))));
        let by_access = access_token.and_then(|t| self.tokens.verify_access(t));
        if by_refresh.is_none() && by_access.is_none() {
            return Ok(());
        }
        self.db
            .write(move |c| {
                if let Some((claims, hash)) = by_refresh {
                    c.execute(
                        "DELETE FROM sessions WHERE id = ?1 AND user_id = ?2 AND refresh_token_hash = ?3",
                        rusqlite::params![claims.session_id, claims.id, hash],
                    )?;
                }
                if let Some(claims) = by_access {
                    sessions::delete_owned(c, &claims.session_id, &claims.id)?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// Deletes the account and everything it owns, in one transaction. Returns the storage
    /// keys of its uploads, for the caller to remove from the file storage.
    pub async fn delete_account(&self, user_id: &str) -> Result<Vec<String>, AuthError> {
        let id = user_id.to_owned();
        let uploads = self.db.write(move |c| users::delete(c, &id)).await?;
        tracing::info!(user.id = %user_id, "account deleted");
        Ok(uploads)
    }

    /// Creates an invite for `email`, valid for 7 days; returns the token for the link.
    pub async fn invite(&self, email: &str) -> Result<String, AuthError> {
        create_invite(&self.db, email).await
    }
}

/// Creates an invite token (stored hashed) for `email`; shared with `librechat user invite`.
pub async fn create_invite(db: &Db, email: &str) -> Result<String, AuthError> {
    let email = validate::email(email)?;
    let token = random_hex(32);
    let hash = token_hash(&token);
    let expires = db::to_rfc3339(time::OffsetDateTime::now_utc() + time::Duration::days(7));
    db.write(move |c| {
        c.execute(
            "INSERT INTO tokens (id, user_id, email, kind, token_hash, expires_at, created_at)
             VALUES (?1, NULL, ?2, 'invite', ?3, ?4, ?5)",
            rusqlite::params![db::new_object_id(), email, hash, expires, db::now()],
        )?;
        Ok(())
    })
    .await?;
    Ok(token)
}
