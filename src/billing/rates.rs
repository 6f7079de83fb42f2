//! What tokens cost: USD per million tokens by model-name fragment (LibreChat's `tokenValues`
//! and `cacheTokenValues`), so a token at rate `r` costs `r` credits (1,000,000 credits = $1).
//! The longest fragment found in a model's name picks its rates; a model no fragment matches
//! costs [`DEFAULT_RATE`] for both prompt and completion.

use serde_json::Value;

/// The rate for a model the table does not know.
pub const DEFAULT_RATE: f64 = 6.0;
/// An answer stopped before it ended costs this much more per completion token.
pub const CANCEL_RATE: f64 = 1.15;

/// `(fragment, prompt, completion)`, USD per million tokens.
const TOKEN_VALUES: &[(&str, f64, f64)] = &[
    ("4k", 1.5, 2.0),
    ("16k", 3.0, 4.0),
    ("8k", 30.0, 60.0),
    ("32k", 60.0, 120.0),
    ("gpt-3.5-turbo-1106", 1.0, 2.0),
    ("gpt-3.5-turbo-0125", 0.5, 1.5),
    ("gpt-4-1106", 10.0, 30.0),
    ("gpt-4-turbo", 10.0, 30.0),
    ("gpt-4o", 2.5, 10.0),
    ("gpt-4o-mini", 0.15, 0.6),
    ("gpt-4.1", 2.0, 8.0),
    ("gpt-4.1-mini", 0.4, 1.6),
    ("gpt-4.1-nano", 0.1, 0.4),
    ("gpt-4.5", 75.0, 150.0),
    ("gpt-5", 1.25, 10.0),
    ("gpt-5-mini", 0.25, 2.0),
    ("gpt-5-nano", 0.05, 0.4),
    ("o1", 15.0, 60.0),
    ("o1-mini", 1.1, 4.4),
    ("o3", 2.0, 8.0),
    ("o3-mini", 1.1, 4.4),
    ("o4-mini", 1.1, 4.4),
    ("claude-3-opus", 15.0, 75.0),
    ("claude-3-sonnet", 3.0, 15.0),
    ("claude-3-haiku", 0.25, 1.25),
    ("claude-3-5-sonnet", 3.0, 15.0),
    ("claude-3.5-sonnet", 3.0, 15.0),
    ("claude-3-5-haiku", 0.8, 4.0),
    ("claude-3.5-haiku", 0.8, 4.0),
    ("claude-3-7-sonnet", 3.0, 15.0),
    ("claude-sonnet-4", 3.0, 15.0),
    ("claude-opus-4", 15.0, 75.0),
    ("claude-haiku-4", 1.0, 5.0),
    ("gemini-1.5-pro", 2.5, 10.0),
    ("gemini-1.5-flash", 0.15, 0.6),
    ("gemini-2.0-flash", 0.1, 0.4),
    ("gemini-2.0-flash-lite", 0.075, 0.3),
    ("gemini-2.5-pro", 1.25, 10.0),
    ("gemini-2.5-flash", 0.3, 2.5),
    ("gemini-2.5-flash-lite", 0.1, 0.4),
    ("deepseek-chat", 0.28, 0.42),
    ("deepseek-reasoner", 0.28, 0.42),
    ("grok-3", 3.0, 15.0),
    ("grok-4", 3.0, 15.0),
    ("mistral-large", 2.0, 6.0),
    ("mistral-small", 0.2, 0.6),
    ("command-r", 0.5, 1.5),
    ("command-r-plus", 3.0, 15.0),
    // Embedding models (file search's dense retrieval): prompt tokens only. Any other model
    // with `embed` in its name (nomic-embed-text, mxbai-embed-large, ...) costs what
    // text-embedding-3-small does.
    ("embed", 0.02, 0.0),
    ("text-embedding-3-small", 0.02, 0.0),
    ("text-embedding-3-large", 0.13, 0.0),
    ("text-embedding-ada-002", 0.1, 0.0),
];

/// `(fragment, cache write, cache read)`, USD per million tokens.
const CACHE_VALUES: &[(&str, f64, f64)] = &[
    ("claude-3-haiku", 0.3, 0.03),
    ("claude-3-5-haiku", 1.0, 0.08),
    ("claude-3.5-haiku", 1.0, 0.08),
    ("claude-3-5-sonnet", 3.75, 0.3),
    ("claude-3.5-sonnet", 3.75, 0.3),
    ("claude-3-7-sonnet", 3.75, 0.3),
    ("claude-sonnet-4", 3.75, 0.3),
    ("claude-opus-4", 18.75, 1.5),
    ("claude-haiku-4", 1.25, 0.1),
    ("gpt-4o", 2.5, 1.25),
    ("gpt-4o-mini", 0.15, 0.075),
    ("gpt-4.1", 2.0, 0.5),
    ("gpt-4.1-mini", 0.4, 0.1),
    ("gpt-5", 1.25, 0.125),
    ("gemini-2.5-pro", 1.25, 0.31),
    ("gemini-2.5-flash", 0.3, 0.075),
];

/// Long-context prices: `(fragment, input-token threshold, prompt, completion)`, applying to
/// the whole request when its input is over the threshold.
const PREMIUM_VALUES: &[(&str, u64, f64, f64)] = &[
    ("claude-sonnet-4", 200_000, 6.0, 22.5),
    ("gemini-2.5-pro", 200_000, 2.5, 15.0),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    Prompt,
    Completion,
}

/// The fragment of the table that names `model`'s rates (the longest one found in its name;
/// of two equally long, the later).
pub fn value_key(model: &str) -> Option<&'static str> {
    let model = model.to_ascii_lowercase();
    let mut best: Option<&'static str> = None;
    for (fragment, _, _) in TOKEN_VALUES {
        if model.contains(fragment) && best.is_none_or(|b| fragment.len() >= b.len()) {
            best = Some(fragment);
        }
    }
    best
}

/// [`rate`] for a request with `input_tokens` of input: past a model's long-context threshold,
/// its premium rates (unless the endpoint's `tokenConfig` sets the model's price).
pub fn rate_for(
    model: &str,
    kind: TokenType,
    token_config: Option<&Value>,
    input_tokens: u64,
) -> f64 {
    let configured = token_config.and_then(|c| c.get(model)).is_some();
    if !configured {
        let lower = model.to_ascii_lowercase();
        if let Some((_, _, prompt, completion)) = PREMIUM_VALUES
            .iter()
            .filter(|(f, threshold, _, _)| lower.contains(f) && input_tokens > *threshold)
            .max_by_key(|(f, _, _, _)| f.len())
        {
            return if kind == TokenType::Prompt {
                *prompt
            } else {
                *completion
            };
        }
    }
    rate(model, kind, token_config)
}

/// The rate of a prompt or completion token of `model`: the endpoint's `tokenConfig` for the
/// model first, then the table, then [`DEFAULT_RATE`].
pub fn rate(model: &str, kind: TokenType, token_config: Option<&Value>) -> f64 {
    let name = match kind {
        TokenType::Prompt => "prompt",
        TokenType::Completion => "completion",
    };
    if let Some(r) = token_config
        .and_then(|c| c.get(model))
        .and_then(|m| m.get(name))
        .and_then(Value::as_f64)
    {
        return r;
    }
    match value_key(model) {
        Some(key) => TOKEN_VALUES
            .iter()
            .rev()
            .find(|(f, _, _)| *f == key)
            .map(|(_, p, c)| if kind == TokenType::Prompt { *p } else { *c })
            .unwrap_or(DEFAULT_RATE),
        None => DEFAULT_RATE,
    }
}

/// The rates of cache writes and reads for `model`; `None` where the table has none (such
/// tokens then cost the prompt rate).
pub fn cache_rates(model: &str) -> Option<(f64, f64)> {
    let model = model.to_ascii_lowercase();
    CACHE_VALUES
        .iter()
        .filter(|(f, _, _)| model.contains(f))
        .max_by_key(|(f, _, _)| f.len())
        .map(|(_, w, r)| (*w, *r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_longest_fragment_wins() {
        assert_eq!(value_key("gpt-4o-mini-2024-07-18"), Some("gpt-4o-mini"));
        assert_eq!(value_key("gpt-4o"), Some("gpt-4o"));
        assert_eq!(
            value_key("claude-3-5-sonnet-20241022"),
            Some("claude-3-5-sonnet")
        );
        assert_eq!(value_key("my-local-llama"), None);
        assert_eq!(rate("gpt-4o", TokenType::Prompt, None), 2.5);
        assert_eq!(rate("gpt-4o", TokenType::Completion, None), 10.0);
        assert_eq!(
            rate("my-local-llama", TokenType::Completion, None),
            DEFAULT_RATE
        );
        let config = json!({"my-local-llama": {"prompt": 0.5, "completion": 1.0}});
        assert_eq!(
            rate("my-local-llama", TokenType::Completion, Some(&config)),
            1.0
        );
        assert_eq!(cache_rates("claude-sonnet-4-5"), Some((3.75, 0.3)));
        // Long contexts cost the premium rates past the threshold.
        assert_eq!(
            rate_for("gemini-2.5-pro", TokenType::Prompt, None, 100_000),
            1.25
        );
        assert_eq!(
            rate_for("gemini-2.5-pro", TokenType::Prompt, None, 250_000),
            2.5
        );
        assert_eq!(
            rate_for("claude-sonnet-4-5", TokenType::Completion, None, 250_000),
            22.5
        );
        let config = json!({"gemini-2.5-pro": {"prompt": 1.0, "completion": 2.0}});
        assert_eq!(
            rate_for("gemini-2.5-pro", TokenType::Prompt, Some(&config), 250_000),
            1.0
        );
        assert_eq!(cache_rates("llama"), None);
    }
}
