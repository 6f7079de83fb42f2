//! The flows that go through the user's mailbox: verifying an address, resetting a password,
//! inviting someone. Tokens are random, single-use, expiring and stored only as hashes.
//!
//! Mail goes out in the background: a request answers the same way, in the same time, whether
//! or not an email was sent, so none of these routes tells who has an account.

use super::accounts::AuthError;
use super::tokens::{random_hex, token_hash};
use super::{password, validate};
use crate::db::{self, Db, DbError, sessions, tokens, users};
use crate::mail::{Mailer, Template};

const VERIFY: &str = "verify";
const RESET: &str = "reset";
const VERIFY_TTL: time::Duration = time::Duration::hours(24);
const RESET_TTL: time::Duration = time::Duration::minutes(15);

pub struct EmailFlows {
    db: Db,
    mailer: Option<Mailer>,
    /// The app's public URL for links in emails: `DOMAIN_CLIENT`, never a request's `Host`
    /// (a forged Host would otherwise send reset tokens to the forger's site).
    link_base: String,
    allow_password_reset: bool,
    min_password_length: u64,
}

impl EmailFlows {
    pub fn new(
        db: Db,
        mailer: Option<Mailer>,
        link_base: String,
        allow_password_reset: bool,
        min_password_length: u64,
    ) -> Self {
        Self {
            db,
            mailer,
            link_base,
            allow_password_reset,
            min_password_length,
        }
    }

    pub fn enabled(&self) -> bool {
        self.mailer.is_some()
    }

    /// Sends a verification link to a new (or still unverified) user, in the background.
    pub fn send_verification(&self, user: &users::User) {
        let Some(mailer) = self.mailer.clone() else {
            return;
        };
        let (db, base, user) = (self.db.clone(), self.link_base.clone(), user.clone());
        tokio::spawn(async move {
            if let Err(e) = send_verification(db, mailer, &base, user).await {
                tracing::error!(error = %e, "verification email not sent");
            }
        });
    }

    /// `POST /api/user/verify/resend`: a new link if the address belongs to an unverified user.
    /// The lookup happens in the background too, so the answer takes the same time either way.
    pub fn resend_verification(&self, email: &str) -> Result<(), AuthError> {
        let Some(mailer) = self.mailer.clone() else {
            return Err(AuthError::Invalid(
                "Email is not configured on this server.".into(),
            ));
        };
        let email = validate::email(email)?;
        let (db, base) = (self.db.clone(), self.link_base.clone());
        tokio::spawn(async move {
            let e = email.clone();
            let found = db.read(move |c| users::find_by_email(c, &e)).await;
            if let Ok(Some(user)) = found
                && !user.email_verified
                && let Err(e) = send_verification(db, mailer, &base, user).await
            {
                tracing::error!(error = %e, "verification email not sent");
            }
        });
        Ok(())
    }

    /// `POST /api/user/verify`: uses up the token and marks the address verified.
    pub async fn verify(&self, email: &str, token: &str) -> Result<(), AuthError> {
        let invalid = || AuthError::Invalid("Invalid or expired email verification link.".into());
        let email = validate::email(email).map_err(|_| invalid())?;
        if token.is_empty() {
            return Err(invalid());
        }
        let hash = token_hash(token);
        let verified = self
            .db
            .write(move |c| {
                let tx = c.transaction()?;
                let Some(user_id) = tokens::consume(&tx, VERIFY, &hash, &email)? else {
                    return Ok(false);
                };
                users::set_email_verified(&tx, &user_id, true)?;
                tx.commit()?;
                Ok(true)
            })
            .await?;
        if verified { Ok(()) } else { Err(invalid()) }
    }

    /// `POST /api/auth/requestPasswordReset`: mails a reset link to a local account. All the
    /// work after validating the input happens in the background, so the answer is the same,
    /// in the same time, for unknown addresses.
    pub fn request_password_reset(&self, email: &str) -> Result<(), AuthError> {
        if !self.allow_password_reset {
            return Err(AuthError::Forbidden(
                "Password reset is not allowed.".into(),
            ));
        }
        let email = validate::email(email)?;
        let Some(mailer) = self.mailer.clone() else {
            tracing::warn!(
                "a password reset was requested, but email is not configured; an admin can use `librechat user reset-password`"
            );
            return Ok(());
        };
        let (db, base) = (self.db.clone(), self.link_base.clone());
        tokio::spawn(async move {
            if let Err(e) = send_reset(db, mailer, &base, email).await {
                tracing::error!(error = %e, "password reset email not sent");
            }
        });
        Ok(())
    }

    /// `POST /api/auth/resetPassword`: sets the new password, ends every session, confirms by mail.
    pub async fn reset_password(
        &self,
        user_id: &str,
        token: &str,
        new: &str,
        confirm: &str,
    ) -> Result<(), AuthError> {
        if !self.allow_password_reset {
            return Err(AuthError::Forbidden(
                "Password reset is not allowed.".into(),
            ));
        }
        let invalid = || AuthError::Invalid("Invalid or expired password reset link.".into());
        if token.is_empty() || user_id.is_empty() {
            return Err(invalid());
        }
        let (id, token_h) = (user_id.to_owned(), token_hash(token));
        // The link first, as LibreChat does: hashing the new password costs ~50 ms and 19 MiB,
        // which a guessed token must not buy. The link is used up only with the new password.
        let (i, t) = (id.clone(), token_h.clone());
        if !self
            .db
            .read(move |c| tokens::is_live(c, RESET, &t, &i))
            .await?
        {
            return Err(invalid());
        }
        validate::password(new, self.min_password_length)?;
        if new != confirm {
            return Err(AuthError::Invalid("Passwords do not match.".into()));
        }
        let pw = new.to_owned();
        let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
            .await
            .map_err(|e| DbError::Io(e.to_string()))?;
        let user = self
            .db
            .write(move |c| {
                let tx = c.transaction()?;
                if tokens::consume(&tx, RESET, &token_h, &id)?.is_none() {
                    return Ok(None);
                }
                users::set_password(&tx, &id, &hash)?;
                sessions::delete_for_user(&tx, &id)?;
                let user = users::find_by_id(&tx, &id)?;
                tx.commit()?;
                Ok(user)
            })
            .await?
            .ok_or_else(invalid)?;
        tracing::info!(user.id = %user.id, "password reset; sessions ended");
        if let Some(mailer) = self.mailer.clone() {
            send_later(
                mailer,
                user.email,
                user.name,
                Template::PasswordResetDone,
                String::new(),
            );
        }
        Ok(())
    }

    /// Mails an invitation link (when mail is configured); returns whether it was sent.
    pub async fn send_invite(&self, email: &str, link: &str) -> Result<bool, AuthError> {
        let Some(mailer) = &self.mailer else {
            return Ok(false);
        };
        mailer
            .send(email, "", Template::Invite, &[("link", link)])
            .await
            .map_err(|e| AuthError::Db(DbError::Io(e.to_string())))?;
        Ok(true)
    }
}

async fn send_verification(
    db: Db,
    mailer: Mailer,
    base: &str,
    user: users::User,
) -> Result<(), AuthError> {
    let token = random_hex(32);
    let (id, email, hash) = (user.id.clone(), user.email.clone(), token_hash(&token));
    let expires = db::to_rfc3339(time::OffsetDateTime::now_utc() + VERIFY_TTL);
    db.write(move |c| {
        tokens::delete_for_user(c, &id, VERIFY)?;
        tokens::create(c, VERIFY, Some(&id), &email, &hash, &expires)
    })
    .await?;
    let link = format!("{base}/verify?token={token}&email={}", encode(&user.email));
    send(
        &mailer,
        &user.email,
        &user.name,
        Template::VerifyEmail,
        &link,
    )
    .await
}

async fn send_reset(db: Db, mailer: Mailer, base: &str, email: String) -> Result<(), AuthError> {
    let e = email.clone();
    let Some(user) = db.read(move |c| users::find_by_email(c, &e)).await? else {
        return Ok(());
    };
    if user.provider != "local" {
        return Ok(());
    }
    let token = random_hex(32);
    let (id, hash) = (user.id.clone(), token_hash(&token));
    let expires = db::to_rfc3339(time::OffsetDateTime::now_utc() + RESET_TTL);
    db.write(move |c| {
        tokens::delete_for_user(c, &id, RESET)?;
        tokens::create(c, RESET, Some(&id), &email, &hash, &expires)
    })
    .await?;
    let link = format!("{base}/reset-password?token={token}&userId={}", user.id);
    send(
        &mailer,
        &user.email,
        &user.name,
        Template::PasswordResetRequest,
        &link,
    )
    .await
}

async fn send(
    mailer: &Mailer,
    to: &str,
    name: &str,
    template: Template,
    link: &str,
) -> Result<(), AuthError> {
    mailer
        .send(to, name, template, &[("link", link)])
        .await
        .map_err(|e| AuthError::Db(DbError::Io(e.to_string())))
}

/// Sends in the background; a failure is logged (without the link, which holds a token).
fn send_later(mailer: Mailer, to: String, name: String, template: Template, link: String) {
    tokio::spawn(async move {
        if let Err(e) = send(&mailer, &to, &name, template, &link).await {
            tracing::error!(template = template.name(), error = %e, "email not sent");
        }
    });
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
