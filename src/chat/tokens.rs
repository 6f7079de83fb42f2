//! Token counting with OpenAI's `o200k_base` encoding (tiktoken), embedded in the binary.
//! Used for a message's `tokenCount` where no provider reported one, and to fit the context.
//!
//! Every count runs on one thread of its own: tiktoken keeps a copy of its pattern per
//! calling thread, each growing its own caches, so counting from the blocking pool's many
//! threads cost tens of megabytes; one thread costs one copy, and counting is quick.

use std::sync::OnceLock;
use std::sync::mpsc;

use serde_json::Value;

type Job = (String, mpsc::SyncSender<i64>);

/// The most text counted exactly, in bytes.
const COUNT_LIMIT: usize = 64 * 1024;

fn counter() -> &'static mpsc::Sender<Job> {
    static COUNTER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    COUNTER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("token-counter".into())
            .spawn(move || {
                let bpe = tiktoken_rs::o200k_base_singleton();
                for (text, reply) in rx {
                    // A pathological text can make the tokenizer's pattern give up (it
                    // panics); that text is estimated, and the thread lives on.
                    let counted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        bpe.encode_ordinary(&text).len() as i64
                    }));
                    let _ = reply.send(counted.unwrap_or_else(|_| estimate(&text)));
                }
            })
            .expect("a thread for counting tokens");
        tx
    })
}

/// Tokens in `text`. Special-token markers in user text are counted as the text they are.
/// Blocks until counted (the first call also loads the encoding, a fraction of a second):
/// call off the async threads.
pub fn count(text: &str) -> i64 {
    if text.is_empty() {
        return 0;
    }
    // Long texts are counted in part and the rest extrapolated: exact enough for pruning and
    // billing, and one huge message cannot hold up everyone else's counting.
    if text.len() > COUNT_LIMIT {
        let mut cut = COUNT_LIMIT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let part = count(&text[..cut]);
        return (part as f64 * text.len() as f64 / cut as f64).ceil() as i64;
    }
    let (reply, answer) = mpsc::sync_channel(1);
    if counter().send((text.to_owned(), reply)).is_err() {
        return estimate(text);
    }
    answer.recv().unwrap_or_else(|_| estimate(text))
}

/// A rough count (four bytes a token), should the counting thread be gone.
fn estimate(text: &str) -> i64 {
    text.len().div_ceil(4) as i64
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
    fn pathological_and_huge_texts_are_estimated_not_fatal() {
        let spaces = format!("x{}", " ".repeat(1_100_000));
        assert!(count(&spaces) > 0);
        // The counter still works exactly afterwards.
        assert_eq!(count("Hello, world!"), count("Hello, world!"));
        assert!(count("Hello, world!") < 10);
        let long = "word ".repeat(100_000);
        let n = count(&long);
        assert!((90_000..=110_000).contains(&n), "{n}");
    }

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
