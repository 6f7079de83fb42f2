//! An MCP server's progress notifications reach the chat stream while its tool runs: each an
//! `on_run_step_delta` on the call's step (`tool_call_id` and `progress`: `progress`, `total`,
//! `message`), in order and before the call's output; none of it is kept in the answer. For
//! plain chats (npm's reference server over stdio, and the hostile server's `slow` tool with
//! messages) and for agents, which share the tool loop.

mod support;

use serde_json::{Value, json};
use support::fake_openai::FakeOpenAi;
use support::mcp::{PW, ask, everything_over_stdio, output, server, yaml};

/// The progress frames of the call of `tool`, as `(progress, total, message)`, after
/// checking that each is on the call's step, names the call, and comes before its end.
fn progress_of(frames: &[Value], tool: &str) -> Vec<(f64, Option<f64>, Option<String>)> {
    let opened = frames
        .iter()
        .find(|f| {
            f["event"] == "on_run_step" && f["data"]["stepDetails"]["tool_calls"][0]["name"] == tool
        })
        .unwrap_or_else(|| panic!("a step for {tool} in {frames:?}"));
    let step = opened["data"]["id"].as_str().unwrap();
    let call_id = opened["data"]["stepDetails"]["tool_calls"][0]["id"].clone();
    let ended = frames
        .iter()
        .position(|f| f["event"] == "on_run_step_completed" && f["data"]["result"]["id"] == step)
        .expect("the call's end");
    let mut seen = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let delta = &f["data"]["delta"];
        if f["event"] != "on_run_step_delta" || delta.get("progress").is_none() {
            continue;
        }
        assert_eq!(f["data"]["id"], step, "{f}");
        assert_eq!(delta["type"], "tool_calls", "{f}");
        assert_eq!(delta["tool_call_id"], call_id, "{f}");
        // LibreChat's client reads `tool_calls` of a delta; this one has none for it.
        assert!(delta.get("tool_calls").is_none(), "{f}");
        assert!(i < ended, "progress after the call ended: {f}");
        let p = &delta["progress"];
        seen.push((
            p["progress"].as_f64().unwrap(),
            p["total"].as_f64(),
            p["message"].as_str().map(str::to_owned),
        ));
    }
    seen
}

/// The saved call of `tool` holds no progress but LibreChat's `progress: 1` of an ended call.
fn kept_without_progress(frames: &[Value], tool: &str) {
    let last = frames.last().unwrap();
    let parts = last["responseMessage"]["content"].as_array().unwrap();
    let call = parts
        .iter()
        .find(|p| p["tool_call"]["name"] == tool)
        .unwrap();
    assert_eq!(call["tool_call"]["progress"], 1, "{call}");
    assert!(!call.to_string().contains("tool_call_id"), "{call}");
}

#[tokio::test]
async fn the_reference_servers_progress_streams_in_order() {
    let Some(everything) = everything_over_stdio() else {
        return;
    };
    let yaml = format!("version: 1.3.17\nmcpServers:\n{everything}");
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &yaml).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let tool = "trigger-long-running-operation_mcp_everything";
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["everything"],
        tool,
        json!({"duration": 1, "steps": 3}),
    )
    .await;
    assert_eq!(
        output(&frames, tool),
        "Long running operation completed. Duration: 1 seconds, Steps: 3."
    );
    assert_eq!(
        progress_of(&frames, tool),
        [
            (1.0, Some(3.0), None),
            (2.0, Some(3.0), None),
            (3.0, Some(3.0), None)
        ]
    );
    kept_without_progress(&frames, tool);
}

#[tokio::test]
async fn progress_messages_stream_for_plain_chats_and_agents() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &yaml(60_000, "")).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let tool = "slow_mcp_hostile";
    let steps = |n: u32| -> Vec<(f64, Option<f64>, Option<String>)> {
        (1..=n)
            .map(|i| (f64::from(i), Some(f64::from(n)), Some(format!("step {i}"))))
            .collect()
    };

    let frames = ask(
        &fake,
        &server,
        &alice,
        &["hostile"],
        tool,
        json!({"steps": 4}),
    )
    .await;
    assert_eq!(output(&frames, tool), "done after 4 steps");
    assert_eq!(progress_of(&frames, tool), steps(4));
    kept_without_progress(&frames, tool);

    // An agent that lists the tool.
    let agent =
        support::agents::create(&server, &alice, json!({"model": "caller", "tools": [tool]})).await;
    fake.script(
        "caller",
        support::fake_tools::ToolScript::calls([(tool, json!({"steps": 3}))]),
    );
    let id = server
        .start_chat(
            &alice,
            "agents",
            json!({"text": "Go slowly.", "endpoint": "agents", "agent_id": agent["id"]}),
        )
        .await;
    let frames = support::stream::frames(&server, &alice, &id, "").await;
    assert_eq!(output(&frames, tool), "done after 3 steps");
    assert_eq!(progress_of(&frames, tool), steps(3));
    kept_without_progress(&frames, tool);
}
