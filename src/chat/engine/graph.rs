//! An answer several agents give together (an agent's `edges` and `agent_ids`, see
//! [`crate::agents::handoff`]): the first agent runs the tool loop; when it transfers the
//! conversation (a handoff tool) its destination carries on, and when it answers, the agents
//! its direct edges lead to run after it, one after another. Every agent streams into the
//! same answer, which is saved as one message holding all their parts. Each model call runs
//! on its agent's endpoint, model and key, and is billed on its model; the first agent's
//! recursion limit bounds the whole answer, every agent's steps together (so agents handing
//! the conversation back and forth stop there).

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{Engine, Turn, host::TurnHost};
use crate::agents::handoff;
use crate::agents::run::{Ending, Outcome};
use crate::agents::tools::ToolSet;
use crate::chat::jobs::Job;
use crate::providers::{ChatMessage, Endpoint, Part, Role};
use crate::shapes::ContentPart;

/// The agents of an answer; the first is the one the person chose.
pub struct Graph {
    pub members: Vec<Member>,
    /// Only the last agent's words are kept in the saved answer (tool calls stay).
    pub hide_sequential_outputs: bool,
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
}

/// A direct edge out of an agent.
pub struct Next {
    /// The destination's place in [`Graph::members`].
    pub to: usize,
    pub prompt: Option<String>,
    pub exclude_results: bool,
}

/// An agent waiting its turn: what it is given instead of the history (a direct edge's), and
/// the instructions a handoff gave it.
struct Queued {
    at: usize,
    given: Option<Vec<ChatMessage>>,
    instructions: Option<(String, String)>,
}

impl Graph {
    fn index_of(&self, id: &str) -> Option<usize> {
        self.members.iter().position(|m| m.id == id)
    }
}

impl Engine {
    /// Runs the agents of `graph` on the turn, starting with the first; `messages` is the
    /// first agent's prompt (its system prompt first).
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
        let mut total = Outcome {
            ending: Ending::Answered,
            completion_tokens: 0,
            model_calls: 0,
            steps: 0,
            handoff: None,
        };
        let mut queue = VecDeque::from([Queued {
            at: 0,
            given: None,
            instructions: None,
        }]);
        let mut first = true;
        while let Some(Queued {
            at,
            given,
            instructions,
        }) = queue.pop_front()
        {
            let member = &graph.members[at];
            let remaining = limit.saturating_sub(total.steps);
            if remaining == 0 {
                total.ending = Ending::LimitReached(limit);
                break;
            }
            let system = match &instructions {
                Some((from, text)) => Some(handoff::with_instructions(
                    member.system.as_deref(),
                    from,
                    text,
                )),
                None => member.system.clone(),
            };
            let given = given.unwrap_or_else(|| history.clone());
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
            let quiet = graph.hide_sequential_outputs && at + 1 != graph.members.len();
            if !first || quiet {
                job.update(|s| s.next_agent(quiet));
            }
            let mut run = self.run_for(
                turn,
                &member.model,
                &member.params,
                &member.tools,
                request_messages,
                if first { prompt_tokens } else { estimate },
            );
            // The agents share the turn's steps; only the first continues an answer.
            run.limits.recursion_limit = remaining;
            run.continuation &= first;
            first = false;
            let host = TurnHost::on(
                self,
                job,
                turn,
                &member.endpoint,
                &member.api_key,
                &member.model,
            );
            let (out, after) = run.run_keeping(&host).await;
            total.completion_tokens += out.completion_tokens;
            total.model_calls += out.model_calls;
            total.steps += out.steps;
            // What this agent added to the conversation.
            history.extend(after.into_iter().skip(lead + given_len));
            match out.ending {
                Ending::Answered => {}
                Ending::LimitReached(_) => {
                    total.ending = Ending::LimitReached(limit);
                    break;
                }
                other => {
                    total.ending = other;
                    break;
                }
            }
            if let Some(h) = out.handoff {
                if let Some(to) = graph.index_of(&h.to) {
                    let key = member
                        .handoffs
                        .iter()
                        .find(|(id, _)| *id == h.to)
                        .and_then(|(_, key)| key.as_deref());
                    let instructions = key
                        .and_then(|k| handoff::instructions_of(&h.args, k))
                        .map(|text| (member.name.clone(), text));
                    queue.push_front(Queued {
                        at: to,
                        given: None,
                        instructions,
                    });
                }
                continue;
            }
            for next in &member.next {
                let transcript = || handoff::transcript(&history[base_len..]);
                let given = match (&next.prompt, next.exclude_results) {
                    (Some(p), true) => {
                        let mut g = history[..base_len].to_vec();
                        g.push(ChatMessage::text(
                            Role::User,
                            handoff::fill_prompt(p, &transcript()),
                        ));
                        g
                    }
                    (Some(p), false) => {
                        let mut g = history.clone();
                        g.push(ChatMessage::text(
                            Role::User,
                            handoff::fill_prompt(p, &transcript()),
                        ));
                        g
                    }
                    (None, true) => history[..base_len].to_vec(),
                    (None, false) => history.clone(),
                };
                queue.push_back(Queued {
                    at: next.to,
                    given: Some(given),
                    instructions: None,
                });
            }
        }
        total
    }
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
