//! Tool calling, as every wire format shares it: the tools offered to a model ([`ToolDef`]),
//! how it may use them ([`ToolChoice`]), the calls it makes ([`ToolCall`]) and their results
//! ([`ToolResult`]) as a history carries them back, and the bounds on what one streamed answer
//! may make this server hold ([`MAX_TOOL_CALLS`], [`MAX_TOOL_ARGS_BYTES`]).
//!
//! Each format writes and reads these its own way (see `openai`, `responses`, `anthropic`,
//! `google`); what they share is here: [`Calls`], which numbers the calls of one answer and
//! enforces the bounds, and [`paired`], which keeps a history to what every provider accepts.

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};

use serde_json::Value;

use super::{ChatMessage, Image, Part, ProviderError, Role, StreamEvent};

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolDef {
    /// What the model calls it by (`^[a-zA-Z0-9_-]{1,64}$` is what every provider accepts).
    pub name: String,
    /// What it does, for the model to decide when to call it.
    pub description: String,
    /// Its arguments as a JSON Schema object (`{"type": "object", "properties": ...}`).
    pub parameters: Value,
}

/// Whether the model may, must or must not call a tool. Absent from a request, each
/// provider's default applies (`Auto` while tools are offered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must answer without calling a tool.
    None,
    /// The model must call at least one tool.
    Required,
    /// The model must call this tool.
    Tool(String),
}

/// A call the model made, in an assistant message of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The provider's id for the call (or one made here when the provider gives none:
    /// see [`new_call_id`]); its result carries the same id.
    pub id: String,
    pub name: String,
    /// The arguments as the model wrote them: JSON text, not checked here (a model may write
    /// invalid JSON, which the tool loop answers with an error result).
    pub args: String,
    /// Gemini's `thoughtSignature` on the call's part: opaque, returned unchanged with the
    /// call, which Gemini requires of thinking models calling functions.
    pub signature: Option<String>,
}

/// What a call gave back, in a [`Role::Tool`] message right after the assistant message
/// that made the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolResult {
    /// The [`ToolCall::id`] this answers.
    pub call_id: String,
    /// The tool's name (Gemini matches results to calls by name).
    pub name: String,
    pub content: String,
    /// Images the tool returned. Anthropic and the Responses API take them in a result;
    /// OpenAI's chat completions and Gemini take text only there, and leave them out.
    pub images: Vec<Image>,
    /// The call failed and `content` says why (Anthropic's `is_error`; Gemini's `error`).
    pub is_error: bool,
}

/// The most tool calls one answer may make: far more than any real model asks for at once
/// (OpenAI and Anthropic cap a turn's tools at 128), so more is a broken stream.
pub const MAX_TOOL_CALLS: usize = 128;

/// The most a call's arguments may take: real arguments are a few KiB at most, and this is
/// what a stream of calls may make this server hold for each.
pub const MAX_TOOL_ARGS_BYTES: usize = 1024 * 1024;

/// The finish reason every format reports for an answer that ends by calling tools (OpenAI's
/// `tool_calls`; Anthropic's `tool_use`, the Responses API's completion with `function_call`
/// items and Gemini's `STOP` after `functionCall` parts are reported as this too), so the tool
/// loop tells "call the tools" from "this is the answer" without knowing the format.
pub const TOOL_CALLS_FINISH: &str = "tool_calls";

/// How the ids made here for calls start ([`new_call_id`]), so that a format which gave none
/// (Gemini) is not sent them back as if they were its own.
pub const MADE_ID_PREFIX: &str = "call_lc";

/// An id for a call whose provider gave none: unique (random), and stable, since it is made
/// once, when the call starts, and carried by every event and the history after.
pub fn new_call_id() -> String {
    format!("{MADE_ID_PREFIX}{}", uuid::Uuid::new_v4().simple())
}

/// The tool calls of one streamed answer: numbers them in the order they start (the `index`
/// of [`StreamEvent::ToolCallStart`] and [`StreamEvent::ToolCallArgs`]) and stops a stream
/// that passes [`MAX_TOOL_CALLS`] or [`MAX_TOOL_ARGS_BYTES`] with [`ProviderError::Malformed`].
#[derive(Debug, Default)]
pub(crate) struct Calls {
    /// The bytes of arguments received so far, per call.
    args: Vec<usize>,
}

impl Calls {
    /// A call begins: its index.
    pub fn start(
        &mut self,
        id: Option<&str>,
        name: &str,
        signature: Option<String>,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<usize, ProviderError> {
        if self.args.len() >= MAX_TOOL_CALLS {
            return Err(ProviderError::Malformed(format!(
                "the model made more than {MAX_TOOL_CALLS} tool calls in one answer"
            )));
        }
        if name.is_empty() {
            return Err(ProviderError::Malformed(
                "a tool call came without a name".into(),
            ));
        }
        let index = self.args.len();
        self.args.push(0);
        let id = id
            .filter(|i| !i.is_empty())
            .map_or_else(new_call_id, str::to_owned);
        out.push_back(StreamEvent::ToolCallStart {
            index,
            id,
            name: name.to_owned(),
            signature,
        });
        Ok(index)
    }

    /// More of call `index`'s arguments.
    pub fn args(
        &mut self,
        index: usize,
        delta: &str,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), ProviderError> {
        let Some(len) = self.args.get_mut(index) else {
            return Err(ProviderError::Malformed(
                "tool call arguments came for a call that never started".into(),
            ));
        };
        if delta.is_empty() {
            return Ok(());
        }
        *len += delta.len();
        if *len > MAX_TOOL_ARGS_BYTES {
            return Err(ProviderError::Malformed(format!(
                "a tool call's arguments passed {} MiB",
                MAX_TOOL_ARGS_BYTES / (1024 * 1024)
            )));
        }
        out.push_back(StreamEvent::ToolCallArgs {
            index,
            delta: delta.to_owned(),
        });
        Ok(())
    }

    /// How many bytes of arguments call `index` has had.
    pub fn args_len(&self, index: usize) -> usize {
        self.args.get(index).copied().unwrap_or(0)
    }

    /// The finish reason to report for `reason`: [`TOOL_CALLS_FINISH`] when calls were made
    /// and the provider says the answer ended normally (`normal`: its words for that), the
    /// provider's own otherwise (`length` says the calls may be cut off).
    pub fn finish(&self, reason: &str, normal: &[&str]) -> String {
        if !self.args.is_empty() && normal.contains(&reason) {
            TOOL_CALLS_FINISH.to_owned()
        } else {
            reason.to_owned()
        }
    }
}

/// An answer as it streams, gathered into the assistant message a history carries back: its
/// words, its reasoning (each thinking block with the signature that closed it), the
/// provider's encrypted reasoning, and its tool calls, in the order they came.
#[derive(Debug, Default)]
pub struct Answer {
    parts: Vec<Part>,
    /// Each call's position in `parts`, by its index in the stream.
    calls: Vec<usize>,
    finish: Option<String>,
}

impl Answer {
    /// Takes in one event of the stream.
    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Text(t) => match self.parts.last_mut() {
                Some(Part::Text(prev)) => prev.push_str(t),
                _ => self.parts.push(Part::Text(t.clone())),
            },
            StreamEvent::Reasoning(t) => match self.parts.last_mut() {
                Some(Part::Thinking {
                    text,
                    signature: None,
                }) => text.push_str(t),
                _ => self.parts.push(Part::Thinking {
                    text: t.clone(),
                    signature: None,
                }),
            },
            StreamEvent::ReasoningSignature(s) => {
                let open = self.parts.iter_mut().rev().find_map(|p| match p {
                    Part::Thinking {
                        signature: signature @ None,
                        ..
                    } => Some(signature),
                    _ => None,
                });
                match open {
                    Some(signature) => *signature = Some(s.clone()),
                    None => self.parts.push(Part::Thinking {
                        text: String::new(),
                        signature: Some(s.clone()),
                    }),
                }
            }
            StreamEvent::RedactedReasoning(d) => self.parts.push(Part::RedactedThinking(d.clone())),
            StreamEvent::ToolCallStart {
                index,
                id,
                name,
                signature,
            } => {
                if *index == self.calls.len() {
                    self.calls.push(self.parts.len());
                    self.parts.push(Part::ToolCall(ToolCall {
                        id: id.clone(),
                        name: name.clone(),
                        args: String::new(),
                        signature: signature.clone(),
                    }));
                }
            }
            StreamEvent::ToolCallArgs { index, delta } => {
                if let Some(Part::ToolCall(c)) = self
                    .calls
                    .get(*index)
                    .and_then(|&at| self.parts.get_mut(at))
                {
                    c.args.push_str(delta);
                }
            }
            StreamEvent::Finished(reason) => self.finish = reason.clone(),
            StreamEvent::Usage(_) => {}
        }
    }

    /// The answer's parts so far, in order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Whether the answer ended by calling tools (rather than answering).
    pub fn calls_tools(&self) -> bool {
        self.finish.as_deref() == Some(TOOL_CALLS_FINISH)
    }

    /// The finish reason the provider gave.
    pub fn finish_reason(&self) -> Option<&str> {
        self.finish.as_deref()
    }

    /// The calls made, in order.
    pub fn calls(&self) -> impl Iterator<Item = &ToolCall> {
        self.parts.iter().filter_map(|p| match p {
            Part::ToolCall(c) => Some(c),
            _ => None,
        })
    }

    /// The answer as the assistant message of a history.
    pub fn into_message(self) -> ChatMessage {
        ChatMessage {
            role: Role::Assistant,
            content: self.parts,
        }
    }
}

/// Whether a message part is about tools or signed reasoning (which plain histories never
/// carry, so a history without them is written exactly as before).
pub(crate) fn is_tool_part(p: &Part) -> bool {
    matches!(
        p,
        Part::ToolCall(_) | Part::ToolResult(_) | Part::Thinking { .. } | Part::RedactedThinking(_)
    )
}

/// The history as every provider accepts it: each call answered by a result in the
/// [`Role::Tool`] messages right after its assistant message, and each result answering a
/// call of the assistant message right before. Calls without a result (a run stopped while a
/// tool ran) and results without their call are left out, as are the messages left with
/// nothing to say; a provider refuses both with a 400 (OpenAI: "messages with role 'tool'
/// must be a response to a preceeding message with 'tool_calls'"; Anthropic: "`tool_use` ids
/// were found without `tool_result` blocks immediately after"). A history without tool parts
/// comes back as it is.
pub(crate) fn paired(messages: &[ChatMessage]) -> Cow<'_, [ChatMessage]> {
    let any = messages
        .iter()
        .any(|m| m.role == Role::Tool || m.content.iter().any(is_tool_part));
    if !any {
        return Cow::Borrowed(messages);
    }
    let mut out: Vec<ChatMessage> = Vec::with_capacity(messages.len());
    let mut i = 0;
    while i < messages.len() {
        let m = &messages[i];
        if m.role == Role::Tool {
            i += 1; // results with no assistant message right before them
            continue;
        }
        let calls: Vec<&str> = if m.role == Role::Assistant {
            m.content
                .iter()
                .filter_map(|p| match p {
                    Part::ToolCall(c) => Some(c.id.as_str()),
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        // The results right after this message.
        let mut j = i + 1;
        while j < messages.len() && messages[j].role == Role::Tool {
            j += 1;
        }
        let results = &messages[i + 1..j];
        let answered: HashSet<&str> = results
            .iter()
            .flat_map(|r| r.content.iter())
            .filter_map(|p| match p {
                Part::ToolResult(r) if calls.contains(&r.call_id.as_str()) => {
                    Some(r.call_id.as_str())
                }
                _ => None,
            })
            .collect();
        let own = m
            .content
            .iter()
            .filter(|p| match p {
                Part::ToolCall(c) => answered.contains(c.id.as_str()),
                Part::ToolResult(_) => false,
                // Only an assistant message carries reasoning back.
                Part::Thinking { .. } | Part::RedactedThinking(_) => m.role == Role::Assistant,
                _ => true,
            })
            .cloned()
            .collect();
        push_if_saying(&mut out, m.role, own);
        for r in results {
            let kept = r
                .content
                .iter()
                .filter(
                    |p| matches!(p, Part::ToolResult(r) if answered.contains(r.call_id.as_str())),
                )
                .cloned()
                .collect();
            push_if_saying(&mut out, Role::Tool, kept);
        }
        i = j;
    }
    Cow::Owned(out)
}

/// Adds a message unless what is left of it says nothing (reasoning alone is not an answer).
fn push_if_saying(out: &mut Vec<ChatMessage>, role: Role, content: Vec<Part>) {
    let says = content
        .iter()
        .any(|p| !matches!(p, Part::Thinking { .. } | Part::RedactedThinking(_)));
    if says {
        out.push(ChatMessage { role, content });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str) -> Part {
        Part::ToolCall(ToolCall {
            id: id.into(),
            name: "f".into(),
            args: "{}".into(),
            signature: None,
        })
    }

    fn result(id: &str) -> ChatMessage {
        ChatMessage {
            role: Role::Tool,
            content: vec![Part::ToolResult(ToolResult {
                call_id: id.into(),
                name: "f".into(),
                content: "ok".into(),
                images: Vec::new(),
                is_error: false,
            })],
        }
    }

    #[test]
    fn unanswered_calls_and_orphan_results_are_left_out() {
        let history = vec![
            ChatMessage::text(Role::User, "q"),
            result("early"), // no call before it
            ChatMessage {
                role: Role::Assistant,
                content: vec![Part::Text("let me look".into()), call("a"), call("b")],
            },
            result("a"),
            result("z"), // answers no call of the message before
            ChatMessage {
                role: Role::Assistant,
                content: vec![
                    Part::Thinking {
                        text: "hm".into(),
                        signature: Some("s".into()),
                    },
                    call("c"),
                ],
            },
            ChatMessage::text(Role::User, "never mind"),
        ];
        let kept = paired(&history);
        assert_eq!(kept.len(), 4);
        assert_eq!(
            kept[1].content,
            vec![Part::Text("let me look".into()), call("a")]
        );
        assert_eq!(kept[2], result("a"));
        assert_eq!(kept[3].plain_text(), "never mind");
    }

    #[test]
    fn plain_histories_are_not_copied() {
        let history = vec![ChatMessage::text(Role::User, "q")];
        assert!(matches!(paired(&history), Cow::Borrowed(_)));
    }

    #[test]
    fn calls_are_bounded() {
        let mut calls = Calls::default();
        let mut out = VecDeque::new();
        for _ in 0..MAX_TOOL_CALLS {
            calls.start(None, "f", None, &mut out).unwrap();
        }
        assert!(calls.start(Some("x"), "f", None, &mut out).is_err());
        let big = "x".repeat(MAX_TOOL_ARGS_BYTES);
        calls.args(0, &big, &mut out).unwrap();
        let err = calls.args(0, "y", &mut out).unwrap_err();
        assert!(err.to_string().contains("1 MiB"), "{err}");
        assert!(calls.args(MAX_TOOL_CALLS, "{}", &mut out).is_err());
        // Made ids are unique and marked as made here.
        let StreamEvent::ToolCallStart { id: a, .. } = &out[0] else {
            panic!()
        };
        let StreamEvent::ToolCallStart { id: b, .. } = &out[1] else {
            panic!()
        };
        assert!(a.starts_with(MADE_ID_PREFIX) && a != b);
    }
}
