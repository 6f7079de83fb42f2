//! Two rounds with the calculator in each wire format: the call streams as LibreChat's run
//! steps, its output goes back to the model, the answer quotes it, and the saved message and
//! the tool-call list carry it.

use serde_json::{Value, json};

use crate::support::fake_tools::ToolScript;
use crate::*;

/// One format's run: the endpoint, the model (scripted), and what the body adds.
struct Case {
    endpoint: &'static str,
    model: &'static str,
    extra: Value,
    thinking: bool,
}

#[tokio::test]
async fn a_calculator_round_in_every_format() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let cases = [
        Case {
            endpoint: "openAI",
            model: "calc",
            extra: json!({}),
            thinking: false,
        },
        Case {
            endpoint: "openAI",
            model: "calc-responses",
            extra: json!({"useResponsesApi": true}),
            thinking: false,
        },
        Case {
            endpoint: "anthropic",
            model: "claude-calc",
            extra: json!({}),
            thinking: true,
        },
        Case {
            endpoint: "google",
            model: "gemini-calc",
            extra: json!({}),
            thinking: true,
        },
    ];
    for case in cases {
        let mut script = ToolScript::calls([("calculator", json!({"input": "6 * 7"}))]);
        if case.thinking {
            script = script.thinking();
        }
        fake.script(case.model, script);
        let mut body = ask(case.model, "What is six times seven?");
        for (k, v) in case.extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let id = server.start_chat(&s, case.endpoint, body).await;
        let frames = frames(&server, &s, &id, "").await;
        let what = case.model;

        // The call: its step, its arguments in pieces, its completion with the output.
        let steps = events(&frames, "on_run_step");
        let call_step = steps
            .iter()
            .find(|f| f["data"]["type"] == "tool_calls")
            .unwrap_or_else(|| panic!("{what}: no tool step"));
        let step_id = call_step["data"]["id"].as_str().unwrap();
        let call = &call_step["data"]["stepDetails"]["tool_calls"][0];
        assert_eq!(call["name"], "calculator", "{what}");
        assert_eq!(call["args"], "", "{what}");
        assert_eq!(call["type"], "tool_call", "{what}");
        assert_eq!(
            call_step["data"]["runId"],
            frames.last().unwrap()["responseMessage"]["messageId"]
        );
        let args: String = events(&frames, "on_run_step_delta")
            .iter()
            .filter(|f| f["data"]["id"] == step_id)
            .map(|f| {
                f["data"]["delta"]["tool_calls"][0]["args"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            serde_json::from_str::<Value>(&args).unwrap(),
            json!({"input": "6 * 7"}),
            "{what}"
        );
        let done = events(&frames, "on_run_step_completed");
        assert_eq!(done.len(), 1, "{what}");
        let result = &done[0]["data"]["result"];
        assert_eq!(result["id"], step_id, "{what}");
        assert_eq!(result["index"], call_step["data"]["index"], "{what}");
        assert_eq!(result["tool_call"]["output"], "42", "{what}");
        assert_eq!(result["tool_call"]["progress"], 1, "{what}");
        assert_eq!(result["tool_call"]["id"], call["id"], "{what}");

        // The answer after it is a new step with the next index, and quotes the result.
        let text_step = steps.last().unwrap();
        assert_eq!(text_step["data"]["type"], "message_creation", "{what}");
        assert_eq!(
            text_step["data"]["index"].as_u64().unwrap(),
            call_step["data"]["index"].as_u64().unwrap() + 1,
            "{what}"
        );
        assert!(
            streamed_text(&frames).contains("42"),
            "{what}: {}",
            streamed_text(&frames)
        );

        // The final message and the saved one: the call with its arguments and output, then
        // the text; reasoning first when the model thought.
        let last = frames.last().unwrap();
        assert!(last.get("error").is_none(), "{what}: {last}");
        let response = &last["responseMessage"];
        assert_eq!(response["unfinished"], false);
        let call_part = parts(response, "tool_call");
        assert_eq!(call_part.len(), 1, "{what}");
        let tc = &call_part[0]["tool_call"];
        assert_eq!(tc["name"], "calculator");
        assert_eq!(
            serde_json::from_str::<Value>(tc["args"].as_str().unwrap()).unwrap(),
            json!({"input": "6 * 7"})
        );
        assert_eq!(tc["output"], "42");
        let content = response["content"].as_array().unwrap();
        let at = content
            .iter()
            .position(|p| p["type"] == "tool_call")
            .unwrap();
        assert_eq!(content[at + 1]["type"], "text", "{what}: {content:?}");
        assert!(response["text"].as_str().unwrap().contains("42"), "{what}");
        assert_eq!(
            parts(response, "think").is_empty(),
            !case.thinking,
            "{what}"
        );
        let saved = messages(&server, &s, &id).await;
        assert_eq!(saved[1]["content"], response["content"], "{what}");
        assert_eq!(saved[1]["unfinished"], false);

        // Listed as LibreChat lists tool calls.
        let calls = tool_calls(&server, &s, &id).await;
        assert_eq!(calls.len(), 1, "{what}");
        assert_eq!(calls[0]["toolId"], "calculator");
        assert_eq!(calls[0]["result"], "42");
        assert_eq!(calls[0]["messageId"], response["messageId"]);
        assert_eq!(calls[0]["conversationId"], id.as_str());
        assert_eq!(calls[0]["partIndex"], at);
        assert_eq!(calls[0]["user"], s.user["id"]);
        assert_eq!(calls[0]["_id"].as_str().unwrap().len(), 24);
    }
}

#[tokio::test]
async fn parallel_calls_both_return() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    fake.script(
        "pair",
        ToolScript::calls([
            ("calculator", json!({"input": "1 + 1"})),
            ("calculator", json!({"input": "2 * 3"})),
        ])
        .interleaved(),
    );
    let id = server
        .start_chat(&s, "openAI", ask("pair", "two sums"))
        .await;
    let frames = frames(&server, &s, &id, "").await;
    let response = &frames.last().unwrap()["responseMessage"];
    assert_eq!(response["text"], "Results: 2 | 6");
    let outputs: Vec<&Value> = parts(response, "tool_call")
        .iter()
        .map(|p| &p["tool_call"]["output"])
        .collect();
    assert_eq!(outputs, [&json!("2"), &json!("6")]);
    // Each call is a step of its own, at its own index.
    let indexes: Vec<u64> = events(&frames, "on_run_step")
        .iter()
        .map(|f| f["data"]["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [0, 1, 2]);
    assert_eq!(tool_calls(&server, &s, &id).await.len(), 2);
    // The model got both results, each answering its call.
    let last = fake.last_chat();
    let tool_messages: Vec<&Value> = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .collect();
    assert_eq!(tool_messages.len(), 2);
    assert_eq!(tool_messages[0]["tool_call_id"], "call_0abc");
    assert_eq!(tool_messages[1]["content"], "6");
}

#[tokio::test]
async fn a_plain_chat_without_tools_sends_none() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    // LibreChat's client names tools this server does not have, on every message.
    let id = server
        .start_chat(
            &s,
            "openAI",
            json!({"text": "hello", "model": "gpt-4o", "ephemeralAgent": {"mcp": ["time"],
            "web_search": true, "execute_code": true, "memory": true}}),
        )
        .await;
    let frames = frames(&server, &s, &id, "").await;
    let last = frames.last().unwrap();
    assert_eq!(last["responseMessage"]["text"], "Echo: hello");
    assert_eq!(
        last["responseMessage"]["content"],
        json!([{"type": "text", "text": "Echo: hello"}])
    );
    let sent = fake.last_chat();
    assert!(sent.get("tools").is_none(), "{sent}");
    assert!(tool_calls(&server, &s, &id).await.is_empty());
    // The toggles are about the message: not stored as the conversation's settings.
    let convo = server
        .get_json(&format!("/api/convos/{id}"), &s.token)
        .await;
    assert!(convo.get("ephemeralAgent").is_none(), "{convo}");
}
