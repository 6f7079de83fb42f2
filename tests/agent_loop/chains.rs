//! Agents that answer together: a handoff (`edges`, the `lc_transfer_to_<id>` tool) passes
//! the answer on to another agent, with its own instructions and model; a chain
//! (`agent_ids`) runs each agent after the one before; agents the person may not see, or
//! that do not exist, are left out; agents handing back and forth stop at the recursion limit.

use serde_json::{Value, json};

use crate::support::agents::{call, create, ids, share_with};
use crate::support::fake_tools::ToolScript;
use crate::*;

/// The requests made of `model`, but for titles.
pub(crate) fn asked(fake: &FakeOpenAi, model: &str) -> Vec<Value> {
    fake.requests()
        .into_iter()
        .filter(|r| r["model"] == model)
        .filter(|r| {
            !r["messages"][0]["content"]
                .as_str()
                .is_some_and(|c| c.starts_with("Write a concise title"))
        })
        .collect()
}

fn tool_names(request: &Value) -> Vec<String> {
    request["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// An agent of `model` named `name` with `instructions`, and `more`.
pub(crate) async fn agent(
    server: &TestServer,
    s: &Session,
    name: &str,
    model: &str,
    more: Value,
) -> (String, String) {
    let mut body = json!({"name": name, "model": model,
        "instructions": format!("You are {name}.")});
    for (k, v) in more.as_object().unwrap() {
        body[k] = v.clone();
    }
    ids(&create(server, s, body).await)
}

pub(crate) async fn answer(server: &TestServer, s: &Session, agent_id: &str, text: &str) -> Value {
    let body = json!({"text": text, "endpoint": "agents", "agent_id": agent_id});
    let id = server.start_chat(s, "agents", body).await;
    let seen = frames(server, s, &id, "").await;
    let last = seen.last().unwrap().clone();
    assert!(last.get("error").is_none(), "{last}");
    let saved = messages(server, s, &id).await;
    assert_eq!(saved[1]["content"], last["responseMessage"]["content"]);
    last["responseMessage"].clone()
}

#[tokio::test]
async fn a_handoff_passes_the_answer_to_the_other_agent_with_its_instructions() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (b, _) = agent(&server, &s, "Specialist", "specialist", json!({})).await;
    let (a, _) = agent(
        &server,
        &s,
        "Router",
        "router",
        json!({"edges": [{"from": "", "to": b, "edgeType": "handoff"}]}),
    )
    .await;
    let transfer = format!("lc_transfer_to_{b}");
    fake.script(
        "router",
        ToolScript::calls([(transfer.as_str(), json!({}))]),
    );

    let response = answer(&server, &s, &a, "route me").await;
    assert_eq!(response["sender"], "Router");
    let calls = parts(&response, "tool_call");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["tool_call"]["name"], transfer);
    assert_eq!(
        calls[0]["tool_call"]["output"],
        format!("Successfully transferred to {b}")
    );
    // The specialist answered (the fake echoes the person's message), after the transfer.
    let texts = parts(&response, "text");
    assert_eq!(texts.last().unwrap()["text"], "Echo: route me");
    assert_eq!(response["text"], "Echo: route me");

    // The router was offered the transfer, described as LibreChat describes it.
    let router = asked(&fake, "router");
    assert_eq!(router.len(), 1, "the router is asked once");
    let offered = &router[0]["tools"].as_array().unwrap()[0]["function"];
    assert_eq!(offered["name"], transfer);
    assert_eq!(
        offered["description"],
        format!("Transfer control to agent '{b}'")
    );
    // The specialist: its own instructions, the whole history with the transfer in it, and
    // no way to transfer to itself.
    let specialist = asked(&fake, "specialist");
    assert_eq!(specialist.len(), 1);
    let m = specialist[0]["messages"].as_array().unwrap();
    assert_eq!(
        m[0],
        json!({"role": "system", "content": "You are Specialist."})
    );
    assert_eq!(m[1]["role"], "user");
    assert_eq!(m[2]["role"], "assistant");
    assert_eq!(m[2]["tool_calls"][0]["function"]["name"], transfer);
    assert_eq!(m[3]["role"], "tool");
    assert_eq!(m[3]["content"], format!("Successfully transferred to {b}"));
    assert!(!tool_names(&specialist[0]).contains(&transfer));
}

#[tokio::test]
async fn a_handoff_with_a_prompt_takes_the_instructions_the_source_wrote() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (b, _) = agent(&server, &s, "Writer", "specialist", json!({})).await;
    let (a, _) = agent(
        &server,
        &s,
        "Manager",
        "router",
        json!({"edges": [{"from": "", "to": b, "description": "Hand writing work over",
            "prompt": "What the writer should do", "promptKey": "task"}]}),
    )
    .await;
    let transfer = format!("lc_transfer_to_{b}");
    fake.script(
        "router",
        ToolScript::calls([(transfer.as_str(), json!({"task": "Write two lines."}))]),
    );
    let response = answer(&server, &s, &a, "a poem please").await;
    assert_eq!(response["text"], "Echo: a poem please");

    let offered = &asked(&fake, "router")[0]["tools"][0]["function"];
    assert_eq!(offered["description"], "Hand writing work over");
    assert_eq!(
        offered["parameters"]["properties"],
        json!({"task": {"type": "string", "description": "What the writer should do"}})
    );
    let writer = &asked(&fake, "specialist")[0];
    let system = writer["messages"][0]["content"].as_str().unwrap();
    assert!(system.starts_with("You are Writer.\n\n"), "{system}");
    assert!(system.contains("Manager"), "{system}");
    assert!(system.ends_with("Write two lines."), "{system}");
}

#[tokio::test]
async fn a_chain_runs_each_agent_after_the_one_before_with_what_was_said() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (b, _) = agent(&server, &s, "Second", "second", json!({})).await;
    let (a, _) = agent(&server, &s, "First", "first", json!({"agent_ids": [b]})).await;

    let response = answer(&server, &s, &a, "think about tides").await;
    // The first answered the question; the second was given the transcript of this answer
    // in place of it, and both are kept, one part each.
    let texts: Vec<&str> = parts(&response, "text")
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "Echo: think about tides",
            "Echo: AI: Echo: think about tides"
        ]
    );
    let second = asked(&fake, "second");
    assert_eq!(second.len(), 1);
    let m = second[0]["messages"].as_array().unwrap();
    assert_eq!(
        m[0],
        json!({"role": "system", "content": "You are Second."})
    );
    assert_eq!(m[1]["content"], "think about tides");
    assert_eq!(m[2]["role"], "user");
    assert_eq!(m[2]["content"], "AI: Echo: think about tides");
    assert_eq!(m.len(), 3, "the first's answer is not given as it is");

    // With `hide_sequential_outputs`, only the last agent's words are kept.
    let (c, _) = agent(
        &server,
        &s,
        "Quiet",
        "first",
        json!({"agent_ids": [b], "hide_sequential_outputs": true}),
    )
    .await;
    let body = json!({"text": "hush", "endpoint": "agents", "agent_id": c});
    let id = server.start_chat(&s, "agents", body).await;
    let seen = frames(&server, &s, &id, "").await;
    // Only the last agent's words are streamed...
    assert_eq!(streamed_text(&seen), "Echo: AI: Echo: hush");
    // ...and kept.
    let response = seen.last().unwrap()["responseMessage"].clone();
    let texts: Vec<&str> = parts(&response, "text")
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Echo: AI: Echo: hush"]);
    assert_eq!(
        messages(&server, &s, &id).await[1]["text"],
        "Echo: AI: Echo: hush"
    );
    assert_eq!(response["text"], "Echo: AI: Echo: hush");
}

#[tokio::test]
async fn agents_the_person_may_not_see_or_that_do_not_exist_are_left_out() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    let (b, _) = agent(&server, &alice, "Private", "specialist", json!({})).await;
    let (a, a_object) = agent(
        &server,
        &alice,
        "Front",
        "router",
        json!({"edges": [{"from": "", "to": b}],
               "agent_ids": ["agent_doesnotexist12345678"]}),
    )
    .await;
    share_with(&server, &alice, &a_object, &bob, "agent_viewer").await;
    let transfer = format!("lc_transfer_to_{b}");

    // Bob may use the front agent, not the one it hands on to: it answers alone, without
    // the transfer, and the agent that does not exist changes nothing.
    let response = answer(&server, &bob, &a, "hello").await;
    assert_eq!(response["text"], "Echo: hello");
    assert_eq!(parts(&response, "text").len(), 1);
    let router = asked(&fake, "router");
    assert_eq!(router.len(), 1);
    assert!(!tool_names(&router[0]).contains(&transfer));
    assert!(asked(&fake, "specialist").is_empty());

    // Alice may see both: she is offered the transfer.
    answer(&server, &alice, &a, "hello").await;
    let router = asked(&fake, "router");
    assert!(tool_names(&router[1]).contains(&transfer));
}

#[tokio::test]
async fn agents_handing_back_and_forth_stop_at_the_limit_saved_and_billed() {
    let fake = FakeOpenAi::start().await;
    let yaml = "version: 1.2.8\nbalance:\n  enabled: true\n  startBalance: 1000000\n";
    let server = server_with(&fake, Some(yaml)).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (a, _) = agent(
        &server,
        &s,
        "Ping",
        "router",
        json!({"recursion_limit": 10}),
    )
    .await;
    let (b, _) = agent(
        &server,
        &s,
        "Pong",
        "specialist",
        json!({"edges": [{"from": "", "to": a}]}),
    )
    .await;
    let (status, body) = call(
        &server,
        &s,
        "PATCH",
        &format!("/api/agents/{a}"),
        json!({"edges": [{"from": a, "to": b}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (to_a, to_b) = (format!("lc_transfer_to_{a}"), format!("lc_transfer_to_{b}"));
    fake.script(
        "router",
        ToolScript::calls([(to_b.as_str(), json!({}))]).always(),
    );
    fake.script(
        "specialist",
        ToolScript::calls([(to_a.as_str(), json!({}))]).always(),
    );

    let response = answer(&server, &s, &a, "ping").await;
    // Ten steps: five model calls, each with its transfer.
    let calls = parts(&response, "tool_call");
    let names: Vec<&str> = calls
        .iter()
        .map(|c| c["tool_call"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [&to_b, &to_a, &to_b, &to_a, &to_b]);
    let last = response["content"].as_array().unwrap().last().unwrap();
    assert_eq!(last["type"], "error");
    assert!(
        last["error"]
            .as_str()
            .unwrap()
            .contains("Recursion limit of 10 reached")
    );
    assert_eq!(response["unfinished"], false);
    // Each call billed on the model that made it: three of Ping's, two of Pong's.
    let user = s.user["id"].as_str().unwrap().to_owned();
    let billed: Vec<(String, String)> = server
        .state
        .db
        .read(move |c| {
            let mut stmt = c.prepare(
                "SELECT model, token_type FROM transactions WHERE user_id = ?1 \
                 AND context = 'message' ORDER BY created_at, id",
            )?;
            let rows = stmt.query_map([&user], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap();
    let prompts = |model: &str| {
        billed
            .iter()
            .filter(|(m, t)| m == model && t == "prompt")
            .count()
    };
    assert_eq!(
        (prompts("router"), prompts("specialist")),
        (3, 2),
        "{billed:?}"
    );
}
