//! Files on messages: checked and recorded when a message is sent with them, and turned into
//! what the model reads (documents as text, cut at `fileTokenLimit`) when a turn is built.
//!
//! A message keeps its files as LibreChat's client expects them, in `files`:
//! `[{file_id, filename, filepath, type, bytes, source, width?, height?}]`. Only the file ids
//! a client sends count; everything else about a file is read from its record, the sender's
//! own.

use std::collections::HashMap;

use crate::db::sql::Connection;
use serde_json::Value;

use super::tokens::{Encoding, count_with};
use crate::config::EndpointFiles;
use crate::db::DbError;
use crate::db::files::{self, File};
use crate::db::messages::Message;
use crate::providers::Part;

/// What each message's files give the model, by message id.
pub type Attachments = HashMap<String, Attached>;

/// What one message's files give the model, and what that costs in tokens (counted once,
/// when the documents are cut, not again when the context is built).
#[derive(Debug, Clone, Default)]
pub struct Attached {
    pub parts: Vec<Part>,
    pub tokens: u64,
}

/// What an image is counted as: what OpenAI charges for a high-detail 1024 × 1024 image
/// (the other providers charge less).
pub const IMAGE_TOKENS: u64 = 765;

impl Attached {
    /// Adds an image.
    pub fn push_image(&mut self, image: crate::providers::Image) {
        self.parts.push(Part::Image(image));
        self.tokens += IMAGE_TOKENS;
    }
}

/// Why a message's files were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilesRefused {
    #[error("File not found: {0}")]
    NotFound(String),
    #[error("Uploads are turned off for the {0} endpoint")]
    Disabled(String),
    #[error("A message may carry at most {0} files")]
    TooMany(u32),
    #[error("The files of one message may take at most {0} MB")]
    TooLarge(u64),
    #[error(
        "The model {0} cannot see images: choose a vision model, or send the message without them"
    )]
    Blind(String),
    #[error("{filename} ({mime}) cannot be sent to the {endpoint} endpoint")]
    Unsupported {
        filename: String,
        mime: String,
        endpoint: String,
    },
}

/// The file ids a chat body names in `files` (`[{file_id}, ...]`), each once, in order.
pub fn requested_ids(files: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for f in files {
        if let Some(id) = f.get("file_id").and_then(Value::as_str)
            && !ids.iter().any(|x| x == id)
        {
            ids.push(id.to_owned());
        }
    }
    ids
}

/// The sender's files among `ids`, checked against the endpoint's limits: every one must be
/// theirs (another account's id reads as not found), within the count, the total size and the
/// types, and no image for a model known not to see (`blind_model`). Inside the transaction
/// that saves the message.
pub fn check(
    conn: &Connection,
    user_id: &str,
    ids: &[String],
    endpoint: &str,
    limits: &EndpointFiles,
    blind_model: Option<&str>,
) -> Result<Result<Vec<File>, FilesRefused>, DbError> {
    if ids.is_empty() {
        return Ok(Ok(Vec::new()));
    }
    let found = files::owned(conn, user_id, ids)?;
    if let Some(missing) = ids
        .iter()
        .find(|id| !found.iter().any(|f| &f.file_id == *id))
    {
        return Ok(Err(FilesRefused::NotFound(missing.clone())));
    }
    if limits.disabled {
        return Ok(Err(FilesRefused::Disabled(endpoint.to_owned())));
    }
    if found.len() > limits.file_limit as usize {
        return Ok(Err(FilesRefused::TooMany(limits.file_limit)));
    }
    let total: u64 = found.iter().map(|f| f.bytes.max(0) as u64).sum();
    if total > limits.total_size_limit {
        return Ok(Err(FilesRefused::TooLarge(
            limits.total_size_limit / (1024 * 1024),
        )));
    }
    if let Some(f) = found.iter().find(|f| !limits.accepts(&f.mime)) {
        return Ok(Err(FilesRefused::Unsupported {
            filename: f.filename.clone(),
            mime: f.mime.clone(),
            endpoint: endpoint.to_owned(),
        }));
    }
    if let Some(model) = blind_model
        && found.iter().any(|f| f.mime.starts_with("image/"))
    {
        return Ok(Err(FilesRefused::Blind(model.to_owned())));
    }
    Ok(Ok(found))
}

/// A message's `files`, as LibreChat's client shows them.
pub fn files_json(found: &[File]) -> Value {
    let files: Vec<_> = found.iter().map(super::present::message_file).collect();
    serde_json::to_value(files).unwrap_or_else(|_| Value::Array(Vec::new()))
}

/// What a branch's files give the model: documents' text, read here, and the images to read
/// from the storage (by message id, in order).
#[derive(Debug, Default)]
pub struct Loaded {
    pub documents: Attachments,
    pub images: Vec<(String, File)>,
}

/// For the messages of `branch` that carry files (only `only`'s when given: LibreChat's
/// `resendFiles: false`), what the model reads of them: each document's text, cut at
/// `token_limit` tokens (LibreChat's `fileTokenLimit`), and the images' records. Files
/// deleted since are left out. Blocking (database and counting): call off the async threads.
pub fn load(
    conn: &Connection,
    user_id: &str,
    branch: &[Message],
    only: Option<&str>,
    model: &str,
    token_limit: u64,
) -> Result<Loaded, DbError> {
    let encoding = Encoding::for_model(model);
    let mut out = Loaded::default();
    for m in branch {
        if only.is_some_and(|id| id != m.message_id) {
            continue;
        }
        let files = m.extra.get("files").and_then(Value::as_array);
        let ids = requested_ids(files.map_or(&[][..], Vec::as_slice));
        if ids.is_empty() {
            continue;
        }
        let mut attached = Attached::default();
        for f in files::owned(conn, user_id, &ids)? {
            if f.mime.starts_with("image/") {
                out.images.push((m.message_id.clone(), f));
            } else if f.embedded {
                // Uploaded for file search: the model searches it (`file_search`) rather
                // than reading it whole, as in LibreChat.
                continue;
            } else if let Some(text) = f.text.filter(|t| !t.is_empty()) {
                let (text, tokens) = cut_to_tokens(encoding, text, token_limit);
                // The name and the block around it, as the model reads them.
                attached.tokens += tokens + count_with(encoding, &f.filename).max(0) as u64 + 8;
                attached.parts.push(Part::Document {
                    name: f.filename,
                    text,
                });
            }
        }
        if !attached.parts.is_empty() {
            out.documents.insert(m.message_id.clone(), attached);
        }
    }
    Ok(out)
}

/// Models LibreChat knows can see images (its `visionModels`), matched as it matches them:
/// anywhere in the model's name.
const VISION_MODELS: &[&str] = &[
    "qwen-vl",
    "grok-vision",
    "grok-2-vision",
    "grok-3",
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4-turbo",
    "gpt-4-vision",
    "o4-mini",
    "o3",
    "o1",
    "gpt-5",
    "gpt-4.1",
    "gpt-4.5",
    "llava",
    "gemini-pro-vision",
    "claude-3",
    "gemma",
    "gemini-exp",
    "gemini-1.5",
    "gemini-2",
    "gemini-3",
    "moondream",
    "llama3.2-vision",
    "llama-3.2-11b-vision",
    "llama-3-2-11b-vision",
    "llama-3.2-90b-vision",
    "llama-3-2-90b-vision",
    "llama-4",
    "claude-opus-4",
    "claude-sonnet-4",
    "claude-haiku-4",
];

/// Whether `model` can be sent images, as far as this server can tell: a model LibreChat lists
/// as a vision model, except the two it singles out as blind.
pub fn can_see(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    !m.contains("gpt-4-turbo-preview")
        && !m.contains("o1-mini")
        && VISION_MODELS.iter().any(|v| m.contains(v))
}

/// `text` cut to about `limit` tokens: shortened in proportion until it fits (a few counts at
/// most), as LibreChat's `processTextWithTokenLimit` does; with its count of tokens.
pub fn cut_to_tokens(encoding: Encoding, mut text: String, limit: u64) -> (String, u64) {
    let count = |t: &str| count_with(encoding, t).max(0) as u64;
    for _ in 0..4 {
        let tokens = count(&text);
        if tokens <= limit {
            return (text, tokens);
        }
        let mut keep =
            (text.len() as u128 * u128::from(limit) / u128::from(tokens) * 95 / 100) as usize;
        while !text.is_char_boundary(keep) {
            keep -= 1;
        }
        text.truncate(keep);
    }
    let tokens = count(&text);
    (text, tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_come_from_the_body_once_each() {
        let body = [
            json!({"file_id": "a", "filename": "x"}),
            json!({"file_id": "b"}),
            json!({"file_id": "a"}),
            json!({"nope": 1}),
            json!("str"),
        ];
        assert_eq!(requested_ids(&body), vec!["a", "b"]);
        assert!(requested_ids(&[]).is_empty());
    }

    #[test]
    fn long_documents_are_cut_at_the_token_limit() {
        let text = "word ".repeat(10_000);
        let (cut, tokens) = cut_to_tokens(Encoding::Cl100k, text.clone(), 1_000);
        let n = count_with(Encoding::Cl100k, &cut);
        assert!(n <= 1_000 && n > 800, "{n}");
        assert_eq!(tokens, n as u64, "the count is the cut text's");
        assert!(text.starts_with(&cut));
        assert_eq!(
            cut_to_tokens(Encoding::Cl100k, "short".into(), 1_000),
            ("short".to_owned(), 1)
        );
    }
}
