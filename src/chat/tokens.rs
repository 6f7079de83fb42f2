//! Token counting with OpenAI's `o200k_base` encoding (tiktoken), embedded in the binary.
//! Used for a message's `tokenCount` where no provider reported one.

use serde_json::Value;

/// Tokens in `text`. Special-token markers in user text are counted as the text they are.
/// The first call loads the encoding (a fraction of a second): call off the async threads.
pub fn count(text: &str) -> i64 {
    tiktoken_rs::o200k_base_singleton()
        .encode_ordinary(text)
        .len() as i64
}

/// The text a message holds: its `text`, and the text and reasoning parts of its content.
pub fn message_text(text: &str, content: Option<&Value>) -> String {
    let mut all = text.to_owned();
    for part in content.and_then(Value::as_array).into_iter().flatten() {
        let piece = match part["type"].as_str() {
            Some("text") => part["text"]
                .as_str()
                .or_else(|| part["text"]["value"].as_str()),
            Some("think") => part["think"].as_str(),
            _ => None,
        };
        if let Some(p) = piece {
            if !all.is_empty() {
                all.push('\n');
            }
            all.push_str(p);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tokens_and_collects_text_parts() {
        assert_eq!(count(""), 0);
        assert!(count("Hello, world!") >= 3);
        assert!(
            count("<|endoftext|>") > 1,
            "special markers are plain text here"
        );
        let content = serde_json::json!([
            {"type": "think", "think": "pondering"},
            {"type": "text", "text": {"value": "answer"}},
            {"type": "image_url", "image_url": {"url": "x"}}
        ]);
        assert_eq!(message_text("", Some(&content)), "pondering\nanswer");
    }
}
