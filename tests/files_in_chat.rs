//! Files on chat messages: a document uploaded, then sent with a message, reaches the model
//! as LibreChat gives it ("Attached document(s)", cut at `fileTokenLimit`), stays on the
//! message and in the history; files that are not the sender's, or past the endpoint's
//! limits, refuse the message with nothing stored.

mod support;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

async fn server(fake: &FakeOpenAi, yaml: &str) -> TestServer {
    TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o,gpt-3.5-turbo")
        .yaml(yaml)
        .start()
        .await
}

/// Uploads a text document as LibreChat's client does; returns its record.
async fn upload(server: &TestServer, s: &Session, name: &str, text: &str) -> Value {
    let (status, file) = server
        .upload(
            s,
            "/api/files",
            name,
            "text/plain",
            text.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 200, "{file}");
    file
}

/// The text of the last user turn the provider received.
fn last_user_text(fake: &FakeOpenAi) -> String {
    let chat = fake.last_chat();
    let user = chat["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .unwrap()
        .clone();
    user["content"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_document_sent_with_a_message_reaches_the_model_and_stays_on_the_message() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, "version: 1.3.17\n").await;
    let s = server.signed_in("alice@example.org", PW).await;
    let doc = upload(&server, &s, "tides.md", "High tide is at 06:12 in Brest.").await;
    let id = doc["file_id"].as_str().unwrap();
    let done = server
        .chat(
            &s,
            "openAI",
            json!({
                "text": "When is high tide?", "model": "gpt-4o",
                "files": [{"file_id": id, "filename": "ignored", "filepath": "/elsewhere", "type": "image/png"}],
            }),
        )
        .await;
    assert!(done.get("error").is_none(), "{done}");
    let sent = last_user_text(&fake);
    assert!(
        sent.starts_with(
            "Attached document(s):\n```md\n# \"tides.md\"\nHigh tide is at 06:12 in Brest."
        ),
        "{sent}"
    );
    assert!(sent.ends_with("```\nWhen is high tide?"), "{sent}");

    // The message keeps its files, as the server knows them, not as the client named them.
    let request = &done["requestMessage"];
    assert_eq!(request["files"][0]["file_id"], id);
    assert_eq!(request["files"][0]["filename"], "tides.md");
    assert_eq!(request["files"][0]["type"], "text/plain");
    let conversation = done["conversation"]["conversationId"].as_str().unwrap();
    let messages = server
        .get_json(&format!("/api/messages/{conversation}"), &s.token)
        .await;
    assert_eq!(messages[0]["files"][0]["file_id"], id);
    // The upload is now attached: it lists with its message, and the sweeper keeps it.
    let listed = server.get_json("/api/files", &s.token).await;
    assert_eq!(listed[0]["conversationId"], conversation);
    assert_eq!(listed[0]["messageId"], request["messageId"]);
    assert_eq!(listed[0]["usage"], 1);

    // The next turn still has the document in its history.
    let answer = done["responseMessage"]["messageId"].as_str().unwrap();
    server
        .chat(
            &s,
            "openAI",
            json!({"text": "And low tide?", "model": "gpt-4o", "conversationId": conversation, "parentMessageId": answer}),
        )
        .await;
    let chat = fake.last_chat();
    let history = chat["messages"].to_string();
    assert!(history.contains("High tide is at 06:12"), "{history}");
}

#[tokio::test]
async fn a_message_may_be_files_alone() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, "version: 1.3.17\n").await;
    let s = server.signed_in("alice@example.org", PW).await;
    let doc = upload(&server, &s, "list.txt", "eggs, milk").await;
    let done = server
        .chat(
            &s,
            "openAI",
            json!({"text": "", "model": "gpt-4o", "files": [{"file_id": doc["file_id"]}]}),
        )
        .await;
    assert!(done.get("error").is_none(), "{done}");
    assert!(last_user_text(&fake).contains("eggs, milk"));
}

#[tokio::test]
async fn long_documents_are_cut_at_the_file_token_limit() {
    let fake = FakeOpenAi::start().await;
    let server = server(
        &fake,
        "version: 1.3.17\nfileConfig:\n  fileTokenLimit: 100\n",
    )
    .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let long = "tide ".repeat(5_000);
    let doc = upload(&server, &s, "long.txt", &long).await;
    server
        .chat(
            &s,
            "openAI",
            json!({"text": "Summarize", "model": "gpt-4o", "files": [{"file_id": doc["file_id"]}]}),
        )
        .await;
    let sent = last_user_text(&fake);
    let words = sent.matches("tide").count();
    assert!(
        (50..=100).contains(&words),
        "{words} words of the document were sent"
    );
}

#[tokio::test]
async fn files_not_the_senders_or_past_the_limits_refuse_the_message_and_store_nothing() {
    let fake = FakeOpenAi::start().await;
    let server = server(
        &fake,
        "version: 1.3.17\nfileConfig:\n  endpoints:\n    openAI:\n      fileLimit: 1\n",
    )
    .await;
    let (alice, bob) = server.two_users(PW).await;
    let bobs = upload(&server, &bob, "bob.txt", "Bob's secret").await;
    let a1 = upload(&server, &alice, "a1.txt", "one").await;
    let a2 = upload(&server, &alice, "a2.txt", "two").await;
    let cases = [
        (
            "another account's file",
            json!([{"file_id": bobs["file_id"]}]),
            404,
        ),
        (
            "a file that does not exist",
            json!([{"file_id": uuid::Uuid::new_v4().to_string()}]),
            404,
        ),
        (
            "more files than the endpoint takes",
            json!([{"file_id": a1["file_id"]}, {"file_id": a2["file_id"]}]),
            400,
        ),
    ];
    for (what, files, status) in cases {
        let resp = server
            .send(
                "POST",
                "/api/agents/chat/openAI",
                &alice.token,
                json!({"text": "hi", "model": "gpt-4o", "files": files}),
            )
            .await;
        assert_eq!(resp.status(), status, "{what}");
        let body: Value = resp.json().await.unwrap();
        assert!(
            !body["message"].as_str().unwrap().contains("secret"),
            "{what}"
        );
    }
    assert_eq!(server.count("messages").await, 0);
    assert_eq!(server.count("conversations").await, 0);
    assert!(fake.requests().is_empty(), "nothing reached the model");
    // Bob's file is untouched by Alice's attempt.
    let his = server.get_json("/api/files", &bob.token).await;
    assert_eq!(his[0]["usage"], 0);
    assert!(his[0].get("messageId").is_none());
}

/// Uploads a small PNG as LibreChat's client does; returns its record.
async fn upload_png(server: &TestServer, s: &Session) -> Value {
    let (status, file) = server
        .upload(
            s,
            "/api/files/images",
            "dot.png",
            "image/png",
            support::png(30, 20),
        )
        .await;
    assert_eq!(status, 200, "{file}");
    file
}

#[tokio::test]
async fn images_reach_vision_models_and_a_blind_model_is_refused_clearly() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, "version: 1.3.17\n").await;
    let s = server.signed_in("alice@example.org", PW).await;
    let png = upload_png(&server, &s).await;
    let done = server
        .chat(
            &s,
            "openAI",
            json!({"text": "What colour?", "model": "gpt-4o", "imageDetail": "low", "files": [{"file_id": png["file_id"]}]}),
        )
        .await;
    assert!(done.get("error").is_none(), "{done}");
    let chat = fake.last_chat();
    let user = chat["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        user["content"][0],
        json!({"type": "text", "text": "What colour?"})
    );
    let url = user["content"][1]["image_url"]["url"].as_str().unwrap();
    assert!(
        url.starts_with("data:image/png;base64,iVBORw0KGgo"),
        "{url}"
    );
    assert_eq!(user["content"][1]["image_url"]["detail"], "low");
    assert_eq!(done["requestMessage"]["files"][0]["width"], 30);

    // A model known not to see: refused before anything is saved or sent.
    // (Compared by the last chat request: the title of the first turn may still arrive.)
    let before = (server.count("messages").await, fake.last_chat());
    let resp = server
        .send(
            "POST",
            "/api/agents/chat/openAI",
            &s.token,
            json!({"text": "And now?", "model": "gpt-3.5-turbo", "files": [{"file_id": png["file_id"]}]}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cannot see images"),
        "{body}"
    );
    assert_eq!((server.count("messages").await, fake.last_chat()), before);
}
