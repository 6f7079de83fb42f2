//! The person's memories in a turn, as LibreChat's agents client uses them: which partition
//! the agent answering reads (its own when its `memory_scope` is `agent`, else the person's
//! shared pool), what of it goes into the system prompt, whether the agent carries the memory
//! tools itself (the `memory` marker in its tools: LibreChat's inline `set_memory` and
//! `delete_memory`), and the memory agent that runs alongside the answer. Every partition is
//! the asking person's own: a shared agent writes into its user's partition, never its
//! author's.

use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::ChatService;
use crate::agents::tools::Tool;
use crate::chat::jobs::Job;
use crate::chat::memories;
use crate::chat::memory_agent::tools::{self as memory_tools, Memories, Sink};
use crate::db::users::User;

/// What the person may do with memories in this turn.
#[derive(Debug, Clone, Copy)]
pub(super) struct MemoryAccess {
    /// Their role may use memories and they have not turned them off.
    pub reads: bool,
    /// The memory tools may be offered (LibreChat's `resolveMemoryAvailability`): the agents'
    /// `memory` capability is served, librechat.yaml has a `memory` section that is not
    /// disabled, and their role may also write memories.
    pub tools: bool,
}

/// The name that asks for the memory tools in an agent's tools (LibreChat's `Tools.memory`).
pub(super) const MARKER: &str = "memory";

impl ChatService {
    /// What `user` may do with memories, given what the caller found of their role
    /// (`MEMORIES.USE`, and `CREATE` and `UPDATE` for `writes_allowed`).
    pub(super) fn memory_access(
        &self,
        user: &User,
        allowed: bool,
        writes_allowed: bool,
    ) -> MemoryAccess {
        let reads = allowed && !memories::opted_out(&user.personalization);
        let configured = self
            .settings
            .yaml
            .memory
            .as_ref()
            .is_some_and(|m| !m.is_disabled());
        MemoryAccess {
            reads,
            tools: reads && writes_allowed && configured && self.settings.agents.serves(MARKER),
        }
    }

    /// The memory part of the system prompt (see [`memories::prompt_context`]): the memories
    /// of `partition`, with their keys when the agent has the memory tools. A failure to read
    /// them is logged and the answer goes on without them, as in LibreChat.
    pub(super) async fn memory_context(
        &self,
        user: &User,
        access: MemoryAccess,
        partition: &str,
        with_keys: bool,
    ) -> Option<String> {
        if !access.reads {
            return None;
        }
        let config = self.settings.yaml.memory.as_ref();
        memories::prompt_context(&self.engine.db, config, &user.id, partition, with_keys)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the person's memories could not be read");
                None
            })
    }

    /// The memory agent to run alongside the answer, on `partition`: for a person who may use
    /// memories and has not turned them off, when librechat.yaml enables one (as LibreChat's
    /// `useMemory` decides).
    pub(super) fn memory_agent(
        &self,
        access: MemoryAccess,
        partition: &str,
    ) -> Option<crate::chat::memory_agent::Plan> {
        if !access.reads {
            return None;
        }
        let config = self.settings.yaml.memory.as_ref()?;
        let agent = config.agent()?;
        Some(crate::chat::memory_agent::Plan {
            config: config.clone(),
            agent,
            settings: self.settings.clone(),
            cipher: self.cipher.clone(),
            partition: partition.to_owned(),
        })
    }

    /// The memory tools of an agent that carries them, writing `partition` for the answer
    /// `message_id`: what they do goes to the answer's followers as LibreChat's `attachment`
    /// events, and into `collected` to be saved with the answer.
    pub(super) fn inline_memory_tools(
        &self,
        job: &Arc<Job>,
        message_id: &str,
        conversation_id: &str,
        partition: &str,
        collected: &Arc<Mutex<Vec<Value>>>,
    ) -> Vec<Arc<dyn Tool>> {
        let Some(config) = self.settings.yaml.memory.clone() else {
            return Vec::new();
        };
        let (job, collected) = (job.clone(), collected.clone());
        let (message_id, conversation_id) = (message_id.to_owned(), conversation_id.to_owned());
        let sink: Sink = Arc::new(move |call_id: &str, artifact: Value| {
            let a = memory_tools::attachment(call_id, &message_id, &conversation_id, artifact);
            job.attach(&a);
            collected.lock().expect("tool attachments").push(a);
        });
        memory_tools::pair(Memories {
            db: self.engine.db.clone(),
            config,
            partition: partition.to_owned(),
            sink,
        })
    }
}

/// Whether tools named `names` ask for the memory tools.
pub(super) fn asks_for_tools<'a>(names: impl IntoIterator<Item = &'a String>) -> bool {
    names.into_iter().any(|n| n == MARKER)
}
