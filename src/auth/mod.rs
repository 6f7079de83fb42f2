//! Who is who: passwords, tokens and sessions, roles and permissions.
//! Single sign-on: `external` (the linking rule), `ldap`, `openid`, `saml`, `social`, `apple`.

pub mod accounts;
pub mod apple;
pub mod crypto;
pub mod email_flows;
pub mod external;
pub mod ldap;
mod ldap_groups;
pub mod openid;
pub mod password;
pub mod permissions;
pub mod saml;
pub mod sensitive;
pub mod sign_in_state;
pub mod social;
pub mod tokens;
pub mod two_factor;
pub mod validate;

pub use accounts::{Accounts, AuthError, LoginOutcome, Registration, SignedIn};
pub use permissions::Roles;
pub use tokens::Tokens;
