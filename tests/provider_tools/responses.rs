//! OpenAI's Responses API (`useResponsesApi`).

use std::sync::Arc;

use librechat::providers::{ChatMessage, ChatRequest, Image, Part, Role, StreamEvent, ToolChoice};
use serde_json::json;

use super::support::fake_openai::KEY;
use super::support::fake_tools::{Broken, ToolScript};
use super::*;

/// [`ask`] through the Responses API.
fn ask_responses(model: &str) -> ChatRequest {
    ChatRequest {
        params: params(&[("useResponsesApi", json!(true))]),
        ..ask(model)
    }
}

fn paris_and_oslo() -> ToolScript {
    ToolScript::calls([
        ("get_weather", json!({"city": "Paris"})),
        ("get_weather", json!({"city": "Oslo", "days": 2})),
    ])
}

#[tokio::test]
async fn tools_are_function_tools_and_not_strict() {
    let s = Setup::start().await;
    s.fake.script("resp-tools", paris_and_oslo());
    let mut request = ask_responses("resp-tools");
    request.tool_choice = Some(ToolChoice::Tool("clock".into()));
    s.events("openAI", request).await.unwrap();
    let body = s.last_request();
    assert_eq!(
        body["tools"][0],
        json!({"type": "function", "name": "get_weather",
        "description": "The weather in a city.", "parameters": tools()[0].parameters, "strict": false})
    );
    assert_eq!(
        body["tool_choice"],
        json!({"type": "function", "name": "clock"})
    );
    let mut request = ask_responses("resp-tools");
    request.tool_choice = Some(ToolChoice::Required);
    s.events("openAI", request).await.unwrap();
    assert_eq!(s.last_request()["tool_choice"], "required");
}

#[tokio::test]
async fn function_call_items_stream_as_calls_with_their_call_ids() {
    let s = Setup::start().await;
    s.fake.script("resp-tools", paris_and_oslo());
    let events = s
        .events("openAI", ask_responses("resp-tools"))
        .await
        .unwrap();
    let starts: Vec<_> = call_events(&events)
        .into_iter()
        .filter(|e| matches!(e, StreamEvent::ToolCallStart { .. }))
        .collect();
    assert_eq!(
        starts,
        [
            StreamEvent::ToolCallStart {
                index: 0,
                id: "call_0x".into(),
                name: "get_weather".into(),
                signature: None
            },
            StreamEvent::ToolCallStart {
                index: 1,
                id: "call_1x".into(),
                name: "get_weather".into(),
                signature: None
            },
        ]
    );
    // Completed with function calls: the loop is to call them.
    assert_eq!(finish(&events).as_deref(), Some("tool_calls"));
    let a = answer(&events);
    let args: Vec<_> = a.calls().map(|c| c.args.as_str()).collect();
    // The pieces joined, not the `.done` text again on top of them.
    assert_eq!(args, [r#"{"city":"Paris"}"#, r#"{"city":"Oslo","days":2}"#]);
}

#[tokio::test]
async fn the_history_carries_function_call_and_output_items() {
    let s = Setup::start().await;
    s.fake
        .script("resp-tools", paris_and_oslo().preface("Checking both."));
    let first = s
        .events("openAI", ask_responses("resp-tools"))
        .await
        .unwrap();
    let mut second = with_results(ask_responses("resp-tools"), answer(&first));
    // The second tool also returned an image.
    if let Some(Part::ToolResult(r)) = second.messages.last_mut().unwrap().content.get_mut(1) {
        r.images.push(Image {
            mime: "image/png".into(),
            base64: Arc::from("iVBORw0K"),
            detail: None,
        });
    }
    let events = s.events("openAI", second).await.unwrap();
    assert_eq!(
        text(&events),
        "Results: get_weather says 1 | get_weather says 2"
    );
    assert_eq!(finish(&events).as_deref(), Some("stop"));
    let body = s.last_request();
    assert_eq!(body["instructions"], "Use the tools.");
    assert_eq!(
        body["input"],
        json!([
            {"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris and Oslo?"}]},
            {"role": "assistant", "content": [{"type": "output_text", "text": "Checking both."}]},
            {"type": "function_call", "call_id": "call_0x", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call", "call_id": "call_1x", "name": "get_weather", "arguments": "{\"city\":\"Oslo\",\"days\":2}"},
            {"type": "function_call_output", "call_id": "call_0x", "output": "get_weather says 1"},
            {"type": "function_call_output", "call_id": "call_1x", "output": [
                {"type": "input_text", "text": "get_weather says 2"},
                {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0K", "detail": "auto"}
            ]}
        ])
    );
}

#[tokio::test]
async fn an_output_without_its_call_is_refused_by_the_api_and_never_sent() {
    let s = Setup::start().await;
    let stray = json!({"model": "gpt-4o", "stream": true, "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "function_call_output", "call_id": "call_x", "output": "stray"}
    ]});
    let r = reqwest::Client::new()
        .post(format!("{}/responses", s.fake.base))
        .bearer_auth(KEY)
        .json(&stray)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        e["error"]["message"],
        "No tool call found for function call output with call_id call_x."
    );

    let mut request = ask_responses("gpt-4o");
    request.messages.push(ChatMessage {
        role: Role::Tool,
        content: vec![Part::ToolResult(librechat::providers::ToolResult {
            call_id: "call_x".into(),
            name: "clock".into(),
            content: "stray".into(),
            images: Vec::new(),
            is_error: false,
        })],
    });
    let events = s.events("openAI", request).await.unwrap();
    assert!(text(&events).starts_with("Responses say: "));
    assert_eq!(s.last_request()["input"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn malformed_and_oversized_call_streams_end_with_a_clear_error() {
    let s = Setup::start().await;
    s.fake.script("huge", ToolScript::broken(Broken::HugeArgs));
    s.fake
        .script("many", ToolScript::broken(Broken::TooManyCalls));
    s.fake.script("orphan", ToolScript::broken(Broken::Orphan));
    assert_eq!(
        refused(&s, "openAI", ask_responses("huge")).await,
        "a tool call's arguments passed 1 MiB"
    );
    assert_eq!(
        refused(&s, "openAI", ask_responses("many")).await,
        "the model made more than 128 tool calls in one answer"
    );
    assert_eq!(
        refused(&s, "openAI", ask_responses("orphan")).await,
        "function call arguments came for no function call"
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
            ("useResponsesApi", json!(true)),
            ("parallel_tool_calls", json!(false)),
        ]),
        tool_choice: Some(ToolChoice::None),
        ..ChatRequest::default()
    };
    let events = s.events("openAI", request).await.unwrap();
    assert_eq!(text(&events), "Responses say: hi");
    assert_eq!(finish(&events).as_deref(), Some("stop"));
    assert_eq!(
        s.last_request(),
        json!({
            "model": "gpt-4o",
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
            "stream": true,
            "store": false,
            "instructions": "Be brief."
        })
    );
}
