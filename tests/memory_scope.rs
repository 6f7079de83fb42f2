//! Agents' own memories, as LibreChat v0.8.8 keeps them: an agent whose `memory_scope` is
//! `agent` reads (into its prompt) and writes (with its own `set_memory`/`delete_memory`, the
//! `memory` marker in its tools, or through the memory agent) only its own partition of each
//! person's memories; every other agent and plain chat uses the person's shared pool; a
//! shared agent writes into the partition of whoever uses it; `/api/memories` lists every
//! partition (with the agent's name when the caller may see it) and counts only the pool
//! against the token limit. Real HTTP against the real server; the only fake is the provider.

mod support;

use serde_json::{Value, json};
use support::agents::{create, ids, share_with};
use support::fake_openai::{FakeOpenAi, KEY};
use support::fake_tools::ToolScript;
use support::poll::eventually;
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const YAML: &str = "version: 1.3.17\nmemory:\n  tokenLimit: 1000\n";
const TEA: &str = "The user likes green tea.";
const ADA: &str = "The user is called Ada.";

async fn boot(fake: &FakeOpenAi, yaml: &str) -> TestServer {
    TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o,scribe,keeper,memo")
        .yaml(yaml)
        .start()
        .await
}

/// An agent on `model` that keeps its own memories (`memory_scope: agent`), with the memory
/// tools when `tools`; its `id`.
async fn scribe(server: &TestServer, s: &Session, model: &str, tools: bool) -> (String, String) {
    let tools = if tools { json!(["memory"]) } else { json!([]) };
    let agent = create(
        server,
        s,
        json!({"name": "Scribe", "model": model, "tools": tools, "memory_scope": "agent"}),
    )
    .await;
    assert_eq!(agent["memory_scope"], "agent", "{agent}");
    ids(&agent)
}

/// Chats with agent `id` (a new conversation); the final frame, which must not be an error.
async fn ask_agent(server: &TestServer, s: &Session, id: &str, text: &str) -> Value {
    let body = json!({"text": text, "endpoint": "agents", "agent_id": id});
    let last = server.chat(s, "agents", body).await;
    assert!(last.get("error").is_none(), "{last}");
    last
}

async fn listing(server: &TestServer, s: &Session) -> Value {
    server.get_json("/api/memories", &s.token).await
}

async fn remember(server: &TestServer, s: &Session, key: &str, value: &str) {
    let body = json!({"key": key, "value": value});
    let resp = server.send("POST", "/api/memories", &s.token, body).await;
    assert_eq!(resp.status(), 201);
}

/// The last request `model` got for `s` that was not for a conversation's title.
fn last_request(fake: &FakeOpenAi, model: &str, s: &Session) -> Value {
    let title = |r: &Value| {
        r["messages"][0]["content"]
            .as_str()
            .is_some_and(|c| c.starts_with("Write a concise title"))
    };
    fake.requests()
        .into_iter()
        .rev()
        .find(|r| r["model"] == model && r["user"] == s.user["id"] && !title(r))
        .expect("a request for the model")
}

/// The system prompt of the last request `model` got for `s` ("" when it had none).
fn system_of(fake: &FakeOpenAi, model: &str, s: &Session) -> String {
    let last = last_request(fake, model, s);
    match &last["messages"][0] {
        m if m["role"] == "system" => m["content"].as_str().unwrap().to_owned(),
        _ => String::new(),
    }
}

/// The tools the last request of `model` for `s` offered, by name.
fn tools_of(fake: &FakeOpenAi, model: &str, s: &Session) -> Vec<String> {
    last_request(fake, model, s)["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_agent_scoped_to_itself_writes_and_reads_only_its_own_partition() {
    let fake = FakeOpenAi::start().await;
    let server = boot(&fake, YAML).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    remember(&server, &alice, "name", ADA).await;
    let (a, _) = scribe(&server, &alice, "scribe", true).await;
    let b = ids(&create(
        &server,
        &alice,
        json!({"name": "Keeper", "model": "keeper"}),
    )
    .await)
    .0;
    let call = json!({"key": "likes", "value": TEA});
    fake.script(
        "scribe",
        ToolScript::calls([("set_memory", call)]).when("Remember"),
    );

    // A writes with its own tools, into its partition; the person's pool is not in its prompt.
    let last = ask_agent(&server, &alice, &a, "Remember that I like green tea").await;
    assert_eq!(
        tools_of(&fake, "scribe", &alice),
        ["set_memory", "delete_memory"]
    );
    let system = system_of(&fake, "scribe", &alice);
    assert!(system.contains("Only use the `set_memory` and `delete_memory` tools"));
    assert!(!system.contains(ADA), "{system}");
    let attachment = &last["responseMessage"]["attachments"][0];
    assert_eq!(attachment["type"], "memory", "{last}");
    assert_eq!(
        attachment["memory"]["agentId"], a,
        "LibreChat names the partition"
    );
    let all = listing(&server, &alice).await;
    let kept = all["memories"].as_array().unwrap();
    assert_eq!(kept.len(), 2, "{all}");
    let tea = kept.iter().find(|m| m["key"] == "likes").unwrap();
    let ada = kept.iter().find(|m| m["key"] == "name").unwrap();
    assert_eq!((&tea["value"], &tea["agentId"]), (&json!(TEA), &json!(a)));
    assert_eq!(tea["agentName"], "Scribe");
    assert!(ada.get("agentId").is_none() && ada.get("agentName").is_none());
    // Only the shared pool counts against the limit shown.
    assert_eq!(all["totalTokens"], ada["tokenCount"]);

    // Next time A sees its memory, with its key, and still not the pool.
    ask_agent(&server, &alice, &a, "What do I like?").await;
    let system = system_of(&fake, "scribe", &alice);
    assert!(system.contains("[\"key\": \"likes\"]"), "{system}");
    assert!(system.contains(TEA) && !system.contains(ADA), "{system}");

    // B (the shared pool) and a plain chat see the pool, never A's memory; no memory tools.
    ask_agent(&server, &alice, &b, "Hello").await;
    let system = system_of(&fake, "keeper", &alice);
    assert!(system.contains(ADA) && !system.contains(TEA), "{system}");
    assert!(tools_of(&fake, "keeper", &alice).is_empty());
    let body = json!({"text": "Hello", "model": "gpt-4o"});
    let last = server.chat(&alice, "openAI", body).await;
    assert!(last.get("error").is_none(), "{last}");
    let system = system_of(&fake, "gpt-4o", &alice);
    assert!(system.contains(ADA) && !system.contains(TEA), "{system}");
}

#[tokio::test]
async fn a_shared_agent_writes_into_the_partition_of_whoever_uses_it() {
    let fake = FakeOpenAi::start().await;
    let server = boot(&fake, YAML).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    let carol = server.signed_in("carol@example.org", PW).await;
    let (a, object_id) = scribe(&server, &alice, "scribe", true).await;
    share_with(&server, &alice, &object_id, &bob, "agent_viewer").await;
    remember(&server, &alice, "name", ADA).await;
    let call = json!({"key": "likes", "value": TEA});
    fake.script(
        "scribe",
        ToolScript::calls([("set_memory", call)]).when("Remember"),
    );

    ask_agent(&server, &bob, &a, "Remember that I like green tea").await;
    // Bob's own partition of the agent: his, not its author's.
    let bobs = listing(&server, &bob).await;
    assert_eq!(bobs["memories"][0]["agentId"], a, "{bobs}");
    assert_eq!(bobs["memories"][0]["agentName"], "Scribe");
    assert_eq!(bobs["totalTokens"], 0);
    let alices = listing(&server, &alice).await;
    assert_eq!(alices["memories"].as_array().unwrap().len(), 1, "{alices}");
    assert_eq!(alices["memories"][0]["key"], "name");
    assert!(listing(&server, &carol).await["memories"] == json!([]));

    // The author, using her agent, sees none of Bob's memories (nor her pool).
    ask_agent(&server, &alice, &a, "Hello").await;
    let system = system_of(&fake, "scribe", &alice);
    assert!(!system.contains(TEA) && !system.contains(ADA), "{system}");
    ask_agent(&server, &bob, &a, "Hello").await;
    assert!(system_of(&fake, "scribe", &bob).contains(TEA));

    // The partition is named to change or forget it; the pool has no such key.
    let path = "/api/memories/likes";
    let resp = server.send("DELETE", path, &bob.token, json!({})).await;
    assert_eq!(resp.status(), 404);
    let body = json!({"value": "The user likes black tea."});
    let with = format!("{path}?agentId={a}");
    let resp = server.send("PATCH", &with, &bob.token, body).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["memory"]["agentId"], a, "{v}");
    // Alice cannot reach Bob's partition by naming it: it is hers that is searched.
    let resp = server.send("DELETE", &with, &alice.token, json!({})).await;
    assert_eq!(resp.status(), 404);
    let resp = server.send("DELETE", &with, &bob.token, json!({})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(listing(&server, &bob).await["memories"], json!([]));
}

#[tokio::test]
async fn partitions_are_named_on_the_routes_and_each_has_its_own_keys_and_limit() {
    let fake = FakeOpenAi::start().await;
    let server = boot(&fake, "version: 1.3.17\nmemory:\n  tokenLimit: 10\n").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    let (a, _) = scribe(&server, &alice, "scribe", false).await;
    // Bob's agent: Alice may not see it, so its name is not shown to her.
    let (hidden, _) = scribe(&server, &bob, "scribe", false).await;
    remember(&server, &alice, "likes", ADA).await;
    let post = |agent: &str, value: &str| json!({"key": "likes", "value": value, "agentId": format!(" {agent} ")});
    // The same key in another partition is no conflict; in the same one it is.
    let resp = server
        .send("POST", "/api/memories", &alice.token, post(&a, TEA))
        .await;
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["memory"]["agentId"], a, "{v}");
    let resp = server
        .send("POST", "/api/memories", &alice.token, post(&a, "Tea."))
        .await;
    assert_eq!(resp.status(), 409);
    // Each partition has the whole limit: the pool (6 of 10 tokens) has no room for 6 more.
    let body = json!({"key": "drink", "value": TEA});
    let resp = server
        .send("POST", "/api/memories", &alice.token, body)
        .await;
    assert_eq!(resp.status(), 400);
    let resp = server
        .send("POST", "/api/memories", &alice.token, post(&hidden, TEA))
        .await;
    assert_eq!(resp.status(), 201);
    let all = listing(&server, &alice).await;
    let of_hidden = all["memories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["agentId"] == hidden)
        .cloned()
        .unwrap();
    assert!(of_hidden.get("agentName").is_none(), "{of_hidden}");
    // A hostile partition name: refused, nothing kept.
    let long = "a".repeat(300);
    let resp = server
        .send("POST", "/api/memories", &alice.token, post(&long, TEA))
        .await;
    assert_eq!(resp.status(), 400);
    let path = format!("/api/memories/likes?agentId={long}");
    let resp = server.send("DELETE", &path, &alice.token, json!({})).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        listing(&server, &alice).await["memories"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn memory_scope_is_checked_stored_and_kept_in_versions() {
    let fake = FakeOpenAi::start().await;
    let server = boot(&fake, YAML).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    for bad in [json!("everyone"), json!(3), json!(["agent"])] {
        let body = support::agents::body(json!({"memory_scope": bad}));
        let resp = server.send("POST", "/api/agents", &alice.token, body).await;
        assert_eq!(resp.status(), 400, "{bad}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"], "Invalid request data", "{v}");
    }
    assert_eq!(server.count("agents").await, 0);
    let (a, _) = scribe(&server, &alice, "scribe", false).await;
    let path = format!("/api/agents/{a}");
    let resp = server
        .send(
            "PATCH",
            &path,
            &alice.token,
            json!({"memory_scope": "nobody"}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    // With the rest of what only its editors see, as LibreChat answers it.
    let got = server
        .get_json(&format!("{path}/expanded"), &alice.token)
        .await;
    assert_eq!(got["memory_scope"], "agent", "{got}");
    let resp = server
        .send(
            "PATCH",
            &path,
            &alice.token,
            json!({"memory_scope": "user"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["memory_scope"], "user");
    let versions = server
        .get_json(&format!("{path}/versions"), &alice.token)
        .await;
    let scopes: Vec<&Value> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["memory_scope"])
        .collect();
    assert_eq!(scopes, [&json!("agent"), &json!("user")], "{versions}");
}

#[tokio::test]
async fn the_memory_agent_writes_the_partition_of_the_agent_answering() {
    let fake = FakeOpenAi::start().await;
    let yaml = "version: 1.3.17\nmemory:\n  agent:\n    enabled: true\n    provider: openAI\n    model: memo\n";
    let server = boot(&fake, yaml).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    remember(&server, &alice, "name", ADA).await;
    let (a, _) = scribe(&server, &alice, "scribe", false).await;
    let call = json!({"key": "likes", "value": TEA});
    fake.script(
        "memo",
        ToolScript::calls([("set_memory", call)]).when("like green tea"),
    );

    ask_agent(&server, &alice, &a, "Remember that I like green tea").await;
    let agent_owned = || async {
        let all = listing(&server, &alice).await;
        all["memories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["agentId"] == json!(a) && m["value"] == TEA)
    };
    eventually(agent_owned).await;
    // The memory agent was shown A's partition (empty then), not the pool.
    let system = system_of(&fake, "memo", &alice);
    assert!(system.ends_with("No existing memories"), "{system}");
    // The pool has only what Alice kept herself.
    let all = listing(&server, &alice).await;
    assert_eq!(all["memories"].as_array().unwrap().len(), 2);

    // A plain chat: the memory agent works on the pool, which does not hold A's memory.
    let body = json!({"text": "Hello there", "model": "gpt-4o"});
    server.chat(&alice, "openAI", body).await;
    let asked = || {
        fake.requests()
            .into_iter()
            .find(|r| r["model"] == "memo" && r.to_string().contains("Human: Hello there"))
    };
    eventually(|| async { asked().is_some() }).await;
    let system = asked().unwrap()["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(system.contains(ADA) && !system.contains(TEA), "{system}");
}

#[tokio::test]
async fn the_memory_tools_need_the_write_permissions_and_memories_on() {
    let fake = FakeOpenAi::start().await;
    let server = boot(&fake, YAML).await;
    let admin = server.signed_in("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    let (a, object_id) = scribe(&server, &admin, "scribe", true).await;
    share_with(&server, &admin, &object_id, &bob, "agent_viewer").await;
    let offered = |s: &Session| !tools_of(&fake, "scribe", s).is_empty();

    // A role that may not create memories: the marker is ignored.
    let create = |on: bool| json!({"MEMORIES": {"CREATE": on}});
    support::agents::set_user_role(&server, &admin, create(false)).await;
    ask_agent(&server, &bob, &a, "Hello").await;
    assert!(!offered(&bob));
    assert!(!system_of(&fake, "scribe", &bob).contains("`set_memory`"));
    support::agents::set_user_role(&server, &admin, create(true)).await;
    ask_agent(&server, &bob, &a, "Hello").await;
    assert!(offered(&bob));

    // A person who turned memories off: none either.
    let off = json!({"memories": false});
    let resp = server
        .send("PATCH", "/api/memories/preferences", &bob.token, off)
        .await;
    assert_eq!(resp.status(), 200);
    ask_agent(&server, &bob, &a, "Hello").await;
    assert!(!offered(&bob));

    // Without a `memory` section, agents have no memory capability.
    let fake = FakeOpenAi::start().await;
    let server = boot(&fake, "version: 1.3.17\n").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let (a, _) = scribe(&server, &alice, "scribe", true).await;
    ask_agent(&server, &alice, &a, "Hello").await;
    assert!(tools_of(&fake, "scribe", &alice).is_empty());
}

#[tokio::test]
async fn an_agent_reached_through_a_chain_keeps_to_its_own_partition() {
    let fake = FakeOpenAi::start().await;
    let server = boot(&fake, YAML).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let (c, _) = scribe(&server, &alice, "scribe", true).await;
    let first = json!({"name": "Keeper", "model": "keeper", "agent_ids": [c]});
    let a = ids(&create(&server, &alice, first).await).0;
    remember(&server, &alice, "name", ADA).await;
    let body = json!({"key": "likes", "value": TEA, "agentId": c});
    let resp = server
        .send("POST", "/api/memories", &alice.token, body)
        .await;
    assert_eq!(resp.status(), 201);

    ask_agent(&server, &alice, &a, "Hello").await;
    // The first agent reads the pool; the one it chains to, its own memories with their keys
    // (it has the memory tools), and is offered them.
    let system = system_of(&fake, "keeper", &alice);
    assert!(system.contains(ADA) && !system.contains(TEA), "{system}");
    assert!(tools_of(&fake, "keeper", &alice).is_empty());
    let system = system_of(&fake, "scribe", &alice);
    assert!(system.contains(TEA) && !system.contains(ADA), "{system}");
    assert!(system.contains("[\"key\": \"likes\"]"), "{system}");
    assert_eq!(
        tools_of(&fake, "scribe", &alice),
        ["set_memory", "delete_memory"]
    );
}
