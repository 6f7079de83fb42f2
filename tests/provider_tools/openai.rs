//! OpenAI chat completions (and a custom endpoint, which speaks the same format).

use librechat::providers::{ChatMessage, ChatRequest, Part, Role, StreamEvent, ToolChoice};
use serde_json::json;

use super::support::fake_openai::KEY;
use super::support::fake_tools::{Broken, ToolScript};
use super::*;

fn paris_and_oslo() -> ToolScript {
    ToolScript::calls([
        ("get_weather", json!({"city": "Paris", "unit": "c"})),
        ("get_weather", json!({"city": "Oslo"})),
    ])
}

#[tokio::test]
async fn tools_and_the_tool_choice_are_written_as_openai_takes_them() {
    let s = Setup::start().await;
    s.fake.script("gpt-tools", paris_and_oslo());
    let mut request = ask("gpt-tools");
    request.tool_choice = Some(ToolChoice::Tool("get_weather".into()));
    request.params = params(&[("parallel_tool_calls", json!(false))]);
    s.events("openAI", request).await.unwrap();
    let body = s.last_request();
    assert_eq!(
        body["tools"][0],
        json!({"type": "function", "function": {
        "name": "get_weather", "description": "The weather in a city.", "parameters": tools()[0].parameters}})
    );
    assert_eq!(body["tools"][1]["function"]["name"], "clock");
    assert_eq!(
        body["tool_choice"],
        json!({"type": "function", "function": {"name": "get_weather"}})
    );
    assert_eq!(body["parallel_tool_calls"], false);

    for (choice, wire) in [
        (ToolChoice::Auto, "auto"),
        (ToolChoice::None, "none"),
        (ToolChoice::Required, "required"),
    ] {
        let mut request = ask("gpt-tools");
        request.tool_choice = Some(choice);
        s.events("openAI", request).await.unwrap();
        assert_eq!(s.last_request()["tool_choice"], wire);
    }
}

#[tokio::test]
async fn one_call_streams_as_a_start_and_the_pieces_of_its_arguments() {
    let s = Setup::start().await;
    s.fake.script(
        "gpt-tools",
        ToolScript::calls([("get_weather", json!({"city": "Paris"}))]).preface("Let me check."),
    );
    let events = s.events("openAI", ask("gpt-tools")).await.unwrap();
    let calls = call_events(&events);
    assert_eq!(
        calls[0],
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_0abc".into(),
            name: "get_weather".into(),
            signature: None
        }
    );
    assert!(calls.len() > 2, "the arguments came in pieces: {calls:?}");
    assert_eq!(text(&events), "Let me check.");
    assert_eq!(finish(&events).as_deref(), Some("tool_calls"));
    let a = answer(&events);
    assert!(a.calls_tools());
    let got: Vec<_> = a
        .calls()
        .map(|c| (c.id.as_str(), c.name.as_str(), c.args.as_str()))
        .collect();
    assert_eq!(got, [("call_0abc", "get_weather", r#"{"city":"Paris"}"#)]);
}

#[tokio::test]
async fn parallel_calls_with_interleaved_pieces_are_told_apart() {
    let s = Setup::start().await;
    s.fake.script("gpt-tools", paris_and_oslo().interleaved());
    let events = s.events("openAI", ask("gpt-tools")).await.unwrap();
    // The pieces really alternate between the two calls.
    let order: Vec<usize> = call_events(&events)
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallArgs { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(&order[..4], [0, 1, 0, 1]);
    let a = answer(&events);
    let got: Vec<_> = a.calls().map(|c| (c.id.clone(), c.args.clone())).collect();
    assert_eq!(
        got,
        [
            (
                "call_0abc".to_string(),
                r#"{"city":"Paris","unit":"c"}"#.to_string()
            ),
            ("call_1abc".to_string(), r#"{"city":"Oslo"}"#.to_string()),
        ]
    );
}

#[tokio::test]
async fn the_history_carries_the_calls_and_a_tool_message_for_each_result() {
    let s = Setup::start().await;
    s.fake
        .script("gpt-tools", paris_and_oslo().preface("Checking both."));
    let first = s.events("openAI", ask("gpt-tools")).await.unwrap();
    let second = with_results(ask("gpt-tools"), answer(&first));
    let events = s.events("openAI", second).await.unwrap();
    assert_eq!(
        text(&events),
        "Results: get_weather says 1 | get_weather says 2"
    );
    assert_eq!(finish(&events).as_deref(), Some("stop"));
    assert_eq!(
        s.last_request()["messages"],
        json!([
            {"role": "system", "content": "Use the tools."},
            {"role": "user", "content": "Weather in Paris and Oslo?"},
            {"role": "assistant", "content": "Checking both.", "tool_calls": [
                {"id": "call_0abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"c\"}"}},
                {"id": "call_1abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_0abc", "content": "get_weather says 1"},
            {"role": "tool", "tool_call_id": "call_1abc", "content": "get_weather says 2"}
        ])
    );
}

#[tokio::test]
async fn calls_and_results_that_do_not_pair_up_stay_out_of_the_request() {
    let s = Setup::start().await;
    // The fake answers as OpenAI does to a tool message without its call...
    let orphan = json!({"model": "gpt-4o", "stream": true, "messages": [
        {"role": "user", "content": "hi"},
        {"role": "tool", "tool_call_id": "call_x", "content": "stray"}
    ]});
    let r = reqwest::Client::new()
        .post(format!("{}/chat/completions", s.fake.base))
        .bearer_auth(KEY)
        .json(&orphan)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        e["error"]["message"],
        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."
    );
    assert_eq!(e["error"]["param"], "messages.[1].role");

    // ...so a history with a stray result and a call left unanswered (a run stopped while
    // its tool ran) is sent without them.
    let call = |id: &str| {
        Part::ToolCall(librechat::providers::ToolCall {
            id: id.into(),
            name: "clock".into(),
            args: "{}".into(),
            signature: None,
        })
    };
    let mut request = ask("gpt-4o");
    request.messages = vec![
        ChatMessage::text(Role::User, "hi"),
        ChatMessage {
            role: Role::Tool,
            content: vec![Part::ToolResult(result(
                &librechat::providers::ToolCall {
                    id: "call_x".into(),
                    name: "clock".into(),
                    args: "{}".into(),
                    signature: None,
                },
                1,
            ))],
        },
        ChatMessage {
            role: Role::Assistant,
            content: vec![Part::Text("One moment.".into()), call("call_y")],
        },
        ChatMessage::text(Role::User, "Echo this"),
    ];
    let events = s.events("openAI", request).await.unwrap();
    assert_eq!(text(&events), "Echo: Echo this");
    assert_eq!(
        s.last_request()["messages"],
        json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "One moment."},
            {"role": "user", "content": "Echo this"}
        ])
    );
}

#[tokio::test]
async fn malformed_and_oversized_call_streams_end_with_a_clear_error() {
    let s = Setup::start().await;
    s.fake.script("huge", ToolScript::broken(Broken::HugeArgs));
    s.fake
        .script("many", ToolScript::broken(Broken::TooManyCalls));
    s.fake.script("orphan", ToolScript::broken(Broken::Orphan));
    let e = refused(&s, "openAI", ask("huge")).await;
    assert_eq!(e, "a tool call's arguments passed 1 MiB");
    let e = refused(&s, "openAI", ask("many")).await;
    assert_eq!(e, "the model made more than 128 tool calls in one answer");
    let e = refused(&s, "openAI", ask("orphan")).await;
    assert_eq!(e, "a tool call's arguments came before its name");
}

#[tokio::test]
async fn a_custom_endpoint_calls_tools_in_openai_s_format() {
    let s = Setup::start().await;
    s.fake
        .script("local-tools", ToolScript::calls([("clock", json!({}))]));
    let first = s.events("Local LLM", ask("local-tools")).await.unwrap();
    assert_eq!(s.last_request()["tools"][1]["function"]["name"], "clock");
    let a = answer(&first);
    assert!(a.calls_tools());
    assert_eq!(a.calls().next().unwrap().args, "{}");
    let events = s
        .events("Local LLM", with_results(ask("local-tools"), a))
        .await
        .unwrap();
    assert_eq!(text(&events), "Results: clock says 1");
    assert_eq!(
        s.last_request()["messages"][3],
        json!({"role": "tool", "tool_call_id": "call_0abc", "content": "clock says 1"})
    );
}

#[tokio::test]
async fn a_request_without_tools_is_written_as_before() {
    let s = Setup::start().await;
    let request = ChatRequest {
        model: "gpt-4o".into(),
        messages: vec![
            ChatMessage::text(Role::System, "Be brief."),
            ChatMessage::text(Role::User, "hi"),
        ],
        params: params(&[
            ("temperature", json!(0.2)),
            ("parallel_tool_calls", json!(true)),
        ]),
        user: Some("u1".into()),
        // A choice without tools is not written: OpenAI refuses it.
        tool_choice: Some(ToolChoice::Required),
        ..ChatRequest::default()
    };
    let events = s.events("openAI", request).await.unwrap();
    assert_eq!(text(&events), "Echo: hi");
    assert_eq!(finish(&events).as_deref(), Some("stop"));
    assert_eq!(
        s.last_request(),
        json!({
            "model": "gpt-4o",
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": 0.2,
            "user": "u1"
        })
    );
}
