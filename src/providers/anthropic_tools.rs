//! Anthropic's tool use: `tools` and `tool_choice` in the request; an assistant turn's
//! `thinking` / `redacted_thinking`, text and `tool_use` blocks and the next user turn's
//! `tool_result` blocks in the history; and, in the stream, `tool_use` content blocks whose
//! `input` arrives as `input_json_delta` pieces, and thinking blocks closed by a
//! `signature_delta`.

use std::collections::{HashMap, VecDeque};

use serde_json::{Map, Value, json};

use super::tools::Calls;
use super::{ChatMessage, ChatRequest, Part, ProviderError, Role, StreamEvent, ToolChoice};

/// An image as Anthropic takes it, inline.
pub(super) fn image_block(image: &super::Image) -> Value {
    json!({"type": "image", "source": {
        "type": "base64", "media_type": image.mime, "data": &*image.base64,
    }})
}

/// The blocks of a turn that has tool parts, in the order Anthropic requires: in an assistant
/// turn its signed thinking (only when thinking is on: Anthropic wants it back unchanged
/// before the turn's `tool_use` blocks; unsigned reasoning it would refuse), its words, then
/// its calls; in a user turn the results first, then its images and words.
pub(super) fn blocks(m: &ChatMessage, thinking: bool) -> Vec<Value> {
    let wire = m.wire();
    let mut blocks = Vec::new();
    if m.role == Role::Assistant && thinking {
        for p in &m.content {
            match p {
                Part::Thinking {
                    text,
                    signature: Some(signature),
                } => blocks
                    .push(json!({"type": "thinking", "thinking": text, "signature": signature})),
                Part::RedactedThinking(data) => {
                    blocks.push(json!({"type": "redacted_thinking", "data": data}));
                }
                _ => {}
            }
        }
    }
    for r in m.tool_results() {
        let mut block = json!({"type": "tool_result", "tool_use_id": r.call_id});
        if r.images.is_empty() {
            if !r.content.is_empty() {
                block["content"] = json!(r.content);
            }
        } else {
            let mut content = Vec::new();
            if !r.content.is_empty() {
                content.push(json!({"type": "text", "text": r.content}));
            }
            content.extend(r.images.iter().map(image_block));
            block["content"] = Value::Array(content);
        }
        if r.is_error {
            block["is_error"] = json!(true);
        }
        blocks.push(block);
    }
    blocks.extend(wire.images.iter().map(|i| image_block(i)));
    // Anthropic refuses a text block of whitespace alone.
    if !wire.text.trim().is_empty() {
        blocks.push(json!({"type": "text", "text": wire.text}));
    }
    for c in m.tool_calls() {
        // `input` must be an object; arguments that are not one (a model's broken JSON)
        // go as `{}`, and the call's error result tells the model what went wrong.
        let input = serde_json::from_str::<Value>(&c.args)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        blocks.push(json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}));
    }
    blocks
}

/// `tools: [{name, description, input_schema}]` and `tool_choice` (`auto`, `none`, `any`,
/// `tool`), with `disable_parallel_tool_use` when the parameters set `parallel_tool_calls`
/// to false. With thinking on, a forced choice (`any`, `tool`) becomes `auto`: Anthropic
/// refuses to think when tool use is forced.
pub(super) fn write_tools(request: &ChatRequest, thinking: bool, body: &mut Map<String, Value>) {
    if request.tools.is_empty() {
        return;
    }
    let tools: Vec<Value> = request
        .tools
        .iter()
        .map(|t| {
            let mut tool = Map::new();
            tool.insert("name".into(), json!(t.name));
            if !t.description.is_empty() {
                tool.insert("description".into(), json!(t.description));
            }
            let schema = if t.parameters.is_object() {
                t.parameters.clone()
            } else {
                json!({"type": "object", "properties": {}})
            };
            tool.insert("input_schema".into(), schema);
            Value::Object(tool)
        })
        .collect();
    body.insert("tools".into(), Value::Array(tools));
    let mut choice = match &request.tool_choice {
        None => None,
        Some(ToolChoice::Auto) => Some(json!({"type": "auto"})),
        Some(ToolChoice::None) => Some(json!({"type": "none"})),
        Some(ToolChoice::Required | ToolChoice::Tool(_)) if thinking => {
            Some(json!({"type": "auto"}))
        }
        Some(ToolChoice::Required) => Some(json!({"type": "any"})),
        Some(ToolChoice::Tool(name)) => Some(json!({"type": "tool", "name": name})),
    };
    let serial = request.params.get("parallel_tool_calls") == Some(&Value::Bool(false));
    if serial && choice.as_ref().is_none_or(|c| c["type"] != "none") {
        let c = choice.get_or_insert_with(|| json!({"type": "auto"}));
        c["disable_parallel_tool_use"] = json!(true);
    }
    if let Some(c) = choice {
        body.insert("tool_choice".into(), c);
    }
}

/// The tool calls of one streamed message.
#[derive(Debug, Default)]
pub(super) struct ToolBlocks {
    calls: Calls,
    /// Each `tool_use` block's index: its call here.
    blocks: HashMap<u64, usize>,
}

impl ToolBlocks {
    /// `content_block_start`: a `tool_use` block starts a call; a `redacted_thinking` block
    /// comes whole.
    pub fn start(
        &mut self,
        v: &Value,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), ProviderError> {
        let block = &v["content_block"];
        match block["type"].as_str() {
            Some("tool_use") => {
                let name = block["name"].as_str().unwrap_or("");
                let n = self.calls.start(block["id"].as_str(), name, None, out)?;
                if let Some(index) = v["index"].as_u64() {
                    self.blocks.insert(index, n);
                }
            }
            Some("redacted_thinking") => {
                if let Some(data) = block["data"].as_str() {
                    out.push_back(StreamEvent::RedactedReasoning(data.to_owned()));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `input_json_delta`: more of a call's `input`.
    pub fn input(
        &mut self,
        v: &Value,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), ProviderError> {
        let Some(n) = v["index"].as_u64().and_then(|i| self.blocks.get(&i)) else {
            return Err(ProviderError::Malformed(
                "tool input came for a content block that is not a tool_use".into(),
            ));
        };
        self.calls
            .args(*n, v["delta"]["partial_json"].as_str().unwrap_or(""), out)
    }

    /// `content_block_stop`: a call without input pieces (a tool without parameters) has the
    /// arguments `{}`, so that they are JSON all the same.
    pub fn stop(
        &mut self,
        v: &Value,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), ProviderError> {
        if let Some(n) = v["index"]
            .as_u64()
            .and_then(|i| self.blocks.get(&i))
            .copied()
            && self.calls.args_len(n) == 0
        {
            self.calls.args(n, "{}", out)?;
        }
        Ok(())
    }

    /// The finish reason to report for Anthropic's `stop_reason`.
    pub fn finish(&self, reason: &str) -> String {
        self.calls.finish(reason, &["tool_use"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{Image, ToolCall, ToolResult};

    #[test]
    fn turns_with_tool_parts_become_blocks_in_anthropic_s_order() {
        let assistant = ChatMessage {
            role: Role::Assistant,
            content: vec![
                Part::Text("Looking.".into()),
                Part::Thinking {
                    text: "unsigned".into(),
                    signature: None,
                },
                Part::Thinking {
                    text: "signed".into(),
                    signature: Some("sig".into()),
                },
                Part::ToolCall(ToolCall {
                    id: "toolu_1".into(),
                    name: "f".into(),
                    args: "{broken".into(),
                    signature: None,
                }),
            ],
        };
        assert_eq!(
            blocks(&assistant, true),
            vec![
                json!({"type": "thinking", "thinking": "signed", "signature": "sig"}),
                json!({"type": "text", "text": "Looking."}),
                json!({"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}),
            ]
        );
        // Thinking off: no thinking blocks at all.
        assert_eq!(blocks(&assistant, false).len(), 2);
        let results = ChatMessage {
            role: Role::User,
            content: vec![Part::ToolResult(ToolResult {
                call_id: "toolu_1".into(),
                name: "f".into(),
                content: String::new(),
                images: vec![Image {
                    mime: "image/png".into(),
                    base64: "iVBO".into(),
                    detail: None,
                }],
                is_error: false,
            })],
        };
        assert_eq!(
            blocks(&results, true),
            vec![
                json!({"type": "tool_result", "tool_use_id": "toolu_1", "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}
                ]})
            ]
        );
    }
}
