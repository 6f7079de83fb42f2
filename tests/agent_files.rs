//! An agent's own files (LibreChat's "File Context", `tool_resources.context`): uploaded
//! through `POST /api/files` with `agent_id` and `tool_resource` by those who may edit the
//! agent, listed by `GET /api/files/agent/:id`, given to the model in every chat with the
//! agent (to whoever may use it), and taken out by `DELETE /api/files` with the agent named.
//! What the server does not serve (code, image editing) and what it does not know are refused
//! with nothing stored.

mod support;

use serde_json::{Value, json};
use support::agents::{call, create, ids, share_with};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer, upload_form};

const PW: &str = "correct horse battery";
const TIDES: &str = "High water at Brest: 06:12 and 18:31.";

async fn server(fake: &FakeOpenAi, yaml: Option<&str>) -> TestServer {
    let mut b = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o,gpt-4o-mini");
    if let Some(y) = yaml {
        b = b.yaml(y);
    }
    b.start().await
}

/// Uploads `text` as `name` for the agent's `resource`, as LibreChat's Agent Builder does:
/// the status and the JSON body.
async fn upload(
    server: &TestServer,
    s: &Session,
    agent_id: &str,
    resource: Option<&str>,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let mut form = upload_form("agents", name, mime, bytes).text("agent_id", agent_id.to_owned());
    if let Some(r) = resource {
        form = form.text("tool_resource", r.to_owned());
    }
    server.post_form(&s.token, "/api/files", form).await
}

/// Uploads a text document to the agent's File Context; asserts it was taken, returns its id.
async fn add_context(server: &TestServer, s: &Session, agent_id: &str, name: &str) -> String {
    let bytes = TIDES.as_bytes().to_vec();
    let (status, file) = upload(
        server,
        s,
        agent_id,
        Some("context"),
        name,
        "text/plain",
        bytes,
    )
    .await;
    assert_eq!(status, 200, "{file}");
    file["file_id"].as_str().unwrap().to_owned()
}

/// Chats with the agent; the system prompt the model was given for `model`.
async fn system_seen(
    fake: &FakeOpenAi,
    server: &TestServer,
    s: &Session,
    agent_id: &str,
) -> String {
    let body = json!({"text": "When is high water?", "endpoint": "agents", "agent_id": agent_id});
    let done = server.chat(s, "agents", body).await;
    assert!(done.get("error").is_none(), "{done}");
    let asked = fake.last_chat();
    let first = &asked["messages"][0];
    match first["role"].as_str() {
        Some("system") => first["content"].as_str().unwrap().to_owned(),
        _ => String::new(),
    }
}

/// The agent as its builder reads it (`tool_resources`, `tools`).
async fn whole(server: &TestServer, s: &Session, agent_id: &str) -> Value {
    let path = format!("/api/agents/{agent_id}/expanded");
    server.get_json(&path, &s.token).await
}

async fn agent_files(server: &TestServer, s: &Session, agent_id: &str) -> Vec<Value> {
    let path = format!("/api/files/agent/{agent_id}");
    server
        .get_json(&path, &s.token)
        .await
        .as_array()
        .unwrap()
        .clone()
}

async fn remove(server: &TestServer, s: &Session, body: Value) -> (u16, Value) {
    call(server, s, "DELETE", "/api/files", body).await
}

#[tokio::test]
async fn the_author_s_context_file_is_on_the_agent_and_reaches_the_model() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let agent = create(
        &server,
        &alice,
        json!({"instructions": "Answer from the tables."}),
    )
    .await;
    let (id, _) = ids(&agent);

    let bytes = TIDES.as_bytes().to_vec();
    let (status, file) = upload(
        &server,
        &alice,
        &id,
        Some("context"),
        "tides.md",
        "text/markdown",
        bytes,
    )
    .await;
    assert_eq!(status, 200, "{file}");
    assert_eq!(
        file["message"],
        "Agent file uploaded and processed successfully"
    );
    assert_eq!(
        (file["context"].as_str(), file["source"].as_str()),
        (Some("agents"), Some("text"))
    );
    let file_id = file["file_id"].as_str().unwrap();

    // On the agent: listed for its builder, in its tool resources and tools, as a new version.
    let listed = agent_files(&server, &alice, &id).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["file_id"], file_id);
    let stored = whole(&server, &alice, &id).await;
    assert_eq!(
        stored["tool_resources"]["context"]["file_ids"],
        json!([file_id])
    );
    assert!(
        stored["tools"]
            .as_array()
            .unwrap()
            .contains(&json!("context")),
        "{stored}"
    );
    let versions = server
        .get_json(&format!("/api/agents/{id}/versions"), &alice.token)
        .await;
    assert_eq!(versions.as_array().unwrap().len(), 2);

    // In chat: after the instructions, LibreChat's block of attached documents.
    let system = system_seen(&fake, &server, &alice, &id).await;
    assert_eq!(
        system,
        format!(
            "Answer from the tables.\n\nAttached document(s):\n```md\n# \"tides.md\"\n{TIDES}\n\n```"
        )
    );
    // The legacy `ocr` resource is filed as `context`, and read the same way.
    let (status, legacy) = upload(
        &server,
        &alice,
        &id,
        Some("ocr"),
        "moon.txt",
        "text/plain",
        b"Full moon on the 12th.".to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{legacy}");
    let stored = whole(&server, &alice, &id).await;
    assert_eq!(
        stored["tool_resources"]["context"]["file_ids"],
        json!([file_id, legacy["file_id"]])
    );
    assert!(stored["tool_resources"].get("ocr").is_none(), "{stored}");
    let system = system_seen(&fake, &server, &alice, &id).await;
    assert!(
        system.contains(TIDES) && system.contains("# \"moon.txt\"\nFull moon on the 12th."),
        "{system}"
    );
}

#[tokio::test]
async fn viewers_get_the_text_editors_may_add_and_strangers_neither() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let (alice, bob) = server.two_users(PW).await;
    let carol = server.signed_in("carol@example.org", PW).await;
    let dave = server.signed_in("dave@example.org", PW).await;
    let (id, object_id) = ids(&create(&server, &alice, json!({})).await);
    let file_id = add_context(&server, &alice, &id, "tides.md").await;
    share_with(&server, &alice, &object_id, &bob, "agent_viewer").await;
    share_with(&server, &alice, &object_id, &carol, "agent_editor").await;

    // A viewer chats with the author's file, and may download it as LibreChat's client asks
    // (their own id in the path; LibreChat's `fileAccess` lets an agent's users read its
    // files); a stranger may not, by any path.
    assert!(system_seen(&fake, &server, &bob, &id).await.contains(TIDES));
    let path = |u: &Session| {
        format!(
            "/api/files/download/{}/{file_id}",
            u.user["id"].as_str().unwrap()
        )
    };
    assert_eq!(server.get_as(&path(&bob), &bob.token).await.status(), 200);
    assert_eq!(
        server.get_as(&path(&alice), &dave.token).await.status(),
        404
    );
    assert_eq!(server.get_as(&path(&dave), &dave.token).await.status(), 404);

    // A viewer may not add files, nor may a stranger (who is told the agent exists, as
    // LibreChat tells): nothing is stored.
    let (files_before, stored_before) = (server.count("files").await, server.stored_files());
    for s in [&bob, &dave] {
        let (status, body) = upload(
            &server,
            s,
            &id,
            Some("context"),
            "x.txt",
            "text/plain",
            b"mine".to_vec(),
        )
        .await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(
            body,
            json!({"error": "Forbidden", "message": "Insufficient permissions to upload files to this agent"})
        );
    }
    assert_eq!(
        (server.count("files").await, server.stored_files()),
        (files_before, stored_before)
    );
    // The stranger sees no files and cannot chat with it.
    assert!(agent_files(&server, &dave, &id).await.is_empty());
    let body = json!({"text": "hi", "endpoint": "agents", "agent_id": id});
    let resp = server
        .send("POST", "/api/agents/chat/agents", &dave.token, body)
        .await;
    assert_eq!(resp.status(), 404);

    // An editor adds one of theirs; the author's chat reads both.
    let (status, added) = upload(
        &server,
        &carol,
        &id,
        Some("context"),
        "moon.txt",
        "text/plain",
        b"Full moon on the 12th.".to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{added}");
    let system = system_seen(&fake, &server, &alice, &id).await;
    assert!(
        system.contains(TIDES) && system.contains("Full moon on the 12th."),
        "{system}"
    );
    assert_eq!(agent_files(&server, &carol, &id).await.len(), 2);
}

#[tokio::test]
async fn taking_a_file_out_needs_edit_and_the_next_chat_lacks_it() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let (alice, bob) = server.two_users(PW).await;
    let (id, object_id) = ids(&create(&server, &alice, json!({})).await);
    let file_id = add_context(&server, &alice, &id, "tides.md").await;
    share_with(&server, &alice, &object_id, &bob, "agent_viewer").await;
    let body = json!({"files": [{"file_id": file_id, "filepath": "/x"}], "agent_id": id, "tool_resource": "context"});

    let (status, refused) = remove(&server, &bob, body.clone()).await;
    assert_eq!(status, 403);
    assert_eq!(
        refused,
        json!({"message": "You can only delete files you have access to", "unauthorizedFiles": [file_id]})
    );
    assert_eq!(agent_files(&server, &alice, &id).await.len(), 1);

    let (status, done) = remove(&server, &alice, body).await;
    assert_eq!(
        (status, done),
        (
            200,
            json!({"message": "File associations removed successfully from agent"})
        )
    );
    assert!(agent_files(&server, &alice, &id).await.is_empty());
    let stored = whole(&server, &alice, &id).await;
    assert_eq!(stored["tool_resources"]["context"]["file_ids"], json!([]));
    // The file stays its owner's (LibreChat only unlinks it); the agent made no version.
    let mine = server.get_json("/api/files", &alice.token).await;
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .any(|f| f["file_id"] == file_id)
    );
    let versions = server
        .get_json(&format!("/api/agents/{id}/versions"), &alice.token)
        .await;
    assert_eq!(versions.as_array().unwrap().len(), 2);
    assert!(!system_seen(&fake, &server, &bob, &id).await.contains(TIDES));

    // Deleting a file outright takes it out of the agents that list it.
    let other = add_context(&server, &alice, &id, "again.md").await;
    let (status, _) = remove(&server, &alice, json!({"files": [{"file_id": other}]})).await;
    assert_eq!(status, 200);
    let stored = whole(&server, &alice, &id).await;
    assert_eq!(stored["tool_resources"]["context"]["file_ids"], json!([]));
}

#[tokio::test]
async fn a_document_written_since_or_deleted_is_not_given_as_an_earlier_turn_read_it() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let (id, _) = ids(&create(&server, &alice, json!({})).await);
    let file_id = add_context(&server, &alice, &id, "tides.md").await;
    for _ in 0..2 {
        assert!(
            system_seen(&fake, &server, &alice, &id)
                .await
                .contains(TIDES)
        );
    }

    // Rewritten behind the API's back, as an import or another process sharing the database
    // would: the next turn reads the new text.
    const NEAP: &str = "Neap tide this week: low water at 12:40.";
    let fid = file_id.clone();
    server
        .state
        .db
        .write(move |c| {
            let n = c.execute(
                "UPDATE files SET text = ?2, updated_at = '2099-01-01T00:00:00.000Z' WHERE file_id = ?1",
                [&fid, NEAP],
            )?;
            assert_eq!(n, 1);
            Ok(())
        })
        .await
        .unwrap();
    let system = system_seen(&fake, &server, &alice, &id).await;
    assert!(system.contains(NEAP) && !system.contains(TIDES), "{system}");

    // Deleted: gone from the next turn.
    let (status, _) = remove(&server, &alice, json!({"files": [{"file_id": file_id}]})).await;
    assert_eq!(status, 200);
    let system = system_seen(&fake, &server, &alice, &id).await;
    assert!(!system.contains(NEAP), "{system}");
}

#[tokio::test]
async fn unserved_and_unknown_resources_are_refused_with_nothing_stored() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let (id, _) = ids(&create(&server, &alice, json!({})).await);
    let text = || b"some text".to_vec();
    let cases = [
        (
            Some("image_edit"),
            403,
            "Image editing is not enabled for Agents",
        ),
        (
            Some("execute_code"),
            403,
            "Code execution is not enabled for Agents",
        ),
        (Some("bogus"), 400, "Invalid agent tool resource"),
        (None, 400, "No tool resource provided for agent file upload"),
    ];
    for (resource, want, message) in cases {
        let (status, body) = upload(
            &server,
            &alice,
            &id,
            resource,
            "a.txt",
            "text/plain",
            text(),
        )
        .await;
        assert_eq!(
            (status, body["message"].as_str()),
            (want, Some(message)),
            "{resource:?}"
        );
    }
    // An image has no text for the context (no OCR here).
    let (status, body) = upload(
        &server,
        &alice,
        &id,
        Some("context"),
        "p.png",
        "image/png",
        support::png(4, 4),
    )
    .await;
    assert_eq!(status, 415, "{body}");
    // No such agent: LibreChat's 404.
    let (status, body) = upload(
        &server,
        &alice,
        "agent_doesnotexist1234567",
        Some("context"),
        "a.txt",
        "text/plain",
        text(),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"error": "Not Found", "message": "Agent not found"})
        )
    );
    assert_eq!((server.count("files").await, server.stored_files()), (0, 0));
    let stored = whole(&server, &alice, &id).await;
    assert_eq!(
        (stored["tool_resources"].clone(), stored["tools"].clone()),
        (json!({}), json!([]))
    );

    let file = json!([{"file_id": uuid::Uuid::new_v4().to_string(), "filepath": "/x"}]);
    let (status, body) = remove(
        &server,
        &alice,
        json!({"files": file, "agent_id": id, "tool_resource": "bogus"}),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Invalid agent tool resource"))
    );
    let (status, body) = remove(
        &server,
        &alice,
        json!({"files": file, "agent_id": "agent_nope", "tool_resource": "context"}),
    )
    .await;
    assert_eq!((status, body), (404, json!({"message": "Agent not found"})));
}

#[tokio::test]
async fn ids_from_requests_never_reach_another_person_s_files() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let (alice, bob) = server.two_users(PW).await;
    let (alices, _) = ids(&create(&server, &alice, json!({})).await);
    let file_id = add_context(&server, &alice, &alices, "tides.md").await;

    // Bob names Alice's agent: refused, and her agent keeps its file.
    let (status, _) = upload(
        &server,
        &bob,
        &alices,
        Some("context"),
        "x.txt",
        "text/plain",
        b"x".to_vec(),
    )
    .await;
    assert_eq!(status, 403);
    let body =
        json!({"files": [{"file_id": file_id}], "agent_id": alices, "tool_resource": "context"});
    assert_eq!(remove(&server, &bob, body).await.0, 403);
    assert_eq!(agent_files(&server, &alice, &alices).await.len(), 1);

    // Bob names Alice's file in his own agent's File Context: not his, so not kept, and his
    // chats never read it.
    let (bobs, _) = ids(&create(
        &server,
        &bob,
        json!({"tool_resources": {"context": {"file_ids": [file_id]}}}),
    )
    .await);
    let stored = whole(&server, &bob, &bobs).await;
    assert_eq!(stored["tool_resources"]["context"]["file_ids"], json!([]));
    let body = json!({"tool_resources": {"context": {"file_ids": [file_id]}}});
    let (status, _) = call(&server, &bob, "PATCH", &format!("/api/agents/{bobs}"), body).await;
    assert_eq!(status, 200);
    assert!(
        !system_seen(&fake, &server, &bob, &bobs)
            .await
            .contains(TIDES)
    );
    // Nor do the message's own files count: another's file id in `files` is refused.
    let body = json!({"text": "hi", "endpoint": "agents", "agent_id": bobs, "files": [{"file_id": file_id}]});
    let resp = server
        .send("POST", "/api/agents/chat/agents", &bob.token, body)
        .await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
}

#[tokio::test]
async fn each_agent_of_a_chain_reads_its_own_files_while_the_capability_is_on() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let (second, _) = ids(&create(
        &server,
        &alice,
        json!({"name": "Second", "model": "gpt-4o-mini"}),
    )
    .await);
    add_context(&server, &alice, &second, "tides.md").await;
    let (first, _) = ids(&create(
        &server,
        &alice,
        json!({"name": "First", "agent_ids": [second]}),
    )
    .await);

    let body = json!({"text": "When is high water?", "endpoint": "agents", "agent_id": first});
    let done = server.chat(&alice, "agents", body).await;
    assert!(done.get("error").is_none(), "{done}");
    let systems: Vec<(String, String)> = fake
        .requests()
        .iter()
        .filter(|r| r["messages"][0]["role"] == "system")
        .map(|r| {
            (
                r["model"].as_str().unwrap().to_owned(),
                r["messages"][0]["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        systems
            .iter()
            .any(|(m, s)| m == "gpt-4o-mini" && s.contains(TIDES)),
        "{systems:?}"
    );
    assert!(
        !systems
            .iter()
            .any(|(m, s)| m == "gpt-4o" && s.contains(TIDES)),
        "{systems:?}"
    );

    // Without the `context` capability the files stay on the agent and out of the chat.
    let dir = server.stop().await;
    let yaml = "version: 1.3.17\nendpoints:\n  agents:\n    capabilities: [\"tools\", \"chain\"]\n";
    let server = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o,gpt-4o-mini")
        .yaml(yaml)
        .in_dir(dir)
        .start()
        .await;
    let alice = server.login("alice@example.org", PW).await;
    assert!(
        !system_seen(&fake, &server, &alice, &second)
            .await
            .contains(TIDES)
    );
    assert_eq!(agent_files(&server, &alice, &second).await.len(), 1);
}
