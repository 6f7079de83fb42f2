//! Chatting with an agent (`POST /api/agents/chat/agents` with `agent_id`): its provider,
//! model, instructions and tools make the turn; only people who may see it can use it; its
//! recursion limit bounds the loop.

use serde_json::json;

use crate::support::agents::{create, ids, share_with};
use crate::support::fake_tools::ToolScript;
use crate::*;

#[tokio::test]
async fn an_agent_runs_with_its_model_instructions_and_tools_for_those_who_may_use_it() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    let agent = create(
        &server,
        &alice,
        json!({"name": "Reckoner", "model": "calc", "tools": ["calculator"],
               "instructions": "Work out sums for {{current_user}}."}),
    )
    .await;
    let (agent_id, object_id) = ids(&agent);
    fake.script(
        "calc",
        ToolScript::calls([("calculator", json!({"input": "6 * 7"}))]),
    );
    let body = json!({"text": "six times seven?", "endpoint": "agents", "agent_id": agent_id});

    // Someone it is not shared with: not found, and nothing is asked of the model.
    let before = fake.requests().len();
    let resp = server
        .send("POST", "/api/agents/chat/agents", &bob.token, body.clone())
        .await;
    assert_eq!(resp.status(), 404);
    let resp = server
        .send(
            "POST",
            "/api/agents/chat/agents",
            &bob.token,
            json!({"text": "hi", "endpoint": "agents"}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(fake.requests().len(), before);

    // Its author: the agent's model, its instructions (filled) as the system prompt, its tool.
    let id = server.start_chat(&alice, "agents", body.clone()).await;
    let seen = frames(&server, &alice, &id, "").await;
    let last = seen.last().unwrap();
    assert!(last.get("error").is_none(), "{last}");
    let response = &last["responseMessage"];
    assert_eq!(response["sender"], "Reckoner");
    assert_eq!(response["endpoint"], "agents");
    assert_eq!(parts(response, "tool_call").len(), 1);
    assert_eq!(parts(response, "tool_call")[0]["tool_call"]["output"], "42");
    assert_eq!(last["conversation"]["endpoint"], "agents");
    assert_eq!(last["conversation"]["agent_id"], agent_id);
    let asked: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r["model"] == "calc" && r.get("tools").is_some())
        .collect();
    assert_eq!(asked.len(), 2, "a call, then the answer");
    let name = alice.user["name"].as_str().unwrap();
    assert_eq!(
        asked[0]["messages"][0],
        json!({"role": "system", "content": format!("Work out sums for {name}.")})
    );
    assert_eq!(asked[0]["tools"][0]["function"]["name"], "calculator");

    // Shared as viewer: Bob may now use it (and not change it).
    share_with(&server, &alice, &object_id, &bob, "agent_viewer").await;
    fake.script(
        "calc",
        ToolScript::calls([("calculator", json!({"input": "2 + 2"}))]),
    );
    let id = server.start_chat(&bob, "agents", body).await;
    let seen = frames(&server, &bob, &id, "").await;
    let response = &seen.last().unwrap()["responseMessage"];
    assert_eq!(response["sender"], "Reckoner");
    assert_eq!(parts(response, "tool_call")[0]["tool_call"]["output"], "4");
}

#[tokio::test]
async fn an_agents_recursion_limit_bounds_its_loop_within_the_servers_maximum() {
    let fake = FakeOpenAi::start().await;
    let yaml = "version: 1.2.8\nendpoints:\n  agents:\n    maxRecursionLimit: 6\n";
    let server = server_with(&fake, Some(yaml)).await;
    let s = server.signed_in("alice@example.org", PW).await;
    fake.script(
        "forever",
        ToolScript::calls([("calculator", json!({"input": "1 + 1"}))]).always(),
    );
    let run = |limit: i64| {
        let (server, s) = (&server, &s);
        async move {
            let agent = create(
                server,
                s,
                json!({"model": "forever", "tools": ["calculator"], "recursion_limit": limit}),
            )
            .await;
            let body = json!({"text": "loop", "endpoint": "agents", "agent_id": ids(&agent).0});
            let id = server.start_chat(s, "agents", body).await;
            let seen = frames(server, s, &id, "").await;
            parts(&seen.last().unwrap()["responseMessage"], "tool_call").len()
        }
    };
    // Four steps: two model calls, each with its round of tools.
    assert_eq!(run(4).await, 2);
    // Past the server's maximum (6): held to it.
    assert_eq!(run(40).await, 3);
}
