//! Files through export and import: a conversation exported with its attachments and imported
//! again keeps each message's file references, so its owner's document and image go on
//! reaching the model; the same export imported by someone else shows the references but
//! gives them nothing of the files.

mod support;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer, png};

const PW: &str = "correct horse battery";

async fn import(server: &TestServer, s: &Session, export: &Value) -> String {
    // The new conversation is the one not listed before (another may be touched meanwhile,
    // by its title arriving, and come first).
    let ids = |list: &Value| -> Vec<String> {
        list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["conversationId"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = ids(&server.get_json("/api/convos?limit=100", &s.token).await);
    let part = reqwest::multipart::Part::bytes(serde_json::to_vec(export).unwrap())
        .file_name("export.json");
    let resp = server
        .client
        .post(server.url("/api/convos/import"))
        .bearer_auth(&s.token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let after = ids(&server.get_json("/api/convos?limit=100", &s.token).await);
    after
        .into_iter()
        .find(|c| !before.contains(c))
        .expect("the imported conversation is listed")
}

/// What the provider was given as the user's turns (the fake's answers echo them).
fn user_turns(request: &Value) -> String {
    let turns: Vec<&Value> = request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .collect();
    serde_json::to_string(&turns).unwrap()
}

/// Continues a conversation from its last answer; returns the provider's request.
async fn follow_up(server: &TestServer, fake: &FakeOpenAi, s: &Session, cid: &str) -> Value {
    let messages = server
        .get_json(&format!("/api/messages/{cid}"), &s.token)
        .await;
    let answer = messages
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["isCreatedByUser"] == false)
        .unwrap()["messageId"]
        .clone();
    let done = server
        .chat(
            s,
            "openAI",
            json!({"text": "And tomorrow?", "model": "gpt-4o", "conversationId": cid, "parentMessageId": answer}),
        )
        .await;
    assert!(done.get("error").is_none(), "{done}");
    fake.last_chat()
}

#[tokio::test]
async fn an_exported_conversation_keeps_its_files_for_its_owner_only() {
    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .start()
        .await;
    let (alice, bob) = server.two_users(PW).await;
    let (status, doc) = server
        .upload(
            &alice,
            "/api/files",
            "tides.md",
            "text/markdown",
            b"High tide is at 06:12 in Brest.".to_vec(),
        )
        .await;
    assert_eq!(status, 200, "{doc}");
    let (status, image) = server
        .upload(
            &alice,
            "/api/files/images",
            "sea.png",
            "image/png",
            png(64, 48),
        )
        .await;
    assert_eq!(status, 200, "{image}");
    let done = server
        .chat(
            &alice,
            "openAI",
            json!({"text": "When is high tide?", "model": "gpt-4o",
                   "files": [{"file_id": doc["file_id"]}, {"file_id": image["file_id"]}]}),
        )
        .await;
    let cid = done["conversation"]["conversationId"].as_str().unwrap();

    // The export carries each file's reference with its message.
    let export: Value = server
        .get_as(&format!("/api/convos/{cid}/export"), &alice.token)
        .await
        .json()
        .await
        .unwrap();
    let question = export["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["isCreatedByUser"] == true)
        .unwrap();
    let files = question["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{question}");
    for (sent, kept) in [&doc, &image].into_iter().zip(files) {
        for key in ["file_id", "filename", "filepath", "type"] {
            assert_eq!(kept[key], sent[key], "{key}");
        }
    }
    assert!(
        files.iter().all(|f| f.get("text").is_none()),
        "no text in the export"
    );

    // Alice imports it: the copy's question keeps the files, and they still reach the model.
    let copy = import(&server, &alice, &export).await;
    assert_ne!(copy, cid);
    let messages = server
        .get_json(&format!("/api/messages/{copy}"), &alice.token)
        .await;
    let imported = &messages.as_array().unwrap()[0];
    assert_eq!(imported["files"][0]["file_id"], doc["file_id"]);
    assert_eq!(imported["files"][1]["filepath"], image["filepath"]);
    let sent = follow_up(&server, &fake, &alice, &copy).await;
    let history = user_turns(&sent);
    assert!(history.contains("High tide is at 06:12"), "{history}");
    assert!(
        history.contains("data:image/png;base64,"),
        "the image goes again"
    );

    // Bob imports the same export: he sees the references, and nothing of the files.
    let his = import(&server, &bob, &export).await;
    let messages = server
        .get_json(&format!("/api/messages/{his}"), &bob.token)
        .await;
    assert_eq!(messages[0]["files"][0]["file_id"], doc["file_id"]);
    let sent = follow_up(&server, &fake, &bob, &his).await;
    let history = user_turns(&sent);
    assert!(!history.contains("High tide is at 06:12"), "{history}");
    assert!(!history.contains("data:image"), "{history}");
    for path in [&doc["filepath"], &image["filepath"]] {
        let status = server
            .get_as(path.as_str().unwrap(), &bob.token)
            .await
            .status();
        assert!(status == 403 || status == 404, "{path}: {status}");
    }
}
