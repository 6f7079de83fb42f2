//! Anthropic's Messages API: `tool_use` / `tool_result` blocks, with extended thinking.

use librechat::providers::{
    ChatMessage, ChatRequest, Part, ProviderError, Role, StreamEvent, ToolChoice,
};
use serde_json::{Value, json};

use super::support::fake_openai::KEY;
use super::support::fake_tools::anthropic::{REDACTED, THINKING};
use super::support::fake_tools::{Broken, ToolScript, signature_for};
use super::*;

fn paris_and_oslo() -> ToolScript {
    ToolScript::calls([
        ("get_weather", json!({"city": "Paris"})),
        ("get_weather", json!({"city": "Oslo"})),
    ])
}

/// [`ask`] with these parameters (the prompt cache off unless they say otherwise, so the
/// blocks compare plainly).
fn ask_claude(model: &str, more: &[(&str, Value)]) -> ChatRequest {
    let mut p = params(&[("promptCache", json!(false))]);
    p.extend(params(more));
    ChatRequest {
        params: p,
        ..ask(model)
    }
}

#[tokio::test]
async fn tools_take_input_schemas_and_the_choice_anthropic_s_words() {
    let s = Setup::start().await;
    s.fake.script("claude-tools", paris_and_oslo());
    let choice = |c: Option<ToolChoice>, more: &[(&str, Value)]| {
        let mut r = ask_claude("claude-tools", more);
        r.tool_choice = c;
        r
    };
    s.events("anthropic", choice(Some(ToolChoice::Required), &[]))
        .await
        .unwrap();
    let body = s.last_request();
    assert_eq!(
        body["tools"][0],
        json!({"name": "get_weather", "description": "The weather in a city.", "input_schema": tools()[0].parameters})
    );
    assert_eq!(
        body["tools"][1]["input_schema"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(body["tool_choice"], json!({"type": "any"}));
    for (c, more, wire) in [
        (
            Some(ToolChoice::Tool("clock".into())),
            vec![],
            json!({"type": "tool", "name": "clock"}),
        ),
        (Some(ToolChoice::None), vec![], json!({"type": "none"})),
        (
            None,
            vec![("parallel_tool_calls", json!(false))],
            json!({"type": "auto", "disable_parallel_tool_use": true}),
        ),
        // Anthropic refuses to think when a tool is forced: the choice is left to the model.
        (
            Some(ToolChoice::Required),
            vec![("thinking", json!(true))],
            json!({"type": "auto"}),
        ),
    ] {
        s.events("anthropic", choice(c, &more)).await.unwrap();
        assert_eq!(s.last_request()["tool_choice"], wire);
    }
}

#[tokio::test]
async fn tool_use_blocks_stream_as_calls_and_a_call_without_input_gets_an_empty_object() {
    let s = Setup::start().await;
    s.fake.script(
        "claude-tools",
        ToolScript::calls([
            ("get_weather", json!({"city": "Paris"})),
            ("clock", json!({})),
        ])
        .preface("One moment."),
    );
    let events = s
        .events("anthropic", ask_claude("claude-tools", &[]))
        .await
        .unwrap();
    assert_eq!(text(&events), "One moment.");
    assert_eq!(finish(&events).as_deref(), Some("tool_calls"));
    let calls = call_events(&events);
    assert_eq!(
        calls[0],
        StreamEvent::ToolCallStart {
            index: 0,
            id: "toolu_00A".into(),
            name: "get_weather".into(),
            signature: None
        }
    );
    assert_eq!(
        calls.last(),
        Some(&StreamEvent::ToolCallArgs {
            index: 1,
            delta: "{}".into()
        })
    );
    let a = answer(&events);
    let got: Vec<_> = a
        .calls()
        .map(|c| (c.id.as_str(), c.args.as_str()))
        .collect();
    assert_eq!(
        got,
        [("toolu_00A", r#"{"city":"Paris"}"#), ("toolu_01A", "{}")]
    );
}

#[tokio::test]
async fn thinking_and_its_signature_go_back_before_the_calls_and_results_follow_them() {
    let s = Setup::start().await;
    s.fake.script("claude-tools", paris_and_oslo().thinking());
    let thinking = [("thinking", json!(true))];
    let first = s
        .events("anthropic", ask_claude("claude-tools", &thinking))
        .await
        .unwrap();
    // The stream shows the thinking, the signature that closes it and the redacted block.
    assert_eq!(
        first
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Reasoning(t) => Some(t.as_str()),
                _ => None,
            })
            .collect::<String>(),
        THINKING
    );
    assert!(first.contains(&StreamEvent::ReasoningSignature(signature_for(THINKING))));
    assert!(first.contains(&StreamEvent::RedactedReasoning(REDACTED.into())));
    let second = with_results(ask_claude("claude-tools", &thinking), answer(&first));
    let events = s.events("anthropic", second).await.unwrap();
    assert_eq!(
        text(&events),
        "Results: get_weather says 1 | get_weather says 2"
    );
    assert_eq!(finish(&events).as_deref(), Some("end_turn"));
    let body = s.last_request();
    assert_eq!(body["system"], "Use the tools.");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": "Weather in Paris and Oslo?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": THINKING, "signature": signature_for(THINKING)},
                {"type": "redacted_thinking", "data": REDACTED},
                {"type": "tool_use", "id": "toolu_00A", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Oslo"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_00A", "content": "get_weather says 1"},
                {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "get_weather says 2"}
            ]}
        ])
    );
}

#[tokio::test]
async fn results_and_a_following_question_share_one_user_turn_with_the_cache_mark_last() {
    let s = Setup::start().await;
    s.fake
        .script("claude-tools", ToolScript::calls([("clock", json!({}))]));
    let first = s.events("anthropic", ask("claude-tools")).await.unwrap();
    let mut second = with_results(ask("claude-tools"), answer(&first));
    if let Some(Part::ToolResult(r)) = second.messages.last_mut().unwrap().content.first_mut() {
        r.is_error = true;
    }
    second
        .messages
        .push(ChatMessage::text(Role::User, "And then?"));
    s.events("anthropic", second).await.unwrap();
    let turn = &s.last_request()["messages"][2];
    assert_eq!(
        turn,
        &json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_00A", "content": "clock says 1", "is_error": true},
            {"type": "text", "text": "And then?", "cache_control": {"type": "ephemeral"}}
        ]})
    );
}

#[tokio::test]
async fn anthropic_s_refusals_of_a_broken_history_come_through() {
    let s = Setup::start().await;
    // A result whose call is not in the turn before: the fake answers as Anthropic does.
    let stray = json!({"model": "claude-x", "max_tokens": 100, "stream": true, "tools": [{"name": "clock", "input_schema": {"type": "object"}}],
        "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "stray"}]}]});
    let r = reqwest::Client::new()
        .post(format!("{}/v1/messages", s.fake.anthropic_base()))
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01")
        .json(&stray)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["type"], "invalid_request_error");
    assert_eq!(
        e["error"]["message"],
        "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_x. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
    );

    // Thinking on, and the calls sent back without the thinking that came before them.
    s.fake.script("claude-tools", paris_and_oslo().thinking());
    let thinking = [("thinking", json!(true))];
    let first = s
        .events("anthropic", ask_claude("claude-tools", &thinking))
        .await
        .unwrap();
    let mut second = with_results(ask_claude("claude-tools", &thinking), answer(&first));
    let assistant = &mut second.messages[2];
    assistant.content.retain(|p| matches!(p, Part::ToolCall(_)));
    match s.events("anthropic", second.clone()).await {
        Err(ProviderError::Status {
            status: 400,
            message,
        }) => {
            assert!(message.starts_with("messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`."), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // ...or with a thinking text changed under its signature.
    second.messages[2].content.insert(
        0,
        Part::Thinking {
            text: "something else".into(),
            signature: Some(signature_for(THINKING)),
        },
    );
    match s.events("anthropic", second).await {
        Err(ProviderError::Status {
            status: 400,
            message,
        }) => assert_eq!(
            message,
            "messages.1.content.0: Invalid `signature` in `thinking` block"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn malformed_and_oversized_call_streams_end_with_a_clear_error() {
    let s = Setup::start().await;
    s.fake.script("huge", ToolScript::broken(Broken::HugeArgs));
    s.fake
        .script("many", ToolScript::broken(Broken::TooManyCalls));
    s.fake.script("orphan", ToolScript::broken(Broken::Orphan));
    assert_eq!(
        refused(&s, "anthropic", ask("huge")).await,
        "a tool call's arguments passed 1 MiB"
    );
    assert_eq!(
        refused(&s, "anthropic", ask("many")).await,
        "the model made more than 128 tool calls in one answer"
    );
    assert_eq!(
        refused(&s, "anthropic", ask("orphan")).await,
        "tool input came for a content block that is not a tool_use"
    );
}

#[tokio::test]
async fn a_request_without_tools_is_written_as_before() {
    let s = Setup::start().await;
    let request = ChatRequest {
        model: "claude-sonnet-4-5".into(),
        messages: vec![
            ChatMessage::text(Role::System, "Be brief."),
            ChatMessage::text(Role::User, "hi"),
        ],
        params: params(&[
            ("promptCache", json!(false)),
            ("parallel_tool_calls", json!(false)),
        ]),
        tool_choice: Some(ToolChoice::Auto),
        ..ChatRequest::default()
    };
    let events = s.events("anthropic", request).await.unwrap();
    assert_eq!(text(&events), "Claude says: hi");
    assert_eq!(finish(&events).as_deref(), Some("end_turn"));
    assert_eq!(
        s.last_request(),
        json!({
            "model": "claude-sonnet-4-5",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": true,
            "system": "Be brief.",
            "max_tokens": 8192
        })
    );
}
