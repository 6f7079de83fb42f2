//! Search across replicas: two servers with their own data folders (so their own tantivy
//! indexes) on one real PostgreSQL database. Each index follows the one change log, whichever
//! replica a message was written through; the log is pruned once both have passed it, not by
//! whoever applied it first; a restarted replica continues from where its index stopped, and
//! one that was away too long rebuilds. Search still answers its owner only.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

/// Generous: on a loaded machine a replica may take a while; nothing here asserts a timing.
const DEADLINE: Duration = Duration::from_secs(90);

async fn replica(url: &str) -> TestServer {
    TestServer::builder().env("DATABASE_URL", url).start().await
}

async fn restarted(url: &str, dir: std::sync::Arc<tempfile::TempDir>) -> TestServer {
    TestServer::builder()
        .in_dir(dir)
        .env("DATABASE_URL", url)
        .start()
        .await
}

/// Saves a message, creating its conversation first if needed.
async fn say(server: &TestServer, s: &Session, convo: &str, id: &str, text: &str) {
    let exists = server
        .get_as(&format!("/api/convos/{convo}"), &s.token)
        .await
        .status()
        == 200;
    if !exists {
        let resp = server
            .send(
                "POST",
                "/api/convos/update",
                &s.token,
                json!({"arg": {"conversationId": convo, "title": "New Chat"}}),
            )
            .await;
        assert!(resp.status().is_success(), "{}", resp.status());
    }
    let resp = server
        .send(
            "POST",
            &format!("/api/messages/{convo}"),
            &s.token,
            json!({"messageId": id, "text": text, "isCreatedByUser": true}),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
}

/// The message ids `/api/messages?search=` answers, sorted.
async fn find(server: &TestServer, s: &Session, q: &str) -> Vec<String> {
    let url = format!(
        "/api/messages?search={}",
        url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
    );
    let resp = server.get_as(&url, &s.token).await;
    assert_eq!(resp.status(), 200, "search {q:?}");
    let body: Value = resp.json().await.unwrap();
    let mut ids: Vec<String> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// Polls until searching `q` on `server` answers `want`; how long it took.
async fn found_within(
    server: &TestServer,
    s: &Session,
    q: &str,
    want: &[&str],
    what: &str,
) -> Duration {
    let started = Instant::now();
    loop {
        let ids = find(server, s, q).await;
        if ids == want {
            let took = started.elapsed();
            println!("{what}: searchable after {} ms", took.as_millis());
            return took;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{what}: searching {q:?} still answers {ids:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn outbox_rows(server: &TestServer) -> i64 {
    server.count("search_outbox").await
}

/// Polls until the change log is empty.
async fn pruned(server: &TestServer) {
    let started = Instant::now();
    while outbox_rows(server).await != 0 {
        assert!(
            started.elapsed() < DEADLINE,
            "the change log was never pruned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn each_replica_finds_what_was_written_through_the_other() {
    let Some(url) = support::postgres::fresh_database() else {
        return;
    };
    let a = replica(&url).await;
    let b = replica(&url).await;
    assert!(a.state.db.is_postgres() && b.state.db.is_postgres());
    let alice_a = a.signed_in("alice@example.org", PW).await;
    let alice_b = b.login("alice@example.org", PW).await;
    let bob_b = b.signed_in("bob@example.org", PW).await;

    // Written through A, found through B (and through A).
    say(
        &a,
        &alice_a,
        "c1",
        "m1",
        "The zeppelin hangar in Friedrichshafen",
    )
    .await;
    found_within(
        &b,
        &alice_b,
        "zeppelin",
        &["m1"],
        "written on A, searched on B",
    )
    .await;
    found_within(
        &a,
        &alice_a,
        "zeppelin",
        &["m1"],
        "written on A, searched on A",
    )
    .await;
    // Written through B, found through A: CJK, prefixes and phrases as on one server.
    say(
        &b,
        &alice_b,
        "c2",
        "m2",
        "数据库复制 keeps every replica whole",
    )
    .await;
    found_within(
        &a,
        &alice_a,
        "数据库",
        &["m2"],
        "written on B, searched on A",
    )
    .await;
    found_within(
        &b,
        &alice_b,
        "数据库",
        &["m2"],
        "written on B, searched on B",
    )
    .await;
    for (server, s) in [(&a, &alice_a), (&b, &alice_b)] {
        assert_eq!(find(server, s, "zepp").await, ["m1"]);
        assert_eq!(find(server, s, "\"zeppelin hangar\"").await, ["m1"]);
        assert!(find(server, s, "\"hangar zeppelin\"").await.is_empty());
        assert_eq!(find(server, s, "replica").await, ["m2"]);
    }
    // Someone else finds nothing of it, on either replica.
    let bob_a = a.login("bob@example.org", PW).await;
    for (server, s) in [(&a, &bob_a), (&b, &bob_b)] {
        for q in ["zeppelin", "数据库", "zepp", "replica"] {
            assert!(find(server, s, q).await.is_empty(), "bob found {q:?}");
        }
    }

    // Both passed every change: the log is pruned, and both replicas are known with a place.
    pruned(&a).await;
    assert_eq!(a.count("search_cursors").await, 2);
    // File search's "not indexed yet" reads the log from where this replica stands.
    let pending = a
        .state
        .db
        .read(|c| librechat::db::file_search::unindexed(c, &["f1".to_owned()], Default::default()))
        .await;
    assert!(!pending.expect("the query runs on PostgreSQL"));

    // B stops; what A writes meanwhile stays in the log for B, though A has it.
    let b_replica = b.state.search.as_ref().unwrap().replica().to_owned();
    let dir_b = b.stop().await;
    say(&a, &alice_a, "c1", "m3", "Quokkas smile at the camera").await;
    found_within(
        &a,
        &alice_a,
        "quokkas",
        &["m3"],
        "written on A while B was down",
    )
    .await;
    assert!(
        outbox_rows(&a).await > 0,
        "the change log was pruned past a replica that is only restarting"
    );

    // B comes back, continues from where its index stopped (no rebuild), catches up.
    let b = restarted(&url, dir_b).await;
    let search_b = b.state.search.clone().unwrap();
    assert_eq!(search_b.replica(), b_replica);
    let alice_b = b.login("alice@example.org", PW).await;
    found_within(&b, &alice_b, "quokkas", &["m3"], "restarted B catching up").await;
    assert_eq!(find(&b, &alice_b, "zeppelin").await, ["m1"]);
    assert_eq!(find(&b, &alice_b, "数据库").await, ["m2"]);
    assert_eq!(
        search_b.rebuilds(),
        0,
        "the restarted replica rebuilt its index"
    );
    pruned(&a).await;
    // Changes still flow both ways after the restart.
    say(&b, &alice_b, "c2", "m4", "Narwhals near Svalbard").await;
    found_within(&a, &alice_a, "narwhals", &["m4"], "written on restarted B").await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_replica_away_longer_than_the_log_waits_rebuilds() {
    let Some(url) = support::postgres::fresh_database() else {
        return;
    };
    let a = replica(&url).await;
    let b = replica(&url).await;
    let alice_a = a.signed_in("alice@example.org", PW).await;
    say(&a, &alice_a, "c1", "m1", "Walruses on the ice").await;
    let alice_b = b.login("alice@example.org", PW).await;
    found_within(&b, &alice_b, "walruses", &["m1"], "B before going away").await;
    let b_replica = b.state.search.as_ref().unwrap().replica().to_owned();
    let dir_b = b.stop().await;
    // B was last seen long ago: it no longer holds the log back.
    support::postgres::psql(
        &url,
        &format!("UPDATE search_cursors SET seen_at = 0 WHERE replica = '{b_replica}'"),
    );
    say(&a, &alice_a, "c1", "m2", "Puffins nest on the cliffs").await;
    found_within(&a, &alice_a, "puffins", &["m2"], "written on A").await;
    pruned(&a).await;

    let b = restarted(&url, dir_b).await;
    let alice_b = b.login("alice@example.org", PW).await;
    found_within(&b, &alice_b, "puffins", &["m2"], "B after a rebuild").await;
    assert_eq!(find(&b, &alice_b, "walruses").await, ["m1"]);
    assert_eq!(b.state.search.as_ref().unwrap().rebuilds(), 1);
    a.stop().await;
    b.stop().await;
}
