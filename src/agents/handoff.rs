//! Agents that work together in one answer, as LibreChat's agents graph runs them: an agent's
//! `edges` (`{from, to, edgeType, description, prompt, promptKey, excludeResults}`) and its
//! deprecated `agent_ids` (a chain).
//!
//! A **handoff** edge (the default) gives its source agent a tool, `lc_transfer_to_<agent id>`,
//! described by the edge's `description` (or "Transfer control to agent '<id>'"). With a
//! `prompt`, the tool takes one text parameter, named by `promptKey` (`instructions` unless
//! set), that the prompt describes: what the source writes there is added to the
//! destination's system prompt. Calling it ends the source's turn (the call's result says it
//! transferred), and the destination carries on with the same answer and the whole history,
//! with its own instructions, model and tools.
//!
//! A **direct** edge runs its destination after its source has answered (the destinations
//! of one step of the graph side by side, see [`super::parallel`]). With
//! `excludeResults` the destination is given the conversation as it was before this answer
//! and, as the person's next message, the edge's `prompt`; without it, the whole history so
//! far and then the prompt, if there is one. In the prompt, `{results}` (or `{convo}`) stands
//! for what this answer's agents have said so far, as a transcript ([`transcript`]).
//!
//! `agent_ids` make a chain: the agent, then each named one in turn, each edge direct, with
//! `excludeResults`, and the transcript as the whole prompt.

use serde_json::{Value, json};

use super::tools::{Context, Tool, ToolFuture};
use crate::providers::{ChatMessage, Part, Role, ToolDef};

/// The name of a handoff tool is this and the destination agent's id.
pub const PREFIX: &str = "lc_transfer_to_";

/// The most agents one answer may involve, the first included.
pub const MAX_AGENTS: usize = 10;

/// The parameter a prompted handoff tool takes, unless the edge names another.
const DEFAULT_PROMPT_KEY: &str = "instructions";

/// How an edge hands over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A tool the source may call.
    Handoff,
    /// The destination runs after the source.
    Direct,
}

/// One edge of an agents graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub kind: Kind,
    pub description: Option<String>,
    pub prompt: Option<String>,
    pub prompt_key: String,
    pub exclude_results: bool,
}

impl Edge {
    /// Every agent the edge names, each once.
    pub fn participants(&self) -> impl Iterator<Item = &str> {
        self.from.iter().chain(&self.to).map(String::as_str)
    }
}

/// The edges stored on an agent (as the builder checked them), typed; an edge without a
/// source or a destination is left out. An empty `from` is the agent itself (`own`).
pub fn edges(stored: &[Value], own: &str) -> Vec<Edge> {
    let side = |v: Option<&Value>| -> Vec<String> {
        let ids: Vec<&str> = match v {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        ids.into_iter()
            .map(|id| if id.is_empty() { own } else { id })
            .map(str::to_owned)
            .collect()
    };
    let text = |e: &Value, key: &str| {
        e.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    stored
        .iter()
        .filter_map(|e| {
            let (from, to) = (side(e.get("from")), side(e.get("to")));
            if from.is_empty() || to.is_empty() {
                return None;
            }
            Some(Edge {
                from,
                to,
                kind: match e.get("edgeType").and_then(Value::as_str) {
                    Some("direct") => Kind::Direct,
                    _ => Kind::Handoff,
                },
                description: text(e, "description"),
                prompt: text(e, "prompt"),
                prompt_key: text(e, "promptKey").unwrap_or_else(|| DEFAULT_PROMPT_KEY.into()),
                exclude_results: e.get("excludeResults").and_then(Value::as_bool) == Some(true),
            })
        })
        .collect()
}

/// The chain `agent_ids` make after `first`: direct edges, each giving the next agent the
/// transcript of the answer so far in place of the results themselves.
pub fn chain(first: &str, agent_ids: &[String]) -> Vec<Edge> {
    std::iter::once(first)
        .chain(agent_ids.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .windows(2)
        .map(|pair| Edge {
            from: vec![pair[0].to_owned()],
            to: vec![pair[1].to_owned()],
            kind: Kind::Direct,
            description: Some(format!("Sequential chain from {} to {}", pair[0], pair[1])),
            prompt: Some("{convo}".into()),
            prompt_key: DEFAULT_PROMPT_KEY.into(),
            exclude_results: true,
        })
        .collect()
}

/// A direct edge's prompt with the transcript in place of `{results}` and `{convo}`.
pub fn fill_prompt(prompt: &str, transcript: &str) -> String {
    prompt
        .replace("{results}", transcript)
        .replace("{convo}", transcript)
}

/// Messages as a transcript, one line each (`Human: ...`, `AI: ...`, `Tool: ...`), as
/// LangChain's `getBufferString` writes them; a call shows as its name and arguments.
pub fn transcript(messages: &[ChatMessage]) -> String {
    let mut lines = Vec::with_capacity(messages.len());
    for m in messages {
        let who = match m.role {
            Role::System => "System",
            Role::User => "Human",
            Role::Assistant => "AI",
            Role::Tool => "Tool",
        };
        let mut said = String::new();
        for part in &m.content {
            match part {
                Part::Text(t) => said.push_str(t),
                Part::ToolCall(c) => {
                    if !said.is_empty() {
                        said.push('\n');
                    }
                    said.push_str(&format!("[{}({})]", c.name, c.args));
                }
                Part::ToolResult(r) => said.push_str(&r.content),
                Part::Document { text, .. } => said.push_str(text),
                _ => {}
            }
        }
        if !said.is_empty() {
            lines.push(format!("{who}: {said}"));
        }
    }
    lines.join("\n")
}

/// What a handoff's `instructions` add to the destination's system prompt.
pub fn with_instructions(system: Option<&str>, from: &str, instructions: &str) -> String {
    let note = format!(
        "## Handoff\nThe agent \"{from}\" transferred this conversation to you, with these \
         instructions:\n{instructions}"
    );
    match system {
        Some(s) if !s.trim().is_empty() => format!("{s}\n\n{note}"),
        _ => note,
    }
}

/// The text a prompted handoff call carried in its parameter, if any.
pub fn instructions_of(args: &str, key: &str) -> Option<String> {
    let v: Value = serde_json::from_str(args).ok()?;
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
}

/// A handoff tool: calling it transfers the conversation to another agent.
pub struct Transfer {
    def: ToolDef,
    to: String,
    /// The name of its one parameter, when the edge has a prompt.
    pub prompt_key: Option<String>,
}

impl Transfer {
    /// The tool for a handoff edge to `to`.
    pub fn new(to: &str, edge: &Edge) -> Self {
        let parameters = match &edge.prompt {
            Some(prompt) => json!({
                "type": "object",
                "properties": {
                    edge.prompt_key.as_str(): {"type": "string", "description": prompt}
                },
                "required": [],
            }),
            None => json!({"type": "object", "properties": {}, "required": []}),
        };
        Transfer {
            def: ToolDef {
                name: format!("{PREFIX}{to}"),
                description: edge
                    .description
                    .clone()
                    .unwrap_or_else(|| format!("Transfer control to agent '{to}'")),
                parameters,
            },
            to: to.to_owned(),
            prompt_key: edge.prompt.as_ref().map(|_| edge.prompt_key.clone()),
        }
    }
}

impl Tool for Transfer {
    fn def(&self) -> &ToolDef {
        &self.def
    }

    fn call<'a>(&'a self, _args: Value, _cx: &'a Context) -> ToolFuture<'a> {
        let said = format!("Successfully transferred to {}", self.to);
        Box::pin(async move { Ok(said) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_edges_are_typed_and_an_empty_source_is_the_agent_itself() {
        let stored = vec![
            json!({"from": "", "to": "agent_b"}),
            json!({"from": ["agent_a"], "to": ["agent_c", "agent_d"], "edgeType": "direct",
                   "prompt": "Go on: {results}", "excludeResults": true}),
            json!({"from": "agent_a"}),
        ];
        let e = edges(&stored, "agent_a");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].from, ["agent_a"]);
        assert_eq!(e[0].kind, Kind::Handoff);
        assert_eq!(e[0].prompt_key, "instructions");
        assert_eq!(e[1].kind, Kind::Direct);
        assert!(e[1].exclude_results);
        assert_eq!(e[1].to, ["agent_c", "agent_d"]);
    }

    #[test]
    fn agent_ids_chain_each_agent_to_the_next_with_the_transcript() {
        let c = chain("a", &["b".into(), "c".into()]);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].from[0].as_str(), c[0].to[0].as_str()), ("a", "b"));
        assert_eq!((c[1].from[0].as_str(), c[1].to[0].as_str()), ("b", "c"));
        assert!(
            c.iter()
                .all(|e| e.kind == Kind::Direct && e.exclude_results)
        );
        let said = [
            ChatMessage::text(Role::User, "hi"),
            ChatMessage::text(Role::Assistant, "hello"),
        ];
        let t = transcript(&said);
        assert_eq!(t, "Human: hi\nAI: hello");
        assert_eq!(fill_prompt(c[0].prompt.as_deref().unwrap(), &t), t);
    }

    #[test]
    fn a_prompted_handoff_takes_one_text_parameter_the_prompt_describes() {
        let e = &edges(
            &[json!({"from": "a", "to": "b", "prompt": "What to do", "promptKey": "task"})],
            "a",
        )[0];
        let t = Transfer::new("b", e);
        assert_eq!(t.def().name, "lc_transfer_to_b");
        assert_eq!(t.def().description, "Transfer control to agent 'b'");
        assert_eq!(
            t.def().parameters["properties"]["task"],
            json!({"type": "string", "description": "What to do"})
        );
        assert_eq!(
            instructions_of(r#"{"task": "sum it"}"#, "task").as_deref(),
            Some("sum it")
        );
    }
}
