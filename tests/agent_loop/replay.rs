//! A later turn is given the earlier answer's tool calls and their results, in each wire
//! format, checked by the fakes as each provider checks a history with calls (a call without
//! its result, or a result without its call, is their 400); a call to a tool not offered in
//! the later turn is given as words.

use serde_json::{Value, json};

use crate::support::fake_tools::ToolScript;
use crate::*;

/// Asks `text` as a follow-up of `parent` in `convo`.
fn follow_up(model: &str, text: &str, convo: &str, parent: &str) -> Value {
    let mut body = ask(model, text);
    body["conversationId"] = json!(convo);
    body["parentMessageId"] = json!(parent);
    body
}

/// Runs a first turn that calls the calculator (6 * 7) and a second one; the second turn's
/// first request to the provider.
async fn two_turns(endpoint: &str, model: &str, extra: Value, second_tools: bool) -> Value {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    fake.script(
        model,
        ToolScript::calls([("calculator", json!({"input": "6 * 7"}))]),
    );
    let mut body = ask(model, "What is six times seven?");
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let id = server.start_chat(&s, endpoint, body.clone()).await;
    let first = frames(&server, &s, &id, "").await;
    let last = first.last().unwrap();
    assert!(last.get("error").is_none(), "{model}: {last}");
    let convo = last["conversation"]["conversationId"].as_str().unwrap();
    let answer = last["responseMessage"]["messageId"].as_str().unwrap();

    // The second turn: no more calls scripted, so the model answers at once.
    fake.script(model, ToolScript::default());
    let mut next = follow_up(model, "And plus one?", convo, answer);
    for (k, v) in extra.as_object().unwrap() {
        next[k] = v.clone();
    }
    if !second_tools {
        next["tools"] = json!([]);
    }
    let id = server.start_chat(&s, endpoint, next).await;
    let second = frames(&server, &s, &id, "").await;
    let last = second.last().unwrap();
    assert!(
        last.get("error").is_none(),
        "{model}: the provider refused the history: {last}"
    );
    // The turn's first request (the title's request, after the first turn, is another).
    fake.requests()
        .into_iter()
        .find(|r| r.to_string().contains("And plus one?"))
        .expect("the second turn reached the provider")
}

#[tokio::test]
async fn openai_chat_gets_the_calls_and_results_back() {
    let req = two_turns("openAI", "calc", json!({}), true).await;
    let m = req["messages"].as_array().unwrap();
    let at = m
        .iter()
        .position(|m| m["tool_calls"].is_array())
        .unwrap_or_else(|| panic!("no earlier call in {m:?}"));
    let call = &m[at]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "calculator");
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"input": "6 * 7"})
    );
    assert_eq!(m[at + 1]["role"], "tool");
    assert_eq!(m[at + 1]["tool_call_id"], call["id"]);
    assert_eq!(m[at + 1]["content"], "42");
    // Then the earlier answer's words, then the new question.
    assert_eq!(m[at + 2]["role"], "assistant");
    assert!(m[at + 2]["content"].as_str().unwrap().contains("42"));
    assert_eq!(m.last().unwrap()["role"], "user");
}

#[tokio::test]
async fn responses_api_gets_the_calls_and_results_back() {
    let req = two_turns(
        "openAI",
        "calc-responses",
        json!({"useResponsesApi": true}),
        true,
    )
    .await;
    let input = req["input"].as_array().unwrap();
    let call = input
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap_or_else(|| panic!("no earlier call in {input:?}"));
    let output = input
        .iter()
        .find(|i| i["type"] == "function_call_output")
        .unwrap();
    assert_eq!(output["call_id"], call["call_id"]);
    assert_eq!(output["output"], "42");
}

#[tokio::test]
async fn anthropic_gets_the_calls_and_results_back() {
    let req = two_turns("anthropic", "claude-calc", json!({}), true).await;
    let m = req["messages"].as_array().unwrap();
    let use_at = m
        .iter()
        .position(|m| {
            m["content"]
                .as_array()
                .is_some_and(|c| c.iter().any(|b| b["type"] == "tool_use"))
        })
        .unwrap_or_else(|| panic!("no earlier call in {m:?}"));
    let block = m[use_at]["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "tool_use")
        .unwrap();
    assert_eq!(block["input"], json!({"input": "6 * 7"}));
    let result = &m[use_at + 1]["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["tool_use_id"], block["id"]);
}

#[tokio::test]
async fn gemini_gets_the_calls_and_results_back() {
    let req = two_turns("google", "gemini-calc", json!({}), true).await;
    let contents = req["contents"].as_array().unwrap();
    let parts: Vec<&Value> = contents
        .iter()
        .flat_map(|c| c["parts"].as_array().unwrap().iter())
        .collect();
    assert!(
        parts
            .iter()
            .any(|p| p["functionCall"]["name"] == "calculator"),
        "{contents:?}"
    );
    assert!(
        parts
            .iter()
            .any(|p| p["functionResponse"]["name"] == "calculator"),
        "{contents:?}"
    );
}

#[tokio::test]
async fn a_call_to_a_tool_no_longer_offered_is_given_as_words() {
    let req = two_turns("anthropic", "claude-calc", json!({}), false).await;
    let m = req["messages"].as_array().unwrap();
    let blocks: Vec<&Value> = m
        .iter()
        .flat_map(|m| m["content"].as_array().into_iter().flatten())
        .collect();
    assert!(
        !blocks
            .iter()
            .any(|b| b["type"] == "tool_use" || b["type"] == "tool_result"),
        "{m:?}"
    );
    assert!(
        req.get("tools")
            .is_none_or(|t| t.as_array().unwrap().is_empty())
    );
    let all = serde_json::to_string(m).unwrap();
    assert!(all.contains("Called the tool calculator"), "{all}");
}
