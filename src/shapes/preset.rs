//! `TPreset`: saved conversation settings.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::read;

/// LibreChat's `TPreset`: the preset's own fields over its conversation settings (`extra`).
/// Read from a client (`POST /api/presets`), `presetId`, `title`, `defaultPreset` and `order`
/// are checked by type; `user` and the times are not taken from a client.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TPreset {
    /// `""` when a client sent none (a new preset).
    #[serde(default, deserialize_with = "read::id")]
    pub preset_id: String,
    #[serde(default, deserialize_with = "read::any_text")]
    pub user: String,
    /// Always there in an answer; none when a client sent none.
    #[serde(
        default,
        deserialize_with = "read::title",
        skip_serializing_if = "Option::is_none"
    )]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "read::flag")]
    pub default_preset: bool,
    /// A number or absent, never `null`: LibreChat's client parses it so.
    #[serde(
        default,
        deserialize_with = "read::whole_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub order: Option<i64>,
    #[serde(default, deserialize_with = "read::any_text")]
    pub created_at: String,
    #[serde(default, deserialize_with = "read::any_text")]
    pub updated_at: String,
    /// The conversation settings.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TPreset {
    /// The keys the typed fields own.
    pub const FIELDS: &[&str] = &[
        "presetId",
        "user",
        "title",
        "defaultPreset",
        "order",
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
    fn order_is_absent_not_null() {
        let p = TPreset {
            preset_id: "p".into(),
            title: Some("T".into()),
            ..TPreset::default()
        };
        let v = serde_json::to_value(&p).unwrap();
        assert!(v.get("order").is_none());
        let p = TPreset {
            order: Some(2),
            ..p
        };
        assert_eq!(keys(&p), sorted(TPreset::FIELDS));
    }

    #[test]
    fn a_body_is_checked_and_the_settings_kept() {
        let p: TPreset = crate::shapes::read(json!({"title": null, "presetId": null,
            "user": 7, "temperature": 0.2, "order": -1}))
        .unwrap();
        assert_eq!((p.preset_id.as_str(), p.title.as_deref()), ("", None));
        assert_eq!(p.order, Some(-1));
        assert_eq!(
            p.extra,
            json!({"temperature": 0.2}).as_object().unwrap().clone()
        );
        let refused = |v: Value| crate::shapes::read::<TPreset>(v).unwrap_err().0;
        assert_eq!(
            refused(json!({"title": "x".repeat(501)})),
            "title must be a string of at most 500 characters"
        );
        assert_eq!(
            refused(json!({"presetId": 5})),
            "presetId must be an id string"
        );
        assert_eq!(
            refused(json!({"defaultPreset": "yes"})),
            "defaultPreset must be true or false"
        );
        assert_eq!(
            refused(json!({"order": "1"})),
            "order must be a whole number"
        );
    }
}
