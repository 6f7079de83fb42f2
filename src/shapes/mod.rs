//! LibreChat's JSON shapes, as typed serde structs: what the server answers and what it reads
//! from clients, written once and shared by the routes, the chat engine, export and import and
//! the command line. This module calls nothing of ours; turning stored rows into shapes is
//! `chat::present`'s work.
//!
//! The rules every shape follows, learned from LibreChat's client, which parses answers with
//! the zod schemas of `librechat-data-provider` (checked by `tests/e2e/contract.test.mjs`):
//!
//! - Names are LibreChat's: camelCase, with its own exceptions spelled out (`file_id`, `_id`).
//! - A field the schema types as "a string (or number) or absent" is left out when there is no
//!   value (`skip_serializing_if`): `null` there fails the client's parse. A field the schema
//!   makes nullable (`model`, a conversation's `endpoint`) is written as `null`.
//! - Fields passed through (a message's or a conversation's other fields, as a client sent them)
//!   live in `extra`, flattened into the object and kept as they came. A key of `extra` that a
//!   typed field owns is dropped when a shape is made ([`without`]), so the typed field wins and
//!   no key is written twice.
//! - Read from a client ([`read`]), a typed field of the wrong type is refused with its name
//!   ("text must be a string"); fields the server does not take from a client (`user`,
//!   `createdAt`, ...) are read leniently and ignored.

pub mod agent;
pub mod balance;
pub mod conversation;
pub mod file;
pub mod message;
pub mod preset;
pub mod project;
pub mod prompt;
pub mod read;
pub mod share;
pub mod stream;
pub mod tag;
pub mod tool_call;

pub use balance::TBalance;
pub use conversation::{ConversationPage, DeleteResult, ForkResponse, TConversation};
pub use file::TFile;
pub use message::{ContentPart, MessageFile, MessagePage, PartText, TMessage};
pub use preset::TPreset;
pub use project::{ProjectAssignment, ProjectDeleteResult, ProjectPage, TChatProject};
pub use prompt::{TPrompt, TPromptGroup};
pub use read::read;
pub use share::{SharedLinkPage, SharedPage, TSharedLink};
pub use tag::TConversationTag;
pub use tool_call::TToolCall;

use serde_json::{Map, Value};

/// `extra` without the keys a shape's typed fields own (its `FIELDS`).
pub fn without(mut extra: Map<String, Value>, owned: &[&str]) -> Map<String, Value> {
    if extra.keys().any(|k| owned.contains(&k.as_str())) {
        extra.retain(|k, _| !owned.contains(&k.as_str()));
    }
    extra
}

#[cfg(test)]
pub(crate) mod testing {
    use serde::Serialize;
    use serde_json::Value;

    /// The keys `shape` serializes to, sorted: every typed field must be in the shape's
    /// `FIELDS`, so that [`super::without`] keeps `extra` from writing one twice.
    pub fn keys(shape: &impl Serialize) -> Vec<String> {
        match serde_json::to_value(shape).unwrap() {
            Value::Object(o) => o.keys().cloned().collect(),
            other => panic!("not an object: {other}"),
        }
    }

    pub fn sorted(fields: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = fields.iter().map(|s| (*s).to_owned()).collect();
        v.sort();
        v
    }
}
