//! The tokens LibreChat uses: a short-lived access JWT, a refresh JWT bound to a session, and a
//! five-minute "2FA pending" token. All HS256; anything else (`none`, RS256, a token signed with
//! the other secret, an expired one) is refused.
//!
//! Access tokens name their session (`sessionId`, as refresh tokens do), so ending a session
//! (logout, password reset or change, ban) ends its access tokens too, not only its refresh
//! token.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::users::User;

/// Claims of an access token, as LibreChat issues them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub id: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub email: String,
    /// The session the token was issued for; a token whose session has ended is refused.
    /// LibreChat's tokens lack it (its client never reads it); ours always carry it.
    #[serde(
        default,
        rename = "sessionId",
        skip_serializing_if = "String::is_empty"
    )]
    pub session_id: String,
    pub iat: u64,
    pub exp: u64,
    /// Present only on 2FA temp tokens; an access token must not carry it.
    #[serde(
        default,
        rename = "twoFAPending",
        skip_serializing_if = "Option::is_none"
    )]
    pub two_fa_pending: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub id: String,
    #[serde(rename = "sessionId")]
    pub session_id: String,
    /// Random, so that two rotations in the same second still give different tokens.
    pub jti: String,
    pub iat: u64,
    pub exp: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TempClaims {
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "twoFAPending")]
    pub two_fa_pending: bool,
    pub iat: u64,
    pub exp: u64,
}

/// Signs and checks tokens with the configured secrets.
pub struct Tokens {
    access_enc: EncodingKey,
    access_dec: DecodingKey,
    refresh_enc: EncodingKey,
    refresh_dec: DecodingKey,
    validation: Validation,
    /// Access token lifetime in seconds.
    pub access_ttl: u64,
    /// Session (refresh token) lifetime in seconds.
    pub refresh_ttl: u64,
}

/// Two-factor temp tokens live five minutes, as in LibreChat.
pub const TEMP_TTL: u64 = 5 * 60;

impl Tokens {
    pub fn new(jwt_secret: &str, refresh_secret: &str, access_ttl: u64, refresh_ttl: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.validate_exp = true;
        validation.required_spec_claims = ["exp".to_string()].into_iter().collect();
        Self {
            access_enc: EncodingKey::from_secret(jwt_secret.as_bytes()),
            access_dec: DecodingKey::from_secret(jwt_secret.as_bytes()),
            refresh_enc: EncodingKey::from_secret(refresh_secret.as_bytes()),
            refresh_dec: DecodingKey::from_secret(refresh_secret.as_bytes()),
            validation,
            access_ttl,
            refresh_ttl,
        }
    }

    /// An access token for `user` in the session `session_id`.
    pub fn issue_access(&self, user: &User, session_id: &str) -> String {
        let iat = now_secs();
        let claims = AccessClaims {
            id: user.id.clone(),
            username: user.username.clone(),
            provider: user.provider.clone(),
            email: user.email.clone(),
            session_id: session_id.to_owned(),
            iat,
            exp: iat + self.access_ttl,
            two_fa_pending: None,
        };
        sign(&claims, &self.access_enc)
    }

    /// The claims of a valid access token. Temp tokens are not access tokens, and neither is
    /// a token that names no session (it could never be ended before it expires).
    pub fn verify_access(&self, token: &str) -> Option<AccessClaims> {
        let claims: AccessClaims = decode(token, &self.access_dec, &self.validation)
            .ok()?
            .claims;
        (claims.two_fa_pending.is_none() && !claims.id.is_empty() && !claims.session_id.is_empty())
            .then_some(claims)
    }

    /// A refresh token for the session, with its expiry (unix seconds).
    pub fn issue_refresh(&self, user_id: &str, session_id: &str, exp: u64) -> String {
        let claims = RefreshClaims {
            id: user_id.to_owned(),
            session_id: session_id.to_owned(),
            jti: random_hex(16),
            iat: now_secs(),
            exp,
        };
        sign(&claims, &self.refresh_enc)
    }

    pub fn verify_refresh(&self, token: &str) -> Option<RefreshClaims> {
        decode(token, &self.refresh_dec, &self.validation)
            .ok()
            .map(|d| d.claims)
    }

    pub fn issue_temp(&self, user_id: &str) -> String {
        let iat = now_secs();
        let claims = TempClaims {
            user_id: user_id.to_owned(),
            two_fa_pending: true,
            iat,
            exp: iat + TEMP_TTL,
        };
        sign(&claims, &self.access_enc)
    }

    pub fn verify_temp(&self, token: &str) -> Option<TempClaims> {
        let claims: TempClaims = decode(token, &self.access_dec, &self.validation)
            .ok()?
            .claims;
        claims.two_fa_pending.then_some(claims)
    }
}

fn sign<T: Serialize>(claims: &T, key: &EncodingKey) -> String {
    encode(&Header::new(Algorithm::HS256), claims, key).expect("HS256 signing cannot fail")
}

/// SHA-256 of a token, hex: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("system randomness");
    hex::encode(buf)
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: "u1".into(),
            email: "a@b.c".into(),
            name: "A".into(),
            username: "a".into(),
            avatar: None,
            role: "USER".into(),
            provider: "local".into(),
            password: None,
            email_verified: true,
            two_factor_enabled: false,
            totp_secret: None,
            pending_totp_secret: None,
            backup_codes: serde_json::json!([]),
            pending_backup_codes: serde_json::json!([]),
            totp_last_step: 0,
            terms_accepted: false,
            terms_accepted_at: None,
            plugins: serde_json::json!([]),
            personalization: serde_json::json!({}),
            favorites: serde_json::json!([]),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn tokens() -> Tokens {
        Tokens::new("access-secret", "refresh-secret", 900, 3600)
    }

    #[test]
    fn access_tokens_round_trip_and_carry_librechats_claims() {
        let t = tokens();
        let token = t.issue_access(&user(), "s1");
        let claims = t.verify_access(&token).unwrap();
        assert_eq!(
            (
                claims.id.as_str(),
                claims.email.as_str(),
                claims.provider.as_str(),
                claims.session_id.as_str()
            ),
            ("u1", "a@b.c", "local", "s1")
        );
    }

    #[test]
    fn refuses_forged_expired_and_confused_tokens() {
        let t = tokens();
        // Signed with another secret.
        let other = Tokens::new("not-the-secret", "x", 900, 3600).issue_access(&user(), "s1");
        assert!(t.verify_access(&other).is_none());
        // A refresh token is not an access token (different secret) and vice versa.
        let refresh = t.issue_refresh("u1", "s1", now_secs() + 60);
        assert!(t.verify_access(&refresh).is_none());
        assert!(t.verify_refresh(&t.issue_access(&user(), "s1")).is_none());
        // A 2FA temp token is not an access token.
        assert!(t.verify_access(&t.issue_temp("u1")).is_none());
        // Expired.
        let old = AccessClaims {
            id: "u1".into(),
            username: String::new(),
            provider: String::new(),
            email: String::new(),
            session_id: "s1".into(),
            iat: 1,
            exp: 2,
            two_fa_pending: None,
        };
        let key = EncodingKey::from_secret(b"access-secret");
        assert!(t.verify_access(&sign(&old, &key)).is_none());
        // Valid in every other way, but bound to no session: nothing could end it.
        let sessionless = AccessClaims {
            session_id: String::new(),
            iat: now_secs(),
            exp: now_secs() + 600,
            ..old
        };
        assert!(t.verify_access(&sign(&sessionless, &key)).is_none());
        // alg: none, with a valid-looking payload.
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let none = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&format!(
                r#"{{"id":"u1","iat":1,"exp":{}}}"#,
                now_secs() + 600
            ))
        );
        assert!(t.verify_access(&none).is_none());
        // HS256 header, but an RS256-style confusion: a token claiming RS256 signed with the secret.
        let rs = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256","typ":"JWT"}"#),
            b64(&format!(
                r#"{{"id":"u1","iat":1,"exp":{}}}"#,
                now_secs() + 600
            )),
            b64("sig")
        );
        assert!(t.verify_access(&rs).is_none());
        assert!(t.verify_access("garbage").is_none());
        assert!(t.verify_access("").is_none());
    }

    #[test]
    fn refresh_tokens_differ_even_when_issued_together() {
        let t = tokens();
        let exp = now_secs() + 60;
        assert_ne!(
            t.issue_refresh("u1", "s1", exp),
            t.issue_refresh("u1", "s1", exp)
        );
        assert_eq!(token_hash("abc").len(), 64);
    }
}
