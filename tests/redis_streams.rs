//! Resumable streams across replicas (`USE_REDIS_STREAMS`): replicas with their own data
//! folders sharing one PostgreSQL database and one Redis, and a fake OpenAI whose `gated`
//! model holds its answer after "part one" until the test releases it. A stream started on A
//! resumes through B exactly (same frame ids, no gap, no repeat) or from a `sync` frame; B
//! sees A's job in `/status` and `/active`, refuses a second one in the same conversation and
//! counts the per-user limit across both; an abort sent to B stops the job on A (the saved part
//! kept); a replica killed mid-answer leaves its saved part and B's follower a clean error
//! frame; with Redis gone, answers still stream from their own replica. A replica where the
//! conversation's previous turn finished follows, shows and stops the turn another replica
//! runs now, not its own finished one.
//! Against a real redis-server and PostgreSQL (skipped with a note where missing).

mod support;

use std::time::Instant;

use serde_json::{Value, json};
use support::events::{Events, Frame};
use support::fake_openai::{FakeOpenAi, KEY};
use support::poll::eventually;
use support::redis::Redis;
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

/// The engines, or `None` (skipped) when one is not installed.
fn engines() -> Option<(Redis, String)> {
    let redis = Redis::start()?;
    let db = support::postgres::fresh_database()?;
    Some((redis, db))
}

fn env<'a>(fake: &'a FakeOpenAi, redis: &'a Redis, db: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("OPENAI_API_KEY", KEY),
        ("OPENAI_REVERSE_PROXY", fake.base.as_str()),
        ("OPENAI_MODELS", "gpt-4o,gated"),
        ("LIMIT_MESSAGE_IP", "false"),
        ("USE_REDIS", "true"),
        ("REDIS_URI", redis.url.as_str()),
        ("REDIS_KEY_PREFIX", "t"),
        ("DATABASE_URL", db),
    ]
}

async fn replica(fake: &FakeOpenAi, redis: &Redis, db: &str, more: &[(&str, &str)]) -> TestServer {
    let mut b = TestServer::builder();
    for (k, v) in env(fake, redis, db).into_iter().chain(more.iter().copied()) {
        b = b.env(k, v);
    }
    b.start().await
}

async fn send(server: &TestServer, s: &Session, body: Value) -> reqwest::Response {
    server
        .send("POST", "/api/agents/chat/openAI", &s.token, body)
        .await
}

async fn start(server: &TestServer, s: &Session, body: Value) -> String {
    let resp = send(server, s, body).await;
    assert_eq!(resp.status(), 200);
    let started: Value = resp.json().await.unwrap();
    started["streamId"].as_str().unwrap().to_owned()
}

fn text_of(frames: &[Frame]) -> String {
    frames
        .iter()
        .filter(|f| f.data["event"] == "on_message_delta")
        .filter_map(|f| f.data["data"]["delta"]["content"][0]["text"].as_str())
        .collect()
}

async fn messages(server: &TestServer, s: &Session, convo: &str) -> Vec<Value> {
    server
        .get_as(&format!("/api/messages/{convo}"), &s.token)
        .await
        .json()
        .await
        .unwrap_or_default()
}

async fn partial_saved(server: &TestServer, s: &Session, convo: &str) -> bool {
    messages(server, s, convo)
        .await
        .iter()
        .any(|m| m["text"] == "part one" && m["unfinished"] == true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_started_on_one_replica_resumes_through_another() {
    let Some((redis, db)) = engines() else { return };
    let fake = FakeOpenAi::start().await;
    let a = replica(&fake, &redis, &db, &[]).await;
    let b = replica(&fake, &redis, &db, &[]).await;
    let sa = a.signed_in("alice@example.org", PW).await;
    let sb = b.login("alice@example.org", PW).await;
    let id = start(&a, &sa, json!({"text": "tell me", "model": "gated"})).await;

    // A tab on A follows the whole answer; another reads up to "part one" and drops.
    let mut whole = Events::open(&a, &sa, &id, "", None).await;
    let mut first = Events::open(&a, &sa, &id, "", None).await;
    let mut seen = Vec::new();
    while let Some(f) = first.next().await {
        let done = f.data["event"] == "on_message_delta";
        seen.push(f);
        if done {
            break;
        }
    }
    drop(first);
    assert!(seen.len() >= 2, "{seen:?}");
    let last_seen = seen.last().unwrap().id.unwrap();

    // B sees the job A runs.
    eventually(|| async {
        let st: Value = b
            .get_json(&format!("/api/agents/chat/status/{id}"), &sb.token)
            .await;
        st["active"] == true && st["aggregatedContent"][0]["text"] == "part one"
    })
    .await;
    let active: Value = b.get_json("/api/agents/chat/active", &sb.token).await;
    assert_eq!(active["activeJobIds"], json!([id]));

    // Reconnecting to B with an earlier Last-Event-ID: the same frames, with the same ids.
    let mut waits = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let mut again = Events::open(&b, &sb, &id, "", seen[0].id).await;
        let f = again.next().await.unwrap();
        waits.push(t.elapsed());
        assert_eq!(f.id, seen[1].id);
        assert_eq!(f.data, seen[1].data);
    }
    waits.sort();
    println!(
        "resumed stream on another replica, first frame after reconnecting: median {:?}, max {:?} (20 reconnects)",
        waits[waits.len() / 2],
        waits[waits.len() - 1]
    );
    let mut again = Events::open(&b, &sb, &id, "", seen[0].id).await;
    for want in &seen[1..] {
        let got = again.next().await.unwrap();
        assert_eq!((got.id, &got.data), (want.id, &want.data));
    }
    // A reload on B resumes from a summary instead.
    let mut tab = Events::open(&b, &sb, &id, "?resume=true", None).await;
    let sync = tab.next().await.unwrap();
    assert_eq!(sync.data["sync"], true, "{:?}", sync.data);
    assert!(sync.id.is_none());
    assert_eq!(
        sync.data["resumeState"]["aggregatedContent"][0]["text"],
        "part one"
    );
    assert_eq!(sync.data["resumeState"]["userMessage"]["text"], "tell me");

    let t = Instant::now();
    fake.release();
    let rest = again.until_final().await;
    println!(
        "a new frame reached the follower on the other replica {:?} after the release",
        t.elapsed()
    );
    let all = whole.until_final().await;
    let from_a: Vec<(Option<u64>, &Value)> = all
        .iter()
        .filter(|f| f.id > Some(last_seen))
        .map(|f| (f.id, &f.data))
        .collect();
    let from_b: Vec<(Option<u64>, &Value)> = rest.iter().map(|f| (f.id, &f.data)).collect();
    assert_eq!(
        from_b, from_a,
        "B sent exactly what A sent after the last frame seen"
    );
    assert_eq!(rest.first().unwrap().id, Some(last_seen + 1));
    assert_eq!(text_of(&rest), " part two");
    let end = &rest.last().unwrap().data;
    assert_eq!(end["final"], true);
    assert_eq!(end["responseMessage"]["text"], "part one part two");
    let tab_rest = tab.until_final().await;
    assert_eq!(text_of(&tab_rest), " part two");

    // Ended: B still gives the final frame to a late subscriber, and no longer lists the job.
    let late = Events::open(&b, &sb, &id, "?resume=true", None)
        .await
        .until_final()
        .await;
    assert_eq!(late.first().unwrap().data["sync"], true);
    assert_eq!(late.last().unwrap().data["final"], true);
    let active: Value = b.get_json("/api/agents/chat/active", &sb.token).await;
    assert_eq!(active["activeJobIds"], json!([]));
    // Someone else finds nothing on either replica.
    let bob = b.signed_in("bob@example.org", PW).await;
    let resp = b
        .get_as(&format!("/api/agents/chat/stream/{id}"), &bob.token)
        .await;
    assert_eq!(resp.status(), 404);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_through_another_replica_stops_the_job_and_keeps_the_answer() {
    let Some((redis, db)) = engines() else { return };
    let fake = FakeOpenAi::start().await;
    let limit = [("CONCURRENT_MESSAGE_MAX", "2")];
    let a = replica(&fake, &redis, &db, &limit).await;
    let b = replica(&fake, &redis, &db, &limit).await;
    let sa = a.signed_in("alice@example.org", PW).await;
    let sb = b.login("alice@example.org", PW).await;
    let id = start(&a, &sa, json!({"text": "go", "model": "gated"})).await;
    let mut events = Events::open(&a, &sa, &id, "", None).await;
    events.until_delta().await;
    eventually(|| partial_saved(&b, &sb, &id)).await;

    // One answer per conversation across replicas; two per person across replicas.
    let busy = send(
        &b,
        &sb,
        json!({"text": "again", "conversationId": id, "model": "gpt-4o"}),
    )
    .await;
    assert_eq!(busy.status(), 409);
    let second = start(&b, &sb, json!({"text": "two", "model": "gated"})).await;
    let third = send(&a, &sa, json!({"text": "three", "model": "gpt-4o"})).await;
    assert_eq!(third.status(), 429);

    let resp = b
        .send(
            "POST",
            "/api/agents/chat/abort",
            &sb.token,
            json!({"streamId": id}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let rest = events.until_final().await;
    let last = &rest.last().unwrap().data;
    assert_eq!(last["aborted"], true);
    assert_eq!(last["responseMessage"]["text"], "part one");
    assert_eq!(last["responseMessage"]["unfinished"], true);
    let saved = messages(&b, &sb, &id).await;
    assert_eq!(saved[1]["text"], "part one");
    assert_eq!(saved[1]["unfinished"], true);
    // Nothing left to stop, on either replica.
    eventually(|| async {
        let again = b
            .send(
                "POST",
                "/api/agents/chat/abort",
                &sb.token,
                json!({"streamId": id}),
            )
            .await;
        again.status() == 404
    })
    .await;
    // B's own job is stopped by A just the same.
    let resp = a
        .send(
            "POST",
            "/api/agents/chat/abort",
            &sa.token,
            json!({"conversationId": second}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let end = Events::open(&b, &sb, &second, "", None)
        .await
        .until_final()
        .await;
    assert_eq!(end.last().unwrap().data["aborted"], true);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_turn_running_elsewhere_is_followed_not_the_one_finished_here() {
    let Some((redis, db)) = engines() else { return };
    let fake = FakeOpenAi::start().await;
    let a = replica(&fake, &redis, &db, &[]).await;
    let b = replica(&fake, &redis, &db, &[]).await;
    let sa = a.signed_in("alice@example.org", PW).await;
    let sb = b.login("alice@example.org", PW).await;
    // Turn one runs and ends on A (which keeps it a minute for late followers).
    let id = start(&a, &sa, json!({"text": "hello", "model": "gpt-4o"})).await;
    let first = Events::open(&a, &sa, &id, "", None)
        .await
        .until_final()
        .await;
    let first_end = &first.last().unwrap().data;
    assert_eq!(first_end["responseMessage"]["text"], "Echo: hello");
    let parent = first_end["responseMessage"]["messageId"].clone();
    // Turn two, in the same conversation, runs on B (a load balancer sent it there).
    let again = json!({"text": "more", "conversationId": id, "parentMessageId": parent,
        "model": "gated"});
    assert_eq!(start(&b, &sb, again).await, id);
    eventually(|| partial_saved(&b, &sb, &id)).await;
    // A shows B's turn as running, and its client follows B's turn, not A's finished one.
    // (Its summary there is refreshed every second.)
    eventually(|| async {
        let st: Value = a
            .get_json(&format!("/api/agents/chat/status/{id}"), &sa.token)
            .await;
        st["active"] == true && st["aggregatedContent"][0]["text"] == "part one"
    })
    .await;
    let mut on_a = Events::open(&a, &sa, &id, "", None).await;
    let mut seen = Vec::new();
    while let Some(f) = on_a.next().await {
        let delta = f.data["event"] == "on_message_delta";
        seen.push(f);
        if delta {
            break;
        }
    }
    assert_eq!(text_of(&seen), "part one", "{seen:?}");
    // Stopping it through A stops it on B.
    let resp = a
        .send(
            "POST",
            "/api/agents/chat/abort",
            &sa.token,
            json!({"conversationId": id}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let rest = on_a.until_final().await;
    let end = &rest.last().unwrap().data;
    assert_eq!(end["aborted"], true, "{end}");
    assert_eq!(end["responseMessage"]["text"], "part one");
    a.stop().await;
    b.stop().await;
}

/// A replica in a child process, killed with SIGKILL mid-answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_answer_leaves_the_saved_part_and_a_clean_error() {
    let Some((redis, db)) = engines() else { return };
    let fake = FakeOpenAi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = support::librechat(dir.path());
    // Replicas of one database share their secrets (test servers get these by themselves).
    for (k, v) in env(&fake, &redis, &db)
        .into_iter()
        .chain(support::SHARED_SECRETS)
    {
        cmd.env(k, v);
    }
    let a = tokio::task::spawn_blocking(move || support::ServeProcess::start(cmd))
        .await
        .unwrap();
    let b = replica(&fake, &redis, &db, &[]).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let resp = http
        .post(format!("{}/api/auth/register", a.base))
        .json(
            &json!({"email": "alice@example.org", "password": PW, "confirm_password": PW,
            "name": "Alice", "username": "alice"}),
        )
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let login: Value = http
        .post(format!("{}/api/auth/login", a.base))
        .json(&json!({"email": "alice@example.org", "password": PW}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let started: Value = http
        .post(format!("{}/api/agents/chat/openAI", a.base))
        .bearer_auth(&token)
        .json(&json!({"text": "go", "model": "gated"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["streamId"].as_str().unwrap().to_owned();
    let sb = b.login("alice@example.org", PW).await;
    eventually(|| partial_saved(&b, &sb, &id)).await;

    // B follows A's job, then A dies.
    let mut follower = Events::open(&b, &sb, &id, "", None).await;
    follower.until_delta().await;
    let (exit, _) = tokio::task::spawn_blocking(move || a.signal_and_wait("KILL"))
        .await
        .unwrap();
    assert!(!exit.success());
    let rest = follower.until_final().await;
    let end = &rest.last().expect("a final frame").data;
    assert_eq!(end["final"], true, "{end}");
    assert_eq!(end["error"]["code"], "cut_off", "{end}");
    assert!(
        end["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cut off"),
        "{end}"
    );
    // The part saved stays, marked unfinished; the job is no longer active.
    let saved = messages(&b, &sb, &id).await;
    assert_eq!(saved.len(), 2, "{saved:?}");
    assert_eq!(saved[1]["text"], "part one");
    assert_eq!(saved[1]["unfinished"], true);
    let st: Value = b
        .get_json(&format!("/api/agents/chat/status/{id}"), &sb.token)
        .await;
    assert_eq!(st["active"], false, "{st}");
    let active: Value = b.get_json("/api/agents/chat/active", &sb.token).await;
    assert_eq!(active["activeJobIds"], json!([]));
    // A new follower is not left waiting either.
    let again = Events::open(&b, &sb, &id, "", None)
        .await
        .until_final()
        .await;
    assert_eq!(again.last().unwrap().data["error"]["code"], "cut_off");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_answers_still_stream_from_their_replica() {
    let Some((mut redis, db)) = engines() else {
        return;
    };
    let fake = FakeOpenAi::start().await;
    let a = replica(&fake, &redis, &db, &[]).await;
    let b = replica(&fake, &redis, &db, &[]).await;
    let sa = a.signed_in("alice@example.org", PW).await;
    let sb = b.login("alice@example.org", PW).await;
    redis.kill();
    let id = start(&a, &sa, json!({"text": "still here", "model": "gpt-4o"})).await;
    let frames = Events::open(&a, &sa, &id, "", None)
        .await
        .until_final()
        .await;
    let end = &frames.last().unwrap().data;
    assert_eq!(end["responseMessage"]["text"], "Echo: still here");
    // Another replica cannot see it, and says so without an error.
    let resp = b
        .get_as(&format!("/api/agents/chat/stream/{id}"), &sb.token)
        .await;
    assert_eq!(resp.status(), 404);
    let st: Value = b
        .get_json(&format!("/api/agents/chat/status/{id}"), &sb.token)
        .await;
    assert_eq!(st["active"], false);
    let active = b.get_as("/api/agents/chat/active", &sb.token).await;
    assert_eq!(active.status(), 200);
    a.stop().await;
    b.stop().await;
}
