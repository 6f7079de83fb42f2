//! Importing conversations over HTTP and from the command line: ChatGPT (every branch),
//! Claude, LibreChat (flat and nested), the export → import round trip, and the files that
//! must be refused without storing anything.

mod support;

use serde_json::{Value, json};
use support::{Session, TestServer, librechat, run, text};

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";

async fn upload(server: &TestServer, s: &Session, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    server.post_form(&s.token, "/api/convos/import", form).await
}

fn chatgpt_convo(title: &str) -> Value {
    json!({
        "title": title, "create_time": 1700000000.0, "update_time": 1700000500.0,
        "current_node": "a2", "conversation_id": "gpt-1",
        "mapping": {
            "root": {"id": "root", "message": null, "parent": null, "children": ["sys"]},
            "sys": {"id": "sys", "parent": "root", "children": ["u"],
                "message": {"id": "sys", "author": {"role": "system"}, "content": {"content_type": "text", "parts": [""]},
                    "metadata": {"is_visually_hidden_from_conversation": true}}},
            "u": {"id": "u", "parent": "sys", "children": ["a1", "a2"],
                "message": {"id": "u", "author": {"role": "user"}, "create_time": 1700000001.5,
                    "content": {"content_type": "text", "parts": ["How do tides work?"]}}},
            "a1": {"id": "a1", "parent": "u", "children": ["u2"],
                "message": {"id": "a1", "author": {"role": "assistant"}, "create_time": 1700000002.0,
                    "content": {"content_type": "text", "parts": ["The moon pulls the oceans."]},
                    "metadata": {"model_slug": "gpt-4o"}}},
            "u2": {"id": "u2", "parent": "a1", "children": [],
                "message": {"id": "u2", "author": {"role": "user"}, "create_time": 1700000003.0,
                    "content": {"content_type": "text", "parts": ["And the sun?"]}}},
            "a2": {"id": "a2", "parent": "u", "children": [],
                "message": {"id": "a2", "author": {"role": "assistant"}, "create_time": 1700000004.0,
                    "content": {"content_type": "text", "parts": ["Gravity, mostly from the moon."]},
                    "metadata": {"model_slug": "gpt-4o"}}}
        }
    })
}

/// The user's conversations (newest first) as (id, title).
async fn conversations(server: &TestServer, s: &Session) -> Vec<(String, String)> {
    let list: Value = server
        .get_as("/api/convos?limit=100", &s.token)
        .await
        .json()
        .await
        .unwrap();
    list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["conversationId"].as_str().unwrap().to_owned(),
                c["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn messages(server: &TestServer, s: &Session, id: &str) -> Vec<Value> {
    server
        .get_as(&format!("/api/messages/{id}"), &s.token)
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()
}

/// The tree as (text, parent's text) pairs, sorted: ids differ between copies, shapes must not.
fn shape(messages: &[Value]) -> Vec<(String, String)> {
    let text_of = |id: &str| {
        messages.iter().find(|m| m["messageId"] == id).map_or_else(
            || "<root>".to_owned(),
            |m| m["text"].as_str().unwrap().to_owned(),
        )
    };
    let mut out: Vec<(String, String)> = messages
        .iter()
        .map(|m| {
            (
                m["text"].as_str().unwrap().to_owned(),
                text_of(m["parentMessageId"].as_str().unwrap()),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn chatgpt_exports_keep_every_branch() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let file = serde_json::to_vec(&json!([
        chatgpt_convo("Tides"),
        chatgpt_convo("Tides again")
    ]))
    .unwrap();
    let (status, report) = upload(&server, &s, "conversations.json", file).await;
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["conversations"], 2);
    assert_eq!(report["messages"], 8);
    assert_eq!(report["formats"], json!(["ChatGPT"]));
    assert!(report["skipped"].as_array().unwrap().is_empty());

    let convos = conversations(&server, &s).await;
    assert_eq!(convos.len(), 2);
    let (id, _) = convos.iter().find(|(_, t)| t == "Tides").unwrap();
    let all = messages(&server, &s, id).await;
    assert_eq!(
        shape(&all),
        [
            ("And the sun?".into(), "The moon pulls the oceans.".into()),
            (
                "Gravity, mostly from the moon.".into(),
                "How do tides work?".into()
            ),
            ("How do tides work?".into(), "<root>".into()),
            (
                "The moon pulls the oceans.".into(),
                "How do tides work?".into()
            ),
        ]
    );
    let user_msg = all
        .iter()
        .find(|m| m["text"] == "How do tides work?")
        .unwrap();
    assert_eq!(user_msg["isCreatedByUser"], true);
    assert_eq!(user_msg["parentMessageId"], ROOT);
    assert_eq!(user_msg["createdAt"], "2023-11-14T22:13:21.500Z");
    let answer = all
        .iter()
        .find(|m| m["text"] == "The moon pulls the oceans.")
        .unwrap();
    assert_eq!(answer["sender"], "gpt-4o");
    assert_eq!(answer["endpoint"], "openAI");
    // Imported conversations are not the file's ids: importing twice makes two copies.
    assert_ne!(id, "gpt-1");
    let convo: Value = server
        .get_as(&format!("/api/convos/{id}"), &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(convo["endpoint"], "openAI");
    assert_eq!(convo["model"], "gpt-4o");
}

#[tokio::test]
async fn claude_exports_and_mixed_good_and_bad_conversations() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let claude = json!({"uuid": "c1", "name": "Poems", "created_at": "2024-05-01T10:00:00.000000Z",
    "updated_at": "2024-05-01T10:05:00.000000Z", "account": {"uuid": "acct"},
    "chat_messages": [
        {"uuid": "m1", "sender": "human", "text": "A haiku about rain", "created_at": "2024-05-01T10:00:01.000000Z", "attachments": [], "files": []},
        {"uuid": "m2", "sender": "assistant", "text": "", "created_at": "2024-05-01T10:00:02.000000Z",
         "content": [{"type": "thinking", "thinking": "five seven five"}, {"type": "text", "text": "Soft rain on the roof"}]}
    ]});
    let looped = json!({"uuid": "c2", "name": "Broken", "chat_messages": [
        {"uuid": "x", "sender": "human", "text": "one", "parent_message_uuid": "y"},
        {"uuid": "y", "sender": "assistant", "text": "two", "parent_message_uuid": "x"}]});
    let file = serde_json::to_vec(&json!([claude, looped, {"something": "else"}])).unwrap();
    let (status, report) = upload(&server, &s, "conversations.json", file).await;
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["conversations"], 1);
    assert_eq!(report["messages"], 2);
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2);
    assert_eq!(skipped[0]["index"], 2);
    assert_eq!(skipped[0]["title"], "Broken");
    assert!(
        skipped[0]["reason"].as_str().unwrap().contains("loop"),
        "{report}"
    );
    assert!(
        skipped[1]["reason"]
            .as_str()
            .unwrap()
            .contains("not a ChatGPT"),
        "{report}"
    );

    let convos = conversations(&server, &s).await;
    assert_eq!(convos.len(), 1);
    let all = messages(&server, &s, &convos[0].0).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["parentMessageId"], all[0]["messageId"]);
    assert_eq!(all[1]["text"], "Soft rain on the roof");
    assert_eq!(
        all[1]["content"][0],
        json!({"type": "think", "think": "five seven five"})
    );
    assert_eq!(all[1]["sender"], "Claude");
}

#[tokio::test]
async fn export_then_import_gives_the_same_tree() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    server
        .send("POST", "/api/convos/update", &s.token, json!({"arg": {"conversationId": "orig", "title": "Branchy", "endpoint": "openAI", "model": "gpt-4o", "temperature": 0.3}}))
        .await;
    for (m, parent, user) in [
        ("a", ROOT, true),
        ("b", "a", false),
        ("b2", "a", false),
        ("c", "b", true),
        ("d", "c", false),
    ] {
        let resp = server
            .send("POST", "/api/messages/orig", &s.token, json!({"messageId": m, "parentMessageId": parent, "text": format!("text {m}"), "isCreatedByUser": user, "sender": if user { "User" } else { "GPT-4o" }}))
            .await;
        assert_eq!(resp.status(), 201);
    }
    let exported = server
        .get_as("/api/convos/orig/export", &s.token)
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let (status, report) = upload(&server, &s, "orig.json", exported).await;
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["formats"], json!(["LibreChat"]));
    assert_eq!(report["messages"], 5);
    let copy = conversations(&server, &s)
        .await
        .into_iter()
        .find(|(id, _)| id != "orig")
        .unwrap();
    assert_eq!(copy.1, "Branchy");
    assert_eq!(
        shape(&messages(&server, &s, &copy.0).await),
        shape(&messages(&server, &s, "orig").await)
    );
    let convo: Value = server
        .get_as(&format!("/api/convos/{}", copy.0), &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(convo["model"], "gpt-4o");
    assert_eq!(convo["temperature"], 0.3);

    // LibreChat's nested form imports to the same tree.
    let nested = json!({"conversationId": "n", "title": "Nested", "endpoint": "openAI", "recursive": true, "messages": [
        {"messageId": "a", "parentMessageId": ROOT, "text": "text a", "isCreatedByUser": true, "children": [
            {"messageId": "b", "parentMessageId": "a", "text": "text b", "children": [
                {"messageId": "c", "parentMessageId": "b", "text": "text c", "isCreatedByUser": true, "children": [
                    {"messageId": "d", "parentMessageId": "c", "text": "text d", "children": []}]}]},
            {"messageId": "b2", "parentMessageId": "a", "text": "text b2", "children": []}]}]});
    let (status, report) = upload(
        &server,
        &s,
        "nested.json",
        serde_json::to_vec(&nested).unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{report}");
    let nested_copy = conversations(&server, &s)
        .await
        .into_iter()
        .find(|(_, t)| t == "Nested")
        .unwrap();
    assert_eq!(
        shape(&messages(&server, &s, &nested_copy.0).await),
        shape(&messages(&server, &s, "orig").await)
    );
}

#[tokio::test]
async fn bad_files_are_refused_and_nothing_partial_is_stored() {
    let server = TestServer::builder()
        .env("CONVERSATION_IMPORT_MAX_FILE_SIZE_BYTES", "4096")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let good = serde_json::to_vec(&json!([chatgpt_convo("One"), chatgpt_convo("Two")])).unwrap();
    let truncated = good[..good.len() - 40].to_vec();
    let missing_parent = serde_json::to_vec(
        &json!({"conversationId": "x", "title": "Orphans", "messages": [
        {"messageId": "a", "parentMessageId": ROOT, "text": "hi"},
        {"messageId": "b", "parentMessageId": "nowhere", "text": "lost"}]}),
    )
    .unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "empty"),
        ("truncated", truncated, "not complete, valid JSON"),
        (
            "not json",
            b"hello, world".to_vec(),
            "not complete, valid JSON",
        ),
        (
            "trailing garbage",
            b"[] []".to_vec(),
            "not complete, valid JSON",
        ),
        ("a number", b"42".to_vec(), "not a conversation export"),
        ("no conversations", b"[]".to_vec(), "no conversations"),
        (
            "chatbot-ui",
            br#"{"history": [], "folders": []}"#.to_vec(),
            "Nothing was imported",
        ),
        ("missing parent", missing_parent, "nowhere"),
        ("too large", vec![b' '; 5000], "import limit"),
    ];
    for (name, bytes, needle) in cases {
        let (status, body) = upload(&server, &s, "f.json", bytes).await;
        let expected = if name == "too large" { 413 } else { 400 };
        assert_eq!(status, expected, "{name}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{name}: {body}"
        );
    }
    assert_eq!(server.count("conversations").await, 0);
    assert_eq!(server.count("messages").await, 0);
    // Not multipart, no file field.
    let resp = server
        .send("POST", "/api/convos/import", &s.token, json!({"file": "x"}))
        .await;
    assert_eq!(resp.status(), 400);
    let form = reqwest::multipart::Form::new().text("other", "x");
    let resp = server
        .client
        .post(server.url("/api/convos/import"))
        .bearer_auth(&s.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // Needs an account.
    let resp = server
        .client
        .post(server.url("/api/convos/import"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // The uploads did not stay behind.
    let tmp = server.data_dir().join("tmp");
    assert!(!tmp.exists() || std::fs::read_dir(&tmp).unwrap().next().is_none());
}

#[tokio::test]
async fn imports_are_rate_limited() {
    let server = TestServer::builder()
        .env("LIMIT_IMPORT_USER", "true")
        .yaml("version: 1.2.8\nrateLimits:\n  conversationsImport:\n    ipMax: 100\n    userMax: 2\n    userWindowInMinutes: 5\n")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let file = serde_json::to_vec(&json!([chatgpt_convo("One")])).unwrap();
    for _ in 0..2 {
        assert_eq!(upload(&server, &s, "c.json", file.clone()).await.0, 201);
    }
    let (status, body) = upload(&server, &s, "c.json", file).await;
    assert_eq!(status, 429, "{body}");
    assert!(body["message"].as_str().unwrap().contains("import"));
}

#[tokio::test]
async fn import_from_the_command_line() {
    let server = TestServer::start().await;
    server.register("alice@example.org", PW).await;
    let dir = server.stop().await;
    let file = dir.path().join("conversations.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&json!([chatgpt_convo("From the shell")])).unwrap(),
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = run(librechat(dir.path())
        .args([
            "import",
            "conversations.json",
            "--user",
            "alice@example.org",
        ])
        .env("LIBRECHAT_DATA_DIR", &data));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(
            "imported 1 conversation(s) with 4 message(s) for alice@example.org from ChatGPT"
        ),
        "{}",
        text(&out.stdout)
    );

    let out = run(librechat(dir.path())
        .args([
            "import",
            "conversations.json",
            "--user",
            "nobody@example.org",
        ])
        .env("LIBRECHAT_DATA_DIR", &data));
    support::assert_clean_failure(&out, "no account");
    std::fs::write(&file, b"[{\"mapping\": ").unwrap();
    let out = run(librechat(dir.path())
        .args([
            "import",
            "conversations.json",
            "--user",
            "alice@example.org",
        ])
        .env("LIBRECHAT_DATA_DIR", &data));
    support::assert_clean_failure(&out, "not complete, valid JSON");

    let server = TestServer::builder().in_dir(dir).start().await;
    let s = server.login("alice@example.org", PW).await;
    let convos = conversations(&server, &s).await;
    assert_eq!(convos.len(), 1);
    assert_eq!(convos[0].1, "From the shell");
}

#[tokio::test]
async fn hostile_files_stay_cheap_and_clear() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;

    // A long list of things that are not conversations: refused as a whole, briefly.
    let junk = format!("[{}1]", "1,".repeat(200_000));
    let (status, body) = upload(&server, &s, "junk.json", junk.into_bytes()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not a conversation export"),
        "{body}"
    );

    // Many bad conversations among good ones: all counted, a bounded number listed.
    let mut items: Vec<Value> = (0..300)
        .map(|i| json!({"title": format!("bad {i}"), "messages": "nope"}))
        .collect();
    items.push(chatgpt_convo("Good"));
    let (status, body) = upload(
        &server,
        &s,
        "mixed.json",
        serde_json::to_vec(&items).unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["skippedCount"], 300);
    assert_eq!(body["skipped"].as_array().unwrap().len(), 100);

    // Dates at the ends of the calendar do not break anything.
    let odd = json!({"conversationId": "t", "title": "Odd dates", "createdAt": "9999-12-31T23:59:59.999Z", "messages": [
        {"messageId": "a", "parentMessageId": ROOT, "text": "first", "createdAt": "9999-12-31T23:30:00-01:00"},
        {"messageId": "b", "parentMessageId": "a", "text": "second", "createdAt": "0001-01-01T00:00:00Z"}]});
    let (status, body) = upload(&server, &s, "odd.json", serde_json::to_vec(&odd).unwrap()).await;
    assert_eq!(status, 201, "{body}");

    // One oversized conversation is skipped; the one after it is imported.
    let big = json!({"title": "Huge", "messages": [{"messageId": "a", "text": "x".repeat(17 * 1024 * 1024)}]});
    let file = serde_json::to_vec(&json!([big, chatgpt_convo("After the huge one")])).unwrap();
    let (status, body) = upload(&server, &s, "big.json", file).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["conversations"], 1);
    assert!(
        body["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{body}"
    );
}

#[tokio::test]
async fn deeply_nested_librechat_exports_import() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    // A chain of 1,000 replies, each nested in the one it answers (2,000 JSON levels).
    let mut node = json!({"messageId": "m999", "text": "reply 999", "children": []});
    for i in (0..999).rev() {
        // Moved in, not through `json!`, which would copy the whole chain below, recursively.
        let mut parent = json!({"messageId": format!("m{i}"), "text": format!("reply {i}"), "isCreatedByUser": i % 2 == 0});
        parent["children"] = Value::Array(vec![node]);
        node = parent;
    }
    let mut text =
        String::from(r#"{"conversationId":"deep","title":"Deep","recursive":true,"messages":["#);
    // serde_json cannot write 2,000 levels either; build the text by hand.
    fn write(v: &Value, out: &mut String) {
        // Depth-first, iterative: a message's fields, then its children, then the closing
        // brackets (`None`).
        let mut stack = vec![Some(v)];
        while let Some(item) = stack.pop() {
            match item {
                None => out.push_str("]}"),
                Some(v) => {
                    let o = v.as_object().unwrap();
                    out.push('{');
                    for (k, val) in o.iter().filter(|(k, _)| *k != "children") {
                        out.push_str(&format!(
                            "{}:{},",
                            serde_json::to_string(k).unwrap(),
                            serde_json::to_string(val).unwrap()
                        ));
                    }
                    out.push_str("\"children\":[");
                    stack.push(None);
                    for child in o["children"].as_array().unwrap().iter().rev() {
                        stack.push(Some(child));
                    }
                }
            }
        }
    }
    write(&node, &mut text);
    text.push_str("]}");
    std::mem::forget(node); // dropping 2,000 levels would recurse as deep
    let (status, body) = upload(&server, &s, "deep.json", text.into_bytes()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["messages"], 1000);
    let id = conversations(&server, &s).await[0].0.clone();
    let all = messages(&server, &s, &id).await;
    assert_eq!(all.len(), 1000);
    assert_eq!(all[0]["text"], "reply 0");
    assert_eq!(all[999]["parentMessageId"], all[998]["messageId"]);
}
