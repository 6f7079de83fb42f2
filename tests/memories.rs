//! Memories (`/api/memories`) as LibreChat answers them: what is kept, what is refused (limits,
//! keys, another person's memory, a role without the permission), and the memories reaching
//! the model in the system prompt only when `memory` personalises and the person did not opt
//! out. Real HTTP against the real server; the only fake is the OpenAI provider.

mod support;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";

async fn server(fake: Option<&FakeOpenAi>, yaml: &str) -> TestServer {
    let mut b = TestServer::builder().yaml(yaml);
    if let Some(fake) = fake {
        b = b
            .env("OPENAI_API_KEY", KEY)
            .env("OPENAI_REVERSE_PROXY", &fake.base)
            .env("OPENAI_MODELS", "gpt-4o");
    }
    b.start().await
}

/// Sends `method path` with `body`; the status and the JSON body.
async fn call(
    server: &TestServer,
    s: &Session,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let resp = server.send(method, path, &s.token, body).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn add(server: &TestServer, s: &Session, key: &str, value: &str) -> (u16, Value) {
    call(
        server,
        s,
        "POST",
        "/api/memories",
        json!({"key": key, "value": value}),
    )
    .await
}

/// Asks one question; the system message the model received (`None` when there was none).
async fn system_seen(
    server: &TestServer,
    fake: &FakeOpenAi,
    s: &Session,
    prefix: Option<&str>,
) -> Option<String> {
    let mut body = json!({"text": "Hello", "parentMessageId": ROOT, "conversationId": null,
        "model": "gpt-4o", "endpoint": "openAI"});
    if let Some(p) = prefix {
        body["promptPrefix"] = json!(p);
    }
    let last = server.chat(s, "openAI", body).await;
    assert_eq!(last["final"], true, "{last}");
    let sent = fake.last_chat();
    let first = &sent["messages"][0];
    (first["role"] == "system").then(|| first["content"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn memories_are_kept_listed_rewritten_renamed_and_forgotten() {
    let server = server(None, "version: 1.3.17\n").await;
    let s = server.signed_in("alice@example.org", PW).await;

    let (status, created) = add(&server, &s, " likes ", "  Green tea, no sugar  ").await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["created"], true);
    let memory = &created["memory"];
    assert_eq!(memory["key"], "likes");
    assert_eq!(memory["value"], "Green tea, no sugar");
    assert_eq!(memory["tokenCount"], 5);
    assert_eq!(memory["userId"], s.user["id"]);
    assert!(memory["_id"].as_str().unwrap().len() == 24);
    assert!(memory["updated_at"].as_str().unwrap().ends_with('Z'));
    add(&server, &s, "name", "Ada").await;
    let (status, again) = add(&server, &s, "name", "Grace").await;
    assert_eq!(
        (status, again),
        (
            409,
            json!({"error": "Memory with this key already exists."})
        )
    );

    let list = server.get_json("/api/memories", &s.token).await;
    assert_eq!(list["memories"].as_array().unwrap().len(), 2);
    assert_eq!(list["memories"][0]["key"], "name", "newest first");
    assert_eq!(list["totalTokens"], 5 + 1);
    assert_eq!(list["tokenLimit"], Value::Null);
    assert_eq!(list["usagePercentage"], Value::Null);
    assert_eq!(list["charLimit"], 10000);

    let (status, updated) = call(
        &server,
        &s,
        "PATCH",
        "/api/memories/likes",
        json!({"value": "Black coffee"}),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["updated"], true);
    assert_eq!(updated["memory"]["value"], "Black coffee");
    let (status, renamed) = call(
        &server,
        &s,
        "PATCH",
        "/api/memories/likes",
        json!({"key": "drinks", "value": "Black coffee"}),
    )
    .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["memory"]["key"], "drinks");
    let (status, taken) = call(
        &server,
        &s,
        "PATCH",
        "/api/memories/drinks",
        json!({"key": "name", "value": "x"}),
    )
    .await;
    assert_eq!(
        (status, taken),
        (
            409,
            json!({"error": "Memory with this key already exists."})
        )
    );

    let (status, deleted) = call(&server, &s, "DELETE", "/api/memories/drinks", Value::Null).await;
    assert_eq!((status, deleted), (200, json!({"deleted": true})));
    let (status, gone) = call(&server, &s, "DELETE", "/api/memories/drinks", Value::Null).await;
    assert_eq!((status, gone), (404, json!({"error": "Memory not found."})));
    assert_eq!(server.count("memories").await, 1);
}

#[tokio::test]
async fn another_persons_memory_is_never_found_and_never_shown() {
    let server = server(None, "version: 1.3.17\n").await;
    let (alice, bob) = server.two_users(PW).await;
    add(&server, &alice, "secret", "Alice's bank is Acme").await;

    let list = server.get_json("/api/memories", &bob.token).await;
    assert_eq!(list["memories"], json!([]));
    assert_eq!(list["totalTokens"], 0);
    for (method, body) in [
        ("PATCH", json!({"value": "stolen"})),
        ("DELETE", Value::Null),
    ] {
        let (status, answer) = call(&server, &bob, method, "/api/memories/secret", body).await;
        assert_eq!(
            (status, answer),
            (404, json!({"error": "Memory not found."})),
            "{method}"
        );
    }
    // Bob's memory of the same key is his own, apart from Alice's.
    assert_eq!(add(&server, &bob, "secret", "Bob's").await.0, 201);
    let list = server.get_json("/api/memories", &alice.token).await;
    assert_eq!(list["memories"][0]["value"], "Alice's bank is Acme");
    assert_eq!(list["memories"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn limits_and_keys_are_refused_with_librechats_errors() {
    let yaml =
        "version: 1.3.17\nmemory:\n  validKeys: [likes, name]\n  charLimit: 60\n  tokenLimit: 10\n";
    let server = server(None, yaml).await;
    let s = server.signed_in("alice@example.org", PW).await;

    let refused = |status: u16, error: &str| (status, json!({"error": error}));
    assert_eq!(
        add(&server, &s, "job", "Engineer").await,
        refused(400, "Invalid key \"job\". Must be one of: likes, name")
    );
    let long = "x".repeat(61);
    assert_eq!(
        add(&server, &s, "likes", &long).await,
        refused(
            400,
            "Value exceeds maximum length of 60 characters. Current length: 61 characters."
        )
    );
    assert_eq!(
        add(&server, &s, "Likes", "tea").await,
        refused(
            400,
            "Key must only contain lowercase letters and underscores"
        )
    );
    assert_eq!(
        add(&server, &s, "likes", "  ").await,
        refused(400, "Value is required and must be a non-empty string.")
    );
    let (status, _) = call(
        &server,
        &s,
        "POST",
        "/api/memories",
        json!({"key": 7, "value": "x"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(add(&server, &s, &"k".repeat(1001), "x").await.0, 400);

    // "one two three four five six seven" is 7 tokens: a second one passes the limit of 10.
    assert_eq!(
        add(&server, &s, "likes", "one two three four five six seven")
            .await
            .0,
        201
    );
    assert_eq!(
        add(&server, &s, "name", "eight nine ten eleven").await,
        refused(
            400,
            "Adding this memory would exceed the token limit of 10. Current usage: 7 tokens."
        )
    );
    // A rewrite counts without the value it replaces.
    let (status, _) = call(
        &server,
        &s,
        "PATCH",
        "/api/memories/likes",
        json!({"value": "one two three four five six seven eight nine"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, over) = call(
        &server,
        &s,
        "PATCH",
        "/api/memories/likes",
        json!({"value": "a b c d e f g h i j k"}),
    )
    .await;
    assert_eq!(
        (
            status,
            over["error"]
                .as_str()
                .unwrap()
                .contains("token limit of 10")
        ),
        (400, true)
    );

    let list = server.get_json("/api/memories", &s.token).await;
    assert_eq!(list["tokenLimit"], 10);
    assert_eq!(list["charLimit"], 60);
    assert_eq!(list["totalTokens"], 9);
    assert_eq!(list["usagePercentage"], 90);
    assert_eq!(
        server.count("memories").await,
        1,
        "nothing refused was stored"
    );
}

#[tokio::test]
async fn memories_reach_the_model_after_the_system_prompt() {
    let fake = FakeOpenAi::start().await;
    let server = server(
        Some(&fake),
        "version: 1.3.17\nmemory:\n  personalize: true\n",
    )
    .await;
    let s = server.signed_in("alice@example.org", PW).await;
    assert_eq!(
        system_seen(&server, &fake, &s, None).await,
        None,
        "no memories, no system message"
    );

    add(&server, &s, "name", "Her name is Ada").await;
    add(&server, &s, "likes", "Likes green tea").await;
    let today = &server.get_json("/api/memories", &s.token).await["memories"][0]["updated_at"];
    let today = &today.as_str().unwrap()[..10];
    let system = system_seen(&server, &fake, &s, Some("Answer briefly."))
        .await
        .unwrap();
    assert_eq!(
        system,
        format!(
            "Answer briefly.\n\nThe system automatically stores important user information and can update or delete \
             memories based on user requests, enabling dynamic memory management.\n\n# Existing memory about the user:\n\
             1. [{today}]. Her name is Ada\n\n2. [{today}]. Likes green tea"
        )
    );
    let alone = system_seen(&server, &fake, &s, None).await.unwrap();
    assert!(
        alone.starts_with("The system automatically stores"),
        "{alone}"
    );

    // Opting out keeps them out of every prompt; opting in again brings them back.
    let (status, answer) = call(
        &server,
        &s,
        "PATCH",
        "/api/memories/preferences",
        json!({"memories": false}),
    )
    .await;
    assert_eq!(
        (status, answer),
        (
            200,
            json!({"updated": true, "preferences": {"memories": false}})
        )
    );
    assert_eq!(
        server.get_json("/api/user", &s.token).await["personalization"]["memories"],
        false
    );
    assert_eq!(
        system_seen(&server, &fake, &s, Some("Be kind."))
            .await
            .as_deref(),
        Some("Be kind.")
    );
    call(
        &server,
        &s,
        "PATCH",
        "/api/memories/preferences",
        json!({"memories": true}),
    )
    .await;
    assert!(
        system_seen(&server, &fake, &s, None)
            .await
            .unwrap()
            .contains("Likes green tea")
    );

    let (status, bad) = call(
        &server,
        &s,
        "PATCH",
        "/api/memories/preferences",
        json!({"memories": "no"}),
    )
    .await;
    assert_eq!(
        (status, bad),
        (400, json!({"error": "memories must be a boolean value."}))
    );
}

#[tokio::test]
async fn no_memory_reaches_the_model_when_personalize_is_off_or_memory_is_not_configured() {
    let fake = FakeOpenAi::start().await;
    for yaml in [
        "version: 1.3.17\nmemory:\n  personalize: false\n",
        "version: 1.3.17\n",
    ] {
        let server = server(Some(&fake), yaml).await;
        let s = server.signed_in("alice@example.org", PW).await;
        assert_eq!(
            add(&server, &s, "name", "Her name is Ada").await.0,
            201,
            "{yaml}"
        );
        assert_eq!(
            system_seen(&server, &fake, &s, Some("Hi."))
                .await
                .as_deref(),
            Some("Hi."),
            "{yaml}"
        );
    }
}

#[tokio::test]
async fn a_role_without_the_permission_is_refused_and_gets_no_memories() {
    let fake = FakeOpenAi::start().await;
    let server = server(
        Some(&fake),
        "version: 1.3.17\nmemory:\n  personalize: true\n",
    )
    .await;
    let (admin, bob) = server.two_users(PW).await;
    add(&server, &bob, "name", "His name is Bob").await;
    let forbidden = (
        403,
        json!({"message": "Forbidden: Insufficient permissions"}),
    );
    for (permission, method, path, body) in [
        ("READ", "GET", "/api/memories", Value::Null),
        (
            "CREATE",
            "POST",
            "/api/memories",
            json!({"key": "a", "value": "b"}),
        ),
        (
            "UPDATE",
            "PATCH",
            "/api/memories/name",
            json!({"value": "b"}),
        ),
        ("UPDATE", "DELETE", "/api/memories/name", Value::Null),
        (
            "OPT_OUT",
            "PATCH",
            "/api/memories/preferences",
            json!({"memories": false}),
        ),
    ] {
        let set = |on: bool| json!({"permissions": {"MEMORIES": {permission: on}}});
        let (status, _) = call(
            &server,
            &admin,
            "PATCH",
            "/api/admin/roles/USER/permissions",
            set(false),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            call(&server, &bob, method, path, body.clone()).await,
            forbidden,
            "{method} {path}"
        );
        call(
            &server,
            &admin,
            "PATCH",
            "/api/admin/roles/USER/permissions",
            set(true),
        )
        .await;
    }
    assert!(system_seen(&server, &fake, &bob, None).await.is_some());
    // LibreChat's per-type route takes USE away.
    let (status, role) = call(
        &server,
        &admin,
        "PUT",
        "/api/roles/USER/memories",
        json!({"USE": false}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(role["permissions"]["MEMORIES"]["USE"], false);
    assert_eq!(
        system_seen(&server, &fake, &bob, None).await,
        None,
        "no USE, no memories in the prompt"
    );
    assert_eq!(server.count("memories").await, 1);
}

/// The roles list LibreChat's Memories panel reads for its permission menu (admins only).
#[tokio::test]
async fn admins_list_the_roles_for_the_panels_permission_menu() {
    let server = server(None, "version: 1.3.17\n").await;
    let (admin, bob) = server.two_users(PW).await;
    let list = server
        .get_json("/api/admin/roles?limit=200", &admin.token)
        .await;
    assert_eq!(
        list,
        json!({"roles": [{"_id": "ADMIN", "name": "ADMIN", "description": ""},
                         {"_id": "USER", "name": "USER", "description": ""}],
            "total": 2, "limit": 200, "offset": 0})
    );
    let page = server
        .get_json("/api/admin/roles?limit=x&offset=1", &admin.token)
        .await;
    assert_eq!(
        (&page["roles"][0]["name"], &page["limit"]),
        (&json!("USER"), &json!(50))
    );
    let (status, _) = call(&server, &bob, "GET", "/api/admin/roles", Value::Null).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn disabled_memory_turns_the_feature_off_everywhere() {
    let server = server(None, "version: 1.3.17\nmemory:\n  disabled: true\n").await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (status, _) = call(&server, &s, "GET", "/api/memories", Value::Null).await;
    assert_eq!(status, 403);
    assert_eq!(add(&server, &s, "name", "Ada").await.0, 403);
    let role = server.get_json("/api/roles/ADMIN", &s.token).await;
    assert_eq!(role["permissions"]["MEMORIES"]["USE"], false);
    let config = server.get_json("/api/config", &s.token).await;
    assert_eq!(config["interface"]["memories"], false);
}
