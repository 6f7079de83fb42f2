//! The steps' frames, indices, lanes and bounds.

use super::*;

fn frames(s: &mut Steps) -> Vec<Value> {
    s.drain()
        .map(|f| serde_json::from_str(&f).unwrap())
        .collect()
}

#[test]
fn text_reasoning_and_calls_each_get_their_index() {
    let mut s = Steps::new("r1");
    s.text("hmm", true).unwrap();
    s.text(" ok", true).unwrap();
    s.text("Let me add.", false).unwrap();
    let call = s.call_start("call_1", "calculator");
    s.call_args(call, "{\"input\":").unwrap();
    s.call_args(call, "\"1+1\"}").unwrap();
    s.call_done(call, "2".into(), false);
    s.text("It is 2.", false).unwrap();
    let f = frames(&mut s);
    let events: Vec<&str> = f.iter().map(|f| f["event"].as_str().unwrap()).collect();
    assert_eq!(
        events,
        [
            "on_run_step",
            "on_reasoning_delta",
            "on_reasoning_delta",
            "on_run_step",
            "on_message_delta",
            "on_run_step",
            "on_run_step_delta",
            "on_run_step_delta",
            "on_run_step_completed",
            "on_run_step",
            "on_message_delta",
        ]
    );
    let indexes: Vec<u64> = f
        .iter()
        .filter(|f| f["event"] == "on_run_step")
        .map(|f| f["data"]["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [0, 1, 2, 3]);
    assert_eq!(f[1]["data"]["id"], f[0]["data"]["id"]);
    assert_eq!(
        f[1]["data"]["delta"]["content"][0],
        json!({"type": "think", "think": "hmm"})
    );
    assert_eq!(
        f[5]["data"]["stepDetails"],
        json!({"type": "tool_calls", "tool_calls": [{"id": "call_1", "name": "calculator", "args": "", "type": "tool_call"}]})
    );
    assert_eq!(f[5]["data"]["runId"], "r1");
    assert_eq!(f[6]["data"]["id"], f[5]["data"]["id"]);
    assert_eq!(
        f[6]["data"]["delta"],
        json!({"type": "tool_calls", "tool_calls": [{"args": "{\"input\":", "type": "tool_call_chunk"}]})
    );
    let done = &f[8]["data"]["result"];
    assert_eq!(done["id"], f[5]["data"]["id"]);
    assert_eq!(done["index"], 2);
    assert_eq!(
        done["tool_call"],
        json!({"id": "call_1", "name": "calculator", "args": "{\"input\":\"1+1\"}", "output": "2", "progress": 1, "type": "tool_call"})
    );
    let parts = serde_json::to_value(s.parts()).unwrap();
    assert_eq!(
        parts,
        json!([
            {"type": "think", "think": "hmm ok"},
            {"type": "text", "text": "Let me add."},
            {"type": "tool_call", "tool_call": done["tool_call"]},
            {"type": "text", "text": "It is 2."},
        ])
    );
    assert_eq!(s.answer_text(), "Let me add.\n\nIt is 2.");
    assert_eq!(s.run_steps().len(), 4);
    assert_eq!(s.run_steps()[2]["stepDetails"]["tool_calls"][0]["args"], "");
}

#[test]
fn lanes_interleave_each_at_its_own_index_and_name_their_agent() {
    let mut s = Steps::new("r");
    let author = |id: &str, group| {
        Some(Author {
            agent_id: id.into(),
            group_id: group,
        })
    };
    s.lane(1);
    s.agent(author("agent_a", Some(1)), false);
    s.lane(2);
    s.agent(author("agent_b", Some(1)), false);
    s.lane(1);
    s.text("left ", false).unwrap();
    s.lane(2);
    s.text("right ", false).unwrap();
    s.lane(1);
    s.text("more", false).unwrap();
    s.lane(2);
    s.text("too", false).unwrap();
    let f = frames(&mut s);
    let steps: Vec<&Value> = f.iter().filter(|f| f["event"] == "on_run_step").collect();
    assert_eq!(steps.len(), 2, "each lane's text goes on in its own step");
    assert_eq!(steps[0]["data"]["agentId"], "agent_a");
    assert_eq!(steps[1]["data"]["agentId"], "agent_b");
    assert_eq!(steps[1]["data"]["groupId"], 1);
    assert_eq!(steps[1]["data"]["index"], 1);
    assert_eq!(
        serde_json::to_value(s.parts()).unwrap(),
        json!([
            {"type": "text", "text": "left more", "agentId": "agent_a", "groupId": 1},
            {"type": "text", "text": "right too", "agentId": "agent_b", "groupId": 1},
        ])
    );
    // A handoff's agent has no group; an answer of one agent names none.
    s.lane(3);
    s.agent(author("agent_c", None), false);
    s.call_start("c1", "calculator");
    let f = frames(&mut s);
    assert_eq!(f[0]["data"]["agentId"], "agent_c");
    assert!(f[0]["data"].get("groupId").is_none());
    let mut alone = Steps::new("r");
    alone.text("hi", false).unwrap();
    assert!(frames(&mut alone)[0]["data"].get("agentId").is_none());
    assert_eq!(
        serde_json::to_value(alone.parts()).unwrap(),
        json!([{"type": "text", "text": "hi"}])
    );
}

#[test]
fn a_seed_is_the_first_step_and_text_goes_on_it() {
    let mut s = Steps::new("r");
    s.seed("Once upon");
    s.text(" a time", false).unwrap();
    let f = frames(&mut s);
    assert_eq!(f.len(), 2);
    assert_eq!(f[1]["data"]["id"], f[0]["data"]["id"]);
    assert_eq!(s.answer_text(), "Once upon a time");
    assert_eq!(
        serde_json::to_value(Steps::new("x").parts()).unwrap(),
        json!([{"type": "text", "text": ""}])
    );
}

#[test]
fn text_is_bounded_and_large_pieces_make_small_frames() {
    let mut s = Steps::new("r");
    let piece = "é".repeat(100 * 1024);
    s.text(&piece, false).unwrap();
    let f = frames(&mut s);
    let sizes: Vec<usize> = f[1..]
        .iter()
        .map(|f| {
            f["data"]["delta"]["content"][0]["text"]
                .as_str()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), piece.len());
    assert!(sizes.iter().all(|&n| n <= FRAME_TEXT_BYTES));
    let filler = "x".repeat(MAX_ANSWER_BYTES - piece.len() - 1);
    s.text(&filler, true).unwrap();
    assert_eq!(s.text("é", false), Err(Full), "never splits a character");
    assert!(s.text("y", false).is_ok());
    assert_eq!(s.text("z", false), Err(Full));
    assert_eq!(s.answer_bytes, MAX_ANSWER_BYTES);
}

#[test]
fn calls_are_bounded() {
    let mut s = Steps::new("r");
    let at = s.call_start("c", "f");
    let big = "x".repeat(MAX_TOOL_BYTES - 10);
    s.call_args(at, &big).unwrap();
    assert_eq!(s.tool_room(), 10);
    assert_eq!(s.call_args(at, &"y".repeat(11)), Err(Full));
    s.call_done(at, "0123456789".into(), true);
    assert_eq!(s.tool_room(), 0);
    let parts = serde_json::to_value(s.parts()).unwrap();
    assert_eq!(parts[0]["tool_call"]["inputValidationError"], true);
    assert!(s.has_calls());
}

#[test]
fn progress_shows_on_a_running_call_and_is_not_kept() {
    let mut s = Steps::new("r1");
    let call = s.call_start("call_1", "slow_mcp_x");
    frames(&mut s);
    let report = |progress: f64, message: Option<String>| crate::agents::tools::ToolProgress {
        call_id: "call_1".into(),
        progress,
        total: Some(2.0),
        message,
    };
    s.call_progress(call, &report(1.0, Some("é".repeat(600))));
    let f = frames(&mut s);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["event"], "on_run_step_delta");
    let delta = &f[0]["data"]["delta"];
    assert_eq!(delta["type"], "tool_calls");
    assert_eq!(delta["tool_call_id"], "call_1");
    assert!(delta.get("tool_calls").is_none());
    assert_eq!(delta["progress"]["progress"], 1.0);
    assert_eq!(delta["progress"]["total"], 2.0);
    // A long message is cut at a character, within 1 KiB.
    assert_eq!(delta["progress"]["message"], "é".repeat(512));
    // Nothing of it in the part; and none after the call ended.
    assert!(
        !serde_json::to_string(&s.parts())
            .unwrap()
            .contains("tool_call_id")
    );
    s.call_done(call, "done".into(), false);
    frames(&mut s);
    s.call_progress(call, &report(2.0, None));
    assert!(frames(&mut s).is_empty());
}
