//! An answer as LibreChat's client builds it: an indexed array of content parts (text,
//! reasoning, tool calls), each made by one run step, streamed as `on_run_step` (a step
//! opens at its index), `on_message_delta` / `on_reasoning_delta` (more text or reasoning for
//! a step), `on_run_step_delta` (more of a call's arguments, or how far it got) and `on_run_step_completed` (a
//! call's output).
//!
//! [`Steps`] keeps the parts and the steps, and makes the frames that report each change; the
//! job that holds it sends them under the same lock, so a client that joins meanwhile sees a
//! change either in the summary (`aggregatedContent`, `runSteps`) or as a frame, never both.
//!
//! Where a part starts a new step follows LibreChat's agents: text after reasoning, reasoning
//! after text and anything after a tool call is a new `message_creation` step; every call is a
//! `tool_calls` step of its own (the client puts each step's calls at the step's one index).
//!
//! Agents of one answer that run side by side write in **lanes** ([`Steps::lane`]): each lane
//! has its own open step, so their steps interleave, each at an index of its own. In an answer
//! several agents give, every step carries its [`Author`] (LibreChat's `agentId`, and the
//! `groupId` of agents that run in parallel), on its `on_run_step` and on its content part.

use serde_json::{Value, json};

use crate::shapes::ContentPart;

/// The most one answer's text and reasoning may hold together: far above any real answer (a
/// very long one is well under 1 MiB), so that a provider streaming without end cannot fill
/// the server's memory. What passes it is refused and the answer ends there.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// The most one answer's tool calls may hold together, their arguments and their outputs: 64
/// outputs at the bound of one ([`super::run::MAX_OUTPUT_BYTES`]). Each round sends all of it
/// back to the model, so a run that gets near this is far past any context window already.
pub const MAX_TOOL_BYTES: usize = 4 * 1024 * 1024;

/// At most this much text goes into one frame, however large a piece the provider sent: the
/// job's ring and live channel stay small.
pub const FRAME_TEXT_BYTES: usize = 64 * 1024;

/// A bound was reached: [`MAX_ANSWER_BYTES`] for text, [`MAX_TOOL_BYTES`] for calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// A tool call as its part holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Call {
    id: String,
    name: String,
    args: String,
    /// `None` while it runs (or when it never ran).
    output: Option<String>,
    /// Refused before it ran: its arguments were not JSON or did not fit the schema.
    invalid_input: bool,
}

/// The agent that makes a lane's steps, in an answer several agents give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// LibreChat's `agentId`.
    pub agent_id: String,
    /// LibreChat's `groupId`: shared by agents that run in parallel (its client shows their
    /// parts side by side); `None` for an agent that runs alone (a handoff, a chain).
    pub group_id: Option<u32>,
}

/// A lane: where one agent's steps go on.
#[derive(Debug, Clone, Default)]
struct Lane {
    /// The text or reasoning step that more of the same kind goes on.
    open: Option<usize>,
    /// Words and reasoning are kept but not streamed (an agent before the last, with
    /// `hide_sequential_outputs`).
    quiet: bool,
    author: Option<Author>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Think(String),
    Call(Call),
}

/// The run steps and content parts of one answer, and the frames not yet sent.
#[derive(Debug)]
pub struct Steps {
    /// The answer's message id (the steps' `runId`).
    run_id: String,
    /// `steps[i]` made `parts[i]`: its id and the run step as first streamed.
    steps: Vec<(String, Value)>,
    parts: Vec<Part>,
    /// Lane 0 always; more for agents running side by side.
    lanes: Vec<Lane>,
    /// The lane changes go to.
    at: usize,
    answer_bytes: usize,
    tool_bytes: usize,
    outbox: Vec<String>,
}

fn step_id() -> String {
    format!("step_{}", uuid::Uuid::new_v4().simple())
}

/// The largest index up to `at` that starts a character of `s` (all of `s` when shorter).
pub fn floor_boundary(s: &str, at: usize) -> usize {
    let mut i = at.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A JSON string literal.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

impl Steps {
    pub fn new(run_id: &str) -> Self {
        Steps {
            run_id: run_id.to_owned(),
            steps: Vec::new(),
            parts: Vec::new(),
            lanes: vec![Lane::default()],
            at: 0,
            answer_bytes: 0,
            tool_bytes: 0,
            outbox: Vec::new(),
        }
    }

    fn lane_mut(&mut self) -> &mut Lane {
        &mut self.lanes[self.at]
    }

    /// The changes that follow go to lane `lane` (a new one starts with no open step).
    pub fn lane(&mut self, lane: usize) {
        if lane >= self.lanes.len() {
            self.lanes.resize_with(lane + 1, Lane::default);
        }
        self.at = lane;
    }

    /// The agent that writes in the current lane, and whether its words are streamed
    /// (`quiet`: kept, not streamed). Its next words start a step of their own.
    pub fn agent(&mut self, author: Option<Author>, quiet: bool) {
        let lane = self.lane_mut();
        lane.open = None;
        lane.author = author;
        lane.quiet = quiet;
    }

    /// Opens a step at the next index and reports it.
    fn open_step(&mut self, details: Value, kind: &str, part: Part) -> usize {
        let index = self.parts.len();
        let id = step_id();
        let mut step = json!({
            "id": id, "runId": self.run_id, "index": index, "stepIndex": index,
            "type": kind, "stepDetails": details, "usage": null,
        });
        let lane = &self.lanes[self.at];
        // LibreChat's multi-agent graph stamps its run steps with the agent, and the group
        // of agents running in parallel; its client files each content part under them.
        if let Some(a) = &lane.author {
            step["agentId"] = json!(a.agent_id);
            if let Some(g) = a.group_id {
                step["groupId"] = json!(g);
            }
        }
        if !(lane.quiet && kind == "message_creation") {
            self.outbox
                .push(json!({"event": "on_run_step", "data": step}).to_string());
        }
        self.steps.push((id, step));
        self.parts.push(part);
        index
    }

    /// The text an answer being continued already has: the first step, which more text
    /// extends. Reported like any step, so a client puts the new text after it.
    pub fn seed(&mut self, text: &str) {
        self.answer_bytes += text.len();
        self.text_step(false, text.to_owned());
    }

    fn text_step(&mut self, reasoning: bool, text: String) -> usize {
        let details =
            json!({"type": "message_creation", "message_creation": {"message_id": self.run_id}});
        let part = if reasoning {
            Part::Think(text)
        } else {
            Part::Text(text)
        };
        let at = self.open_step(details, "message_creation", part);
        self.lane_mut().open = Some(at);
        at
    }

    /// Adds text (or reasoning) and reports it in frames of at most [`FRAME_TEXT_BYTES`].
    /// `Err` when the answer would pass [`MAX_ANSWER_BYTES`]: what fits is added, the rest is
    /// not.
    pub fn text(&mut self, piece: &str, reasoning: bool) -> Result<(), Full> {
        let room = MAX_ANSWER_BYTES.saturating_sub(self.answer_bytes);
        let fits = floor_boundary(piece, room);
        let mut rest = &piece[..fits];
        if !rest.is_empty() {
            let open = self.lanes[self.at].open;
            let same = match open.and_then(|i| self.parts.get(i)) {
                Some(Part::Think(_)) => reasoning,
                Some(Part::Text(_)) => !reasoning,
                _ => false,
            };
            let quiet = self.lanes[self.at].quiet;
            let at = match open {
                Some(at) if same => at,
                _ => self.text_step(reasoning, String::new()),
            };
            let (event, kind) = if reasoning {
                ("on_reasoning_delta", "think")
            } else {
                ("on_message_delta", "text")
            };
            let id = &self.steps[at].0;
            while !rest.is_empty() {
                let (chunk, after) = rest.split_at(floor_boundary(rest, FRAME_TEXT_BYTES).max(1));
                rest = after;
                match &mut self.parts[at] {
                    Part::Text(t) | Part::Think(t) => t.push_str(chunk),
                    Part::Call(_) => {}
                }
                if quiet {
                    continue;
                }
                // Written by hand: this is the one frame sent for every few tokens.
                self.outbox.push(format!(
                    r#"{{"event":"{event}","data":{{"id":"{id}","delta":{{"content":[{{"type":"{kind}","{kind}":{}}}]}}}}}}"#,
                    quoted(chunk)
                ));
            }
            self.answer_bytes += fits;
        }
        if fits < piece.len() {
            Err(Full)
        } else {
            Ok(())
        }
    }

    /// A call the model starts: a step of its own. Returns its part's index.
    pub fn call_start(&mut self, id: &str, name: &str) -> usize {
        self.lane_mut().open = None;
        let details = json!({"type": "tool_calls", "tool_calls": [
            {"id": id, "name": name, "args": "", "type": "tool_call"}
        ]});
        let part = Part::Call(Call {
            id: id.to_owned(),
            name: name.to_owned(),
            args: String::new(),
            output: None,
            invalid_input: false,
        });
        self.open_step(details, "tool_calls", part)
    }

    /// More of the arguments of the call at `at`. `Err` past [`MAX_TOOL_BYTES`].
    pub fn call_args(&mut self, at: usize, piece: &str) -> Result<(), Full> {
        if piece.is_empty() {
            return Ok(());
        }
        if self.tool_bytes + piece.len() > MAX_TOOL_BYTES {
            return Err(Full);
        }
        let Some(Part::Call(call)) = self.parts.get_mut(at) else {
            return Ok(());
        };
        call.args.push_str(piece);
        self.tool_bytes += piece.len();
        let id = &self.steps[at].0;
        self.outbox.push(format!(
            r#"{{"event":"on_run_step_delta","data":{{"id":"{id}","delta":{{"type":"tool_calls","tool_calls":[{{"args":{},"type":"tool_call_chunk"}}]}}}}}}"#,
            quoted(piece)
        ));
        Ok(())
    }

    /// Shows a sign-in link on the running call at `at` (LibreChat's `auth` and `expires_at`
    /// on a `tool_calls` delta), or takes it away (`url: None`) once the person signed in.
    pub fn call_sign_in(&mut self, at: usize, url: Option<&str>, expires_at: Option<i64>) {
        let Some(Part::Call(call)) = self.parts.get(at) else {
            return;
        };
        let mut delta = json!({"type": "tool_calls", "tool_calls": [
            {"id": call.id, "name": call.name, "args": "", "type": "tool_call"}
        ]});
        if let Some(url) = url {
            delta["auth"] = json!(url);
            delta["expires_at"] = json!(expires_at);
        }
        let id = &self.steps[at].0;
        self.outbox.push(
            json!({"event": "on_run_step_delta", "data": {"id": id, "delta": delta}}).to_string(),
        );
    }

    /// Reports how far the running call at `at` got, on its step: a `tool_calls` delta
    /// without `tool_calls` (which LibreChat's client passes over), holding the call's id and
    /// `progress` (`progress`, and `total` and `message` when known). Not kept in the part:
    /// progress is transient, and a client that joins later sees none.
    pub fn call_progress(&mut self, at: usize, report: &super::tools::ToolProgress) {
        let Some(Part::Call(call)) = self.parts.get(at) else {
            return;
        };
        if call.output.is_some() {
            return;
        }
        let mut progress = json!({"progress": report.progress});
        if let Some(total) = report.total {
            progress["total"] = json!(total);
        }
        if let Some(message) = &report.message {
            // A line for a progress bar; a server's long one is cut.
            progress["message"] = json!(&message[..floor_boundary(message, 1024)]);
        }
        let delta = json!({"type": "tool_calls", "tool_call_id": call.id, "progress": progress});
        let id = &self.steps[at].0;
        self.outbox.push(
            json!({"event": "on_run_step_delta", "data": {"id": id, "delta": delta}}).to_string(),
        );
    }

    /// What the tools may still return in all, under [`MAX_TOOL_BYTES`].
    pub fn tool_room(&self) -> usize {
        MAX_TOOL_BYTES.saturating_sub(self.tool_bytes)
    }

    /// The call at `at` ended with `output` (already bounded by the loop).
    pub fn call_done(&mut self, at: usize, output: String, invalid_input: bool) {
        let Some(Part::Call(call)) = self.parts.get_mut(at) else {
            return;
        };
        self.tool_bytes += output.len();
        call.output = Some(output);
        call.invalid_input = invalid_input;
        let tool_call = call_json(call);
        let result = json!({"id": self.steps[at].0, "index": at, "type": "tool_call", "tool_call": tool_call});
        self.outbox.push(
            json!({"event": "on_run_step_completed", "data": {"result": result}}).to_string(),
        );
    }

    /// The frames made since the last call, to send in order.
    pub fn drain(&mut self) -> std::vec::Drain<'_, String> {
        self.outbox.drain(..)
    }

    /// The content parts as LibreChat's client reads them (an empty text part when there is
    /// nothing yet).
    pub fn parts(&self) -> Vec<ContentPart> {
        let mut out: Vec<ContentPart> = self
            .parts
            .iter()
            .zip(&self.steps)
            .map(|(p, (_, step))| {
                let mut part = match p {
                    Part::Text(t) => ContentPart::text(t.clone()),
                    Part::Think(t) => ContentPart::think(t.clone()),
                    Part::Call(c) => {
                        ContentPart::Other(json!({"type": "tool_call", "tool_call": call_json(c)}))
                    }
                };
                // LibreChat's content aggregator copies the step's agent and group onto
                // the part it made.
                for key in ["agentId", "groupId"] {
                    if let Some(v) = step.get(key) {
                        part.set(key, v.clone());
                    }
                }
                part
            })
            .collect();
        if out.is_empty() {
            out.push(ContentPart::text(""));
        }
        out
    }

    /// The run steps as first streamed (the `sync` frame's `runSteps`).
    pub fn run_steps(&self) -> Vec<Value> {
        self.steps.iter().map(|(_, s)| s.clone()).collect()
    }

    /// The answer's text: its text parts, a blank line between those a step apart.
    pub fn answer_text(&self) -> String {
        let mut out = String::new();
        for p in &self.parts {
            if let Part::Text(t) = p {
                if !out.is_empty() && !t.is_empty() {
                    out.push_str("\n\n");
                }
                out.push_str(t);
            }
        }
        out
    }

    /// The reasoning's bytes, all steps together.
    pub fn reasoning_len(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Think(t) => t.len(),
                _ => 0,
            })
            .sum()
    }

    /// Whether any tool call was made.
    pub fn has_calls(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Call(_)))
    }
}

/// A call as LibreChat's `tool_call` object: `progress: 1` and `output` once it ended.
fn call_json(c: &Call) -> Value {
    let mut v = json!({"id": c.id, "name": c.name, "args": c.args, "type": "tool_call"});
    if let Some(output) = &c.output {
        v["output"] = json!(output);
        v["progress"] = json!(1);
        if c.invalid_input {
            v["inputValidationError"] = json!(true);
        }
    }
    v
}

#[cfg(test)]
#[path = "steps_tests.rs"]
mod tests;
