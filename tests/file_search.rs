//! File search over HTTP (LibreChat's `file_search` tool and `tool_resource: file_search`
//! uploads, with BM25 in the search index in place of its RAG API): an agent's documents and
//! a chat's are stored, indexed and found by the tool the model calls, only by those who may
//! see them, and forgotten with their file or their account.

mod support;

use serde_json::{Value, json};
use support::agents::{create, ids, share_with};
use support::fake_openai::{FakeOpenAi, KEY};
use support::file_search::{
    MODEL, add_to_agent, add_to_chat, chat_body, delete_account, delete_file, offered, script,
    settle, tool_results, upload_for_agent, upload_for_chat,
};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

const TIDES: &str = "# Tides\n\nHigh water at Brest: 06:12 and 18:31.\n\n# Harbour\n\n\
The harbour master answers on channel 12.";
const RECIPE: &str = "Grandmother's secret: the quince jelly sets with lemon peel.";

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

/// An agent of `s` with the file search tool; its `id` and `_id`.
async fn searching_agent(server: &TestServer, s: &Session) -> (String, String) {
    ids(&create(server, s, json!({"tools": ["file_search"]})).await)
}

/// Chats with the agent; what `file_search` answered (empty when it was not called).
async fn ask_agent(fake: &FakeOpenAi, server: &TestServer, s: &Session, agent: &str) -> String {
    let body = json!({"text": "When is high water?", "endpoint": "agents", "agent_id": agent});
    let done = server.chat(s, "agents", body).await;
    assert!(done.get("error").is_none(), "{done}");
    tool_results(fake).join("\n")
}

/// A plain chat message; the final frame.
async fn ask_chat(server: &TestServer, s: &Session, body: Value) -> Value {
    let done = server.chat(s, "openAI", body).await;
    assert!(done.get("error").is_none(), "{done}");
    done
}

#[tokio::test]
async fn an_agent_s_document_is_indexed_and_found_by_whoever_may_use_the_agent() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let (alice, bob) = server.two_users(PW).await;
    let (id, object_id) = searching_agent(&server, &alice).await;
    let file_id = add_to_agent(&server, &alice, &id, "tides.md", TIDES).await;

    // The file is on the agent's file search resource, in a new version of the agent.
    let agent = server
        .get_json(&format!("/api/agents/{id}/expanded"), &alice.token)
        .await;
    assert_eq!(
        agent["tool_resources"]["file_search"]["file_ids"],
        json!([file_id]),
        "{agent}"
    );
    let versions = server
        .get_json(&format!("/api/agents/{id}/versions"), &alice.token)
        .await;
    assert_eq!(versions.as_array().map(Vec::len), Some(2), "{versions}");

    settle(&server).await;
    script(&fake, "high water Brest");
    let found = ask_agent(&fake, &server, &alice, &id).await;
    assert!(found.starts_with("File: tides.md\n"), "{found}");
    assert!(found.contains("Relevance: 1.0000"), "{found}");
    assert!(found.contains("Content: # Tides"), "{found}");
    assert!(found.contains("06:12 and 18:31"), "{found}");
    // The system prompt names the files it searches, as LibreChat's does.
    let system = fake.last_chat()["messages"][0]["content"].to_string();
    assert!(
        system.contains(
            "Use the file_search tool to find relevant information within:\\n\\t- tides.md"
        ),
        "{system}"
    );

    // Shared with Bob, the agent searches its own files for him too.
    share_with(&server, &alice, &object_id, &bob, "agent_viewer").await;
    let found = ask_agent(&fake, &server, &bob, &id).await;
    assert!(found.contains("06:12 and 18:31"), "{found}");
}

#[tokio::test]
async fn a_chat_s_document_is_searched_with_the_toggle_in_its_conversation() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let file_id = add_to_chat(&server, &alice, "recipes.txt", RECIPE).await;
    settle(&server).await;
    script(&fake, "quince jelly");

    let done = ask_chat(&server, &alice, chat_body("How?", None, &[&file_id], true)).await;
    assert!(offered(&fake).contains(&"file_search".to_owned()));
    let found = tool_results(&fake).join("\n");
    assert!(found.starts_with("File: recipes.txt\n"), "{found}");
    let system = fake.last_chat()["messages"][0]["content"].to_string();
    assert!(
        system.contains("recipes.txt (just attached by user)"),
        "{system}"
    );
    assert!(found.contains(RECIPE), "{found}");
    // Searched, not given whole: the model did not read the file as an attachment.
    let asked = fake.last_chat().to_string();
    assert_eq!(
        asked.matches("lemon peel").count(),
        1,
        "only in the tool's result"
    );

    // Later messages of the conversation search it too, without naming it again.
    let convo = done["conversation"]["conversationId"].as_str().unwrap();
    ask_chat(&server, &alice, chat_body("And?", Some(convo), &[], true)).await;
    assert!(tool_results(&fake).join("\n").contains(RECIPE));

    // Without the toggle the tool is not offered.
    ask_chat(&server, &alice, chat_body("And?", Some(convo), &[], false)).await;
    assert!(!offered(&fake).contains(&"file_search".to_owned()));
}

#[tokio::test]
async fn nobody_finds_another_person_s_files_also_through_a_shared_agent() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let (alice, bob) = server.two_users(PW).await;
    let (id, object_id) = searching_agent(&server, &alice).await;
    add_to_agent(&server, &alice, &id, "tides.md", TIDES).await;
    let alices = add_to_chat(&server, &alice, "recipes.txt", RECIPE).await;
    // Alice's chat file is in her conversation with the agent.
    let body = json!({"text": "hi", "endpoint": "agents", "agent_id": id,
                      "files": [{"file_id": alices}]});
    let done = server.chat(&alice, "agents", body).await;
    let convo = done["conversation"]["conversationId"]
        .as_str()
        .unwrap()
        .to_owned();
    share_with(&server, &alice, &object_id, &bob, "agent_viewer").await;
    settle(&server).await;

    // Bob may not name Alice's file in his chat; without it he has nothing to search.
    script(&fake, "quince jelly lemon");
    let resp = server
        .send(
            "POST",
            "/api/agents/chat/openAI",
            &bob.token,
            chat_body("How?", None, &[&alices], true),
        )
        .await;
    assert_eq!(resp.status(), 404);
    ask_chat(&server, &bob, chat_body("How?", None, &[], true)).await;
    let found = tool_results(&fake).join("\n");
    assert!(found.starts_with("No files to search"), "{found}");
    // Through her shared agent he searches the agent's files, never her chat's.
    let body = json!({"text": "hi", "endpoint": "agents", "agent_id": id});
    server.chat(&bob, "agents", body).await;
    let found = tool_results(&fake).join("\n");
    assert!(!found.contains("quince"), "{found}");
    // While Alice finds hers, in her conversation.
    let body = json!({"text": "again", "endpoint": "agents", "agent_id": id,
                      "conversationId": convo});
    server.chat(&alice, "agents", body).await;
    assert!(tool_results(&fake).join("\n").contains("quince"));
}

#[tokio::test]
async fn the_role_permission_and_the_capability_decide_whether_it_is_offered() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let (alice, bob) = server.two_users(PW).await;
    let file_id = add_to_chat(&server, &bob, "recipes.txt", RECIPE).await;
    support::agents::set_user_role(&server, &alice, json!({"FILE_SEARCH": {"USE": false}})).await;
    ask_chat(&server, &bob, chat_body("How?", None, &[&file_id], true)).await;
    assert!(!offered(&fake).contains(&"file_search".to_owned()));

    // With the capability off, uploads for file search are refused, nothing stored.
    let yaml =
        "version: 1.2.1\nendpoints:\n  agents:\n    capabilities: [\"context\", \"tools\"]\n";
    let off = self::server(&fake, Some(yaml)).await;
    let carol = off.signed_in("carol@example.org", PW).await;
    let (status, body) =
        upload_for_chat(&off, &carol, "a.txt", "text/plain", b"text".to_vec()).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (403, Some("File search is not enabled for Agents"))
    );
    let (id, _) = searching_agent(&off, &carol).await;
    let (status, _) =
        upload_for_agent(&off, &carol, &id, "a.txt", "text/plain", b"text".to_vec()).await;
    assert_eq!(status, 403);
    assert_eq!(off.count("files").await, 0);
    // And an image is no document to search.
    let (status, body) =
        upload_for_chat(&server, &bob, "p.png", "image/png", support::png(4, 4)).await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(
        body["message"],
        "Image uploads are not supported for file search tool resources"
    );
}

/// The chunks the index holds for `file_id` that answer `query`.
async fn chunks_of(server: &TestServer, file_id: &str, query: &str) -> usize {
    let index = server.state.search.clone().unwrap();
    let (ids, q) = (vec![file_id.to_owned()], query.to_owned());
    tokio::task::spawn_blocking(move || index.search_files(&ids, &q, 10).unwrap().len())
        .await
        .unwrap()
}

#[tokio::test]
async fn deleting_the_file_or_the_account_takes_its_chunks_out_and_a_rebuild_keeps_them() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let (alice, bob) = server.two_users(PW).await;
    let kept = add_to_chat(&server, &alice, "recipes.txt", RECIPE).await;
    let gone = add_to_chat(&server, &alice, "tides.txt", TIDES).await;
    let bobs = add_to_chat(&server, &bob, "bob.txt", RECIPE).await;
    settle(&server).await;
    assert_eq!(chunks_of(&server, &kept, "quince").await, 1);
    assert_eq!(chunks_of(&server, &gone, "brest").await, 1);

    delete_file(&server, &alice, &gone).await;
    settle(&server).await;
    assert_eq!(chunks_of(&server, &gone, "brest").await, 0);
    assert_eq!(chunks_of(&server, &kept, "quince").await, 1);

    // A rebuild (what `librechat search reindex` runs) indexes the chunks again.
    let index = server.state.search.clone().unwrap();
    let done = server
        .state
        .db
        .read(move |c| {
            index
                .rebuild(c, &|_| {})
                .map_err(|e| librechat::db::DbError::Io(e.to_string()))
        })
        .await
        .unwrap();
    assert!(done.documents >= 2, "{done:?}");
    assert_eq!(chunks_of(&server, &kept, "quince").await, 1);
    assert_eq!(chunks_of(&server, &gone, "brest").await, 0);

    // Bob's account goes, and his chunks with it.
    delete_account(&server, &bob).await;
    settle(&server).await;
    assert_eq!(chunks_of(&server, &bobs, "quince").await, 0);
    assert_eq!(chunks_of(&server, &kept, "quince").await, 1);
}

#[tokio::test]
async fn cjk_and_accented_documents_are_found_by_their_words() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let text = "会議は東京で開かれます。\n\n次の会議は大阪です。\n\nLe café est fermé le lundi.";
    let file_id = add_to_chat(&server, &alice, "notes.txt", text).await;
    settle(&server).await;
    for query in ["東京", "cafe ferme", "CAFÉ"] {
        assert_eq!(chunks_of(&server, &file_id, query).await, 1, "{query}");
    }
    // Word and PDF documents (made by Word-compatible tools and Chromium) are read and cut
    // as uploads for the model are; the PDF's chunks carry their page.
    for (name, mime) in [
        (
            "report.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("report.pdf", "application/pdf"),
    ] {
        let bytes = std::fs::read(format!(
            "{}/tests/fixtures/documents/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let (status, file) = upload_for_chat(&server, &alice, name, mime, bytes).await;
        assert_eq!(status, 200, "{file}");
        settle(&server).await;
        let id = file["file_id"].as_str().unwrap().to_owned();
        let index = server.state.search.clone().unwrap();
        let hits = tokio::task::spawn_blocking(move || {
            index.search_files(&[id], "resume cafe zurich", 5).unwrap()
        })
        .await
        .unwrap();
        assert!(hits[0].text.contains("Zürich"), "{name}: {hits:?}");
        assert_eq!(hits[0].page.is_some(), name.ends_with(".pdf"), "{name}");
    }
    script(&fake, "東京の会議");
    ask_chat(&server, &alice, chat_body("どこ?", None, &[&file_id], true)).await;
    assert!(tool_results(&fake).join("\n").contains("東京で開かれます"));
    let _ = MODEL;
}

#[tokio::test]
async fn chunks_survive_a_restart_and_the_command_line_reindex_rebuilds_them() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    // Stopped right after the upload answered: whatever the indexer had not applied is
    // still in the outbox, and applied after the next start.
    let file_id = add_to_chat(&server, &alice, "recipes.txt", RECIPE).await;
    let dir = server.stop().await;
    let server = TestServer::builder().in_dir(dir).start().await;
    settle(&server).await;
    assert_eq!(chunks_of(&server, &file_id, "quince").await, 1);

    let dir = server.stop().await;
    std::fs::remove_dir_all(dir.path().join("data/search")).unwrap();
    let out = support::run(
        support::librechat(dir.path())
            .args(["search", "reindex"])
            .env("LIBRECHAT_DATA_DIR", dir.path().join("data")),
    );
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    let said = support::text(&out.stdout);
    assert!(said.contains("file chunks"), "{said}");
    let server = TestServer::builder().in_dir(dir).start().await;
    assert_eq!(server.state.search.as_ref().unwrap().rebuild_reason(), None);
    assert_eq!(chunks_of(&server, &file_id, "quince").await, 1);
}

#[tokio::test]
async fn an_agent_chained_to_searches_its_own_files() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let body = json!({"name": "Second", "model": "gpt-4o-mini", "tools": ["file_search"]});
    let (second, _) = ids(&create(&server, &alice, body).await);
    add_to_agent(&server, &alice, &second, "tides.md", TIDES).await;
    let (first, _) = ids(&create(&server, &alice, json!({"agent_ids": [second]})).await);
    settle(&server).await;
    fake.script(
        "gpt-4o-mini",
        support::fake_tools::ToolScript::calls([("file_search", json!({"query": "Brest"}))]),
    );

    let body = json!({"text": "When is high water?", "endpoint": "agents", "agent_id": first});
    let done = server.chat(&alice, "agents", body).await;
    assert!(done.get("error").is_none(), "{done}");
    let requests = fake.requests();
    let offered_to = |model: &str| {
        requests
            .iter()
            .any(|r| r["model"] == model && r["tools"].to_string().contains("\"file_search\""))
    };
    assert!(offered_to("gpt-4o-mini") && !offered_to("gpt-4o"));
    let results: Vec<String> = requests
        .iter()
        .filter(|r| r["model"] == "gpt-4o-mini")
        .flat_map(|r| r["messages"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].to_string())
        .collect();
    assert!(
        results.iter().any(|r| r.contains("06:12 and 18:31")),
        "{results:?}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_at_upload_or_answered_plainly_by_the_tool() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    // Binary content is no document to search: refused, nothing stored.
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    let (status, body) = upload_for_chat(
        &server,
        &alice,
        "blob.bin",
        "application/octet-stream",
        binary,
    )
    .await;
    assert!(status == 415 || status == 422, "{status} {body}");
    assert_eq!(server.count("files").await, 0);

    let file_id = add_to_chat(&server, &alice, "recipes.txt", RECIPE).await;
    settle(&server).await;
    let long = "quince ".repeat(20_000);
    for (query, want) in [
        ("   ", "the query is empty"),
        ("?!…", "No content found in the files"),
        ("nothing matches this", "No content found in the files"),
        (long.as_str(), RECIPE),
    ] {
        script(&fake, query);
        ask_chat(&server, &alice, chat_body("How?", None, &[&file_id], true)).await;
        let found = tool_results(&fake).join("\n");
        assert!(found.contains(want), "{query:.20}: {found}");
    }
}
