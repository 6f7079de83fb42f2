//! Scripted tool calls for the fake providers ([`super::fake_openai::FakeOpenAi`] serves all
//! four formats): a test gives a model a [`ToolScript`] with
//! [`FakeOpenAi::script`](super::fake_openai::FakeOpenAi::script); a request for that model
//! is answered with the script's calls in the format's own wire shapes (several, parallel,
//! with interleaved argument pieces, after thinking), and a request whose last turn carries
//! tool results with text that quotes them: `Results: <content> | <content>` (`error: ` before
//! a failed call's). A [`Broken`] script sends a stream the providers must refuse.
//!
//! Every request is also checked the way each provider checks a history with tool calls,
//! answering its documented 400 when a result does not follow its call (see
//! [`openai::check`], [`responses::check`], [`anthropic::check`], [`gemini::check`]).

pub mod anthropic;
pub mod gemini;
pub mod openai;
pub mod responses;

use serde_json::{Value, json};

/// What a scripted model answers a request that does not carry tool results.
#[derive(Clone, Debug, Default)]
pub struct ToolScript {
    /// The calls: a tool's name and its arguments.
    pub calls: Vec<(String, Value)>,
    /// Words before the calls.
    pub preface: Option<String>,
    /// OpenAI: the calls' argument pieces interleaved (call 0's first piece, call 1's first
    /// piece, ...) rather than one call after the other.
    pub interleave: bool,
    /// Thinking before the calls: Anthropic a signed thinking block and a redacted_thinking
    /// block (which the next request must carry back unchanged); Gemini a thought and a
    /// `thoughtSignature` on the first call (required back, as Gemini 3 requires it).
    pub thinking: bool,
    pub broken: Option<Broken>,
    /// Calls whose arguments are sent as this text exactly (invalid JSON, say), after `calls`.
    pub raw: Vec<(String, String)>,
    /// Calls again even when the request carries results: a model that never stops.
    pub always: bool,
    /// OpenAI: a request that carries results waits for
    /// [`FakeOpenAi::release`](super::fake_openai::FakeOpenAi::release) before it is answered.
    pub hold: bool,
    /// Only a request whose body holds this text gets the calls; any other is answered as
    /// if the model had no script (a memory model that acts on one message of a long run).
    pub when: Option<String>,
    /// OpenAI: the calls' ids end with this rather than `abc` (two models side by side with
    /// ids of their own, as a real provider's are).
    pub id_tag: Option<String>,
}

impl ToolScript {
    pub fn calls<'a>(calls: impl IntoIterator<Item = (&'a str, Value)>) -> Self {
        ToolScript {
            calls: calls.into_iter().map(|(n, a)| (n.to_owned(), a)).collect(),
            ..ToolScript::default()
        }
    }

    pub fn interleaved(mut self) -> Self {
        self.interleave = true;
        self
    }

    pub fn thinking(mut self) -> Self {
        self.thinking = true;
        self
    }

    pub fn raw(mut self, name: &str, args: &str) -> Self {
        self.raw.push((name.to_owned(), args.to_owned()));
        self
    }

    pub fn always(mut self) -> Self {
        self.always = true;
        self
    }

    pub fn hold(mut self) -> Self {
        self.hold = true;
        self
    }

    pub fn ids(mut self, tag: &str) -> Self {
        self.id_tag = Some(tag.to_owned());
        self
    }

    pub fn when(mut self, text: &str) -> Self {
        self.when = Some(text.to_owned());
        self
    }

    /// The script for this request: a call named `prefix*` calls the first tool the request
    /// offers whose name starts with `prefix` (a name the test cannot know beforehand, such as
    /// a handoff's `lc_transfer_to_<agent id>`).
    pub fn resolved(mut self, body: &Value) -> Self {
        let mut offered = Vec::new();
        names(&body["tools"], &mut offered);
        for (name, _) in &mut self.calls {
            if let Some(prefix) = name.strip_suffix('*')
                && let Some(found) = offered.iter().find(|n| n.starts_with(prefix))
            {
                *name = found.clone();
            }
        }
        self
    }

    /// Whether the script answers this request (see [`ToolScript::when`]).
    pub fn applies(&self, body: &Value) -> bool {
        self.when
            .as_deref()
            .is_none_or(|w| body.to_string().contains(w))
    }

    pub fn preface(mut self, words: &str) -> Self {
        self.preface = Some(words.to_owned());
        self
    }

    pub fn broken(broken: Broken) -> Self {
        ToolScript {
            broken: Some(broken),
            ..ToolScript::default()
        }
    }
}

/// Every `name` string in a request's tool list, whatever the provider's shape.
fn names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| names(i, out)),
        Value::Object(fields) => {
            for (k, v) in fields {
                match v {
                    Value::String(s) if k == "name" => out.push(s.clone()),
                    _ => names(v, out),
                }
            }
        }
        _ => {}
    }
}

/// A stream of calls the providers must refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broken {
    /// One call whose arguments pass 1 MiB (in 64 KiB pieces, each event well under the SSE
    /// bound).
    HugeArgs,
    /// 129 calls in one answer.
    TooManyCalls,
    /// Arguments for a call that never started.
    Orphan,
}

/// The bytes of the [`Broken::HugeArgs`] arguments.
pub const HUGE_ARGS: usize = 1024 * 1024 + 64 * 1024;

/// The calls to send: `(name, arguments as JSON text)`.
pub(crate) fn planned(script: &ToolScript) -> Vec<(String, String)> {
    match script.broken {
        Some(Broken::HugeArgs) => {
            let blob = "x".repeat(HUGE_ARGS);
            vec![("save".into(), json!({ "blob": blob }).to_string())]
        }
        Some(Broken::TooManyCalls) => (0..129).map(|_| ("ping".into(), "{}".into())).collect(),
        _ => script
            .calls
            .iter()
            .map(|(n, a)| (n.clone(), a.to_string()))
            .chain(script.raw.iter().cloned())
            .collect(),
    }
}

/// Arguments in the pieces a model streams them in: three for small ones, 64 KiB for large.
pub(crate) fn pieces(args: &str) -> Vec<String> {
    let size = if args.len() > 64 * 1024 {
        64 * 1024
    } else {
        args.len().div_ceil(3).max(1)
    };
    let mut out = Vec::new();
    let mut rest = args;
    while !rest.is_empty() {
        let mut cut = size.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        out.push(rest[..cut].to_owned());
        rest = &rest[cut..];
    }
    out
}

/// The signature the fake gives a thinking text (and checks when it comes back).
pub fn signature_for(text: &str) -> String {
    // FNV-1a: deterministic, and different for any changed text a test would send.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("EqQBCkgIARAB{h:016x}")
}

/// The text answered once results came: `Results: a | error: b`.
pub(crate) fn results_text(results: &[(String, bool)]) -> String {
    let quoted: Vec<String> = results
        .iter()
        .map(|(c, err)| {
            if *err {
                format!("error: {c}")
            } else {
                c.clone()
            }
        })
        .collect();
    format!("Results: {}", quoted.join(" | "))
}
