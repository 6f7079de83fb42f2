//! Gemini's `functionCall` / `functionResponse` parts, with thought signatures.

use librechat::providers::{
    ChatMessage, ChatRequest, Part, ProviderError, Role, StreamEvent, ToolChoice,
};
use serde_json::json;

use super::support::fake_openai::KEY;
use super::support::fake_tools::gemini::THOUGHT;
use super::support::fake_tools::{Broken, ToolScript, signature_for};
use super::*;

fn paris_and_oslo() -> ToolScript {
    ToolScript::calls([
        ("get_weather", json!({"city": "Paris"})),
        ("get_weather", json!({"city": "Oslo", "unit": "c"})),
    ])
}

#[tokio::test]
async fn declarations_take_gemini_s_schema_subset_and_the_choice_its_modes() {
    let s = Setup::start().await;
    s.fake.script("gemini-tools", paris_and_oslo());
    let mut request = ask("gemini-tools");
    request.tool_choice = Some(ToolChoice::Tool("clock".into()));
    s.events("google", request).await.unwrap();
    let body = s.last_request();
    // `$schema`, `additionalProperties` and `$defs` gone, the `$ref` inlined, the nullable
    // type made Gemini's way; the clock has no parameters at all.
    assert_eq!(
        body["tools"],
        json!([{"functionDeclarations": [
            {"name": "get_weather", "description": "The weather in a city.", "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city."},
                    "unit": {"type": "string", "enum": ["c", "f"]},
                    "days": {"type": "integer", "nullable": true, "minimum": 1}
                },
                "required": ["city"]
            }},
            {"name": "clock", "description": "The time now."}
        ]}])
    );
    assert_eq!(
        body["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["clock"]}})
    );
    for (c, mode) in [
        (ToolChoice::Auto, "AUTO"),
        (ToolChoice::None, "NONE"),
        (ToolChoice::Required, "ANY"),
    ] {
        let mut request = ask("gemini-tools");
        request.tool_choice = Some(c);
        s.events("google", request).await.unwrap();
        assert_eq!(
            s.last_request()["toolConfig"],
            json!({"functionCallingConfig": {"mode": mode}})
        );
    }

    // The schema as the tool gave it is what Gemini refuses.
    let raw = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "tools": [{"functionDeclarations": [{"name": "get_weather", "parameters": tools()[0].parameters}]}]});
    let r = reqwest::Client::new()
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            s.fake.anthropic_base()
        ))
        .header("x-goog-api-key", KEY)
        .json(&raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: serde_json::Value = r.json().await.unwrap();
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Invalid JSON payload received. Unknown name \"$defs\" at 'tools[0].function_declarations[0].parameters'"), "{message}");
}

#[tokio::test]
async fn whole_function_calls_stream_with_made_ids_and_the_thought_signature() {
    let s = Setup::start().await;
    s.fake.script("gemini-tools", paris_and_oslo().thinking());
    let events = s.events("google", ask("gemini-tools")).await.unwrap();
    assert_eq!(events[0], StreamEvent::Reasoning(THOUGHT.into()));
    assert_eq!(finish(&events).as_deref(), Some("tool_calls"));
    let calls = call_events(&events);
    assert_eq!(calls.len(), 4, "{calls:?}");
    let (
        StreamEvent::ToolCallStart {
            id: a,
            signature: sa,
            ..
        },
        StreamEvent::ToolCallStart {
            id: b,
            signature: sb,
            ..
        },
    ) = (&calls[0], &calls[2])
    else {
        panic!("{calls:?}")
    };
    assert!(
        a.starts_with("call_lc") && b.starts_with("call_lc") && a != b,
        "{a} {b}"
    );
    assert_eq!(sa.as_deref(), Some(signature_for(THOUGHT).as_str()));
    assert_eq!(sb, &None);
    assert_eq!(
        calls[1],
        StreamEvent::ToolCallArgs {
            index: 0,
            delta: r#"{"city":"Paris"}"#.into()
        }
    );
    // Ids made here are new for every answer.
    let again = s.events("google", ask("gemini-tools")).await.unwrap();
    let first_again = answer(&again).calls().next().unwrap().id.clone();
    assert_ne!(&first_again, a);
}

#[tokio::test]
async fn the_history_carries_calls_with_their_signature_and_responses_after_them() {
    let s = Setup::start().await;
    s.fake.script("gemini-tools", paris_and_oslo().thinking());
    let first = s.events("google", ask("gemini-tools")).await.unwrap();
    let mut second = with_results(ask("gemini-tools"), answer(&first));
    if let Some(Part::ToolResult(r)) = second.messages.last_mut().unwrap().content.get_mut(1) {
        r.is_error = true;
    }
    let events = s.events("google", second.clone()).await.unwrap();
    assert_eq!(
        text(&events),
        "Results: get_weather says 1 | error: get_weather says 2"
    );
    assert_eq!(finish(&events).as_deref(), Some("STOP"));
    let body = s.last_request();
    assert_eq!(
        body["systemInstruction"],
        json!({"parts": [{"text": "Use the tools."}]})
    );
    assert_eq!(
        body["contents"],
        json!([
            {"role": "user", "parts": [{"text": "Weather in Paris and Oslo?"}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": signature_for(THOUGHT)},
                {"functionCall": {"name": "get_weather", "args": {"city": "Oslo", "unit": "c"}}}
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"output": "get_weather says 1"}}},
                {"functionResponse": {"name": "get_weather", "response": {"error": "get_weather says 2"}}}
            ]}
        ])
    );

    // Without the signature, Gemini 3 refuses the calls.
    for part in &mut second.messages[2].content {
        if let Part::ToolCall(c) = part {
            c.signature = None;
        }
    }
    match s.events("google", second).await {
        Err(ProviderError::Status {
            status: 400,
            message,
        }) => {
            assert!(
                message.starts_with(
                    "Function call is missing a thought_signature in functionCall parts."
                ),
                "{message}"
            );
        }
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
        refused(&s, "google", ask("huge")).await,
        "a tool call's arguments passed 1 MiB"
    );
    assert_eq!(
        refused(&s, "google", ask("many")).await,
        "the model made more than 128 tool calls in one answer"
    );
    assert_eq!(
        refused(&s, "google", ask("orphan")).await,
        "a tool call came without a name"
    );
}

#[tokio::test]
async fn a_request_without_tools_is_written_as_before() {
    let s = Setup::start().await;
    let request = ChatRequest {
        model: "gemini-2.5-flash".into(),
        messages: vec![
            ChatMessage::text(Role::System, "Be brief."),
            ChatMessage::text(Role::User, "hi"),
        ],
        tool_choice: Some(ToolChoice::None),
        ..ChatRequest::default()
    };
    let events = s.events("google", request).await.unwrap();
    assert_eq!(text(&events), "Gemini says: hi");
    assert_eq!(finish(&events).as_deref(), Some("STOP"));
    assert_eq!(
        s.last_request(),
        json!({
            "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
            "systemInstruction": {"parts": [{"text": "Be brief."}]}
        })
    );
}
