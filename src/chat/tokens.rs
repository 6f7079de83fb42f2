//! Token counting with OpenAI's encodings (tiktoken), embedded in the binary: `o200k_base` for
//! the models that use it (GPT-4o, GPT-4.1, GPT-4.5, GPT-5, o1, o3, o4), `cl100k_base` for every
//! other model, as LibreChat does. Used for a message's `tokenCount` where no provider reported
//! one, and to fit the context. Each table is loaded the first time a model needs it.
//!
//! The tables are OpenAI's, packed by `tools/tokenizer-tables.py` (token bytes in rank order,
//! zlib-compressed: 1.5 MB instead of the 5.3 MB of base64 text tiktoken-rs embeds); the
//! tokenizer itself is tiktoken-rs's `CoreBPE`.
//!
//! Every count runs on one thread of its own: tiktoken keeps a copy of its pattern per
//! calling thread, each growing its own caches, so counting from the blocking pool's many
//! threads cost tens of megabytes; one thread costs one copy, and counting is quick.

use std::sync::OnceLock;
use std::sync::mpsc;

use serde_json::Value;

/// A tokenizer's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    O200k,
    Cl100k,
}

impl Encoding {
    /// The encoding `model` counts with. A routing prefix (`openai/gpt-4o` on OpenRouter) is
    /// looked through; models tiktoken does not know (Claude, Gemini, Llama...) use
    /// `cl100k_base`.
    pub fn for_model(model: &str) -> Self {
        use tiktoken_rs::tokenizer::{Tokenizer, get_tokenizer};
        let name = model.rsplit('/').next().unwrap_or(model);
        match get_tokenizer(name) {
            Some(Tokenizer::O200kBase | Tokenizer::O200kHarmony) => Encoding::O200k,
            _ => Encoding::Cl100k,
        }
    }
}

type Job = (Encoding, String, mpsc::SyncSender<i64>);

/// The tokenizers, each made from its table on first use (a fraction of a second).
static TOKENIZERS: [OnceLock<tiktoken_rs::CoreBPE>; 2] = [OnceLock::new(), OnceLock::new()];

/// Whether counting for `model` is quick now: its table is loaded.
pub fn ready(model: &str) -> bool {
    TOKENIZERS[Encoding::for_model(model) as usize]
        .get()
        .is_some()
}

/// The packed tables (see the module's note).
const CL100K_TABLE: &[u8] = include_bytes!("tokenizers/cl100k_base.bin.z");
const O200K_TABLE: &[u8] = include_bytes!("tokenizers/o200k_base.bin.z");

/// How cl100k_base splits text before merging, as OpenAI publishes it.
const CL100K_PATTERN: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s";

/// The tokenizer for `encoding`, made on first use.
fn bpe(encoding: Encoding) -> &'static tiktoken_rs::CoreBPE {
    TOKENIZERS[encoding as usize].get_or_init(|| {
        let (table, pattern) = match encoding {
            Encoding::O200k => (O200K_TABLE, tiktoken_rs::O200K_BASE_PAT_STR),
            Encoding::Cl100k => (CL100K_TABLE, CL100K_PATTERN),
        };
        let ranks = unpack(table).expect("the embedded token table is intact");
        // Only ordinary text is counted: no special tokens are needed.
        tiktoken_rs::CoreBPE::new(ranks, rustc_hash::FxHashMap::default(), pattern)
            .expect("the embedded pattern compiles")
    })
}

/// The token → rank map from a packed table: zlib; then per token, in rank order, one length
/// byte and the token's bytes.
fn unpack(table: &[u8]) -> std::io::Result<rustc_hash::FxHashMap<Vec<u8>, u32>> {
    use std::io::Read;
    let mut packed = Vec::new();
    flate2::read::ZlibDecoder::new(table).read_to_end(&mut packed)?;
    let mut ranks = rustc_hash::FxHashMap::default();
    ranks.reserve(packed.len() / 6);
    let mut rest = packed.as_slice();
    let mut rank = 0u32;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len);
        if len == 0 || tail.len() < len {
            return Err(std::io::Error::other("a truncated token table"));
        }
        ranks.insert(tail[..len].to_vec(), rank);
        rank += 1;
        rest = &tail[len..];
    }
    Ok(ranks)
}

/// The most text counted exactly, in bytes.
const COUNT_LIMIT: usize = 64 * 1024;

fn counter() -> &'static mpsc::Sender<Job> {
    static COUNTER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    COUNTER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("token-counter".into())
            .spawn(move || {
                for (encoding, text, reply) in rx {
                    let bpe = bpe(encoding);
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

/// Tokens in `text` for `model`. Special-token markers in user text are counted as the text they are.
/// Blocks until counted (the first call also loads the encoding, a fraction of a second):
/// call off the async threads.
pub fn count(model: &str, text: &str) -> i64 {
    count_with(Encoding::for_model(model), text)
}

/// Texts up to this size are counted right on the async thread once the encoding is loaded
/// (a few microseconds on the counting thread); longer ones hop to a blocking thread.
pub const INLINE_COUNT_BYTES: usize = 4096;

/// [`count`] from async code, as the tool loop counts what it sends: a short text right here
/// once the encoding is loaded, a longer one (or the first) on a blocking thread.
pub async fn count_async(model: String, text: String) -> u64 {
    let n = if text.len() <= INLINE_COUNT_BYTES && ready(&model) {
        count(&model, &text)
    } else {
        tokio::task::spawn_blocking(move || count(&model, &text))
            .await
            .unwrap_or(0)
    };
    u64::try_from(n).unwrap_or(0)
}

/// Tokens in `text` with `encoding`.
pub fn count_with(encoding: Encoding, text: &str) -> i64 {
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
        let part = count_with(encoding, &text[..cut]);
        return (part as f64 * text.len() as f64 / cut as f64).ceil() as i64;
    }
    let (reply, answer) = mpsc::sync_channel(1);
    if counter().send((encoding, text.to_owned(), reply)).is_err() {
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
    fn packed_tables_count_as_tiktoken_rs_own() {
        let texts = [
            "Hello, world! How are you doing today?",
            "fn main() {\n    println!(\"{}\", 42);\n}\n\n\tindented\r\nlines  ",
            "Привет, как дела? こんにちは世界 مرحبا بالعالم 🤖🎉 naïve café",
            "1234567890 3.14159 1e-10 0xDEADBEEF",
            "I'm you're they'll we've it's DON'T",
            "   leading and trailing spaces   ",
            "<|endoftext|> looks special but is text",
        ];
        let theirs = [
            (Encoding::Cl100k, tiktoken_rs::cl100k_base().unwrap()),
            (Encoding::O200k, tiktoken_rs::o200k_base().unwrap()),
        ];
        for (encoding, reference) in &theirs {
            for text in texts {
                assert_eq!(
                    bpe(*encoding).encode_ordinary(text),
                    reference.encode_ordinary(text),
                    "{encoding:?}: {text}"
                );
            }
        }
        // Every rank is there: the largest ordinary ranks decode the same.
        assert_eq!(unpack(CL100K_TABLE).unwrap().len(), 100_256);
        assert_eq!(unpack(O200K_TABLE).unwrap().len(), 199_998);
        assert!(
            unpack(&CL100K_TABLE[..1000]).is_err(),
            "a cut table is refused"
        );
    }

    #[test]
    fn pathological_and_huge_texts_are_estimated_not_fatal() {
        let spaces = format!("x{}", " ".repeat(1_100_000));
        assert!(count("gpt-4o", &spaces) > 0);
        // The counter still works exactly afterwards.
        assert_eq!(
            count("gpt-4o", "Hello, world!"),
            count("gpt-4o", "Hello, world!")
        );
        assert!(count("gpt-4o", "Hello, world!") < 10);
        let long = "word ".repeat(100_000);
        let n = count("gpt-4", &long);
        assert!((90_000..=110_000).contains(&n), "{n}");
    }

    #[test]
    fn counts_tokens_and_collects_text_parts() {
        assert_eq!(count("gpt-4o", ""), 0);
        assert!(count("gpt-4o", "Hello, world!") >= 3);
        assert!(
            count("gpt-4o", "<|endoftext|>") > 1,
            "special markers are plain text here"
        );
        let content = serde_json::json!([
            {"type": "think", "think": "pondering"},
            {"type": "text", "text": {"value": "answer"}},
            {"type": "image_url", "image_url": {"url": "x"}}
        ]);
        assert_eq!(message_text("", Some(&content)), "pondering\nanswer");
    }

    #[test]
    fn each_model_counts_with_its_own_encoding() {
        for m in [
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4.1",
            "gpt-5",
            "o1",
            "o3-mini",
            "openai/gpt-4o",
        ] {
            assert_eq!(Encoding::for_model(m), Encoding::O200k, "{m}");
        }
        for m in [
            "gpt-4",
            "gpt-3.5-turbo",
            "claude-sonnet-4",
            "gemini-2.5-pro",
            "llama3",
            "",
        ] {
            assert_eq!(Encoding::for_model(m), Encoding::Cl100k, "{m}");
        }
        // The two tables really differ: these words are one token in o200k_base, more in cl100k.
        let text = "Привет, как дела? こんにちは世界";
        assert!(count("gpt-4o", text) < count("gpt-4", text));
    }
}
