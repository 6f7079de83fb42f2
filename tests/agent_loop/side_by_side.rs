//! A second model answering beside the first (LibreChat's multi-conversation, `addedConvo`):
//! both run at once — the fake answers each only once the other's request has arrived — in
//! one answer whose parts name their model (`agentId`, LibreChat's ephemeral ids) and share a
//! group (`groupId`) for the client's columns; the answer is marked `addedConvo`. The second
//! gets its own instructions and parameters; an agent may be the second; one the person may
//! not see, or a model not offered, is left out and the first answers alone.

use serde_json::{Value, json};

use crate::chains::{agent, asked};
use crate::*;

/// Each content part's agent and group, in order.
fn authors(response: &Value) -> Vec<(String, Option<u64>)> {
    response["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["agentId"].as_str().unwrap_or_default().to_owned(),
                p["groupId"].as_u64(),
            )
        })
        .collect()
}

/// Asks `body` on `endpoint`; the final frame's answer, checked against the stored one.
async fn answer(server: &TestServer, s: &Session, endpoint: &str, body: Value) -> Value {
    let id = server.start_chat(s, endpoint, body).await;
    let seen = frames(server, s, &id, "").await;
    let response = seen.last().unwrap()["responseMessage"].clone();
    let saved = messages(server, s, &id).await;
    assert_eq!(
        saved[1]["content"], response["content"],
        "saved as streamed"
    );
    assert_eq!(saved[1]["addedConvo"], response["addedConvo"]);
    response
}

#[tokio::test]
async fn a_second_model_answers_beside_the_first_with_its_own_settings() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    // Neither is answered before the other has asked: one after the other never finishes.
    fake.meet(&["first", "second"]);
    let body = json!({
        "text": "go", "model": "first", "endpoint": "openAI",
        "addedConvo": {"endpoint": "openAI", "model": "second", "temperature": 0.25,
            "promptPrefix": "Answer as the second (marker 7171).", "title": "ignored"},
    });
    let response = answer(&server, &s, "openAI", body).await;
    assert_eq!(response["addedConvo"], true);
    let got = authors(&response);
    assert!(
        got.contains(&("openAI__first".into(), Some(1)))
            && got.contains(&("openAI__second____1".into(), Some(1))),
        "{got:?}"
    );
    let second = asked(&fake, "second");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0]["temperature"], 0.25);
    assert_eq!(
        second[0]["messages"][0]["content"],
        "Answer as the second (marker 7171)."
    );
    // The first keeps the conversation's own settings: no instructions of the second's.
    let first = asked(&fake, "first");
    assert!(
        !first[0].to_string().contains("marker 7171"),
        "{}",
        first[0]
    );
    server.stop().await;
}

#[tokio::test]
async fn an_agent_may_be_the_second_and_one_the_person_may_not_see_is_left_out() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    let (mine, _) = agent(&server, &alice, "Left", "left", json!({})).await;
    fake.meet(&["first", "left"]);
    let body = json!({
        "text": "go", "model": "first", "endpoint": "openAI",
        "addedConvo": {"endpoint": "agents", "agent_id": mine, "model": "left"},
    });
    let response = answer(&server, &alice, "openAI", body).await;
    let got = authors(&response);
    assert!(got.contains(&(format!("{mine}____1"), Some(1))), "{got:?}");
    assert_eq!(
        asked(&fake, "left")[0]["messages"][0]["content"],
        "You are Left."
    );

    // Bob may not see Alice's agent: he gets the first model's answer alone.
    let body = json!({
        "text": "go", "model": "gpt-4o", "endpoint": "openAI",
        "addedConvo": {"endpoint": "agents", "agent_id": mine},
    });
    let response = answer(&server, &bob, "openAI", body).await;
    assert_eq!(asked(&fake, "left").len(), 1, "Alice's agent ran for Bob");
    assert!(
        authors(&response).iter().all(|(_, g)| g.is_none()),
        "{response}"
    );
    assert_eq!(response["text"], "Echo: go");
    server.stop().await;
}

#[tokio::test]
async fn a_second_model_that_cannot_run_leaves_the_first_alone() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    for added in [
        json!({"endpoint": "openAI", "model": "not-offered"}),
        json!({"endpoint": "nowhere", "model": "gpt-4o"}),
        json!({"endpoint": "openAI"}),
        json!({"endpoint": "agents", "agent_id": "agent_doesnotexist12345678"}),
        json!({"endpoint": "agents", "agent_id": "agent_../../etc"}),
        json!({}),
    ] {
        let body = json!({"text": "go", "model": "gpt-4o", "addedConvo": added});
        let response = answer(&server, &s, "openAI", body).await;
        assert_eq!(response["text"], "Echo: go", "{added}");
        assert_eq!(response["addedConvo"], true, "{added}");
        assert!(
            authors(&response).iter().all(|(_, g)| g.is_none()),
            "{added}: {response}"
        );
    }
    server.stop().await;
}
