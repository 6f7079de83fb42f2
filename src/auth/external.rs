//! Signing in with an identity another system vouches for (LDAP, OpenID Connect, SAML, the
//! social logins), with LibreChat's one linking rule (section 5 of the contract):
//!
//! 1. the account is found by its subject at that provider, else by email;
//! 2. an account found that signs in another way is refused: an email address alone never
//!    hands over an account;
//! 3. an account found by email is linked only when it has no subject at that provider yet
//!    (a subject, once recorded, is never replaced: another subject with the same address is
//!    another person) and the provider says it verified the address (ours: LibreChat links
//!    by email whatever the provider says);
//! 4. with none found, one is created when the provider may register people (and the email's
//!    domain is allowed), with the provider's subject and its word on the email;
//! 5. where the provider decides the admin role (OpenID's `OPENID_ADMIN_ROLE`), it is given
//!    or taken back at each sign-in, and where it decides groups (`OPENID_GROUPS_CLAIM`,
//!    `LDAP_GROUPS_*`), the person's memberships of its groups are set to them (see
//!    `access::external_groups`), in the same transaction;
//! 6. then the session is the same as a local login's (two-factor step included).

use crate::access::external_groups::ProviderGroups;
use crate::auth::permissions::{ADMIN, USER};
use crate::db::groups;
use crate::db::identities::{self, Provider};
use crate::db::users::{self, NewUser, User};

use super::accounts::{Accounts, AuthError, LoginOutcome};
use super::validate;

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct ExternalIdentity {
    pub provider: Provider,
    /// The provider's stable id for the person.
    pub subject: String,
    pub email: String,
    /// The provider vouches for the address (OpenID's `email_verified`, or each provider's own
    /// signal); only then may it link to an existing account by email.
    pub email_verified: bool,
    pub name: String,
    pub username: String,
    pub avatar: Option<String>,
    /// Whether the provider gives the person the admin role, when it decides that (OpenID with
    /// `OPENID_ADMIN_ROLE`); `None` leaves the account's role as it is.
    pub admin: Option<bool>,
    /// The person's groups at the provider, when it is set to keep them in step; `None`
    /// leaves their memberships as they are.
    pub groups: Option<ProviderGroups>,
}

/// The callback address for a provider: `configured` when absolute, else that path on
/// `origin` (the address the request came to).
pub fn callback_url(configured: &str, origin: &str) -> String {
    if configured.starts_with("http://") || configured.starts_with("https://") {
        configured.to_owned()
    } else {
        format!(
            "{}/{}",
            origin.trim_end_matches('/'),
            configured.trim_start_matches('/')
        )
    }
}

/// The HTTP client sign-ins talk to providers with: redirects off (a redirect would let a
/// provider's answer make us fetch other addresses) and bounded waits.
pub fn provider_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(30))
        .user_agent(concat!("librechat/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds with static settings")
}

/// A failed sign-in with a provider: its message is for the person; `detail`, when the
/// failure is ours or the provider's rather than the person's, is for the log only.
pub trait SignInFailure: std::fmt::Display {
    fn detail(&self) -> Option<&str>;
}

impl SignInFailure for super::openid::OpenIdError {
    fn detail(&self) -> Option<&str> {
        match self {
            Self::Failed(why) => Some(why),
            _ => None,
        }
    }
}

impl SignInFailure for super::social::SocialError {
    fn detail(&self) -> Option<&str> {
        match self {
            Self::Failed(why) => Some(why),
            _ => None,
        }
    }
}

impl SignInFailure for super::apple::AppleError {
    fn detail(&self) -> Option<&str> {
        match self {
            Self::Failed(why) => Some(why),
            _ => None,
        }
    }
}

/// Refused because the email belongs to an account that signs in another way.
pub const OTHER_PROVIDER: &str =
    "An account with this email already exists and signs in another way.";

/// Refused because the account with this email is linked to another person at the provider.
fn other_subject(provider: Provider) -> AuthError {
    AuthError::Forbidden(format!(
        "An account with this email is already linked to another {} account.",
        provider.label()
    ))
}

/// Refused because the provider does not vouch for the address of an existing account.
fn unverified(provider: Provider) -> AuthError {
    AuthError::Forbidden(format!(
        "An account with this email already exists, and {} has not verified the address.",
        provider.label()
    ))
}

impl Accounts {
    /// Finds or creates the account for `identity` (see the module's rule); `may_register`
    /// says whether this provider may create accounts.
    pub async fn link_external(
        &self,
        identity: &ExternalIdentity,
        may_register: bool,
    ) -> Result<User, AuthError> {
        let email = validate::email(&identity.email).map_err(|_| {
            AuthError::Forbidden(format!(
                "Your {} account has no usable email address.",
                identity.provider.name()
            ))
        })?;
        if !validate::domain_allowed(&email, &self.settings.allowed_domains) {
            return Err(AuthError::Forbidden(
                "The email address provided cannot be used. Please use a different email address."
                    .into(),
            ));
        }
        let id = identity.clone();
        let linked = self
            .db
            .write(move |conn| {
                let tx = conn.transaction()?;
                let found = match identities::find(&tx, id.provider, &id.subject)? {
                    Some(u) => Some((u, true)),
                    None => users::find_by_email(&tx, &email)?.map(|u| (u, false)),
                };
                let user = match found {
                    Some((u, _)) if u.provider != id.provider.name() => {
                        return Ok(Err(AuthError::Forbidden(OTHER_PROVIDER.into())));
                    }
                    Some((u, true)) => u,
                    // Found by email only: never another subject's account, and only on the
                    // provider's word that the address is this person's.
                    Some((u, false)) => {
                        if identities::subject(&tx, &u.id, id.provider)?.is_some() {
                            return Ok(Err(other_subject(id.provider)));
                        }
                        if !id.email_verified {
                            return Ok(Err(unverified(id.provider)));
                        }
                        u
                    }
                    None if !may_register => {
                        return Ok(Err(AuthError::Forbidden(
                            "Registration is not allowed.".into(),
                        )));
                    }
                    None => {
                        let new = NewUser {
                            email: email.clone(),
                            name: id.name.trim().chars().take(80).collect(),
                            username: id.username.trim().chars().take(80).collect(),
                            password: None,
                            provider: id.provider.name().into(),
                            email_verified: id.email_verified,
                            // Where the provider decides the admin role, it decides it for the
                            // first account too.
                            role: id.admin.map(|a| if a { ADMIN } else { USER }.to_owned()),
                        };
                        match users::create(&tx, &new)? {
                            Some(u) => u,
                            None => {
                                return Ok(Err(AuthError::Forbidden(OTHER_PROVIDER.into())));
                            }
                        }
                    }
                };
                if !identities::attach(
                    &tx,
                    &user.id,
                    id.provider,
                    &id.subject,
                    id.avatar.as_deref(),
                )? {
                    return Ok(Err(other_subject(id.provider)));
                }
                match id.admin {
                    Some(true) if user.role != ADMIN => users::set_role(&tx, &user.id, ADMIN)?,
                    Some(false) if user.role == ADMIN => {
                        users::set_role(&tx, &user.id, USER)?;
                        tracing::info!(user.id = %user.id, "admin role taken back: the provider no longer gives it");
                    }
                    _ => {}
                }
                if let Some(g) = &id.groups {
                    let source = g.source.as_str();
                    let given = g.groups.iter().map(|g| (g.id.as_str(), g.name.as_str()));
                    let synced = groups::sync_memberships(&tx, &user.id, source, given)?;
                    if synced != groups::Synced::default() {
                        tracing::info!(
                            user.id = %user.id, source, created = synced.created,
                            added = synced.added, removed = synced.removed,
                            "group memberships kept in step with the provider"
                        );
                    }
                }
                let user = users::find_by_id(&tx, &user.id)?.ok_or(crate::db::DbError::NotFound)?;
                tx.commit()?;
                Ok(Ok(user))
            })
            .await??;
        tracing::info!(user.id = %linked.id, provider = identity.provider.name(), "signed in with an external identity");
        Ok(linked)
    }

    /// After [`Self::link_external`] (and the caller's ban check): a session, or the
    /// two-factor step.
    pub async fn finish_login(&self, user: User) -> Result<LoginOutcome, AuthError> {
        if user.two_factor_enabled {
            return Ok(LoginOutcome::TwoFactorPending {
                temp_token: self.tokens.issue_temp(&user.id),
            });
        }
        Ok(LoginOutcome::SignedIn(Box::new(
            self.start_session(user).await?,
        )))
    }
}
