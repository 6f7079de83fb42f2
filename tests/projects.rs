//! Chat projects over HTTP (`/api/projects`, and `projectId` on `/api/convos`): what LibreChat's
//! client does with them, their counts through every way a conversation changes, bad input,
//! and one user's projects kept from another.

mod support;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

async fn create(server: &TestServer, s: &Session, name: &str) -> Value {
    let resp = server
        .send("POST", "/api/projects", &s.token, json!({"name": name}))
        .await;
    assert_eq!(resp.status(), 201, "create {name}");
    resp.json().await.unwrap()
}

/// Creates (or changes) a conversation through `/api/convos/update`.
async fn convo(server: &TestServer, s: &Session, arg: Value) -> Value {
    let resp = server
        .send("POST", "/api/convos/update", &s.token, json!({"arg": arg}))
        .await;
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

/// `PUT /api/projects/conversations/{id}`: status and body.
async fn assign(server: &TestServer, s: &Session, convo: &str, project: Value) -> (u16, Value) {
    let resp = server
        .send(
            "PUT",
            &format!("/api/projects/conversations/{convo}"),
            &s.token,
            json!({"projectId": project}),
        )
        .await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn project(server: &TestServer, s: &Session, id: &str) -> Value {
    server
        .get_json(&format!("/api/projects/{id}"), &s.token)
        .await
}

/// The ids of the conversations `/api/convos` lists with this query.
async fn listed(server: &TestServer, s: &Session, query: &str) -> Vec<String> {
    let page = server
        .get_json(&format!("/api/convos?{query}"), &s.token)
        .await;
    page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversationId"].as_str().unwrap().to_owned())
        .collect()
}

fn id(v: &Value) -> String {
    v["_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn create_read_rename_and_delete_a_project_as_librechat_answers() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let created = server
        .send(
            "POST",
            "/api/projects",
            &s.token,
            json!({"name": "  Thesis  ", "description": " chapters "}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let p: Value = created.json().await.unwrap();
    let pid = id(&p);
    assert_eq!(pid.len(), 24, "an ObjectId, as the client's filter expects");
    assert_eq!(p["name"], "Thesis");
    assert_eq!(p["description"], "chapters");
    assert_eq!(p["user"], s.user["id"]);
    assert_eq!(p["conversationCount"], 0);
    assert_eq!(p["lastConversationAt"], Value::Null);
    assert_eq!(p["lastConversationId"], Value::Null);
    assert!(p["createdAt"].is_string() && p["updatedAt"].is_string());
    assert_eq!(project(&server, &s, &pid).await, p);

    let renamed: Value = server
        .send(
            "PATCH",
            &format!("/api/projects/{pid}"),
            &s.token,
            json!({"name": "Dissertation"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "Dissertation");
    assert_eq!(renamed["description"], "chapters", "kept when not sent");
    let described: Value = server
        .send(
            "PATCH",
            &format!("/api/projects/{pid}"),
            &s.token,
            json!({"description": null}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            described["name"].as_str(),
            described["description"].as_str()
        ),
        (Some("Dissertation"), Some(""))
    );

    // Deleting it lets its conversations go, unassigned, and says how many.
    convo(
        &server,
        &s,
        json!({"conversationId": "c-1", "title": "One"}),
    )
    .await;
    assert_eq!(assign(&server, &s, "c-1", json!(pid)).await.0, 200);
    let deleted = server
        .send(
            "DELETE",
            &format!("/api/projects/{pid}"),
            &s.token,
            json!({}),
        )
        .await;
    assert_eq!(deleted.status(), 200);
    assert_eq!(
        deleted.json::<Value>().await.unwrap(),
        json!({"deletedCount": 1, "modifiedCount": 1})
    );
    let gone = server
        .get_as(&format!("/api/projects/{pid}"), &s.token)
        .await;
    assert_eq!(gone.status(), 404);
    assert_eq!(
        gone.json::<Value>().await.unwrap(),
        json!({"error": "Project not found"})
    );
    let c = server.get_json("/api/convos/c-1", &s.token).await;
    assert_eq!(c["title"], "One");
    assert_eq!(c["chatProjectId"], Value::Null);
    assert_eq!(listed(&server, &s, "projectId=unassigned").await, ["c-1"]);
    let again = server
        .send(
            "DELETE",
            &format!("/api/projects/{pid}"),
            &s.token,
            json!({}),
        )
        .await;
    assert_eq!(again.status(), 404);
    assert_eq!(server.get("/api/projects").await.status(), 401);
}

#[tokio::test]
async fn assigning_moves_a_conversation_and_lists_filter_by_project() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (a, b) = (
        id(&create(&server, &s, "A").await),
        id(&create(&server, &s, "B").await),
    );
    for c in ["c-1", "c-2", "c-3"] {
        convo(&server, &s, json!({"conversationId": c, "title": c})).await;
    }
    let before = server.get_json("/api/convos/c-1", &s.token).await;
    let (status, moved) = assign(&server, &s, "c-1", json!(a)).await;
    assert_eq!(status, 200);
    assert_eq!(moved["previousProjectId"], Value::Null);
    assert_eq!(moved["projectId"], json!(a));
    assert_eq!(moved["conversation"]["chatProjectId"], json!(a));
    assert_eq!(
        moved["conversation"]["updatedAt"], before["updatedAt"],
        "filing a chat is not activity"
    );
    assign(&server, &s, "c-2", json!(a)).await;
    let (_, moved) = assign(&server, &s, "c-2", json!(b)).await;
    assert_eq!(moved["previousProjectId"], json!(a));

    assert_eq!(
        listed(&server, &s, &format!("projectId={a}")).await,
        ["c-1"]
    );
    assert_eq!(
        listed(&server, &s, &format!("projectId={b}")).await,
        ["c-2"]
    );
    assert_eq!(listed(&server, &s, "projectId=unassigned").await, ["c-3"]);
    assert_eq!(listed(&server, &s, "").await.len(), 3);
    assert_eq!(project(&server, &s, &a).await["conversationCount"], 1);
    assert_eq!(project(&server, &s, &b).await["conversationCount"], 1);

    // Out again: `null`, an empty string, or no projectId at all.
    let (status, out) = assign(&server, &s, "c-1", Value::Null).await;
    assert_eq!((status, &out["projectId"]), (200, &Value::Null));
    assert_eq!(out["previousProjectId"], json!(a));
    assert_eq!(assign(&server, &s, "c-2", json!("")).await.0, 200);
    assert_eq!(project(&server, &s, &a).await["conversationCount"], 0);
    assert_eq!(
        project(&server, &s, &a).await["lastConversationAt"],
        Value::Null
    );
    assert_eq!(listed(&server, &s, "projectId=unassigned").await.len(), 3);

    // `/api/convos/update` takes `chatProjectId` as LibreChat's `saveConvo` does.
    let c = convo(
        &server,
        &s,
        json!({"conversationId": "c-4", "chatProjectId": b}),
    )
    .await;
    assert_eq!(c["chatProjectId"], json!(b));
    let c = convo(
        &server,
        &s,
        json!({"conversationId": "c-4", "chatProjectId": null}),
    )
    .await;
    assert_eq!(c["chatProjectId"], Value::Null);
}

#[tokio::test]
async fn counts_follow_archive_delete_move_import_and_duplicate() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let p = id(&create(&server, &s, "Research").await);
    let count = |v: Value| v["conversationCount"].as_i64().unwrap();
    for c in ["c-1", "c-2", "c-3"] {
        convo(
            &server,
            &s,
            json!({"conversationId": c, "chatProjectId": p}),
        )
        .await;
    }
    let stats = project(&server, &s, &p).await;
    assert_eq!(count(stats.clone()), 3);
    assert_eq!(stats["lastConversationId"], "c-3");

    // Activity in a conversation makes it the project's latest.
    let renamed = convo(
        &server,
        &s,
        json!({"conversationId": "c-1", "title": "Now"}),
    )
    .await;
    let stats = project(&server, &s, &p).await;
    assert_eq!(stats["lastConversationId"], "c-1");
    assert_eq!(stats["lastConversationAt"], renamed["updatedAt"]);

    let archive = |c: &str, on: bool| {
        server.send(
            "POST",
            "/api/convos/archive",
            &s.token,
            json!({"arg": {"conversationId": c, "isArchived": on}}),
        )
    };
    assert_eq!(archive("c-1", true).await.status(), 200);
    let stats = project(&server, &s, &p).await;
    assert_eq!(count(stats.clone()), 2, "archived chats are not shown");
    assert_eq!(stats["lastConversationId"], "c-3");
    archive("c-1", false).await;
    assert_eq!(count(project(&server, &s, &p).await), 3);

    let del = server
        .send(
            "DELETE",
            "/api/convos",
            &s.token,
            json!({"arg": {"conversationId": "c-2"}}),
        )
        .await;
    assert!(del.status().is_success(), "{}", del.status());
    assert_eq!(count(project(&server, &s, &p).await), 2);

    // A duplicate stays in the project of the chat it copies.
    let dup = server
        .send(
            "POST",
            "/api/convos/duplicate",
            &s.token,
            json!({"conversationId": "c-3"}),
        )
        .await;
    assert_eq!(dup.status(), 201);
    let dup: Value = dup.json().await.unwrap();
    assert_eq!(dup["conversation"]["chatProjectId"], json!(p));
    assert_eq!(count(project(&server, &s, &p).await), 3);

    // An import keeps a project that is the importer's own.
    let file = json!({"conversationId": "x", "title": "Imported", "endpoint": "openAI",
        "options": {"chatProjectId": p}, "messages": [
            {"messageId": "m1", "parentMessageId": "00000000-0000-0000-0000-000000000000",
             "text": "hi", "isCreatedByUser": true}]});
    let part = reqwest::multipart::Part::bytes(serde_json::to_vec(&file).unwrap())
        .file_name("librechat.json");
    let resp = server
        .client
        .post(server.url("/api/convos/import"))
        .bearer_auth(&s.token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(count(project(&server, &s, &p).await), 4);
    assert_eq!(
        listed(&server, &s, &format!("projectId={p}")).await.len(),
        4
    );

    let all = server
        .send("DELETE", "/api/convos/all", &s.token, json!({}))
        .await;
    assert!(all.status().is_success(), "{}", all.status());
    let stats = project(&server, &s, &p).await;
    assert_eq!(
        (count(stats.clone()), &stats["lastConversationId"]),
        (0, &Value::Null)
    );
}

#[tokio::test]
async fn archive_all_and_temporary_chats_are_not_counted() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let p = id(&create(&server, &s, "Scratch").await);
    convo(
        &server,
        &s,
        json!({"conversationId": "kept", "chatProjectId": p}),
    )
    .await;
    let temp = server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": "temp", "isTemporary": true, "chatProjectId": p}}),
        )
        .await;
    assert_eq!(temp.status(), 201);
    assert_eq!(project(&server, &s, &p).await["conversationCount"], 1);
    let resp = server
        .send("POST", "/api/convos/archive/all", &s.token, json!({}))
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let stats = project(&server, &s, &p).await;
    assert_eq!(stats["conversationCount"], 0);
    assert_eq!(stats["lastConversationAt"], Value::Null);
}

#[tokio::test]
async fn a_new_chat_started_in_a_project_joins_it() {
    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .start()
        .await;
    let (alice, bob) = server.two_users(PW).await;
    let p = id(&create(&server, &alice, "Tides").await);
    let body = |project: &str| {
        json!({"text": "How do tides work?", "model": "gpt-4o", "endpoint": "openAI",
            "parentMessageId": "00000000-0000-0000-0000-000000000000",
            "messageId": uuid::Uuid::new_v4().to_string(), "chatProjectId": project})
    };
    let done = server.chat(&alice, "openAI", body(&p)).await;
    let convo_id = done["conversation"]["conversationId"].as_str().unwrap();
    assert_eq!(done["conversation"]["chatProjectId"], json!(p));
    let stats = project(&server, &alice, &p).await;
    assert_eq!(stats["conversationCount"], 1);
    assert_eq!(stats["lastConversationId"], json!(convo_id));

    // Someone else's project id in a chat puts the chat in no project.
    let done = server.chat(&bob, "openAI", body(&p)).await;
    assert_eq!(done["conversation"]["chatProjectId"], Value::Null);
    assert_eq!(project(&server, &alice, &p).await["conversationCount"], 1);
}

/// The names on one page of `/api/projects` with this query, and its next cursor.
async fn page(server: &TestServer, s: &Session, query: &str) -> (Vec<String>, Option<String>) {
    let page = server
        .get_json(&format!("/api/projects?{query}"), &s.token)
        .await;
    let names = page["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    (names, page["nextCursor"].as_str().map(str::to_owned))
}

/// Every page, following the cursors.
async fn all_pages(server: &TestServer, s: &Session, query: &str) -> Vec<String> {
    let (mut names, mut next) = page(server, s, query).await;
    while let Some(cursor) = next {
        let (more, after) = page(server, s, &format!("{query}&cursor={cursor}")).await;
        names.extend(more);
        next = after;
    }
    names
}

#[tokio::test]
async fn the_list_pages_by_latest_conversation_then_the_empty_ones() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let mut ids = Vec::new();
    for name in ["alpha", "Bravo", "charlie", "delta", "echo"] {
        ids.push(id(&create(&server, &s, name).await));
    }
    // Activity order: delta, then alpha, then Bravo (most recent); charlie and echo have none.
    for (c, p) in [("c-d", 3), ("c-a", 0), ("c-b", 1)] {
        convo(
            &server,
            &s,
            json!({"conversationId": c, "chatProjectId": ids[p]}),
        )
        .await;
    }
    let sidebar = "sortBy=lastConversationAt&sortDirection=desc&limit=2";
    let (first, cursor) = page(&server, &s, sidebar).await;
    assert_eq!(first, ["Bravo", "alpha"]);
    assert!(cursor.is_some());
    assert_eq!(
        all_pages(&server, &s, sidebar).await,
        ["Bravo", "alpha", "delta", "echo", "charlie"],
        "empty projects come last, newest first, and every page is reached"
    );
    assert_eq!(
        all_pages(&server, &s, "sortBy=name&sortDirection=asc&limit=2").await,
        ["Bravo", "alpha", "charlie", "delta", "echo"]
    );
    assert_eq!(
        all_pages(&server, &s, "sortBy=createdAt&sortDirection=asc&limit=3").await,
        ["alpha", "Bravo", "charlie", "delta", "echo"]
    );
    // The default is the sidebar's order, 25 a page.
    assert_eq!(page(&server, &s, "").await.0.len(), 5);
    // A search looks in names and descriptions, in any case; `%` and `_` are plain text.
    server
        .send(
            "PATCH",
            &format!("/api/projects/{}", ids[4]),
            &s.token,
            json!({"description": "Sound 100% ECHOES"}),
        )
        .await;
    assert_eq!(page(&server, &s, "search=ECHO").await.0, ["echo"]);
    assert_eq!(page(&server, &s, "search=100%25").await.0, ["echo"]);
    assert_eq!(
        page(&server, &s, "search=a_p").await.0,
        Vec::<String>::new()
    );
    assert_eq!(page(&server, &s, "search=r").await.0.len(), 2);
}

#[tokio::test]
async fn bad_input_gets_a_clear_400_and_changes_nothing() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let p = id(&create(&server, &s, "Kept").await);
    convo(&server, &s, json!({"conversationId": "c-1"})).await;
    let refused = |method: &'static str, path: String, body: Value| {
        let server = &server;
        let token = s.token.clone();
        async move {
            let resp = server.send(method, &path, &token, body).await;
            assert_eq!(resp.status(), 400, "{method} {path}");
            let body: Value = resp.json().await.unwrap();
            assert!(body["error"].is_string(), "{body}");
            body["error"].as_str().unwrap().to_owned()
        }
    };
    let long = "n".repeat(101);
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": 7}),
        json!({"name": long}),
        json!({"name": "two\nlines"}),
        json!({"name": "ok", "description": "d".repeat(1001)}),
        json!({"name": "ok", "description": []}),
    ] {
        refused("POST", "/api/projects".into(), body).await;
    }
    assert_eq!(
        refused("POST", "/api/projects".into(), json!({"name": " "})).await,
        "name is required"
    );
    let path = format!("/api/projects/{p}");
    for body in [
        json!({"name": ""}),
        json!({"name": null}),
        json!({"name": long}),
    ] {
        refused("PATCH", path.clone(), body).await;
    }
    assert_eq!(project(&server, &s, &p).await["name"], "Kept");
    let max = "n".repeat(100);
    let ok = server
        .send(
            "POST",
            "/api/projects",
            &s.token,
            json!({"name": max, "description": "d".repeat(1000)}),
        )
        .await;
    assert_eq!(ok.status(), 201, "the limits themselves are allowed");

    for bad in [
        "cursor=@@",
        "cursor=bm90aGluZw",
        "limit=0",
        "limit=101",
        "limit=x",
        "sortBy=owner",
        "sortDirection=up",
    ] {
        let resp = server
            .get_as(&format!("/api/projects?{bad}"), &s.token)
            .await;
        assert_eq!(resp.status(), 400, "{bad}");
    }
    let long_search = format!("/api/projects?search={}", "s".repeat(1001));
    assert_eq!(server.get_as(&long_search, &s.token).await.status(), 400);
    for bad in ["projectId=nope", "projectId=ABCDEFabcdef0123456789z0"] {
        let resp = server.get_as(&format!("/api/convos?{bad}"), &s.token).await;
        assert_eq!(resp.status(), 400, "{bad}");
        assert_eq!(
            resp.json::<Value>().await.unwrap(),
            json!({"error": "projectId must be a valid project id or unassigned"})
        );
    }
    for body in [
        json!({"projectId": 5}),
        json!({"projectId": [p]}),
        json!({"projectId": {"id": p}}),
    ] {
        refused("PUT", "/api/projects/conversations/c-1".into(), body).await;
    }
    let bad_convo = server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": "c-1", "chatProjectId": 12}}),
        )
        .await;
    assert_eq!(bad_convo.status(), 400);
    assert_eq!(
        server.get_json("/api/convos/c-1", &s.token).await["chatProjectId"],
        Value::Null
    );
    assert_eq!(project(&server, &s, &p).await["conversationCount"], 0);
}

#[tokio::test]
async fn another_users_projects_and_conversations_are_not_found() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    let mine = id(&create(&server, &alice, "Alice's").await);
    let theirs = id(&create(&server, &bob, "Bob's").await);
    convo(
        &server,
        &alice,
        json!({"conversationId": "a-1", "chatProjectId": mine}),
    )
    .await;
    convo(&server, &bob, json!({"conversationId": "b-1"})).await;

    // Bob cannot see, change or delete Alice's project, and the answers say nothing of it.
    let path = format!("/api/projects/{mine}");
    for (method, body) in [
        ("GET", Value::Null),
        ("PATCH", json!({"name": "Bob was here"})),
        ("DELETE", Value::Null),
    ] {
        let resp = server.send(method, &path, &bob.token, body).await;
        assert_eq!(resp.status(), 404, "{method}");
        assert_eq!(
            resp.json::<Value>().await.unwrap(),
            json!({"error": "Project not found"})
        );
    }
    let hers = project(&server, &alice, &mine).await;
    assert_eq!(
        (hers["name"].as_str(), hers["conversationCount"].as_i64()),
        (Some("Alice's"), Some(1))
    );
    assert_eq!(page(&server, &bob, "").await.0, ["Bob's"]);
    assert!(
        listed(&server, &bob, &format!("projectId={mine}"))
            .await
            .is_empty()
    );

    // Nobody files a conversation into another's project, or another's conversation at all.
    let (status, body) = assign(&server, &bob, "b-1", json!(mine)).await;
    assert_eq!((status, body), (404, json!({"error": "Project not found"})));
    let (status, body) = assign(&server, &bob, "a-1", json!(theirs)).await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "Conversation not found"}))
    );
    let (status, _) = assign(&server, &bob, "a-1", Value::Null).await;
    assert_eq!(
        status, 404,
        "nor take another's conversation out of its project"
    );
    assert_eq!(
        server.get_json("/api/convos/a-1", &alice.token).await["chatProjectId"],
        json!(mine)
    );
    // Through `/api/convos/update`, another's project id leaves the chat in none (LibreChat's
    // `saveConvo` drops it too).
    let c = convo(
        &server,
        &bob,
        json!({"conversationId": "b-1", "chatProjectId": mine}),
    )
    .await;
    assert_eq!(c["chatProjectId"], Value::Null);
    assert_eq!(
        project(&server, &alice, &mine).await["conversationCount"],
        1
    );
    assert_eq!(
        project(&server, &bob, &theirs).await["conversationCount"],
        0
    );
}
