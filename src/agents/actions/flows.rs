//! OAuth sign-ins in flight, for actions and MCP servers alike, kept in the database
//! (`crate::db::oauth_flows`) so that several replicas behind a load balancer share them: the
//! browser binding, the provider's callback, the flow's status route and the call waiting for
//! the sign-in may each reach a different replica. (LibreChat keeps its flows in Keyv: Redis
//! with `USE_REDIS`, else memory. Here the database is the one store every replica always
//! shares, SQLite alone or PostgreSQL under several replicas, and the tokens a sign-in brings
//! land there anyway.)
//!
//! - A binding is stored as the SHA-256 of its cookie value, compared in constant time, and
//!   spent by the first callback that brings it (whichever replica takes it), for ten minutes.
//! - A flow's secrets (an MCP sign-in's PKCE verifier and client) are stored encrypted with
//!   `CREDS_KEY` by their owner; the provider's code is never stored.
//! - A call waiting for a sign-in wakes at once when the callback ends on its own replica; on
//!   PostgreSQL it also reads the flow once a second while it waits, so a callback that ended
//!   on another replica is seen within a second. Nothing is read while no one waits.

use std::time::Duration;

use sha2::Digest;
use tokio::sync::watch;

use super::oauth::{BIND_TTL, SignInError, random_token};
use crate::db::oauth_flows::{self as store, FlowRow};
use crate::db::{Db, DbError};

/// A flow waiting for its callback.
pub const PENDING: &str = "PENDING";
/// A flow whose callback is trading its code for tokens.
pub const CLAIMED: &str = "CLAIMED";
pub const COMPLETED: &str = "COMPLETED";
pub const FAILED: &str = "FAILED";

/// How often a call waiting on PostgreSQL looks whether another replica ended its flow.
const POLL: Duration = Duration::from_secs(1);

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn digest(cookie: &str) -> String {
    hex::encode(sha2::Sha256::digest(cookie.as_bytes()))
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The sign-ins of one kind (`action` or `mcp`) and the browsers bound to them.
pub struct Flows {
    db: Db,
    kind: &'static str,
    /// Bumped when a flow ends on this replica: wakes the calls waiting here at once.
    ended: watch::Sender<u64>,
}

/// Forgets an action's sign-in when the call waiting for it ends, however it ends.
pub(super) struct Waiting<'a> {
    flows: &'a Flows,
    pub id: String,
}

impl Waiting<'_> {
    /// Waits (at most `within`) for the sign-in to end; whether it completed.
    pub async fn wait(&self, within: Duration) -> bool {
        self.flows.wait(&self.id, within).await
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let (db, id) = (self.flows.db.clone(), std::mem::take(&mut self.id));
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { db.write(move |c| store::delete(c, &id)).await });
        }
    }
}

impl Flows {
    /// The flows of `kind` (`action`, `mcp`) in `db`.
    pub fn new(db: Db, kind: &'static str) -> Self {
        Flows {
            db,
            kind,
            ended: watch::channel(0).0,
        }
    }

    /// The key of a binding to `key` (a server's name, an action's id).
    fn target(&self, key: &str) -> String {
        format!("{}:{key}", self.kind)
    }

    /// Binds this browser to `user_id`'s coming sign-in on `key`: the cookie value to set. A
    /// person already holding a hundred live bindings gets a value that binds nothing.
    pub async fn bind(&self, user_id: &str, key: &str) -> String {
        let value = random_token();
        let (user, target, digest) = (user_id.to_owned(), self.target(key), digest(&value));
        let now = now_ms();
        let kept = self
            .db
            .write(move |c| store::bind(c, &user, &target, &digest, now + ms(BIND_TTL), now))
            .await;
        match kept {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(user.id = %user_id, "too many OAuth bindings; this one is not kept")
            }
            Err(e) => tracing::warn!(error = %e, "an OAuth binding could not be stored"),
        }
        value
    }

    /// Whether `cookie` is the live binding of `user_id` on `key` (what [`bind`](Self::bind)
    /// set); a match spends it, once, whichever replica asks.
    pub async fn spend_binding(&self, user_id: &str, key: &str, cookie: Option<&str>) -> bool {
        let Some(cookie) = cookie else {
            return false;
        };
        let given = digest(cookie);
        let (user, target, now) = (user_id.to_owned(), self.target(key), now_ms());
        let stored = {
            let (user, target) = (user.clone(), target.clone());
            self.db
                .read(move |c| store::binding(c, &user, &target, now))
                .await
        };
        let Some(stored) = stored.ok().flatten().filter(|s| constant_eq(s, &given)) else {
            return false;
        };
        self.db
            .write(move |c| store::spend(c, &user, &target, &stored, now))
            .await
            .unwrap_or(false)
    }

    /// Records a flow (replacing the one with its id).
    pub async fn put(&self, flow: FlowRow) -> Result<(), DbError> {
        let now = now_ms();
        self.db.write(move |c| store::put(c, &flow, now)).await
    }

    /// The unexpired flow `id`.
    pub async fn get(&self, id: &str) -> Option<FlowRow> {
        let (id, now) = (id.to_owned(), now_ms());
        self.db
            .read(move |c| store::get(c, &id, now))
            .await
            .ok()
            .flatten()
    }

    /// The unexpired flow of this kind on `target` whose state is `state`.
    pub async fn by_state(&self, target: &str, state: &str) -> Option<FlowRow> {
        let (kind, target, state, now) = (self.kind, target.to_owned(), state.to_owned(), now_ms());
        self.db
            .read(move |c| store::by_state(c, kind, &target, &state, now))
            .await
            .ok()
            .flatten()
    }

    /// Moves the flow `id` from `from` to `to` if it is still in `from` and started after
    /// `started_after` (Unix ms); whether this call moved it. An ending wakes the calls
    /// waiting on this replica.
    pub async fn advance(
        &self,
        id: &str,
        from: &'static str,
        to: &'static str,
        error: Option<String>,
        started_after: i64,
    ) -> bool {
        let id = id.to_owned();
        let moved = self
            .db
            .write(move |c| store::advance(c, &id, from, to, error.as_deref(), started_after))
            .await
            .unwrap_or(false);
        if moved && (to == COMPLETED || to == FAILED) {
            self.ended.send_modify(|n| *n = n.wrapping_add(1));
        }
        moved
    }

    /// Ends the claimed flow `id`: completed, or failed with `error`.
    pub async fn end(&self, id: &str, error: Option<String>) {
        let to = if error.is_some() { FAILED } else { COMPLETED };
        self.advance(id, CLAIMED, to, error, i64::MIN).await;
    }

    /// Waits (at most `within`) for the flow `id` to end; whether it completed. A flow that
    /// is gone (expired, forgotten) has not.
    pub async fn wait(&self, id: &str, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        let mut ended = self.ended.subscribe();
        let poll = self.db.is_postgres();
        loop {
            let (key, now) = (id.to_owned(), now_ms());
            match self.db.read(move |c| store::get(c, &key, now)).await {
                Ok(Some(f)) if f.status == COMPLETED => return true,
                Ok(Some(f)) if f.status == FAILED => return false,
                Ok(None) => return false,
                // Still waiting, or the database did not answer this time.
                Ok(Some(_)) | Err(_) => {}
            }
            tokio::select! {
                _ = ended.changed() => {}
                _ = tokio::time::sleep(POLL), if poll => {}
                _ = tokio::time::sleep_until(deadline) => return false,
            }
        }
    }

    /// A new sign-in for `user_id` on the action `action_id`, waiting at most `within`: its
    /// state, and the guard that forgets it.
    pub(super) async fn start(
        &self,
        user_id: &str,
        action_id: &str,
        within: Duration,
    ) -> Result<(String, Waiting<'_>), DbError> {
        let state = random_token();
        let now = now_ms();
        let flow = FlowRow {
            id: format!("{}:{state}", self.kind),
            kind: self.kind.to_owned(),
            user_id: user_id.to_owned(),
            target: action_id.to_owned(),
            state: state.clone(),
            status: PENDING.to_owned(),
            error: None,
            secret: None,
            started_at: now,
            // A little past the wait, so the waiting call reads its end before the row goes.
            expires_at: now + ms(within) + 60_000,
        };
        let id = flow.id.clone();
        self.put(flow).await?;
        Ok((state, Waiting { flows: self, id }))
    }

    /// Claims the action sign-in with this state for its callback, if the browser is the one
    /// bound to it (its binding is then spent). A callback from another browser leaves the
    /// sign-in waiting, so the person's own browser can still finish it.
    pub(super) async fn take(
        &self,
        state: &str,
        action_id: &str,
        cookie: Option<&str>,
    ) -> Result<FlowRow, SignInError> {
        let flow = self
            .by_state(action_id, state)
            .await
            .filter(|f| f.status == PENDING)
            .ok_or(SignInError::InvalidState)?;
        if !self.spend_binding(&flow.user_id, action_id, cookie).await {
            return Err(SignInError::Csrf);
        }
        if !self
            .advance(&flow.id, PENDING, CLAIMED, None, i64::MIN)
            .await
        {
            return Err(SignInError::InvalidState);
        }
        Ok(flow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_callback_needs_the_state_and_the_bound_browser() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let flows = Flows::new(db.clone(), "action");
        let mcp = Flows::new(db, "mcp");
        let wait = Duration::from_secs(60);
        let (state, guard) = flows.start("u1", "a1", wait).await.unwrap();
        // Another action's callback, an unknown state: refused.
        assert_eq!(
            flows.take(&state, "a2", None).await.err(),
            Some(SignInError::InvalidState)
        );
        assert_eq!(
            flows.take("nope", "a1", None).await.err(),
            Some(SignInError::InvalidState)
        );
        // No binding, another browser's, or one for an MCP server of the same name: refused,
        // and the sign-in still waits.
        assert_eq!(
            flows.take(&state, "a1", None).await.err(),
            Some(SignInError::Csrf)
        );
        let elsewhere = mcp.bind("u1", "a1").await;
        assert_eq!(
            flows.take(&state, "a1", Some(&elsewhere)).await.err(),
            Some(SignInError::Csrf)
        );
        let cookie = flows.bind("u1", "a1").await;
        assert_eq!(
            flows.take(&state, "a1", Some("forged")).await.err(),
            Some(SignInError::Csrf)
        );
        let taken = flows.take(&state, "a1", Some(&cookie)).await.unwrap();
        assert_eq!(taken.user_id, "u1");
        // Spent: the state and the binding.
        assert_eq!(
            flows.take(&state, "a1", Some(&cookie)).await.err(),
            Some(SignInError::InvalidState)
        );
        let (other, guard2) = flows.start("u1", "a1", wait).await.unwrap();
        assert_eq!(
            flows.take(&other, "a1", Some(&cookie)).await.err(),
            Some(SignInError::Csrf)
        );
        // The claimed flow ends; its waiter learns it completed, the other's failed.
        flows.end(&taken.id, None).await;
        assert!(guard.wait(wait).await);
        flows
            .advance(&guard2.id, PENDING, FAILED, Some("no".into()), i64::MIN)
            .await;
        assert!(!guard2.wait(wait).await);
    }

    #[tokio::test]
    async fn an_expired_binding_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let flows = Flows::new(db.clone(), "action");
        let cookie = flows.bind("u1", "a1").await;
        db.write(|c| {
            c.execute("UPDATE oauth_binds SET expires_at = 0", [])?;
            Ok(())
        })
        .await
        .unwrap();
        assert!(!flows.spend_binding("u1", "a1", Some(&cookie)).await);
        // What is stored is a digest, never the cookie itself.
        let stored: Vec<String> = db
            .read(|c| {
                let mut s = c.prepare("SELECT digest FROM oauth_binds")?;
                let rows = s.query_map([], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await
            .unwrap();
        assert!(stored.iter().all(|d| d != &cookie));
        let fresh = flows.bind("u1", "a1").await;
        assert!(flows.spend_binding("u1", "a1", Some(&fresh)).await);
        assert!(!flows.spend_binding("u1", "a1", Some(&fresh)).await);
    }
}
