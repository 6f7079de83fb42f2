//! The memory agent (`memory.agent` in librechat.yaml), as LibreChat runs it: alongside each
//! answer of a person who may use memories and has not turned them off, a model of its own
//! reads the last `messageWindowSize` messages of the conversation (up to the person's new
//! one) with their memories, and sets or deletes memories with two tools, `set_memory` and
//! `delete_memory` ([`tools`]), within the `memory` limits. It runs through the same tool
//! loop as any answer (at most three steps: a call, its tools, a last call), billed like any
//! call (`context: memory`). It reads and writes the partition of the agent answering (its
//! own when that agent's `memory_scope` is `agent`, else the person's shared pool), as
//! LibreChat gives it the primary agent's `agentId`.
//!
//! The answer never waits for it to start, and never fails because of it: a memory agent
//! that cannot run (no such agent, no key, a provider error) is logged and the answer goes on.
//! What it did goes to the client as LibreChat's `attachment` events (`type: memory`) while
//! the answer streams (a client that rejoins from a `sync` frame gets those sent so far
//! right after it, see [`Job::attach`]); when the answer ends, the answer waits for it at most
//! [`ATTACHMENT_WAIT`] (as LibreChat does) so that those attachments are saved with the answer
//! (`attachments`); ones that come later are added to the saved answer when they come.

mod host;
pub mod tools;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use crate::agents::run::{Ending, Limits, Run};
use crate::agents::steps::Steps;
use crate::agents::tools::{Context, ToolSet};
use crate::auth::crypto::Cipher;
use crate::chat::engine::Engine;
use crate::chat::jobs::Job;
use crate::chat::memories;
use crate::chat::tokens::{Encoding, count_with};
use crate::config::Settings;
use crate::config::memory::{MemoryAgent, MemoryConfig};
use crate::db::messages::{self, Message};
use crate::providers::{ChatMessage, ChatRequest, Part, Role};

/// How long an ended answer waits for the memory agent (LibreChat's three seconds).
pub const ATTACHMENT_WAIT: Duration = Duration::from_secs(3);
/// How long the memory agent may run in all.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// LibreChat's `recursionLimit` for the memory agent: a call, its tools, a last call.
pub const RECURSION_LIMIT: u32 = 3;
/// Characters per token assumed before counting, to cut a very long chat cheaply first.
const CHARS_PER_TOKEN: u64 = 8;

/// What starting the memory agent needs, decided when the turn starts: the person may use
/// memories, has not turned them off, and librechat.yaml enables an agent.
pub struct Plan {
    pub config: MemoryConfig,
    pub agent: MemoryAgent,
    pub settings: Arc<Settings>,
    pub cipher: Arc<Cipher>,
    /// The memories it reads and writes: those of the agent answering (see
    /// [`memories::partition_of`]).
    pub partition: String,
}

/// The turn the memory agent runs with.
pub struct Inputs {
    pub user_id: String,
    pub conversation_id: String,
    /// The answer's id (its attachments and transactions name it).
    pub message_id: String,
    /// Values for the `{{LIBRECHAT_...}}` placeholders of an endpoint's headers.
    pub vars: Vec<(String, String)>,
    /// The branch up to the person's message, oldest first.
    pub branch: Vec<Message>,
    /// The memories it reads and writes: the shared pool (`""`) or an agent's partition.
    pub partition: String,
}

#[derive(Default)]
struct Shared {
    attachments: Vec<Value>,
    /// The answer took what there was: later attachments are added to the saved answer.
    taken: bool,
    late: Vec<Value>,
}

/// The memory agent running alongside an answer.
pub struct Pending {
    shared: Arc<Mutex<Shared>>,
    task: Option<tokio::task::JoinHandle<()>>,
    saved: Option<oneshot::Sender<()>>,
}

/// Starts the memory agent in a task of its own.
pub fn start(engine: Engine, job: Arc<Job>, plan: Plan, inputs: Inputs) -> Pending {
    let shared = Arc::new(Mutex::new(Shared::default()));
    let (saved_tx, saved_rx) = oneshot::channel::<()>();
    let sink: tools::Sink = {
        let (shared, job) = (shared.clone(), job.clone());
        let (message_id, conversation_id) =
            (inputs.message_id.clone(), inputs.conversation_id.clone());
        Arc::new(move |call_id: &str, artifact: Value| {
            let attachment = tools::attachment(call_id, &message_id, &conversation_id, artifact);
            let mut s = shared.lock().expect("memory attachments");
            if s.taken {
                s.late.push(attachment);
            } else {
                // Under the lock the answer takes them with: never after its last frame
                // (`attach` sends nothing once the job has ended).
                job.attach(&attachment);
                s.attachments.push(attachment);
            }
        })
    };
    let task_shared = shared.clone();
    let task = tokio::spawn(async move {
        match tokio::time::timeout(RUN_TIMEOUT, run(&engine, &plan, &inputs, sink)).await {
            Err(_) => tracing::warn!("the memory agent did not finish in time and was stopped"),
            Ok(Err(reason)) => tracing::warn!(%reason, "the memory agent could not run"),
            Ok(Ok(Ending::Failed(e))) => {
                tracing::warn!(error = %e, code = e.code(), "the memory agent's model failed")
            }
            Ok(Ok(_)) => {}
        }
        let late = std::mem::take(&mut task_shared.lock().expect("memory attachments").late);
        // Added once the answer is saved (never, if its task ended without saying so).
        if !late.is_empty() && saved_rx.await.is_ok() {
            let (u, m) = (inputs.user_id.clone(), inputs.message_id.clone());
            let added = engine
                .db
                .write(move |c| messages::add_attachments(c, &u, &m, &late))
                .await;
            if let Err(e) = added {
                tracing::warn!(error = %e, "saving the memory agent's attachments failed");
            }
        }
    });
    Pending {
        shared,
        task: Some(task),
        saved: Some(saved_tx),
    }
}

impl Pending {
    /// Waits for the memory agent at most [`ATTACHMENT_WAIT`], then takes the attachments it
    /// made: those go with the answer, later ones are added to it once it is saved.
    pub async fn settle(&mut self) -> Vec<Value> {
        if let Some(task) = self.task.as_mut() {
            let _ = tokio::time::timeout(ATTACHMENT_WAIT, task).await;
        }
        self.task = None;
        let mut s = self.shared.lock().expect("memory attachments");
        s.taken = true;
        std::mem::take(&mut s.attachments)
    }

    /// Says the answer is saved: attachments that come later may be added to it.
    pub fn saved(mut self) {
        if let Some(tx) = self.saved.take() {
            let _ = tx.send(());
        }
    }
}

/// The model the memory agent runs on: its endpoint's name, model, instructions, parameters.
struct Chosen {
    provider: String,
    model: String,
    instructions: Option<String>,
    params: Map<String, Value>,
}

/// Runs the memory agent to its end; `Err` says why it could not start.
async fn run(
    engine: &Engine,
    plan: &Plan,
    inputs: &Inputs,
    sink: tools::Sink,
) -> Result<Ending, String> {
    let chosen = choose(engine, plan).await?;
    let endpoint = plan
        .settings
        .endpoints
        .get(&chosen.provider)
        .cloned()
        .ok_or_else(|| format!("{:?} is not an endpoint of this server", chosen.provider))?;
    let (endpoint, api_key) = crate::chat::start::reach(
        &engine.db,
        &plan.cipher,
        &engine.guarded,
        endpoint,
        &inputs.user_id,
    )
    .await
    .map_err(|e| e.to_string())?;
    let (with_keys, total) = memories::with_keys(&engine.db, &inputs.user_id, &inputs.partition)
        .await
        .map_err(|e| e.to_string())?;
    let config = &plan.config;
    let instructions = chosen
        .instructions
        .filter(|i| !i.trim().is_empty())
        .unwrap_or_else(|| default_instructions(config));
    let system = format!("{instructions}\n\n{}", status(config, &with_keys, total));
    let input = chat_input(&inputs.branch, config).await;
    let prompt_tokens = {
        let text = format!("{system}{input}");
        tokio::task::spawn_blocking(move || count_with(Encoding::O200k, &text))
            .await
            .map(|n| u64::try_from(n).unwrap_or(0))
            .unwrap_or(0)
    };
    let tools = ToolSet::new(tools::pair(tools::Memories {
        db: engine.db.clone(),
        config: config.clone(),
        partition: inputs.partition.clone(),
        sink,
    }));
    let host = host::MemoryHost {
        engine,
        endpoint,
        api_key,
        model: chosen.model.clone(),
        user_id: &inputs.user_id,
        conversation_id: &inputs.conversation_id,
        message_id: &inputs.message_id,
        steps: Mutex::new(Steps::new(&inputs.message_id)),
    };
    let run = Run {
        request: ChatRequest {
            model: chosen.model,
            messages: vec![
                ChatMessage {
                    role: Role::System,
                    content: vec![Part::Text(system)],
                },
                ChatMessage {
                    role: Role::User,
                    content: vec![Part::Text(input)],
                },
            ],
            params: chosen.params,
            user: Some(inputs.user_id.clone()),
            vars: inputs.vars.clone(),
            tools: Vec::new(),
            tool_choice: None,
        },
        tools,
        limits: Limits {
            recursion_limit: RECURSION_LIMIT,
            ..Limits::default()
        },
        context: Context {
            user_id: inputs.user_id.clone(),
            conversation_id: inputs.conversation_id.clone(),
            message_id: inputs.message_id.clone(),
            ..Context::default()
        },
        prompt_tokens,
        continuation: false,
    };
    Ok(run.run(&host).await.ending)
}

/// The memory agent's model: the stored agent `memory.agent.id` names (on a provider agents
/// may use), or the model librechat.yaml gives.
async fn choose(engine: &Engine, plan: &Plan) -> Result<Chosen, String> {
    let (provider, model, instructions, model_parameters) = match &plan.agent {
        MemoryAgent::Stored { id } => {
            let wanted = id.clone();
            let agent = engine
                .db
                .read(move |c| crate::db::agents::get_for_server(c, &wanted))
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("there is no agent {id} (memory.agent.id)"))?;
            let def = agent.def;
            if !plan.settings.agents.allows_provider(&def.provider) {
                return Err(format!(
                    "the memory agent's provider {:?} is not allowed for agents \
                     (endpoints.agents.allowedProviders)",
                    def.provider
                ));
            }
            (
                def.provider,
                def.model,
                def.instructions,
                def.model_parameters,
            )
        }
        MemoryAgent::Inline {
            provider,
            model,
            instructions,
            model_parameters,
        } => (
            provider.clone(),
            model.clone(),
            instructions.clone(),
            model_parameters.clone(),
        ),
    };
    // LibreChat's defaults for it: a low temperature (which GPT-5 and later models refuse).
    let mut params = Map::new();
    if !is_gpt5_or_later(&model) {
        params.insert("temperature".into(), json!(0.4));
    }
    params.extend(model_parameters);
    Ok(Chosen {
        provider,
        model,
        instructions,
        params,
    })
}

/// Whether `model` names GPT-5 or a later GPT (`gpt-5`, `gpt-5.1-mini`, `openai/gpt-6`...).
fn is_gpt5_or_later(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    m.match_indices("gpt-").any(|(i, _)| {
        let rest = &m[i + 4..];
        let mut chars = rest.chars();
        if word(m[..i].chars().next_back()) || !matches!(chars.next(), Some('5'..='9')) {
            return false;
        }
        // An optional `.N`, then the end of the word.
        let after = &rest[1..];
        let after = match after.strip_prefix('.') {
            Some(minor) if minor.starts_with(|c: char| c.is_ascii_digit()) => {
                minor.trim_start_matches(|c: char| c.is_ascii_digit())
            }
            _ => after,
        };
        !word(after.chars().next())
    })
}

/// LibreChat's instructions for the memory agent, when its agent gives none.
fn default_instructions(config: &MemoryConfig) -> String {
    let keys = match &config.valid_keys {
        Some(k) if !k.is_empty() => format!("\nVALID KEYS: {}", k.join(", ")),
        _ => String::new(),
    };
    let limit = match config.token_limit() {
        Some(l) => format!("\nTOKEN LIMIT: Maximum {l} tokens per memory value."),
        None => String::new(),
    };
    format!(
        "Use the `set_memory` tool to save important information about the user, but ONLY when \
the user has requested you to remember something.

The `delete_memory` tool should only be used in two scenarios:
  1. When the user explicitly asks to forget or remove specific information
  2. When updating existing memories, use the `set_memory` tool instead of deleting and \
re-adding the memory.

1. ONLY use memory tools when the user requests memory actions with phrases like:
   - \"Remember [that] [I]...\"
   - \"Don't forget [that] [I]...\"
   - \"Please remember...\"
   - \"Store this...\"
   - \"Forget [that] [I]...\"
   - \"Delete the memory about...\"

2. NEVER store information just because the user mentioned it in conversation.

3. NEVER use memory tools when the user asks you to use other tools or invoke tools in general.

4. Memory tools are ONLY for memory requests, not for general tool usage.

5. If the user doesn't ask you to remember or forget something, DO NOT use any memory tools.

{keys}

{limit}

When in doubt, and the user hasn't asked to remember or forget anything, END THE TURN IMMEDIATELY."
    )
}

/// What the memory agent is told of the memories kept: their use of the token limit, and
/// each with its key.
fn status(config: &MemoryConfig, with_keys: &str, total: i64) -> String {
    let listed = if with_keys.is_empty() {
        "No existing memories"
    } else {
        with_keys
    };
    match config.token_limit() {
        Some(limit) => format!(
            "# Memory Status:\nCurrent memory usage: {total} tokens\nToken limit: {limit} \
             tokens\nRemaining capacity: {} tokens\n\n# Existing memory:\n{listed}",
            limit as i64 - total
        ),
        None => format!("# Existing memory:\n{listed}"),
    }
}

/// The recent chat the memory agent reads: the last `messageWindowSize` messages (starting,
/// where it can, with one of the person's), each as `Human: ...` or `AI: ...`, at most
/// `maxInputTokens` tokens of it (the end kept).
async fn chat_input(branch: &[Message], config: &MemoryConfig) -> String {
    let window = window(branch, config.message_window());
    let lines: Vec<String> = window
        .iter()
        .map(|m| {
            let who = if m.is_created_by_user { "Human" } else { "AI" };
            let text = if m.text.is_empty() {
                messages::text_parts(m.content.as_ref()).join("\n")
            } else {
                m.text.clone()
            };
            format!("{who}: {text}")
        })
        .collect();
    let buffer = lines.join("\n");
    let max_tokens = config.max_input_tokens();
    let max_chars =
        usize::try_from(max_tokens.saturating_mul(CHARS_PER_TOKEN)).unwrap_or(usize::MAX);
    let (buffer, cut) = keep_last_chars(buffer, max_chars);
    let text = if cut {
        format!(
            "# Current Chat:\n\n[Earlier chat content omitted due to memory input limit]\n\n{buffer}"
        )
    } else {
        format!("# Current Chat:\n\n{buffer}")
    };
    tokio::task::spawn_blocking(move || keep_last_tokens(text, max_tokens))
        .await
        .unwrap_or_default()
}

/// The last `size` messages, moved back to start with one of the person's when one is near.
fn window(branch: &[Message], size: usize) -> &[Message] {
    if branch.len() <= size {
        return branch;
    }
    (0..=branch.len() - size)
        .rev()
        .find(|&i| branch[i].is_created_by_user)
        .map(|i| &branch[i..i + size])
        .unwrap_or(&branch[branch.len() - size..])
}

/// The last `max` characters of `text`; whether any were cut.
fn keep_last_chars(text: String, max: usize) -> (String, bool) {
    let count = text.chars().count();
    if count <= max {
        return (text, false);
    }
    (text.chars().skip(count - max).collect(), true)
}

/// `text` with its start cut until it has at most `limit` tokens (o200k_base).
fn keep_last_tokens(mut text: String, limit: u64) -> String {
    for _ in 0..4 {
        let tokens = count_with(Encoding::O200k, &text).max(0) as u64;
        if tokens <= limit {
            return text;
        }
        let keep =
            (text.len() as u128 * u128::from(limit) / u128::from(tokens) * 95 / 100) as usize;
        let mut at = text.len() - keep.min(text.len());
        while !text.is_char_boundary(at) {
            at += 1;
        }
        text.drain(..at);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(user: bool, text: &str) -> Message {
        Message {
            is_created_by_user: user,
            text: text.into(),
            ..Message::default()
        }
    }

    #[test]
    fn the_window_starts_with_the_person_where_it_can() {
        let b: Vec<Message> = (0..8).map(|i| msg(i % 2 == 0, &i.to_string())).collect();
        let texts = |w: &[Message]| w.iter().map(|m| m.text.clone()).collect::<Vec<_>>();
        // The last five would start with an answer (3); the window moves back to 2.
        assert_eq!(texts(window(&b, 5)), ["2", "3", "4", "5", "6"]);
        assert_eq!(texts(window(&b, 4)), ["4", "5", "6", "7"]);
        assert_eq!(texts(window(&b, 20)).len(), 8);
        let answers: Vec<Message> = (0..4).map(|i| msg(false, &i.to_string())).collect();
        assert_eq!(texts(window(&answers, 2)), ["2", "3"]);
    }

    #[tokio::test]
    async fn the_chat_is_shown_as_librechat_shows_it_and_bounded() {
        let b = vec![msg(true, "Remember I like tea"), msg(false, "Noted.")];
        let c = MemoryConfig::default();
        assert_eq!(
            chat_input(&b, &c).await,
            "# Current Chat:\n\nHuman: Remember I like tea\nAI: Noted."
        );
        let long = vec![msg(true, &"tea ".repeat(5_000)), msg(true, "the end")];
        let c = MemoryConfig {
            max_input_tokens: Some(100),
            ..MemoryConfig::default()
        };
        let text = chat_input(&long, &c).await;
        assert!(text.ends_with("Human: the end"), "{text}");
        assert!(count_with(Encoding::O200k, &text) <= 100);
    }

    #[test]
    fn later_gpts_get_no_temperature() {
        for m in [
            "gpt-5",
            "gpt-5-mini",
            "gpt-5.1",
            "openai/gpt-6",
            "GPT-7.2-pro",
        ] {
            assert!(is_gpt5_or_later(m), "{m}");
        }
        for m in ["gpt-4o", "gpt-4.1-mini", "gpt-50x", "mygpt-5", "claude-3"] {
            assert!(!is_gpt5_or_later(m), "{m}");
        }
    }

    #[test]
    fn the_status_names_the_limit_and_the_memories() {
        let c = MemoryConfig {
            token_limit: Some(100),
            valid_keys: Some(vec!["likes".into()]),
            ..MemoryConfig::default()
        };
        assert_eq!(
            status(
                &c,
                "1. [2026-01-01]. [\"key\": \"likes\"] [3 tokens]. [\"value\": \"Tea\"]",
                3
            ),
            "# Memory Status:\nCurrent memory usage: 3 tokens\nToken limit: 100 tokens\n\
             Remaining capacity: 97 tokens\n\n# Existing memory:\n\
             1. [2026-01-01]. [\"key\": \"likes\"] [3 tokens]. [\"value\": \"Tea\"]"
        );
        assert_eq!(
            status(&MemoryConfig::default(), "", 0),
            "# Existing memory:\nNo existing memories"
        );
        let i = default_instructions(&c);
        assert!(i.contains("\nVALID KEYS: likes"));
        assert!(i.contains("TOKEN LIMIT: Maximum 100 tokens per memory value."));
    }
}
