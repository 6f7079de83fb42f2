//! An answer several agents give together (an agent's `edges` and `agent_ids`, see
//! [`crate::agents::handoff`]), run in stages as LangGraph runs its supersteps (which agents
//! start and which run side by side: [`crate::agents::parallel`]). The agents of a stage run
//! at the same time, each its own tool loop; when all have ended, the next stage is every
//! agent they lead to: a handoff's destination (an agent that transferred the conversation
//! runs nothing else), or else the destinations of its direct edges; an agent several lead to
//! runs once, given all their results.
//!
//! Every agent streams into the same answer, each in a lane of its own (its steps interleave
//! with its siblings', each at its own index), and the answer is saved as one message holding
//! all their parts, each with the agent that made it (`agentId`) and, for agents running in a
//! parallel group, the group (`groupId`). Each model call runs on its agent's endpoint, model
//! and key, and is billed on its model; the first agent's recursion limit bounds the whole
//! answer, every agent's steps together, siblings drawing on one budget (so agents handing
//! the conversation back and forth stop there). An abort stops every agent running; one that
//! fails lets its siblings finish, and the answer ends with its error after them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures_util::future::join_all;
use serde_json::{Map, Value};

use super::{Engine, Turn, host::TurnHost};
use crate::agents::handoff;
use crate::agents::run::{Ending, Outcome};
use crate::agents::steps::Author;
use crate::agents::tools::ToolSet;
use crate::chat::jobs::Job;
use crate::providers::{ChatMessage, Endpoint, Part, Role};
use crate::shapes::ContentPart;

/// The agents of an answer; the first is the one the person chose.
pub struct Graph {
    pub members: Vec<Member>,
    /// Only the last agent's words are kept in the saved answer (tool calls stay).
    pub hide_sequential_outputs: bool,
    /// The agents that run first, side by side when there are several (places in
    /// [`Graph::members`]).
    pub starts: Vec<usize>,
}

/// One agent of the graph, resolved for this person.
pub struct Member {
    pub id: String,
    pub name: String,
    pub endpoint: Endpoint,
    pub api_key: String,
    pub model: String,
    pub params: Map<String, Value>,
    pub system: Option<String>,
    /// Its tools and its handoff tools.
    pub tools: ToolSet,
    /// Its handoffs: the destination's id, and the parameter its tool takes, if any.
    pub handoffs: Vec<(String, Option<String>)>,
    /// Who runs after it answers.
    pub next: Vec<Next>,
    /// The parallel group it runs in (LibreChat's `groupId`), if any.
    pub group: Option<u32>,
}

/// A direct edge out of an agent.
pub struct Next {
    /// The destination's place in [`Graph::members`].
    pub to: usize,
    pub prompt: Option<String>,
    pub exclude_results: bool,
}

/// An agent to run in a stage: what it is given instead of the history (a direct edge's),
/// and the instructions a handoff gave it.
struct Task {
    at: usize,
    given: Option<Vec<ChatMessage>>,
    instructions: Option<(String, String)>,
}

/// What one agent of a stage did: how it ended, and what it added to the conversation.
struct Ran {
    at: usize,
    out: Outcome,
    added: Vec<ChatMessage>,
}

/// How an agent of the next stage was reached.
enum Route<'a> {
    Handoff(Option<(String, String)>),
    Direct(&'a Next),
}

/// What every agent of a stage shares.
struct Shared<'a> {
    job: &'a Arc<Job>,
    turn: &'a Turn,
    graph: &'a Graph,
    /// The conversation as every agent of the stage finds it.
    history: &'a [ChatMessage],
    base_bytes: usize,
    prompt_tokens: u64,
    /// The steps left to the whole answer.
    budget: &'a AtomicU32,
}

impl Graph {
    fn index_of(&self, id: &str) -> Option<usize> {
        self.members.iter().position(|m| m.id == id)
    }
}

impl Engine {
    /// Runs the agents of `graph` on the turn, stage by stage; `messages` is the first
    /// agent's prompt (its system prompt first).
    pub(super) async fn run_graph(
        &self,
        job: &Arc<Job>,
        turn: &Turn,
        graph: &Graph,
        mut messages: Vec<ChatMessage>,
        prompt_tokens: u64,
    ) -> Outcome {
        // The conversation as it stood: what every agent is given after its own system
        // prompt.
        if messages.first().is_some_and(|m| m.role == Role::System) {
            messages.remove(0);
        }
        let base_len = messages.len();
        let base_bytes = bytes(&messages);
        let mut history = messages;
        let limit = turn.limits.recursion_limit;
        let budget = AtomicU32::new(limit);
        let mut total = Outcome {
            ending: Ending::Answered,
            completion_tokens: 0,
            model_calls: 0,
            steps: 0,
            handoff: None,
        };
        let mut stage: Vec<Task> = graph
            .starts
            .iter()
            .map(|&at| Task {
                at,
                given: None,
                instructions: None,
            })
            .collect();
        let mut lanes = 0;
        while !stage.is_empty() {
            if budget.load(Ordering::Acquire) == 0 {
                total.ending = Ending::LimitReached(limit);
                break;
            }
            let shared = Shared {
                job,
                turn,
                graph,
                history: &history,
                base_bytes,
                prompt_tokens,
                budget: &budget,
            };
            // Each agent writes in a lane of its own; the first of all in lane 0, where an
            // answer being continued already has its text.
            let runs: Vec<_> = stage
                .into_iter()
                .enumerate()
                .map(|(i, task)| self.run_member(&shared, task, lanes + i))
                .collect();
            lanes += runs.len();
            let mut ran = join_all(runs).await;
            let mut ending: Option<Ending> = None;
            for r in &ran {
                total.completion_tokens += r.out.completion_tokens;
                total.model_calls += r.out.model_calls;
                total.steps += r.out.steps;
                ending = worse(ending, &r.out.ending, limit);
            }
            // What they added, in the order they were started (LangGraph's state takes every
            // branch's messages).
            for r in &mut ran {
                history.append(&mut r.added);
            }
            if let Some(e) = ending {
                total.ending = e;
                break;
            }
            stage = next_stage(graph, &ran, &history, base_len);
        }
        total
    }

    /// One agent of a stage, to its end, in `lane`.
    async fn run_member(&self, shared: &Shared<'_>, task: Task, lane: usize) -> Ran {
        let Shared {
            job,
            turn,
            graph,
            history,
            base_bytes,
            prompt_tokens,
            budget,
        } = *shared;
        let member = &graph.members[task.at];
        let system = match &task.instructions {
            Some((from, text)) => Some(handoff::with_instructions(
                member.system.as_deref(),
                from,
                text,
            )),
            None => member.system.clone(),
        };
        let given = task.given.unwrap_or_else(|| history.to_vec());
        let given_len = given.len();
        let estimate = prompt_tokens + (bytes(&given).saturating_sub(base_bytes) / 4) as u64;
        let mut request_messages = Vec::with_capacity(given_len + 1);
        let lead = match system {
            Some(s) => {
                request_messages.push(ChatMessage::text(Role::System, s));
                1
            }
            None => 0,
        };
        request_messages.extend(given);
        // With `hide_sequential_outputs`, only the last agent's words are streamed (the
        // last of the graph, as LibreChat counts it); its tool calls always are.
        let quiet = graph.hide_sequential_outputs && task.at + 1 != graph.members.len();
        // LibreChat's graph of several agents names the agent on every step; one left
        // alone (the others missing) answers as a plain agent does.
        let author = (graph.members.len() > 1).then(|| Author {
            agent_id: member.id.clone(),
            group_id: member.group,
        });
        job.update(|s| {
            s.lane(lane);
            s.agent(author, quiet);
        });
        let first = lane == 0;
        let mut run = self.run_for(
            turn,
            &member.model,
            &member.params,
            &member.tools,
            request_messages,
            if first { prompt_tokens } else { estimate },
        );
        // Only the first agent continues an answer.
        run.continuation &= first;
        let host = TurnHost::on(
            self,
            job,
            turn,
            &member.endpoint,
            &member.api_key,
            &member.model,
        )
        .sharing(lane, budget);
        let (out, after) = run.run_keeping(&host).await;
        Ran {
            at: task.at,
            out,
            added: after.into_iter().skip(lead + given_len).collect(),
        }
    }
}

/// The ending of a stage so far, with one more agent's: an abort first, then a failure, then
/// the limit (the answer's, not the agent's share of it); `None` while every agent answered.
fn worse(so_far: Option<Ending>, this: &Ending, limit: u32) -> Option<Ending> {
    let rank = |e: &Ending| match e {
        Ending::Answered => 0,
        Ending::LimitReached(_) => 1,
        Ending::Failed(_) => 2,
        Ending::Aborted => 3,
    };
    let this = match this {
        Ending::Answered => return so_far,
        Ending::LimitReached(_) => Ending::LimitReached(limit),
        other => other.clone(),
    };
    match so_far {
        Some(e) if rank(&e) >= rank(&this) => Some(e),
        _ => Some(this),
    }
}

/// The agents the stage that `ran` leads to, each once: a handoff's destination, or the
/// destinations of the direct edges of an agent that answered. An agent reached by several
/// direct edges is given what the first with a prompt gives (LibreChat's fan-in), or the
/// first's.
fn next_stage(graph: &Graph, ran: &[Ran], history: &[ChatMessage], base_len: usize) -> Vec<Task> {
    fn reach<'a>(routes: &mut Vec<(usize, Route<'a>)>, at: usize, route: Route<'a>) {
        match routes.iter_mut().find(|(have, _)| *have == at) {
            None => routes.push((at, route)),
            Some((_, Route::Direct(old))) => {
                if let Route::Direct(new) = route
                    && old.prompt.is_none()
                    && new.prompt.is_some()
                {
                    *old = new;
                }
            }
            Some(_) => {}
        }
    }
    let mut routes: Vec<(usize, Route<'_>)> = Vec::new();
    for r in ran {
        let member = &graph.members[r.at];
        if let Some(h) = &r.out.handoff {
            if let Some(to) = graph.index_of(&h.to) {
                let key = member
                    .handoffs
                    .iter()
                    .find(|(id, _)| *id == h.to)
                    .and_then(|(_, key)| key.as_deref());
                let instructions = key
                    .and_then(|k| handoff::instructions_of(&h.args, k))
                    .map(|text| (member.name.clone(), text));
                reach(&mut routes, to, Route::Handoff(instructions));
            }
            continue;
        }
        for next in &member.next {
            reach(&mut routes, next.to, Route::Direct(next));
        }
    }
    routes
        .into_iter()
        .map(|(at, route)| match route {
            Route::Handoff(instructions) => Task {
                at,
                given: None,
                instructions,
            },
            Route::Direct(next) => Task {
                at,
                given: Some(given_by(next, history, base_len)),
                instructions: None,
            },
        })
        .collect()
}

/// What a direct edge gives its destination: the conversation before this answer or all of
/// it so far, then the edge's prompt, if it has one, with the transcript of this answer.
fn given_by(next: &Next, history: &[ChatMessage], base_len: usize) -> Vec<ChatMessage> {
    let mut given = if next.exclude_results {
        history[..base_len].to_vec()
    } else {
        history.to_vec()
    };
    if let Some(p) = &next.prompt {
        let transcript = handoff::transcript(&history[base_len..]);
        given.push(ChatMessage::text(
            Role::User,
            handoff::fill_prompt(p, &transcript),
        ));
    }
    given
}

/// The bytes of text a history holds, for an estimate of its tokens.
fn bytes(messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .flat_map(|m| &m.content)
        .map(|p| match p {
            Part::Text(t) | Part::Thinking { text: t, .. } => t.len(),
            Part::Document { text, .. } => text.len(),
            Part::ToolCall(c) => c.name.len() + c.args.len(),
            Part::ToolResult(r) => r.content.len(),
            _ => 0,
        })
        .sum()
}

/// The saved answer's parts when only the last agent's words are kept: its last part that is
/// not a tool call, and every tool call. Returns the text that leaves.
pub(super) fn last_words_only(parts: &mut Vec<ContentPart>) -> String {
    let is_call = |p: &ContentPart| matches!(p, ContentPart::Other(v) if v.get("type").and_then(Value::as_str) == Some("tool_call"));
    if let Some(last) = parts.iter().rposition(|p| !is_call(p)) {
        let mut i = 0;
        parts.retain(|p| {
            let keep = i == last || is_call(p);
            i += 1;
            keep
        });
    }
    parts
        .iter()
        .filter_map(|p| match p {
            ContentPart::Text { text, .. } if !text.as_str().is_empty() => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}
