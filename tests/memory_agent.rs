//! The memory agent (`memory.agent` in librechat.yaml): alongside an answer, a fake model of
//! its own sets and deletes memories with `set_memory` and `delete_memory`, within the limits
//! (a refusal goes back to it), its doings reach the client as `attachment` events and the
//! saved answer's `attachments`, its calls are billed; a person who turned memories off gets
//! none, and a failing memory model never fails the answer.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::fake_tools::ToolScript;
use support::memory_agent::{GREEN_TEA, INLINE, boot, saved, start_remembering, yaml};
use support::poll::eventually;
use support::stream::frames;
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

async fn memories(server: &TestServer, s: &Session) -> Vec<Value> {
    server.get_json("/api/memories", &s.token).await["memories"]
        .as_array()
        .cloned()
        .unwrap()
}

/// The saved answer's `attachments`, once it has some.
async fn saved_attachments(server: &TestServer, s: &Session, convo: &str, id: &str) -> Value {
    for _ in 0..600 {
        let a = saved(server, s, convo, id).await["attachments"].clone();
        if a.is_array() {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the answer never got attachments");
}

/// The requests the memory model got from `s`.
fn memory_requests(fake: &FakeOpenAi, s: &Session) -> Vec<Value> {
    fake.requests()
        .into_iter()
        .filter(|r| r["model"] == "memo" && r["user"] == s.user["id"])
        .collect()
}

/// The tool results the memory model was given, in order.
fn results(fake: &FakeOpenAi, s: &Session) -> Vec<String> {
    memory_requests(fake, s)
        .iter()
        .flat_map(|r| r["messages"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_memory_agent_sets_and_deletes_memories_alongside_the_answer() {
    let fake = FakeOpenAi::start().await;
    let limits = "  validKeys: [likes, name]\n  tokenLimit: 500\n";
    let server = boot(&fake, &yaml(limits, INLINE)).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    // The answer waits while the memory agent runs beside it.
    let id = start_remembering(&fake, &server, &alice, GREEN_TEA).await;
    eventually(|| async { !memories(&server, &alice).await.is_empty() }).await;
    let kept = memories(&server, &alice).await;
    assert_eq!(kept[0]["key"], "likes");
    assert_eq!(kept[0]["value"], "The user likes green tea.");
    fake.release();
    let seen = frames(&server, &alice, &id, "").await;
    let last = seen.last().unwrap();
    assert!(last.get("error").is_none(), "{last}");
    let response = &last["responseMessage"];
    assert_eq!(response["text"], "part one part two");
    let message_id = response["messageId"].as_str().unwrap();

    // The client saw what it did, as LibreChat sends it, and the answer keeps it.
    let attachments: Vec<&Value> = seen.iter().filter(|f| f["event"] == "attachment").collect();
    assert_eq!(attachments.len(), 1, "{seen:?}");
    let a = &attachments[0]["data"];
    assert_eq!(a["type"], "memory");
    assert_eq!(a["messageId"], message_id);
    assert_eq!(a["conversationId"], id);
    assert!(a["toolCallId"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(a["memory"]["key"], "likes");
    assert_eq!(a["memory"]["type"], "update");
    assert_eq!(a["memory"]["value"], "The user likes green tea.");
    assert!(a["memory"]["tokenCount"].as_i64().unwrap() > 0);
    assert_eq!(response["attachments"], json!([a]));
    assert_eq!(
        saved(&server, &alice, &id, message_id).await["attachments"],
        json!([a])
    );

    // What the memory model was given: LibreChat's instructions with the valid keys and the
    // limit, the memory status, the chat up to the person's message, and the two tools.
    let asked = memory_requests(&fake, &alice);
    let first = &asked[0];
    let system = first["messages"][0]["content"].as_str().unwrap();
    assert!(system.starts_with("Use the `set_memory` tool"), "{system}");
    assert!(system.contains("VALID KEYS: likes, name"), "{system}");
    assert!(system.contains("Token limit: 500 tokens"), "{system}");
    assert!(
        system.ends_with("# Existing memory:\nNo existing memories"),
        "{system}"
    );
    assert_eq!(
        first["messages"][1],
        json!({"role": "user", "content": "# Current Chat:\n\nHuman: Remember that I like green tea"})
    );
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["set_memory", "delete_memory"]);
    assert_eq!(first["temperature"], 0.4);
    assert_eq!(
        results(&fake, &alice),
        [format!(
            "Memory set for key \"likes\" ({} tokens)",
            kept[0]["tokenCount"]
        )]
    );

    // Next turn: it deletes the memory, and sees it listed with its key first.
    fake.script(
        "memo",
        ToolScript::calls([("delete_memory", json!({"key": "likes"}))]),
    );
    let parent = message_id.to_owned();
    let id2 = server
        .start_chat(
            &alice,
            "openAI",
            json!({"text": "Forget that I like tea", "model": "gpt-4o",
               "conversationId": id, "parentMessageId": parent}),
        )
        .await;
    let last = server.final_frame(&alice, &id2).await;
    assert!(last.get("error").is_none(), "{last}");
    let second = last["responseMessage"]["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually(|| async { memories(&server, &alice).await.is_empty() }).await;
    // However late it came, the deletion is kept with the answer.
    let kept = saved_attachments(&server, &alice, &id, &second).await;
    assert_eq!(kept[0]["memory"], json!({"key": "likes", "type": "delete"}));
    let asked = memory_requests(&fake, &alice);
    let system = asked
        .iter()
        .rev()
        .find(|r| r["messages"].as_array().unwrap().len() == 2)
        .unwrap()["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        system.contains("[\"key\": \"likes\"]") && system.contains("The user likes green tea."),
        "{system}"
    );
    let chat = asked.last().unwrap()["messages"]
        .as_array()
        .unwrap()
        .clone();
    let input = chat[1]["content"].as_str().unwrap();
    assert_eq!(
        input,
        "# Current Chat:\n\nHuman: Remember that I like green tea\nAI: part one part two\n\
         Human: Forget that I like tea"
    );
}

#[tokio::test]
async fn its_limits_are_kept_and_each_refusal_goes_back_to_it() {
    let fake = FakeOpenAi::start().await;
    let limits = "  validKeys: [likes, name]\n  charLimit: 60\n  tokenLimit: 5\n";
    let server = boot(&fake, &yaml(limits, INLINE)).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    fake.script(
        "memo",
        ToolScript::calls([
            (
                "set_memory",
                json!({"key": "colour", "value": "The user likes blue."}),
            ),
            (
                "set_memory",
                json!({"key": "likes", "value": "x".repeat(61)}),
            ),
            (
                "set_memory",
                json!({"key": "name", "value": "The user is called Alice Liddell of Oxford."}),
            ),
            ("delete_memory", json!({"key": "job"})),
            ("delete_memory", json!({"key": "name"})),
        ]),
    );
    let id = server
        .start_chat(
            &alice,
            "openAI",
            json!({"text": "Remember all that", "model": "gpt-4o"}),
        )
        .await;
    let last = server.final_frame(&alice, &id).await;
    assert!(last.get("error").is_none(), "{last}");
    eventually(|| async { results(&fake, &alice).len() == 5 }).await;
    let got = results(&fake, &alice);
    assert_eq!(
        got[0],
        "Error: Invalid key \"colour\". Must be one of: likes, name"
    );
    assert!(
        got[1].starts_with("Error: Value exceeds maximum length of 60 characters."),
        "{}",
        got[1]
    );
    assert_eq!(
        got[2],
        "Error: Memory storage would exceed limit. Cannot save this memory."
    );
    assert_eq!(
        got[3],
        "Error: Invalid key \"job\". Must be one of: likes, name"
    );
    assert_eq!(got[4], "Error: Failed to delete memory for key \"name\"");
    assert!(memories(&server, &alice).await.is_empty());

    // The token limit's refusal is shown to the person as LibreChat shows it.
    let message_id = last["responseMessage"]["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let kept = saved_attachments(&server, &alice, &id, &message_id).await;
    let errors: Vec<&Value> = kept
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["memory"]["type"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{kept}");
    assert_eq!(errors[0]["memory"]["key"], "system");
    let detail: Value =
        serde_json::from_str(errors[0]["memory"]["value"].as_str().unwrap()).unwrap();
    assert_eq!(detail["errorType"], "would_exceed");
    assert_eq!(detail["tokenLimit"], 5);
}

#[tokio::test]
async fn nobody_who_turned_memories_off_gets_a_memory_agent() {
    let fake = FakeOpenAi::start().await;
    let server = boot(&fake, &yaml("", INLINE)).await;
    let (alice, bob) = server.two_users(PW).await;
    let resp = server
        .send(
            "PATCH",
            "/api/memories/preferences",
            &bob.token,
            json!({"memories": false}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    fake.script(
        "memo",
        ToolScript::calls([("set_memory", json!({"key": "likes", "value": "Tea."}))]),
    );
    for s in [&alice, &bob] {
        let last = server
            .chat(
                s,
                "openAI",
                json!({"text": "Remember I like tea", "model": "gpt-4o"}),
            )
            .await;
        assert!(last.get("error").is_none(), "{last}");
    }
    // Alice's ran (the answer waited for it); Bob's never started.
    eventually(|| async { memories(&server, &alice).await.len() == 1 }).await;
    assert!(!memory_requests(&fake, &alice).is_empty());
    assert!(memory_requests(&fake, &bob).is_empty());
    assert!(memories(&server, &bob).await.is_empty());

    // An agent set without `enabled: true` does not run (LibreChat made it opt-in).
    let fake = FakeOpenAi::start().await;
    let server = server_off(&fake).await;
    let carol = server.signed_in("carol@example.org", PW).await;
    fake.script(
        "memo",
        ToolScript::calls([("set_memory", json!({"key": "likes", "value": "Tea."}))]),
    );
    server
        .chat(
            &carol,
            "openAI",
            json!({"text": "Remember I like tea", "model": "gpt-4o"}),
        )
        .await;
    assert!(memory_requests(&fake, &carol).is_empty());
}

async fn server_off(fake: &FakeOpenAi) -> TestServer {
    boot(fake, &yaml("", "    provider: openAI\n    model: memo\n")).await
}

#[tokio::test]
async fn a_failing_memory_agent_never_fails_the_answer() {
    let fake = FakeOpenAi::start().await;
    let agent = "    enabled: true\n    provider: openAI\n    model: server-error\n";
    let server = boot(&fake, &yaml("", agent)).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let last = server
        .chat(
            &alice,
            "openAI",
            json!({"text": "Remember I like tea", "model": "gpt-4o"}),
        )
        .await;
    assert!(last.get("error").is_none(), "{last}");
    assert_eq!(last["responseMessage"]["text"], "Echo: Remember I like tea");
    assert!(last["responseMessage"].get("attachments").is_none());
    eventually(|| async { fake.requests().iter().any(|r| r["model"] == "server-error") }).await;

    // A memory agent naming an agent that does not exist, or a provider this server lacks.
    for agent in [
        "    enabled: true\n    id: agent_does_not_exist\n",
        "    enabled: true\n    provider: nowhere\n    model: memo\n",
    ] {
        let server = boot(&fake, &yaml("", agent)).await;
        let alice = server.signed_in("alice@example.org", PW).await;
        let last = server
            .chat(
                &alice,
                "openAI",
                json!({"text": "hello", "model": "gpt-4o"}),
            )
            .await;
        assert!(last.get("error").is_none(), "{last}");
        assert_eq!(last["responseMessage"]["text"], "Echo: hello");
    }
}

#[tokio::test]
async fn its_calls_are_billed() {
    let fake = FakeOpenAi::start().await;
    let limits = "  tokenLimit: 500\n";
    let text = format!(
        "{}balance:\n  enabled: true\n  startBalance: 1000000\n",
        yaml(limits, INLINE)
    );
    let server = boot(&fake, &text).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    fake.script(
        "memo",
        ToolScript::calls([("set_memory", json!({"key": "likes", "value": "Tea."}))]),
    );
    server
        .chat(
            &alice,
            "openAI",
            json!({"text": "Remember I like tea", "model": "gpt-4o"}),
        )
        .await;
    let read = || async {
        server
            .state
            .db
            .read(|c| {
                let mut st = c.prepare(
                    "SELECT model, token_type, raw_amount FROM transactions WHERE context = 'memory'
                     ORDER BY created_at, id",
                )?;
                let rows = st.query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await
            .unwrap()
    };
    // Two calls (the tool call, then its last word), each a prompt and a completion.
    eventually(|| async { read().await.len() == 4 }).await;
    let rows = read().await;
    assert!(
        rows.iter().all(|(m, _, amount)| m == "memo" && *amount < 0),
        "{rows:?}"
    );
    assert_eq!(rows.iter().filter(|r| r.1 == "prompt").count(), 2);
}

#[tokio::test]
async fn an_agent_made_with_the_builder_can_be_the_memory_agent() {
    let fake = FakeOpenAi::start().await;
    let server = boot(&fake, "version: 1.3.17\n").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let resp = server
        .send(
            "POST",
            "/api/agents",
            &alice.token,
            json!({"provider": "openAI", "model": "memo", "name": "Keeper",
                   "instructions": "Keep only names.", "model_parameters": {"temperature": 0.1}}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let agent: Value = resp.json().await.unwrap();
    let agent_id = agent["id"].as_str().unwrap().to_owned();
    let dir = server.stop().await;

    let server = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .yaml(&yaml(
            "",
            &format!("    enabled: true\n    id: {agent_id}\n"),
        ))
        .in_dir(dir)
        .start()
        .await;
    // Bob uses it though it is Alice's and not shared: the administrator chose it.
    let bob = server.signed_in("bob@example.org", PW).await;
    fake.script(
        "memo",
        ToolScript::calls([(
            "set_memory",
            json!({"key": "name", "value": "The user is Bob."}),
        )]),
    );
    server
        .chat(
            &bob,
            "openAI",
            json!({"text": "Remember my name is Bob", "model": "gpt-4o"}),
        )
        .await;
    eventually(|| async { memories(&server, &bob).await.len() == 1 }).await;
    let asked = memory_requests(&fake, &bob);
    let system = asked[0]["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.starts_with("Keep only names.\n\n# Existing memory:"),
        "{system}"
    );
    assert_eq!(asked[0]["temperature"], 0.1);
}
