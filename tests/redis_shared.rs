//! Several replicas sharing one Redis (`USE_REDIS`), each with its own data folder: a limiter
//! counts across them, a ban on one is enforced by the other at once (and lifted on both), a
//! title written on one is waited for on the other (pub/sub), `/ready` and `doctor` report
//! Redis, and when Redis goes away limiters fail open to per-replica counts.
//! Against a real redis-server (skipped with a note where it is not installed).

mod support;

use std::time::Duration;

use librechat::cache::shared::Shared;
use librechat::config::Env;
use librechat::config::redis::RedisSettings;
use serde_json::{Value, json};
use support::redis::Redis;
use support::{TestServer, librechat, run, text};

async fn bad_login(server: &TestServer) -> u16 {
    server
        .client
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": "nobody@example.org", "password": "wrong password"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A replica with its own data folder, sharing `redis`.
async fn replica(redis: &Redis, env: &[(&str, &str)]) -> TestServer {
    let mut b = TestServer::builder()
        .env("USE_REDIS", "true")
        .env("REDIS_URI", &redis.url)
        .env("REDIS_KEY_PREFIX", "t");
    for (k, v) in env {
        b = b.env(k, v);
    }
    b.start().await
}

fn settings(redis: &Redis) -> RedisSettings {
    let env = Env::from_pairs([
        ("USE_REDIS", "true".to_string()),
        ("REDIS_URI", redis.url.clone()),
    ]);
    RedisSettings::from_env(&env).unwrap().unwrap()
}

#[tokio::test]
async fn the_counter_is_atomic_and_its_window_expires_with_it() {
    let Some(redis) = Redis::start() else { return };
    let shared = Shared::connect(&settings(&redis)).await.unwrap();
    let window = Duration::from_secs(600);
    let hits = (0..40).map(|_| {
        let shared = shared.clone();
        tokio::spawn(async move { shared.count("limit:x:a", window).await.unwrap() })
    });
    let mut counts = Vec::new();
    for hit in hits {
        let w = hit.await.unwrap();
        assert!(w.resets_in <= window && w.resets_in > Duration::from_secs(590));
        counts.push(w.count);
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=40).collect::<Vec<u64>>(),
        "each hit its own count"
    );
    let ttl: i64 = redis.command(&["PTTL", "limit:x:a"])[1..].parse().unwrap();
    assert!(
        ttl > 590_000 && ttl <= 600_000,
        "the window's expiry: {ttl}"
    );
    assert_eq!(shared.peek("limit:x:a").await.unwrap().unwrap().count, 40);
    assert_eq!(shared.peek("limit:x:b").await.unwrap(), None);
    // A one-millisecond window is gone at once: the next hit starts a new one.
    shared
        .count("limit:x:c", Duration::from_millis(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let again = shared.count("limit:x:c", Duration::from_millis(1)).await;
    assert_eq!(again.unwrap().count, 1);
    // Scores add up and are kept for their idle time after the last addition.
    assert_eq!(shared.add("score:k", 3, window).await.unwrap(), 3);
    assert_eq!(shared.add("score:k", 2, window).await.unwrap(), 5);
    assert_eq!(redis.command(&["EXISTS", "score:k"]), ":1");
}

#[tokio::test]
async fn a_login_limit_counts_across_replicas() {
    let Some(redis) = Redis::start() else { return };
    let env = [("LOGIN_MAX", "3"), ("BAN_VIOLATIONS", "false")];
    let (a, b) = (replica(&redis, &env).await, replica(&redis, &env).await);
    assert_eq!(bad_login(&a).await, 401);
    assert_eq!(bad_login(&b).await, 401);
    assert_eq!(bad_login(&a).await, 401);
    // The fourth attempt, on either replica, is past the limit of three.
    assert_eq!(bad_login(&b).await, 429);
    assert_eq!(bad_login(&a).await, 429);
    assert_eq!(
        redis.command(&["GET", "t::limit:login:127.0.0.1"]),
        "$1",
        "one counter, under the key prefix"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_ban_on_one_replica_is_enforced_by_the_other_at_once() {
    let Some(redis) = Redis::start() else { return };
    let env = [("LOGIN_MAX", "1"), ("BAN_INTERVAL", "2")];
    let (a, b) = (replica(&redis, &env).await, replica(&redis, &env).await);
    // B has looked the address up and cached "not banned" (for a few seconds).
    assert_eq!(bad_login(&b).await, 401);
    // The address fails to log in on A until A bans it.
    let mut statuses = Vec::new();
    while statuses.last() != Some(&403) && statuses.len() < 10 {
        statuses.push(bad_login(&a).await);
    }
    assert_eq!(statuses.last(), Some(&403), "{statuses:?}");
    // B refuses it now, though its own database has no ban and its cache said "not banned".
    let refused = b
        .client
        .post(b.url("/api/auth/login"))
        .json(&json!({"email": "nobody@example.org", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.json::<Value>().await.unwrap()["type"], "ban");

    // `librechat user unban` on A's data folder lifts it on both replicas: B at once (Redis
    // no longer has it), A as soon as the announcement reaches it (its cached answer from its
    // database is dropped). Each is back to the limiter alone.
    let dir = a.dir.clone();
    let out = run(librechat(dir.path())
        .args(["user", "unban", "127.0.0.1"])
        .env("LIBRECHAT_DATA_DIR", dir.path().join("data"))
        .env("USE_REDIS", "true")
        .env("REDIS_URI", &redis.url)
        .env("REDIS_KEY_PREFIX", "t"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(redis.command(&["EXISTS", "t::ban:ip:127.0.0.1"]), ":0");
    assert_eq!(bad_login(&b).await, 429, "limited, no longer banned");
    support::poll::eventually(|| async { bad_login(&a).await == 429 }).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn ready_reports_redis_and_limiters_fail_open_without_it() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let server = replica(&redis, &[("LOGIN_MAX", "2"), ("BAN_VIOLATIONS", "false")]).await;
    let ready = server.get("/ready").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(
        body,
        json!({"status": "ready", "database": "ok", "redis": "ok"})
    );

    redis.kill();
    let ready = server.get("/ready").await;
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"], "ok");
    assert_ne!(body["redis"], "ok");

    // Sign-in still answers (fail open), and is still limited, by this replica alone.
    assert_eq!(bad_login(&server).await, 401);
    assert_eq!(bad_login(&server).await, 401);
    assert_eq!(bad_login(&server).await, 429);
    server.stop().await;
}

#[tokio::test]
async fn a_title_written_on_one_replica_is_waited_for_on_another() {
    use librechat::chat::title::Titles;
    use std::sync::Arc;
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (Arc::new(Titles::default()), Arc::new(Titles::default()));
    a.share(&Shared::connect(&settings(&redis)).await.unwrap());
    b.share(&Shared::connect(&settings(&redis)).await.unwrap());
    let writing = a.writing("u", "c");
    support::poll::eventually(|| async { redis.command(&["EXISTS", "title:u:c"]) == ":1" }).await;
    // No title on its way for another conversation: no wait at all.
    b.settled("u", "other", Duration::from_secs(600)).await;
    let waiter = {
        let b = b.clone();
        tokio::spawn(async move { b.settled("u", "c", Duration::from_secs(600)).await })
    };
    // Still waiting a moment later (a wrong answer could only pass this on a stalled machine).
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiter.is_finished(), "B waits for the title A is writing");
    drop(writing);
    // Woken by the announcement (a 600 s wait otherwise), and the mark is gone.
    waiter.await.unwrap();
    assert_eq!(redis.command(&["EXISTS", "title:u:c"]), ":0");
}

#[tokio::test]
async fn without_use_redis_nothing_is_shared_and_ready_says_nothing_of_it() {
    let server = TestServer::builder()
        .env("REDIS_URI", "redis://127.0.0.1:1")
        .start()
        .await;
    assert!(server.state.guard.shared().is_none());
    let body: Value = server.get("/ready").await.json().await.unwrap();
    assert_eq!(body, json!({"status": "ready", "database": "ok"}));
    server.stop().await;
}

#[tokio::test]
async fn a_redis_that_cannot_be_reached_stops_the_start_with_its_address() {
    let port = support::free_port();
    let settings = RedisSettings::from_env(&Env::from_pairs([
        ("USE_REDIS", "true".to_string()),
        ("REDIS_URI", format!("redis://127.0.0.1:{port}")),
        ("REDIS_CONNECT_TIMEOUT", "2000".to_string()),
    ]))
    .unwrap()
    .unwrap();
    let e = Shared::connect(&settings).await.err().unwrap().to_string();
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
}

#[test]
fn doctor_checks_redis() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    run(librechat(dir.path()).args(["db", "migrate"]));
    let url = redis.url.clone();
    let doctor = || {
        let out = run(librechat(dir.path())
            .arg("doctor")
            .env("USE_REDIS", "true")
            .env("REDIS_URI", &url)
            .env("REDIS_CONNECT_TIMEOUT", "2000"));
        (out.status.code(), text(&out.stdout))
    };
    let (_, report) = doctor();
    let at = format!("redis at redis://127.0.0.1:{}", redis.port);
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("ok") && l.contains(&at)),
        "{report}"
    );
    redis.kill();
    let (code, report) = doctor();
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains(&at)),
        "{report}"
    );
}
