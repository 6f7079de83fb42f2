//! Agents that answer side by side: a fan-out (a direct edge to several agents) and several
//! starting agents run at the same time — the fake answers each branch only once the other's
//! request has arrived, so running them one after another would never finish — each part and
//! run step names its agent (`agentId`) and its parallel group (`groupId`), an agent several
//! lead to runs once after them all, and the recursion limit, an abort and billing cover
//! every branch.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::chains::{agent, asked};
use crate::support::fake_tools::ToolScript;
use crate::support::stream::Frames;
use crate::*;

/// Asks `agent_id` `text`; the frames and the answer as the final frame and the store have it.
async fn run(server: &TestServer, s: &Session, agent_id: &str, text: &str) -> (Vec<Value>, Value) {
    let body = json!({"text": text, "endpoint": "agents", "agent_id": agent_id});
    let id = server.start_chat(s, "agents", body).await;
    let seen = frames(server, s, &id, "").await;
    let response = seen.last().unwrap()["responseMessage"].clone();
    let saved = messages(server, s, &id).await;
    assert_eq!(
        saved[1]["content"], response["content"],
        "saved as streamed"
    );
    (seen, response)
}

/// Each content part's agent and group.
fn authors(response: &Value) -> Vec<(String, Option<u64>)> {
    response["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] != "error")
        .map(|p| {
            let agent = p["agentId"].as_str().expect("every part names its agent");
            (agent.to_owned(), p["groupId"].as_u64())
        })
        .collect()
}

#[tokio::test]
async fn a_fan_out_runs_its_branches_together_and_the_fan_in_once_after_them() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (left, _) = agent(&server, &s, "Left", "left", json!({})).await;
    let (right, _) = agent(&server, &s, "Right", "right", json!({})).await;
    let (joiner, _) = agent(&server, &s, "Joiner", "joiner", json!({})).await;
    let (lead, _) = agent(
        &server,
        &s,
        "Lead",
        "first",
        json!({"edges": [
            {"from": "", "to": [left, right], "edgeType": "direct"},
            {"from": [left, right], "to": joiner, "edgeType": "direct",
             "prompt": "Sum up: {results}"},
        ]}),
    )
    .await;
    // Neither branch is answered before the other has asked.
    fake.meet(&["left", "right"]);

    let (seen, response) = run(&server, &s, &lead, "go").await;
    assert!(seen.last().unwrap().get("error").is_none(), "{response}");
    assert_eq!(asked(&fake, "left").len(), 1);
    assert_eq!(asked(&fake, "right").len(), 1);
    // The fan-in ran once, given what all three said.
    let joined = asked(&fake, "joiner");
    assert_eq!(joined.len(), 1, "the agent both lead to runs once");
    let m = joined[0]["messages"].as_array().unwrap();
    assert_eq!(
        m.last().unwrap()["content"],
        "Sum up: AI: Echo: go\nAI: Echo: go\nAI: Echo: go"
    );

    // Every part names its agent; the branches' parts share group 1, in either order.
    let got = authors(&response);
    assert_eq!(got.len(), 4, "{response}");
    assert_eq!(got[0], (lead.clone(), None));
    let branches: HashSet<_> = got[1..3].iter().cloned().collect();
    assert_eq!(
        branches,
        HashSet::from([(left.clone(), Some(1)), (right.clone(), Some(1))])
    );
    assert_eq!(got[3], (joiner.clone(), None));
    assert!(
        response["text"]
            .as_str()
            .unwrap()
            .starts_with("Echo: go\n\nEcho: go\n\nEcho: go\n\nEcho: Sum up:")
    );

    // The run steps say the same, each at an index of its own.
    let steps = events(&seen, "on_run_step");
    let indexes: Vec<u64> = steps
        .iter()
        .map(|f| f["data"]["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [0, 1, 2, 3]);
    for f in &steps {
        let d = &f["data"];
        let agent = d["agentId"].as_str().unwrap();
        let in_group = agent == left || agent == right;
        assert_eq!(d["groupId"].as_u64(), in_group.then_some(1), "{d}");
    }

    // The next turn gives the answer back as LibreChat does: of the parallel group, only
    // its first agent's words.
    let body = json!({"text": "again", "endpoint": "agents", "agent_id": lead,
        "conversationId": response["conversationId"], "parentMessageId": response["messageId"]});
    let id = server.start_chat(&s, "agents", body).await;
    frames(&server, &s, &id, "").await;
    let lead_asked = asked(&fake, "first");
    let history = lead_asked.last().unwrap()["messages"].as_array().unwrap();
    let given = history[history.len() - 2]["content"].as_str().unwrap();
    let saved = response["text"].as_str().unwrap();
    assert_eq!(given, saved.replacen("Echo: go\n\n", "", 1), "{given}");
}

#[tokio::test]
async fn agents_no_edge_leads_to_start_together() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (left, _) = agent(&server, &s, "Left", "left", json!({})).await;
    let (right, _) = agent(&server, &s, "Right", "right", json!({})).await;
    let (joiner, _) = agent(&server, &s, "Joiner", "joiner", json!({})).await;
    // The lead's own edges lead from the two others: all three start, side by side.
    let (lead, _) = agent(
        &server,
        &s,
        "Lead",
        "first",
        json!({"edges": [
            {"from": left, "to": joiner, "edgeType": "direct"},
            {"from": right, "to": joiner, "edgeType": "direct"},
        ]}),
    )
    .await;
    fake.meet(&["first", "left", "right"]);

    let (_, response) = run(&server, &s, &lead, "go").await;
    assert!(response["error"] != true, "{response}");
    let got = authors(&response);
    let starts: HashSet<_> = got[..3].iter().cloned().collect();
    assert_eq!(
        starts,
        HashSet::from([
            (lead.clone(), Some(1)),
            (left.clone(), Some(1)),
            (right.clone(), Some(1))
        ])
    );
    assert_eq!(&got[3..], [(joiner, None)]);
    assert_eq!(asked(&fake, "joiner").len(), 1);
}

#[tokio::test]
async fn branches_share_the_recursion_limit_and_each_is_billed() {
    let fake = FakeOpenAi::start().await;
    let yaml = "version: 1.2.8\nbalance:\n  enabled: true\n  startBalance: 1000000\n";
    let server = server_with(&fake, Some(yaml)).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let calc = json!({"tools": ["calculator"]});
    let (left, _) = agent(&server, &s, "Left", "left", calc.clone()).await;
    let (right, _) = agent(&server, &s, "Right", "right", calc).await;
    let (lead, _) = agent(
        &server,
        &s,
        "Lead",
        "first",
        json!({"recursion_limit": 4,
               "edges": [{"from": "", "to": [left, right], "edgeType": "direct"}]}),
    )
    .await;
    // Both branches would call the calculator for ever.
    for model in ["left", "right"] {
        fake.script(
            model,
            ToolScript::calls([("calculator", json!({"input": "1 + 1"}))]).always(),
        );
    }
    fake.meet(&["left", "right"]);

    let (_, response) = run(&server, &s, &lead, "go").await;
    // Four steps in all: the lead's answer, each branch's call (they meet), and one round
    // of tools; the other branch finds none left for its round.
    assert_eq!(asked(&fake, "left").len(), 1);
    assert_eq!(asked(&fake, "right").len(), 1);
    let calls = parts(&response, "tool_call");
    assert_eq!(calls.len(), 2);
    let ran = calls
        .iter()
        .filter(|c| c["tool_call"]["output"].is_string())
        .count();
    assert_eq!(ran, 1, "{response}");
    let last = response["content"].as_array().unwrap().last().unwrap();
    assert!(
        last["error"]
            .as_str()
            .unwrap()
            .contains("Recursion limit of 4 reached"),
        "{last}"
    );
    // Every model call billed on its own model.
    let user = s.user["id"].as_str().unwrap().to_owned();
    let billed: Vec<String> = server
        .state
        .db
        .read(move |c| {
            let mut stmt = c.prepare(
                "SELECT model FROM transactions WHERE user_id = ?1 \
                 AND context = 'message' AND token_type = 'prompt' ORDER BY model",
            )?;
            let rows = stmt.query_map([&user], |r| r.get(0))?;
            rows.collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap();
    assert_eq!(billed, ["first", "left", "right"]);
}

#[tokio::test]
async fn an_abort_stops_every_branch_and_keeps_what_each_said() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    // Both branches say "part one" and then wait.
    let (left, _) = agent(&server, &s, "Left", "gated", json!({})).await;
    let (right, _) = agent(&server, &s, "Right", "gated", json!({})).await;
    let (lead, _) = agent(
        &server,
        &s,
        "Lead",
        "first",
        json!({"edges": [{"from": "", "to": [left, right], "edgeType": "direct"}]}),
    )
    .await;
    let body = json!({"text": "go", "endpoint": "agents", "agent_id": lead});
    let id = server.start_chat(&s, "agents", body).await;
    let mut stream = Frames::open(&server, &s, &id).await;
    let mut waiting = HashSet::new();
    while waiting.len() < 2 {
        let f = stream.next().await.expect("the stream goes on");
        if f["event"] == "on_message_delta"
            && f["data"]["delta"]["content"][0]["text"] == "part one"
        {
            waiting.insert(f["data"]["id"].as_str().unwrap().to_owned());
        }
    }
    let resp = server
        .send(
            "POST",
            "/api/agents/chat/abort",
            &s.token,
            json!({"streamId": id}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let last = stream.until_final().await.pop().unwrap();
    assert_eq!(last["aborted"], true);
    let response = &last["responseMessage"];
    assert_eq!(response["unfinished"], true);
    let said: HashSet<(String, String)> = parts(response, "text")
        .iter()
        .filter(|p| p["groupId"] == 1)
        .map(|p| {
            (
                p["agentId"].as_str().unwrap().to_owned(),
                p["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        said,
        HashSet::from([(left, "part one".into()), (right, "part one".into())])
    );
    let saved = messages(&server, &s, &id).await;
    assert_eq!(saved[1]["unfinished"], true);
    assert_eq!(saved[1]["content"], response["content"]);
    fake.release();
    fake.release();
}

#[tokio::test]
async fn a_failing_branch_keeps_its_siblings_parts() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (left, _) = agent(&server, &s, "Left", "left", json!({})).await;
    let (broken, _) = agent(&server, &s, "Broken", "server-error", json!({})).await;
    let (lead, _) = agent(
        &server,
        &s,
        "Lead",
        "first",
        json!({"edges": [{"from": "", "to": [left, broken], "edgeType": "direct"}]}),
    )
    .await;
    let (seen, response) = run(&server, &s, &lead, "go").await;
    assert!(
        seen.last().unwrap()["error"].is_object(),
        "the answer failed"
    );
    assert_eq!(response["error"], true);
    // The lead's and the sibling's words are kept, then the error.
    let texts: Vec<(&str, &str)> = parts(&response, "text")
        .iter()
        .map(|p| (p["agentId"].as_str().unwrap(), p["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        texts,
        [(lead.as_str(), "Echo: go"), (left.as_str(), "Echo: go")]
    );
    let last = response["content"].as_array().unwrap().last().unwrap();
    assert_eq!(last["type"], "error");
}
