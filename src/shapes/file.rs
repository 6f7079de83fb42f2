//! `TFile`: a stored file, as LibreChat's client lists and attaches it.

use serde::Serialize;
use serde_json::{Map, Value};

/// LibreChat's `TFile`. The text read out of a document stays on the server: it is not here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TFile {
    pub user: String,
    #[serde(rename = "file_id")]
    pub file_id: String,
    /// The id the client chose for the upload, when it sent one.
    #[serde(rename = "temp_file_id", skip_serializing_if = "Option::is_none")]
    pub temp_file_id: Option<String>,
    pub bytes: i64,
    pub embedded: bool,
    pub filename: String,
    pub filepath: String,
    /// Always `"file"`.
    pub object: String,
    #[serde(rename = "type")]
    pub mime: String,
    pub usage: i64,
    pub source: String,
    /// The optional fields are left out rather than `null`: LibreChat's types make them
    /// optional strings and numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// An image's size: both or neither.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    /// Anything an answer adds (an upload's `message`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TFile {
    /// The keys the typed fields own.
    pub const FIELDS: &[&str] = &[
        "user",
        "file_id",
        "temp_file_id",
        "bytes",
        "embedded",
        "filename",
        "filepath",
        "object",
        "type",
        "usage",
        "source",
        "context",
        "conversationId",
        "messageId",
        "width",
        "height",
        "createdAt",
        "updatedAt",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shapes::testing::{keys, sorted};
    use serde_json::json;

    #[test]
    fn names_are_librechats_and_optional_fields_are_absent() {
        let f = TFile {
            file_id: "f".into(),
            object: "file".into(),
            mime: "text/plain".into(),
            ..TFile::default()
        };
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["file_id"], "f");
        assert_eq!(v["type"], "text/plain");
        for absent in [
            "temp_file_id",
            "context",
            "conversationId",
            "messageId",
            "width",
            "height",
        ] {
            assert!(v.get(absent).is_none(), "{absent}");
        }
        let full = TFile {
            temp_file_id: Some("t".into()),
            context: Some("message_attachment".into()),
            conversation_id: Some("c".into()),
            message_id: Some("m".into()),
            width: Some(1),
            height: Some(1),
            ..f
        };
        assert_eq!(keys(&full), sorted(TFile::FIELDS));
        let mut extra = Map::new();
        extra.insert("message".into(), json!("File uploaded"));
        let with = TFile { extra, ..full };
        assert_eq!(
            serde_json::to_value(with).unwrap()["message"],
            "File uploaded"
        );
    }
}
