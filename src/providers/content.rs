//! What a message says to a model: a list of parts — text, images, documents read as text,
//! and around tools the calls, their results and the signed reasoning that came with them —
//! which each wire format writes in its own way (OpenAI `image_url`, Responses `input_image`,
//! Anthropic `image`, Gemini `inlineData`; the tool parts: see [`super::tools`]).

use std::sync::Arc;

use super::tools::{ToolCall, ToolResult, is_tool_part, paired};

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
    /// Results of the tool calls of the assistant message before ([`Part::ToolResult`]s).
    /// Its own role, not the user's, because OpenAI's formats take results as their own
    /// messages; Anthropic and Gemini take them in a user turn ([`alternating`] puts them
    /// there).
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// How closely a vision model looks at an image (OpenAI's `detail`; LibreChat's
/// `imageDetail`). Anthropic and Gemini have no such setting and ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Low,
    High,
    Auto,
}

impl Detail {
    pub fn as_str(self) -> &'static str {
        match self {
            Detail::Low => "low",
            Detail::High => "high",
            Detail::Auto => "auto",
        }
    }
}

/// An image sent inline with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Its media type: `image/png`, `image/jpeg`, `image/webp` or `image/gif`.
    pub mime: String,
    /// Its bytes in standard base64, shared: a history sends the same image again with every
    /// turn (`resendFiles`), and encoding it once is enough.
    pub base64: Arc<str>,
    pub detail: Option<Detail>,
}

impl Image {
    /// A `data:` URL, as OpenAI's formats take an inline image.
    pub fn data_url(&self) -> String {
        format!("data:{};base64,{}", self.mime, self.base64)
    }
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Image(Image),
    /// A file read as text (LibreChat's "upload as text"), given with its name.
    Document {
        name: String,
        text: String,
    },
    /// A call the model made, in an assistant message.
    ///
    /// Calls, results and signed reasoning are parts of a message, not fields beside its
    /// text, because they come in order with it (Anthropic's thinking, text, then `tool_use`
    /// blocks; Gemini's parts) and the history must give them back in that order.
    ToolCall(ToolCall),
    /// A call's result, in a [`Role::Tool`] message.
    ToolResult(ToolResult),
    /// Reasoning the model showed, with the provider's signature (an Anthropic thinking
    /// block). Only Anthropic takes it back, and only signed: it requires the thinking before
    /// an answer's tool calls unchanged when thinking is on.
    Thinking {
        text: String,
        signature: Option<String>,
    },
    /// Reasoning the provider encrypted (Anthropic's `redacted_thinking` `data`), given back
    /// as it came.
    RedactedThinking(String),
}

/// One message of the conversation as the model is to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: Role,
    pub content: Vec<Part>,
}

/// The text a user message is given when it carries files and no words of its own
/// (Anthropic refuses an empty user message). LibreChat's words.
pub const ATTACHMENT_ONLY_TEXT: &str = "Please refer to the attached file(s).";

/// LibreChat's "Attached document(s)" block (`extractFileContext`): each document's text
/// under its quoted name, in one fenced block (with a line break after the fence, which
/// LibreChat leaves out). None without documents.
pub fn documents_block<'a>(
    documents: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<String> {
    let mut block = String::new();
    for (name, text) in documents {
        block.push_str(if block.is_empty() {
            "Attached document(s):\n```md\n"
        } else {
            "\n\n---\n\n"
        });
        block.push_str(&format!("# \"{name}\"\n{text}\n"));
    }
    if block.is_empty() {
        return None;
    }
    block.push_str("\n```");
    Some(block)
}

impl ChatMessage {
    /// A message of text only.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: vec![Part::Text(text.into())],
        }
    }

    /// The message as the wire formats write it: its documents and text as one text (the
    /// documents first, as LibreChat gives them), and its images. Only a user's message
    /// carries images to a model.
    pub fn wire(&self) -> Wire<'_> {
        let mut documents: Vec<(&str, &str)> = Vec::new();
        let mut texts: Vec<&str> = Vec::new();
        let mut images = Vec::new();
        for part in &self.content {
            match part {
                Part::Text(t) => texts.push(t),
                Part::Image(i) if self.role == Role::User => images.push(i),
                Part::Image(_) => {}
                Part::Document { name, text } => documents.push((name, text)),
                // Each format writes these apart (see `super::tools`).
                Part::ToolCall(_)
                | Part::ToolResult(_)
                | Part::Thinking { .. }
                | Part::RedactedThinking(_) => {}
            }
        }
        let mut text = texts.join("\n\n");
        if let Some(documents) = documents_block(documents) {
            text = if text.is_empty() {
                documents
            } else {
                format!("{documents}\n{text}")
            };
        }
        let has_files = self
            .content
            .iter()
            .any(|p| matches!(p, Part::Image(_) | Part::Document { .. }));
        if self.role == Role::User && has_files && text.trim().is_empty() {
            text = ATTACHMENT_ONLY_TEXT.to_owned();
        }
        Wire { text, images }
    }

    /// Everything this message says as text (documents included, images and tool parts left
    /// out).
    pub fn plain_text(&self) -> String {
        self.wire().text
    }

    /// The tool calls this message makes, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        self.content.iter().filter_map(|p| match p {
            Part::ToolCall(c) => Some(c),
            _ => None,
        })
    }

    /// The tool results this message carries, in order.
    pub fn tool_results(&self) -> impl Iterator<Item = &ToolResult> {
        self.content.iter().filter_map(|p| match p {
            Part::ToolResult(r) => Some(r),
            _ => None,
        })
    }

    /// Whether it has parts about tools or signed reasoning.
    pub fn has_tool_parts(&self) -> bool {
        self.content.iter().any(is_tool_part)
    }
}

/// A message as a wire format writes it: see [`ChatMessage::wire`].
#[derive(Debug)]
pub struct Wire<'a> {
    /// Never empty when the message has files; may be empty otherwise.
    pub text: String,
    pub images: Vec<&'a Image>,
}

/// The messages as Anthropic and Gemini take them: the system prompts apart (joined), and
/// turns that alternate and start with the user (consecutive turns of one side joined, their
/// parts in order). Tool results ([`Role::Tool`]) are the user's side, so they open the user
/// turn right after the assistant turn that made the calls, as both require; calls and
/// results that do not pair up are left out first (see [`paired`]).
pub(crate) fn alternating(messages: &[ChatMessage]) -> (Option<String>, Vec<ChatMessage>) {
    let messages = paired(messages);
    let mut system = Vec::new();
    let mut turns: Vec<ChatMessage> = Vec::new();
    for m in messages.iter() {
        let role = if m.role == Role::Tool {
            Role::User
        } else {
            m.role
        };
        match role {
            Role::System => system.push(m.plain_text()),
            role => match turns.last_mut() {
                Some(last) if last.role == role => {
                    // Text meets text with a blank line; a tool part needs no separator (and
                    // a lone one would be a whitespace-only block, which Anthropic refuses).
                    let apart = last.content.last().is_some_and(is_tool_part)
                        || m.content.first().is_some_and(is_tool_part);
                    if !apart {
                        last.content.push(Part::Text("\n\n".into()));
                    }
                    last.content.extend(m.content.iter().cloned());
                    join_texts(&mut last.content);
                }
                _ => turns.push(ChatMessage {
                    role,
                    content: m.content.clone(),
                }),
            },
        }
    }
    // The first turn is the user's; results whose calls fell before it go with those calls.
    loop {
        let first_user = turns
            .iter()
            .position(|m| m.role == Role::User)
            .unwrap_or(turns.len());
        turns.drain(..first_user);
        let Some(first) = turns.first_mut() else {
            break;
        };
        if !first
            .content
            .iter()
            .any(|p| matches!(p, Part::ToolResult(_)))
        {
            break;
        }
        first.content.retain(|p| !matches!(p, Part::ToolResult(_)));
        if !first.content.is_empty() {
            break;
        }
        turns.remove(0);
    }
    let system = (!system.is_empty()).then(|| system.join("\n\n"));
    (system, turns)
}

/// Merges neighbouring text parts (so joined turns read `a\n\nb`, not three parts).
fn join_texts(parts: &mut Vec<Part>) {
    let mut out: Vec<Part> = Vec::with_capacity(parts.len());
    for p in parts.drain(..) {
        match (out.last_mut(), p) {
            (Some(Part::Text(prev)), Part::Text(t)) => prev.push_str(&t),
            (_, p) => out.push(p),
        }
    }
    *parts = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Image {
        Image {
            mime: "image/png".into(),
            base64: "iVBORw0K".into(),
            detail: Some(Detail::Low),
        }
    }

    #[test]
    fn documents_come_first_in_librechats_block() {
        let m = ChatMessage {
            role: Role::User,
            content: vec![
                Part::Text("Summarize.".into()),
                Part::Document {
                    name: "a.txt".into(),
                    text: "alpha".into(),
                },
                Part::Document {
                    name: "b.md".into(),
                    text: "beta".into(),
                },
            ],
        };
        assert_eq!(
            m.wire().text,
            "Attached document(s):\n```md\n# \"a.txt\"\nalpha\n\n\n---\n\n# \"b.md\"\nbeta\n\n```\nSummarize."
        );
    }

    #[test]
    fn files_without_words_get_librechats_text_and_assistants_send_no_images() {
        let user = ChatMessage {
            role: Role::User,
            content: vec![Part::Image(image())],
        };
        let w = user.wire();
        assert_eq!(w.text, ATTACHMENT_ONLY_TEXT);
        assert_eq!(w.images.len(), 1);
        let assistant = ChatMessage {
            role: Role::Assistant,
            content: vec![Part::Text("ok".into()), Part::Image(image())],
        };
        assert!(assistant.wire().images.is_empty());
        assert_eq!(ChatMessage::text(Role::User, "").wire().text, "");
        assert_eq!(image().data_url(), "data:image/png;base64,iVBORw0K");
    }

    #[test]
    fn alternating_joins_turns_of_one_side_and_keeps_their_images() {
        let (system, turns) = alternating(&[
            ChatMessage::text(Role::Assistant, "dropped: before the first user turn"),
            ChatMessage::text(Role::System, "s"),
            ChatMessage::text(Role::User, "a"),
            ChatMessage {
                role: Role::User,
                content: vec![Part::Text("b".into()), Part::Image(image())],
            },
            ChatMessage::text(Role::Assistant, "c"),
        ]);
        assert_eq!(system.as_deref(), Some("s"));
        assert_eq!(turns.len(), 2);
        assert_eq!(
            turns[0].content,
            vec![Part::Text("a\n\nb".into()), Part::Image(image())]
        );
        assert_eq!(turns[1].wire().text, "c");
    }

    /// One user turn with words and a picture, as each wire format writes it.
    #[test]
    fn each_format_writes_images_its_own_way() {
        use crate::providers::endpoints::tests_support::endpoint;
        use crate::providers::{ChatRequest, anthropic, google, openai, responses};
        use serde_json::json;
        let request = ChatRequest {
            model: "m".into(),
            messages: vec![ChatMessage {
                role: Role::User,
                content: vec![Part::Text("What is this?".into()), Part::Image(image())],
            }],
            ..ChatRequest::default()
        };
        let e = endpoint("openAI", "x");
        assert_eq!(
            openai::body(&e, &request)["messages"][0]["content"],
            json!([
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K", "detail": "low"}},
            ])
        );
        assert_eq!(
            responses::body(&e, &request)["input"][0]["content"][1],
            json!({"type": "input_image", "image_url": "data:image/png;base64,iVBORw0K", "detail": "low"})
        );
        // Anthropic: the image first, the cache breakpoint on the last block.
        assert_eq!(
            anthropic::body(&e, &request)["messages"][0]["content"],
            json!([
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"}},
                {"type": "text", "text": "What is this?", "cache_control": {"type": "ephemeral"}},
            ])
        );
        assert_eq!(
            google::body(&e, &request)["contents"][0]["parts"],
            json!([
                {"text": "What is this?"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0K"}},
            ])
        );
        // Text alone keeps the plain shapes.
        let plain = ChatRequest {
            messages: vec![ChatMessage::text(Role::User, "hi")],
            ..request
        };
        assert_eq!(openai::body(&e, &plain)["messages"][0]["content"], "hi");
    }
}
