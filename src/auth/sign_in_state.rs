//! Sign-ins in flight, bound to the browser that started them.
//!
//! A state (or SAML RelayState) alone proves only that someone started a sign-in here, not
//! that the browser bringing the answer back is theirs: an attacker could start one, sign in
//! at the provider as themselves, and have a victim's browser finish it (login CSRF), so the
//! victim would work in the attacker's account. Each sign-in therefore records the random id
//! of the browser that started it (kept in an HttpOnly cookie by the HTTP layer), and its
//! answer is taken only from that browser.
//!
//! Providers that answer with a cross-site form POST (Apple's `form_post`, SAML's HTTP-POST
//! binding) reach us without a SameSite=Lax cookie. Their form is held here for a moment
//! under a random key while the browser is sent on to a GET of the same callback (a top-level
//! navigation, which carries Lax cookies); the answer is checked there, with the cookie. (The
//! HTTP layer also sets the key in a cookie on the POST's answer and requires it back, so the
//! GET's address alone resumes nothing.)
//!
//! With several replicas sharing Redis ([`PendingSignIns::share`]), both live there instead
//! (`signin:<method>:<state>`, `held:<method>:<key>`, with the same lifetimes), so the answer
//! may come back through another replica than the one that sent the person out; each is taken
//! with GETDEL, so it is used once across all replicas. Without Redis to reach, a sign-in
//! cannot be started or finished (it fails closed: [`Unavailable`]), since another replica
//! might hold, or need, its state.

use std::sync::OnceLock;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::tokens::{random_hex, token_hash};
use crate::bounded::BoundedCache;
use crate::cache::shared::{Shared, SharedError};

/// How long a sign-in started may take to come back.
const PENDING_FOR: Duration = Duration::from_secs(600);
/// How long a posted answer waits for the browser's redirected GET (one hop, immediate).
const HELD_FOR: Duration = Duration::from_secs(120);
/// The most posted answers held at once, in bytes (a SAML response is a few kilobytes, at
/// most `saml::MAX_RESPONSE_BYTES`); past it the oldest are dropped and must start again.
const HELD_BYTES: u64 = 32 * 1024 * 1024;

/// What a person is told when the answer came back to another browser than the one that
/// started the sign-in.
pub const OTHER_BROWSER: &str =
    "This sign-in was started in another browser (or with cookies off). Please sign in again here.";

/// What a person is told when the shared state (Redis) cannot be reached.
pub const UNAVAILABLE: &str = "Sign-in is unavailable for a moment (this server cannot reach its \
     shared session store). Please try again shortly.";

/// Why a callback's state does not finish a sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotPending {
    /// Never issued, expired, or already used.
    Unknown,
    /// Started in another browser (or the sign-in cookie was not sent).
    OtherBrowser,
    /// The shared state (Redis) cannot be reached.
    Unavailable,
}

/// The shared state (Redis) cannot be reached: the sign-in cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{UNAVAILABLE}")]
pub struct Unavailable;

/// Where a sign-in method keeps its states in Redis, once shared.
struct Place {
    shared: Shared,
    /// `signin:<method>:` or `held:<method>:`.
    prefix: String,
}

impl Place {
    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn failed(&self, e: &SharedError) -> Unavailable {
        tracing::error!(error = %e, "a sign-in needs Redis, which cannot be reached");
        Unavailable
    }
}

/// A new random browser id, for a browser that has none yet.
pub fn new_browser_id() -> String {
    random_hex(16)
}

/// Whether `s` looks like an id [`new_browser_id`] made (so a cookie cannot carry anything else).
pub fn is_browser_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Sign-ins started and not finished, by state: each good for ten minutes, once, and only in
/// the browser that started it.
pub struct PendingSignIns<T> {
    /// state -> (SHA-256 of the browser id, what the sign-in needs to finish)
    cache: BoundedCache<(String, T)>,
    shared: OnceLock<Place>,
}

impl<T: Clone + Send + Sync + 'static> Default for PendingSignIns<T> {
    fn default() -> Self {
        Self {
            cache: BoundedCache::builder(10_000)
                .time_to_live(PENDING_FOR)
                .build(),
            shared: OnceLock::new(),
        }
    }
}

impl<T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static> PendingSignIns<T> {
    /// Keeps the states in Redis from now on, under `signin:<method>:`.
    pub fn share(&self, shared: &Shared, method: &str) {
        let _ = self.shared.set(Place {
            shared: shared.clone(),
            prefix: format!("signin:{method}:"),
        });
    }

    /// Records a sign-in `browser` started under `state`.
    pub async fn insert(&self, state: String, browser: &str, value: T) -> Result<(), Unavailable> {
        let owner = token_hash(browser);
        let Some(place) = self.shared.get() else {
            self.cache.insert(state, (owner, value));
            return Ok(());
        };
        let text = json!({ "browser": owner, "value": value }).to_string();
        place
            .shared
            .put(&place.name(&state), &text, PENDING_FOR)
            .await
            .map_err(|e| place.failed(&e))
    }

    /// Takes the sign-in `state` names if `browser` started it. The state is used up either
    /// way: an answer brought by the wrong browser is not kept for a second try.
    pub async fn take(&self, state: &str, browser: Option<&str>) -> Result<T, NotPending> {
        let (owner, value) = match self.shared.get() {
            None => self.cache.remove(state).ok_or(NotPending::Unknown)?,
            Some(place) => {
                let text = place
                    .shared
                    .take(&place.name(state))
                    .await
                    .map_err(|e| {
                        place.failed(&e);
                        NotPending::Unavailable
                    })?
                    .ok_or(NotPending::Unknown)?;
                let mut v: serde_json::Value =
                    serde_json::from_str(&text).map_err(|_| NotPending::Unknown)?;
                let owner = v["browser"].as_str().unwrap_or_default().to_owned();
                let value =
                    serde_json::from_value(v["value"].take()).map_err(|_| NotPending::Unknown)?;
                (owner, value)
            }
        };
        // Hashes compared, so the comparison's timing says nothing about the id.
        match browser {
            Some(b) if token_hash(b) == owner => Ok(value),
            _ => Err(NotPending::OtherBrowser),
        }
    }
}

/// Answers a provider posted, held for the browser's redirected GET; each taken once.
pub struct HeldAnswers<T> {
    cache: BoundedCache<T>,
    shared: OnceLock<Place>,
}

impl<T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static> HeldAnswers<T> {
    /// `weight` is an answer's size in bytes, to bound what is held.
    pub fn new(weight: fn(&T) -> u32) -> Self {
        Self {
            cache: BoundedCache::builder(HELD_BYTES)
                .weigher(move |_, v: &T| weight(v).saturating_add(64))
                .time_to_live(HELD_FOR)
                .build(),
            shared: OnceLock::new(),
        }
    }

    /// Holds the answers in Redis from now on, under `held:<method>:`.
    pub fn share(&self, shared: &Shared, method: &str) {
        let _ = self.shared.set(Place {
            shared: shared.clone(),
            prefix: format!("held:{method}:"),
        });
    }

    /// Holds `answer`; the key to take it back with.
    pub async fn hold(&self, answer: T) -> Result<String, Unavailable> {
        let key = random_hex(16);
        let Some(place) = self.shared.get() else {
            self.cache.insert(key.clone(), answer);
            return Ok(key);
        };
        let text = serde_json::to_string(&answer).map_err(|_| Unavailable)?;
        place
            .shared
            .put(&place.name(&key), &text, HELD_FOR)
            .await
            .map_err(|e| place.failed(&e))?;
        Ok(key)
    }

    /// Takes the answer held under `key` out, if there is one.
    pub async fn take(&self, key: &str) -> Result<Option<T>, Unavailable> {
        let Some(place) = self.shared.get() else {
            return Ok(self.cache.remove(key));
        };
        let text = place
            .shared
            .take(&place.name(key))
            .await
            .map_err(|e| place.failed(&e))?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sign_in_finishes_once_and_only_in_its_browser() {
        let pending = PendingSignIns::<u8>::default();
        let (mine, theirs) = (new_browser_id(), new_browser_id());
        assert!(is_browser_id(&mine) && !is_browser_id("x; Path=/"));
        pending.insert("s1".into(), &mine, 1).await.unwrap();
        assert_eq!(pending.take("s1", Some(&mine)).await, Ok(1));
        assert_eq!(
            pending.take("s1", Some(&mine)).await,
            Err(NotPending::Unknown)
        );
        pending.insert("s2".into(), &mine, 2).await.unwrap();
        assert_eq!(
            pending.take("s2", Some(&theirs)).await,
            Err(NotPending::OtherBrowser)
        );
        assert_eq!(
            pending.take("s2", Some(&mine)).await,
            Err(NotPending::Unknown),
            "used up by the wrong browser's try"
        );
        pending.insert("s3".into(), &mine, 3).await.unwrap();
        assert_eq!(
            pending.take("s3", None).await,
            Err(NotPending::OtherBrowser)
        );
    }

    #[tokio::test]
    async fn held_answers_are_taken_once() {
        let held = HeldAnswers::<String>::new(|s| s.len() as u32);
        let key = held.hold("answer".into()).await.unwrap();
        assert_eq!(held.take(&key).await.unwrap().as_deref(), Some("answer"));
        assert_eq!(held.take(&key).await.unwrap(), None);
        assert_eq!(held.take("nope").await.unwrap(), None);
    }
}
