//! A new conversation's title, asked of the model after the first exchange (`titleConvo`),
//! and the titles being written, which a client may wait for ([`pending`]).

mod pending;

pub use pending::{Titles, WAIT};

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Map;

use super::engine::{Engine, Turn};
use crate::db::conversations;
use crate::providers::{self, ChatRequest, ProviderError, StreamEvent};

impl Engine {
    /// Names a new conversation after its first exchange (`titleConvo`), with `titleModel` or
    /// the conversation's model. Best effort: a failure leaves "New Chat".
    pub(super) async fn title(&self, turn: &Turn, answer: &str) {
        let model = turn
            .endpoint
            .title_model
            .clone()
            .filter(|m| m != "current_model")
            .unwrap_or_else(|| turn.model.clone());
        let excerpt = |s: &str| s.chars().take(1_000).collect::<String>();
        let request = ChatRequest {
            model,
            messages: vec![
                providers::ChatMessage::text(
                    providers::Role::System,
                    "Write a concise title, at most 7 words, for the conversation below. \
                        Answer with the title only, without quotes or punctuation at the end.",
                ),
                providers::ChatMessage::text(
                    providers::Role::User,
                    format!(
                        "User: {}\n\nAssistant: {}",
                        excerpt(&turn.request.text),
                        excerpt(answer)
                    ),
                ),
            ],
            params: Map::new(),
            user: Some(turn.user_id.clone()),
            vars: turn.vars.clone(),
            tools: Vec::new(),
            tool_choice: None,
        };
        // Titles are skipped, not charged into the red, when the balance is short.
        let prompt: String = request
            .messages
            .iter()
            .map(providers::ChatMessage::plain_text)
            .collect();
        let title_model = request.model.clone();
        let prompt_tokens =
            tokio::task::spawn_blocking(move || super::tokens::count(&title_model, &prompt))
                .await
                .unwrap_or(0)
                .max(0) as u64;
        let token_config = turn.endpoint.token_config.as_ref();
        if !matches!(
            self.billing
                .check(
                    &turn.user_id,
                    &request.model,
                    prompt_tokens + 150,
                    token_config
                )
                .await,
            Ok(Ok(()))
        ) {
            return;
        }
        let model = request.model.clone();
        let collect = async {
            let mut stream = providers::stream(
                &self.http,
                &self.guarded,
                &turn.endpoint,
                &turn.api_key,
                request,
            )
            .await?;
            let mut title = String::new();
            let mut usage = None;
            while let Some(e) = stream.next().await {
                match e? {
                    StreamEvent::Text(t) => title.push_str(&t),
                    StreamEvent::Usage(u) => usage = Some(u),
                    _ => {}
                }
            }
            Ok::<_, ProviderError>((title, usage))
        };
        let title = match tokio::time::timeout(Duration::from_secs(60), collect).await {
            Ok(Ok((t, usage))) => {
                let mut u = usage.unwrap_or_default();
                if u.prompt_tokens + u.cache_read_tokens == 0 {
                    u.prompt_tokens = prompt_tokens;
                }
                if u.completion_tokens == 0 {
                    let text = t.clone();
                    let counting = model.clone();
                    u.completion_tokens =
                        tokio::task::spawn_blocking(move || super::tokens::count(&counting, &text))
                            .await
                            .unwrap_or(0)
                            .max(0) as u64;
                }
                let spend = crate::billing::Spend {
                    user_id: &turn.user_id,
                    conversation_id: &turn.conversation.conversation_id,
                    message_id: &turn.response.message_id,
                    model: &model,
                    context: "title",
                    usage: u,
                    incomplete: false,
                    token_config,
                };
                if let Err(e) = self.billing.spend(spend).await {
                    tracing::error!(error = %e, "recording what a title cost failed");
                }
                clean_title(&t)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "generating a title failed");
                return;
            }
            Err(_) => return,
        };
        if title.is_empty() {
            return;
        }
        let changes = conversations::Changes {
            title: Some(title),
            ..conversations::Changes::default()
        };
        let (u, c) = (
            turn.user_id.clone(),
            turn.conversation.conversation_id.clone(),
        );
        if let Err(e) = self
            .db
            .write(move |db| conversations::update_existing(db, &u, &c, &changes))
            .await
        {
            tracing::warn!(error = %e, "saving a title failed");
        }
    }
}

/// A model's title answer, tidied: one line, no quotes or trailing period, at most 80
/// characters.
pub fn clean_title(raw: &str) -> String {
    let line = raw
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let line = line.strip_prefix("Title:").unwrap_or(line).trim();
    let trimmed = line
        .trim_matches(|c: char| {
            c == '"' || c == '\'' || c == '*' || c == '`' || c == '“' || c == '”'
        })
        .trim_end_matches('.')
        .trim();
    trimmed.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_tidied() {
        assert_eq!(clean_title("\"Trip to Lisbon.\"\n"), "Trip to Lisbon");
        assert_eq!(clean_title("\n\nTitle: **Rust tips**"), "Rust tips");
        assert_eq!(clean_title(""), "");
        assert_eq!(clean_title(&"x".repeat(200)).len(), 80);
    }
}
