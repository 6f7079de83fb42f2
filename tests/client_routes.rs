//! The routes LibreChat's web client calls on every page load, answered as LibreChat answers
//! them: favorites (stored), token config, speech config, effective permissions, and the
//! features this server does not have yet, which `/api/config` says are off and which answer
//! as LibreChat does when off or empty.

mod support;

use serde_json::{Value, json};
use support::TestServer;
use support::fake_openai::{FakeOpenAi, KEY};

const PW: &str = "correct horse battery";

#[tokio::test]
async fn favorites_are_kept_per_person_and_checked_as_librechat_does() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    assert_eq!(
        server
            .get_json("/api/user/settings/favorites", &alice.token)
            .await,
        json!([])
    );
    let favorites = json!([{"model": "gpt-4o", "endpoint": "openAI"}, {"agentId": "agent_x"}, {"spec": "fast"}]);
    let resp = server
        .send(
            "POST",
            "/api/user/settings/favorites",
            &alice.token,
            json!({ "favorites": favorites }),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), favorites);
    assert_eq!(
        server
            .get_json("/api/user/settings/favorites", &alice.token)
            .await,
        favorites
    );
    assert_eq!(
        server
            .get_json("/api/user/settings/favorites", &bob.token)
            .await,
        json!([]),
        "one person's favorites are theirs"
    );

    for (body, message) in [
        (json!({}), "Favorites data is required"),
        (json!({"favorites": "x"}), "Favorites must be an array"),
        (
            json!({"favorites": [{"model": "gpt-4o"}]}),
            "model and endpoint must be provided together",
        ),
        (
            json!({"favorites": [{"agentId": "a", "model": "m", "endpoint": "e"}]}),
            "Favorite cannot have multiple types (agentId, model/endpoint, or spec)",
        ),
        (
            json!({"favorites": [{"spec": "x".repeat(257)}]}),
            "spec exceeds maximum length of 256",
        ),
    ] {
        let resp = server
            .send("POST", "/api/user/settings/favorites", &alice.token, body)
            .await;
        assert_eq!(resp.status(), 400);
        assert_eq!(resp.json::<Value>().await.unwrap()["message"], message);
    }
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"agentId": format!("a{i}")}))
        .collect();
    let resp = server
        .send(
            "POST",
            "/api/user/settings/favorites",
            &alice.token,
            json!({ "favorites": many }),
        )
        .await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "MAX_FAVORITES_EXCEEDED");
    assert_eq!(body["limit"], 50);
    // Nothing refused was stored.
    assert_eq!(
        server
            .get_json("/api/user/settings/favorites", &alice.token)
            .await,
        favorites
    );
    assert_eq!(
        server.get("/api/user/settings/favorites").await.status(),
        401
    );
}

#[tokio::test]
async fn token_config_names_each_model_s_context_window() {
    let fake = FakeOpenAi::start().await;
    let plain = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o,mystery-model")
        .start()
        .await;
    let s = plain.signed_in("alice@example.org", PW).await;
    let config = plain
        .get_json("/api/endpoints/token-config", &s.token)
        .await;
    assert_eq!(config["openAI"]["gpt-4o"], json!({"context": 128_000}));
    assert!(config["openAI"]["mystery-model"]["context"].is_u64());
    assert_eq!(plain.get("/api/endpoints/token-config").await.status(), 401);

    // With `interface.contextCost`, prices too.
    let priced = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .yaml("version: 1.3.17\ninterface:\n  contextCost: true\n")
        .start()
        .await;
    let s = priced.signed_in("alice@example.org", PW).await;
    let config = priced
        .get_json("/api/endpoints/token-config", &s.token)
        .await;
    let gpt = &config["openAI"]["gpt-4o"];
    assert!(gpt["prompt"].as_f64().unwrap() > 0.0, "{gpt}");
    assert!(gpt["completion"].as_f64().unwrap() > gpt["prompt"].as_f64().unwrap());
}

#[tokio::test]
async fn speech_is_the_browser_s_own() {
    let server = TestServer::builder()
        .yaml("version: 1.3.17\nspeech:\n  speechTab:\n    advancedMode: true\n    speechToText:\n      engineSTT: openai\n      autoSendText: 2\n    textToSpeech: false\n")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    assert_eq!(
        server
            .get_json("/api/files/speech/config/get", &s.token)
            .await,
        json!({"sttExternal": false, "ttsExternal": false, "advancedMode": true,
               "autoSendText": 2, "textToSpeech": false})
    );
}

#[tokio::test]
async fn effective_permissions_are_none_and_unknown_types_are_refused() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    for kind in ["mcpServer", "agent", "promptGroup", "sharedLink"] {
        assert_eq!(
            server
                .get_json(&format!("/api/permissions/{kind}/effective/all"), &s.token)
                .await,
            json!({})
        );
    }
    let resp = server
        .get_as("/api/permissions/spaceship/effective/all", &s.token)
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        server
            .get("/api/permissions/agent/effective/all")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn the_config_says_the_missing_features_are_off_whatever_the_yaml_says() {
    let server = TestServer::builder()
        .yaml(
            "version: 1.3.17\ninterface:\n  agents: true\n  webSearch: true\n  bookmarks: false\n  marketplace:\n    use: true\n",
        )
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let config = server.get_json("/api/config", &s.token).await;
    let ui = &config["interface"];
    assert_eq!(ui["agents"], true, "agents are built: as the yaml says");
    assert_eq!(ui["runCode"], false, "{ui}");
    assert_eq!(ui["remoteAgents"]["use"], false, "{ui}");
    assert_eq!(ui["fileCitations"], true, "built: LibreChat's default");
    assert_eq!(ui["webSearch"], true, "built: as the yaml says");
    assert_eq!(ui["multiConvo"], true, "built: LibreChat's default");
    assert_eq!(ui["skills"], false, "{ui}");
    assert_eq!(ui["marketplace"]["use"], true, "built: as the yaml says");
    assert_eq!(ui["bookmarks"], false, "what exists still follows the yaml");
    assert_eq!(ui["presets"], true);
}

#[tokio::test]
async fn features_not_here_yet_answer_as_librechat_does_when_off_or_empty() {
    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    assert_eq!(
        server
            .get_json(
                "/api/projects?sortBy=lastConversationAt&sortDirection=desc&limit=25",
                &s.token
            )
            .await,
        json!({"projects": [], "nextCursor": null})
    );
    assert_eq!(
        server
            .get_json("/api/agents/tools/calls?conversationId=x", &s.token)
            .await,
        json!([])
    );
    let search = server
        .get_json("/api/agents/tools/web_search/auth", &s.token)
        .await;
    assert_eq!(search["authenticated"], false);
    assert_eq!(
        server
            .get_as("/api/agents/tools/execute_code/auth", &s.token)
            .await
            .status(),
        404
    );
    // The Tool Library's favorite tools: none starred yet (tests/tool_favorites.rs).
    assert_eq!(
        server
            .get_json("/api/user/settings/favorites/tools", &s.token)
            .await,
        json!([])
    );
    for path in [
        "/api/files",
        "/api/files/config",
        "/api/projects",
        "/api/files/speech/config/get",
        "/api/user/settings/favorites/tools",
    ] {
        assert_eq!(server.get(path).await.status(), 401, "{path}");
    }
}

#[tokio::test]
async fn mcp_is_refused_as_librechat_refuses_a_role_without_it() {
    // librechat.yaml takes the permission from every role.
    let server = TestServer::builder()
        .yaml("version: 1.3.17\ninterface:\n  mcpServers:\n    use: false\n")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    assert_eq!(s.user["role"], "ADMIN");
    for path in ["/api/mcp/servers", "/api/mcp/tools"] {
        let resp = server.get_as(path, &s.token).await;
        assert_eq!(resp.status(), 403, "{path}");
        assert_eq!(
            resp.json::<Value>().await.unwrap()["message"],
            "Forbidden: Insufficient permissions"
        );
        assert_eq!(server.get(path).await.status(), 401, "{path}");
    }
    // With no servers configured, a role that may use them sees none.
    let server = TestServer::builder().start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let resp = server.get_as("/api/mcp/servers", &s.token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({}));
}

/// Creates a conversation with this title through the API; returns its id.
async fn convo(server: &TestServer, token: &str, id: &str, title: &str) -> String {
    let resp = server
        .send(
            "POST",
            "/api/convos/update",
            token,
            json!({"arg": {"conversationId": id, "title": title, "endpoint": "openAI"}}),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    id.to_owned()
}

fn ids(page: &Value) -> Vec<&str> {
    page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversationId"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn pinned_chats_are_listed_on_their_own() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    convo(&server, &s.token, "c-1", "One").await;
    convo(&server, &s.token, "c-2", "Two").await;
    let resp = server
        .send(
            "POST",
            "/api/convos/pin",
            &s.token,
            json!({"arg": {"conversationId": "c-1", "pinned": true}}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["pinned"], true);
    let pinned = server
        .get_json("/api/convos?pinned=true&limit=100", &s.token)
        .await;
    assert_eq!(ids(&pinned), ["c-1"]);
    assert_eq!(
        ids(&server.get_json("/api/convos", &s.token).await).len(),
        2
    );
    for (arg, status) in [
        (json!({"conversationId": "c-1"}), 400),
        (json!({"conversationId": "c-1", "pinned": "yes"}), 400),
        (json!({"conversationId": "nope", "pinned": true}), 404),
    ] {
        let resp = server
            .send("POST", "/api/convos/pin", &s.token, json!({ "arg": arg }))
            .await;
        assert_eq!(resp.status(), status, "{arg}");
    }
}

#[tokio::test]
async fn the_archive_lists_newest_archived_first() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    for (id, title) in [("c-1", "Beta"), ("c-2", "Alpha"), ("c-3", "Gamma")] {
        convo(&server, &s.token, id, title).await;
    }
    // Archived in this order: c-2, c-1; then c-2 is touched again, which does not move it.
    for id in ["c-2", "c-1"] {
        let resp = server
            .send(
                "POST",
                "/api/convos/archive",
                &s.token,
                json!({"arg": {"conversationId": id, "isArchived": true}}),
            )
            .await;
        assert_eq!(resp.status(), 200);
    }
    server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": "c-2", "title": "Alpha 2"}}),
        )
        .await;
    // What LibreChat's client asks for its "Archived chats" table.
    let page = server
        .get_json(
            "/api/convos?isArchived=true&sortBy=archivedAt&sortDirection=desc",
            &s.token,
        )
        .await;
    assert_eq!(ids(&page), ["c-1", "c-2"]);
    assert!(page["conversations"][0]["archivedAt"].is_string());
    let by_title = server
        .get_json(
            "/api/convos?sortBy=title&sortDirection=asc&limit=1",
            &s.token,
        )
        .await;
    assert_eq!(ids(&by_title), ["c-3"], "only c-3 is not archived");
    let resp = server.get_as("/api/convos?sortBy=size", &s.token).await;
    assert_eq!(resp.status(), 400);

    // Paged by title, the cursor carries on where the page ended.
    let resp = server
        .send("POST", "/api/convos/archive/all", &s.token, json!({}))
        .await;
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"archivedCount": 1})
    );
    let first = server
        .get_json(
            "/api/convos?isArchived=true&sortBy=title&sortDirection=asc&limit=2",
            &s.token,
        )
        .await;
    assert_eq!(ids(&first), ["c-2", "c-1"]);
    let cursor = first["nextCursor"].as_str().unwrap();
    let rest = server
        .get_json(
            &format!(
                "/api/convos?isArchived=true&sortBy=title&sortDirection=asc&limit=2&cursor={cursor}"
            ),
            &s.token,
        )
        .await;
    assert_eq!(ids(&rest), ["c-3"]);
    assert!(rest["nextCursor"].is_null());
    // Unarchived, it forgets when it was archived.
    let resp = server
        .send(
            "POST",
            "/api/convos/archive",
            &s.token,
            json!({"arg": {"conversationId": "c-3", "isArchived": false}}),
        )
        .await;
    assert!(resp.json::<Value>().await.unwrap()["archivedAt"].is_null());
}

/// Sets each conversation's `created_at` and `updated_at` apart (`times[i]` minutes ago for
/// `ids[i]`), so the sidebar's order does not hang on the clock's resolution.
async fn spread_times(server: &TestServer, ids: &[&str], times: &[i64]) {
    let rows: Vec<(String, String)> = ids
        .iter()
        .zip(times)
        .map(|(id, m)| {
            let at = time::OffsetDateTime::now_utc() - time::Duration::minutes(*m);
            ((*id).to_owned(), librechat::db::to_rfc3339(at))
        })
        .collect();
    server
        .state
        .db
        .write(move |c| {
            for (id, at) in &rows {
                c.execute(
                    "UPDATE conversations SET created_at = ?2, updated_at = ?2
                     WHERE conversation_id = ?1",
                    [id, at],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// Pinning and archiving are not activity: the sidebar keeps its order and each chat its
/// `updatedAt` (LibreChat's `timestamps: false` / `preserveUpdatedAt`); a chat deleted
/// meanwhile is not brought back by archiving it.
#[tokio::test]
async fn pinning_and_archiving_leave_the_sidebar_order_alone() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    for (id, title) in [("c-1", "Oldest"), ("c-2", "Newest"), ("c-3", "Middle")] {
        convo(&server, &s.token, id, title).await;
    }
    // Not in the ids' order, which breaks ties of equal times.
    spread_times(&server, &["c-1", "c-2", "c-3"], &[30, 10, 20]).await;
    let sidebar = || async {
        let page = server.get_json("/api/convos", &s.token).await;
        let updated: Vec<String> = page["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["updatedAt"].as_str().unwrap().to_owned())
            .collect();
        let ids: Vec<String> = ids(&page).into_iter().map(String::from).collect();
        (ids, updated)
    };
    let before = sidebar().await;
    assert_eq!(before.0, ["c-2", "c-3", "c-1"]);
    let act = |path: &'static str, arg: Value| {
        let server = &server;
        let token = s.token.clone();
        async move {
            let resp = server
                .send("POST", path, &token, json!({ "arg": arg }))
                .await;
            resp.status().as_u16()
        }
    };
    assert_eq!(
        act(
            "/api/convos/pin",
            json!({"conversationId": "c-1", "pinned": true})
        )
        .await,
        200
    );
    assert_eq!(sidebar().await, before, "after a pin");
    for archived in [true, false] {
        let arg = json!({"conversationId": "c-1", "isArchived": archived});
        assert_eq!(act("/api/convos/archive", arg).await, 200);
    }
    assert_eq!(sidebar().await, before, "after archive and unarchive");

    // Archive all: one archive time for all, so the archive lists them newest created first;
    // unarchived, each goes back to its place.
    assert_eq!(act("/api/convos/archive/all", json!({})).await, 200);
    let archived = server
        .get_json(
            "/api/convos?isArchived=true&sortBy=archivedAt&sortDirection=desc&limit=2",
            &s.token,
        )
        .await;
    assert_eq!(ids(&archived), ["c-2", "c-3"]);
    let cursor = archived["nextCursor"].as_str().unwrap();
    let rest = server
        .get_json(
            &format!("/api/convos?isArchived=true&sortBy=archivedAt&sortDirection=desc&limit=2&cursor={cursor}"),
            &s.token,
        )
        .await;
    assert_eq!(ids(&rest), ["c-1"]);
    for id in ["c-1", "c-2", "c-3"] {
        let arg = json!({"conversationId": id, "isArchived": false});
        assert_eq!(act("/api/convos/archive", arg).await, 200);
    }
    assert_eq!(sidebar().await, before, "after archive all");

    // Deleted, then archived (a second tab): it stays deleted.
    let resp = server
        .send(
            "DELETE",
            "/api/convos",
            &s.token,
            json!({"arg": {"conversationId": "c-3"}}),
        )
        .await;
    assert!(resp.status().is_success());
    let arg = json!({"conversationId": "c-3", "isArchived": true});
    assert_eq!(act("/api/convos/archive", arg).await, 404);
    let archived = server
        .get_json("/api/convos?isArchived=true", &s.token)
        .await;
    assert!(ids(&archived).is_empty(), "{archived}");
    assert_eq!(sidebar().await.0, ["c-2", "c-1"]);
}

#[tokio::test]
async fn a_shared_page_reads_its_startup_config() {
    let server = TestServer::builder()
        .env("ALLOW_SHARED_LINKS_PUBLIC", "true")
        .env("APP_TITLE", "Tide Chat")
        .env("CUSTOM_FOOTER", "Be kind")
        .yaml("version: 1.3.17\ninterface:\n  privacyPolicy:\n    externalUrl: https://example.org/privacy\n")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    convo(&server, &s.token, "c-1", "Shared").await;
    server
        .send(
            "POST",
            "/api/messages/c-1",
            &s.token,
            json!({"messageId": "m-1", "text": "Hello", "isCreatedByUser": true, "sender": "User"}),
        )
        .await;
    let link: Value = server
        .send("POST", "/api/share/c-1", &s.token, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let share_id = link["shareId"].as_str().unwrap();
    // Read by someone with no account.
    let resp = server.get(&format!("/api/share/{share_id}/config")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"appTitle": "Tide Chat", "customFooter": "Be kind",
               "interface": {"privacyPolicy": {"externalUrl": "https://example.org/privacy"}}})
    );
    assert_eq!(
        server.get("/api/share/no-such-link/config").await.status(),
        404
    );
}
