//! An earlier answer that called tools, given back to the model as it happened: its words,
//! its calls and their results, in order, so that a later turn knows what the tools said
//! (LibreChat's agents give their history back the same way).
//!
//! A saved answer keeps its calls as `tool_call` content parts (`id`, `name`, `args`,
//! `output`). Each becomes a call in an assistant message, followed by a tool message with its
//! result; words after a round of calls start a new assistant message. Two kinds of call are
//! given as words instead:
//! - a call to a tool not offered in this turn (an agent's tools changed, a toggle went off):
//!   Anthropic and Gemini refuse a history with calls to tools they are not told of;
//! - a call without an output (the answer was stopped while it ran): every call needs a result.
//!
//! Reasoning and error parts stay out, as in every history.

use serde_json::Value;

use crate::providers::{ChatMessage, Part, Role, ToolCall, ToolResult};

/// The messages `content` (a saved answer's parts) stands for, and their text (to count), or
/// `None` when it holds no tool call (the answer is its text alone).
pub fn answer(
    content: Option<&Value>,
    offered: &dyn Fn(&str) -> bool,
) -> Option<(Vec<ChatMessage>, String)> {
    let parts = content?.as_array()?;
    if !parts.iter().any(|p| p["type"] == "tool_call") {
        return None;
    }
    let mut out = Replay::default();
    for p in parts {
        match p["type"].as_str() {
            Some("text") => {
                let text = p["text"].as_str().or_else(|| p["text"]["value"].as_str());
                if let Some(t) = text.filter(|t| !t.is_empty()) {
                    out.text(t.to_owned());
                }
            }
            Some("tool_call") => out.call(&p["tool_call"], offered),
            _ => {}
        }
    }
    Some(out.finish())
}

/// The messages being made.
#[derive(Default)]
struct Replay {
    messages: Vec<ChatMessage>,
    /// The assistant message being filled.
    said: Vec<Part>,
    /// The results of its calls, given after it.
    results: Vec<Part>,
    counted: String,
}

impl Replay {
    fn text(&mut self, t: String) {
        if !self.results.is_empty() {
            self.flush();
        }
        self.counted.push_str(&t);
        self.said.push(Part::Text(t));
    }

    fn call(&mut self, c: &Value, offered: &dyn Fn(&str) -> bool) {
        let (Some(id), Some(name)) = (c["id"].as_str(), c["name"].as_str()) else {
            return;
        };
        // LibreChat saves the arguments as the model wrote them (text); an import may hold
        // them as an object.
        let args = match &c["args"] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let output = c["output"].as_str();
        match output {
            Some(output) if offered(name) && !id.is_empty() => {
                self.counted.push_str(name);
                self.counted.push_str(&args);
                self.counted.push_str(output);
                self.said.push(Part::ToolCall(ToolCall {
                    id: id.to_owned(),
                    name: name.to_owned(),
                    args,
                    signature: None,
                }));
                self.results.push(Part::ToolResult(ToolResult {
                    call_id: id.to_owned(),
                    name: name.to_owned(),
                    content: output.to_owned(),
                    images: Vec::new(),
                    is_error: false,
                }));
            }
            Some(output) => self.text(format!(
                "(Called the tool {name} with {args}; it returned: {output})"
            )),
            None => self.text(format!(
                "(Called the tool {name} with {args}; it did not finish)"
            )),
        }
    }

    /// Ends the assistant message and gives its calls' results.
    fn flush(&mut self) {
        if !self.said.is_empty() {
            self.messages.push(ChatMessage {
                role: Role::Assistant,
                content: std::mem::take(&mut self.said),
            });
        }
        if !self.results.is_empty() {
            self.messages.push(ChatMessage {
                role: Role::Tool,
                content: std::mem::take(&mut self.results),
            });
        }
    }

    fn finish(mut self) -> (Vec<ChatMessage>, String) {
        self.flush();
        (self.messages, self.counted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(id: &str, name: &str, output: Option<&str>) -> Value {
        let mut c =
            json!({"id": id, "name": name, "args": "{\"input\":\"2+2\"}", "type": "tool_call"});
        if let Some(o) = output {
            c["output"] = json!(o);
            c["progress"] = json!(1);
        }
        json!({"type": "tool_call", "tool_call": c})
    }

    fn roles(m: &[ChatMessage]) -> Vec<Role> {
        m.iter().map(|m| m.role).collect()
    }

    #[test]
    fn an_answer_without_calls_is_left_to_its_text() {
        let content = json!([{"type": "text", "text": "hi"}]);
        assert!(answer(Some(&content), &|_| true).is_none());
        assert!(answer(None, &|_| true).is_none());
    }

    #[test]
    fn calls_and_their_results_come_back_in_order() {
        let content = json!([
            {"type": "think", "think": "let me compute"},
            {"type": "text", "text": "Computing."},
            call("c1", "calculator", Some("4")),
            call("c2", "calculator", Some("5")),
            {"type": "text", "text": "It is 4 and 5."},
        ]);
        let (m, counted) = answer(Some(&content), &|n| n == "calculator").unwrap();
        assert_eq!(roles(&m), [Role::Assistant, Role::Tool, Role::Assistant]);
        assert_eq!(m[0].content.len(), 3, "text and two calls");
        assert!(
            matches!(&m[0].content[1], Part::ToolCall(c) if c.id == "c1" && c.args == "{\"input\":\"2+2\"}")
        );
        assert!(
            matches!(&m[1].content[..], [Part::ToolResult(a), Part::ToolResult(b)] if a.call_id == "c1" && a.content == "4" && b.call_id == "c2")
        );
        assert!(matches!(&m[2].content[..], [Part::Text(t)] if t == "It is 4 and 5."));
        assert!(!counted.contains("let me compute"), "reasoning stays out");
    }

    #[test]
    fn calls_to_tools_not_offered_or_unfinished_become_words() {
        let content = json!([
            call("c1", "web_search", Some("results")),
            call("c2", "calculator", None),
        ]);
        let (m, _) = answer(Some(&content), &|n| n == "calculator").unwrap();
        assert_eq!(roles(&m), [Role::Assistant]);
        let words: Vec<&str> = m[0]
            .content
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.as_str(),
                _ => panic!("only words: {p:?}"),
            })
            .collect();
        assert!(words[0].contains("web_search") && words[0].contains("results"));
        assert!(words[1].contains("did not finish"));
    }

    #[test]
    fn an_answer_that_ended_on_calls_ends_with_their_results() {
        let content = json!([call("c1", "calculator", Some("4"))]);
        let (m, _) = answer(Some(&content), &|_| true).unwrap();
        assert_eq!(roles(&m), [Role::Assistant, Role::Tool]);
    }
}
