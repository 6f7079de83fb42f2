//! Full-text search against the real server: the tantivy index follows every write, answers
//! only its owner, understands phrases, prefixes, CJK and accents, treats any input as text,
//! and rebuilds itself when missing or damaged.

mod support;

use serde_json::{Value, json};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

/// Waits until the indexer has applied every change (the outbox is empty after a commit).
async fn settle(server: &TestServer) {
    for _ in 0..600 {
        if server.count("search_outbox").await == 0
            && server
                .state
                .search
                .as_ref()
                .unwrap()
                .rebuild_reason()
                .is_none()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the search index did not catch up");
}

/// Saves a message, creating its conversation first if needed.
async fn say(server: &TestServer, s: &Session, convo: &str, id: &str, text: &str) {
    let exists = server
        .get_as(&format!("/api/convos/{convo}"), &s.token)
        .await
        .status()
        == 200;
    if !exists {
        title(server, s, convo, "New Chat").await;
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

async fn title(server: &TestServer, s: &Session, convo: &str, title: &str) {
    let resp = server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": convo, "title": title}}),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
}

/// `/api/messages?search=` as (messageIds, body).
async fn find(server: &TestServer, s: &Session, q: &str) -> (Vec<String>, Value) {
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
    (ids, body)
}

#[tokio::test]
async fn messages_are_found_by_their_owner_only_with_snippets() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    let enabled: Value = server
        .get_as("/api/search/enable", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(enabled, true);
    title(&server, &alice, "a1", "Trip planning").await;
    say(
        &server,
        &alice,
        "a1",
        "am1",
        "What should I pack for <Lisbon> in November?",
    )
    .await;
    say(
        &server,
        &alice,
        "a1",
        "am2",
        "Bring a raincoat; Lisbon gets rain in November.",
    )
    .await;
    say(&server, &bob, "b1", "bm1", "Lisbon is lovely, bob says").await;
    settle(&server).await;

    let (ids, body) = find(&server, &alice, "lisbon").await;
    assert_eq!(ids, ["am1", "am2"]);
    let hit = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["messageId"] == "am1")
        .unwrap();
    assert_eq!(hit["conversationId"], "a1");
    assert_eq!(hit["title"], "Trip planning");
    assert_eq!(hit["isCreatedByUser"], true);
    assert_eq!(
        hit["snippet"],
        "What should I pack for &lt;<mark>Lisbon</mark>&gt; in November?"
    );
    assert_eq!(body["nextCursor"], Value::Null);
    // Bob finds his own message only, never Alice's.
    assert_eq!(find(&server, &bob, "lisbon").await.0, ["bm1"]);
    assert!(find(&server, &bob, "raincoat").await.0.is_empty());

    // Paging through results with the opaque cursor.
    for i in 0..5 {
        say(
            &server,
            &alice,
            "a2",
            &format!("p{i}"),
            &format!("paging test number {i}"),
        )
        .await;
    }
    settle(&server).await;
    let first: Value = server
        .get_as("/api/messages?search=paging&pageSize=3", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["messages"].as_array().unwrap().len(), 3);
    let cursor = first["nextCursor"].as_str().unwrap();
    let second: Value = server
        .get_as(
            &format!("/api/messages?search=paging&pageSize=3&cursor={cursor}"),
            &alice.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["messages"].as_array().unwrap().len(), 2);
    assert_eq!(second["nextCursor"], Value::Null);
    for bad in ["cursor=%%%", "cursor=bm9wZQ", "pageSize=0"] {
        let resp = server
            .get_as(&format!("/api/messages?search=paging&{bad}"), &alice.token)
            .await;
        assert_eq!(resp.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn phrases_prefixes_accents_and_cjk() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    say(
        &server,
        &s,
        "c",
        "en",
        "The quick brown fox jumps over the lazy dog",
    )
    .await;
    say(&server, &s, "c", "en2", "A brown quick fox is not the same").await;
    say(
        &server,
        &s,
        "c",
        "fr",
        "Un café crème à la terrasse, déjà servi",
    )
    .await;
    say(&server, &s, "c", "ja", "明日は東京タワーに行きます").await;
    say(&server, &s, "c", "zh", "我喜欢在北京吃烤鸭").await;
    say(&server, &s, "c", "ko", "서울에서 만나요").await;
    settle(&server).await;

    assert_eq!(find(&server, &s, "brown fox").await.0, ["en", "en2"]);
    assert_eq!(find(&server, &s, "\"quick brown fox\"").await.0, ["en"]);
    // The word being typed matches as a prefix; a finished word (trailing space) does not.
    assert_eq!(find(&server, &s, "laz").await.0, ["en"]);
    assert!(find(&server, &s, "laz ").await.0.is_empty());
    // Accents fold both ways.
    assert_eq!(find(&server, &s, "cafe creme").await.0, ["fr"]);
    assert_eq!(find(&server, &s, "DÉJÀ").await.0, ["fr"]);
    // CJK: substrings of unspaced text.
    let (ids, body) = find(&server, &s, "東京").await;
    assert_eq!(ids, ["ja"]);
    assert!(
        body["messages"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>東</mark><mark>京</mark>")
    );
    assert_eq!(find(&server, &s, "北京").await.0, ["zh"]);
    assert!(find(&server, &s, "京北").await.0.is_empty());
    assert_eq!(find(&server, &s, "서울").await.0, ["ko"]);
}

#[tokio::test]
async fn any_input_is_text_never_an_error() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    say(
        &server,
        &s,
        "c",
        "m1",
        "rock AND roll (live) title:stage -loud",
    )
    .await;
    settle(&server).await;
    for q in [
        "\"", "AND", "OR", "NOT", "*", "title:", "a:b", "(", ")", "[1 TO 5]", "-x", "+", "\\",
        "~2", "^3", "''", "🦀", "\u{0}",
    ] {
        let resp = server
            .get_as(
                &format!(
                    "/api/messages?search={}",
                    url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
                ),
                &s.token,
            )
            .await;
        assert_eq!(resp.status(), 200, "{q:?}");
    }
    assert_eq!(find(&server, &s, "AND").await.0, ["m1"]);
    assert_eq!(find(&server, &s, "title:stage").await.0, ["m1"]);
    assert_eq!(find(&server, &s, "(live").await.0, ["m1"]);
    assert_eq!(find(&server, &s, "roll \"").await.0, ["m1"]);
    let long = "x".repeat(600);
    let resp = server
        .get_as(&format!("/api/messages?search={long}"), &s.token)
        .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn edits_deletes_titles_and_accounts_follow_into_the_index() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    title(&server, &alice, "c1", "Gardening notes").await;
    say(&server, &alice, "c1", "m1", "tomatoes need sun").await;
    say(&server, &alice, "c2", "m2", "tomatoes again").await;
    say(&server, &bob, "b1", "bm", "tomatoes for bob").await;
    settle(&server).await;
    assert_eq!(find(&server, &alice, "tomatoes").await.0, ["m1", "m2"]);

    // An edit replaces the indexed text.
    let resp = server
        .send(
            "PUT",
            "/api/messages/c1/m1",
            &alice.token,
            json!({"text": "cucumbers need water"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    settle(&server).await;
    assert_eq!(find(&server, &alice, "tomatoes").await.0, ["m2"]);
    assert_eq!(find(&server, &alice, "cucumbers").await.0, ["m1"]);

    // Titles: /api/convos?search= and /api/search.
    let list: Value = server
        .get_as("/api/convos?search=garden", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversationId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c1"]);
    title(&server, &alice, "c1", "Kitchen notes").await;
    settle(&server).await;
    let list: Value = server
        .get_as("/api/convos?search=garden", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["conversations"].as_array().unwrap().is_empty());
    let combined: Value = server
        .get_as("/api/search?q=kitchen", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(combined["conversations"][0]["conversationId"], "c1");
    assert_eq!(combined["pageNumber"], 1);
    assert_eq!(combined["pages"], 1);
    let combined: Value = server
        .get_as("/api/search?q=tomatoes", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(combined["messages"][0]["messageId"], "m2");
    assert_eq!(combined["conversations"][0]["conversationId"], "c2");
    assert_eq!(
        server
            .get_as("/api/search?q=x&pageNumber=0", &alice.token)
            .await
            .status(),
        400
    );

    // Deleting a message, a conversation, or the whole account removes what it held.
    let resp = server
        .send(
            "DELETE",
            "/api/convos",
            &alice.token,
            json!({"arg": {"conversationId": "c2"}}),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    settle(&server).await;
    assert!(find(&server, &alice, "tomatoes").await.0.is_empty());
    let docs_before = server.state.search.as_ref().unwrap().doc_count();
    let resp = server
        .send("DELETE", "/api/user/delete", &bob.token, json!({}))
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    settle(&server).await;
    // Bob's title and message documents are gone.
    assert_eq!(
        server.state.search.as_ref().unwrap().doc_count(),
        docs_before - 2
    );
}

#[tokio::test]
async fn temporary_chats_are_not_searchable() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let resp = server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": "tmp", "isTemporary": true}}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    say(&server, &s, "tmp", "t1", "ephemeral secret").await;
    say(&server, &s, "kept", "k1", "ephemeral but kept").await;
    settle(&server).await;
    assert_eq!(find(&server, &s, "ephemeral").await.0, ["k1"]);
}

#[tokio::test]
async fn search_can_be_turned_off() {
    let server = TestServer::builder().env("SEARCH", "false").start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let enabled: Value = server
        .get_as("/api/search/enable", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(enabled, false);
    assert_eq!(
        server
            .get_as("/api/messages?search=x", &s.token)
            .await
            .status(),
        503
    );
    assert_eq!(server.get_as("/api/messages", &s.token).await.status(), 200);
}

#[tokio::test]
async fn a_missing_or_damaged_index_is_rebuilt_at_start() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    title(&server, &s, "c", "Astronomy").await;
    say(&server, &s, "c", "m1", "the andromeda galaxy").await;
    settle(&server).await;
    let dir = server.stop().await;
    let index = dir.path().join("data/search");

    // Damaged: every file of the index overwritten with garbage (the format marker aside, so
    // the damage itself is what is noticed).
    for entry in std::fs::read_dir(&index).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && !path.ends_with("librechat-search-format") {
            std::fs::write(&path, b"garbage").unwrap();
        }
    }
    let server = TestServer::builder().in_dir(dir).start().await;
    let s = server.login("alice@example.org", PW).await;
    settle(&server).await;
    assert_eq!(find(&server, &s, "andromeda").await.0, ["m1"]);
    let dir = server.stop().await;

    // Damaged segments under an intact meta.json.
    for entry in std::fs::read_dir(&index).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if path.is_file()
            && !name.starts_with("librechat-")
            && !name.starts_with("meta")
            && !name.starts_with('.')
        {
            std::fs::write(&path, b"garbage").unwrap();
        }
    }
    let server = TestServer::builder().in_dir(dir).start().await;
    let s = server.login("alice@example.org", PW).await;
    settle(&server).await;
    assert_eq!(find(&server, &s, "andromeda").await.0, ["m1"]);
    let dir = server.stop().await;

    // Missing altogether.
    std::fs::remove_dir_all(&index).unwrap();
    let server = TestServer::builder().in_dir(dir).start().await;
    let s = server.login("alice@example.org", PW).await;
    settle(&server).await;
    assert_eq!(find(&server, &s, "andromeda").await.0, ["m1"]);
    let titles: Value = server
        .get_as("/api/convos?search=astro", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles["conversations"][0]["conversationId"], "c");

    // Changes made while the server was stopped (an account deleted from the command line,
    // say) are applied at the next start: they wait in the outbox.
    let dir = server.stop().await;
    let db = librechat::db::Db::open(&dir.path().join("data/librechat.db")).unwrap();
    db.write(|c| {
        c.execute("DELETE FROM messages WHERE message_id = 'm1'", [])?;
        Ok(())
    })
    .await
    .unwrap();
    db.close().await.unwrap();
    let server = TestServer::builder().in_dir(dir).start().await;
    let s = server.login("alice@example.org", PW).await;
    settle(&server).await;
    assert!(find(&server, &s, "andromeda").await.0.is_empty());
}

#[tokio::test]
async fn reindex_from_the_command_line() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    title(&server, &s, "c", "Bread baking").await;
    say(&server, &s, "c", "m1", "sourdough starter feeding schedule").await;
    say(&server, &s, "c", "m2", "rye flour ratio").await;
    settle(&server).await;
    let dir = server.stop().await;
    std::fs::remove_dir_all(dir.path().join("data/search")).unwrap();

    let out = support::run(
        support::librechat(dir.path())
            .args(["search", "reindex"])
            .env("LIBRECHAT_DATA_DIR", dir.path().join("data")),
    );
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    // Two messages and one title.
    assert!(
        support::text(&out.stdout).contains("indexed 3 document(s)"),
        "{}",
        support::text(&out.stdout)
    );

    let server = TestServer::builder().in_dir(dir).start().await;
    // The rebuilt index is used as it is, not rebuilt again.
    assert_eq!(server.state.search.as_ref().unwrap().rebuild_reason(), None);
    let s = server.login("alice@example.org", PW).await;
    assert_eq!(find(&server, &s, "sourdough").await.0, ["m1"]);
}

#[test]
fn reindex_waits_for_the_server_to_stop() {
    let dir = tempfile::tempdir().unwrap();
    let serving = support::ServeProcess::start(support::librechat(dir.path()));
    let out = support::run(support::librechat(dir.path()).args(["search", "reindex"]));
    support::assert_clean_failure(&out, "in use");
    let (exit, log) = serving.signal_and_wait("TERM");
    assert!(exit.success(), "{log}");
    let out = support::run(support::librechat(dir.path()).args(["search", "reindex"]));
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    assert!(support::text(&out.stdout).contains("indexed 0 document(s)"));
}

#[tokio::test]
async fn the_word_being_typed_expands_to_the_searchers_own_words() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    // Bob's many words starting with "pa" must not crowd out Alice's one.
    let many: Vec<String> = (0..80).map(|i| format!("pa{i:02}")).collect();
    say(&server, &bob, "b", "bm", &many.join(" ")).await;
    say(&server, &alice, "a", "am", "a pazzle of words").await;
    settle(&server).await;
    assert_eq!(find(&server, &alice, "pa").await.0, ["am"]);
    let (ids, body) = find(&server, &alice, "paz").await;
    assert_eq!(ids, ["am"]);
    assert_eq!(
        body["messages"][0]["snippet"],
        "a <mark>pazzle</mark> of words"
    );
    assert_eq!(find(&server, &bob, "pa7").await.0, ["bm"]);
    assert!(find(&server, &bob, "pazz").await.0.is_empty());
}

#[tokio::test]
async fn with_search_off_the_change_log_is_emptied_and_a_later_start_rebuilds() {
    let server = TestServer::builder().env("SEARCH", "false").start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    say(&server, &s, "c", "m1", "written while search was off").await;
    for _ in 0..600 {
        if server.count("search_outbox").await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(server.count("search_outbox").await, 0);
    let dir = server.stop().await;
    let server = TestServer::builder().in_dir(dir).start().await;
    let s = server.login("alice@example.org", PW).await;
    settle(&server).await;
    assert_eq!(find(&server, &s, "written").await.0, ["m1"]);
}

#[tokio::test]
async fn writes_from_other_processes_are_indexed() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    settle(&server).await;
    let file = server.dir.path().join("c.json");
    let export = json!({"conversationId": "x", "title": "From the shell", "messages": [
        {"messageId": "a", "parentMessageId": null, "text": "imported nebula notes", "isCreatedByUser": true}]});
    std::fs::write(&file, serde_json::to_vec(&export).unwrap()).unwrap();
    let out = support::run(
        support::librechat(server.dir.path())
            .args(["import", "c.json", "--user", "alice@example.org"])
            .env("LIBRECHAT_DATA_DIR", server.data_dir()),
    );
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    // Nothing in this process wrote: the indexer finds the change by looking.
    settle(&server).await;
    assert_eq!(find(&server, &s, "nebula").await.0.len(), 1);
}
