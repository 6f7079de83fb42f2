//! Reading a shape from what a client sent, with an error that names the field.
//!
//! The typed fields a server stores are checked as LibreChat's own handlers would have them:
//! `null` reads as "not given", a value of another type is refused ("text must be a string").
//! The field readers here give that message without the field's name; [`read`] adds it.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A body refused, with the message the client is shown (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Reads `value` as a `T`. A field of the wrong type is refused as "`field` must be ...".
///
/// The shapes read here take each of their fields on its own (with this module's readers, or
/// into a map of the rest), so the field refused is the first one, in the object's order, that
/// is refused read alone. Finding it so keeps one copy of `T`'s deserializer in the binary: a
/// path-tracking one (`serde_path_to_error`) would be a second.
pub fn read<T: DeserializeOwned>(value: Value) -> Result<T, Refused> {
    T::deserialize(&value)
        .map_err(|e| named(&value, e.to_string(), &|alone| T::deserialize(alone).err()))
}

/// The refusal `why` of `value`, with the name of the first field that `fails` alone for the
/// same reason (none when no field does, as for a value that is not an object).
fn named(
    value: &Value,
    why: String,
    fails: &dyn Fn(&Value) -> Option<serde_json::Error>,
) -> Refused {
    let field = value.as_object().and_then(|fields| {
        fields.iter().find_map(|(name, v)| {
            let alone = Value::Object(serde_json::Map::from_iter([(name.clone(), v.clone())]));
            fails(&alone).filter(|e| e.to_string() == why).map(|_| name)
        })
    });
    match field {
        Some(name) => Refused(format!("{name} {why}")),
        None => Refused(why),
    }
}

/// An id a client chose: a non-empty, printable string of at most 200 bytes. `null` (or no
/// field) reads as `""`, which no id can be.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s))
            if !s.is_empty() && s.len() <= 200 && !s.chars().any(char::is_control) =>
        {
            Ok(s)
        }
        Some(_) => Err(D::Error::custom("must be an id string")),
    }
}

/// A string; `null` reads as `""`.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(optional_string(d)?.unwrap_or_default())
}

/// A string, or none for `null`.
pub fn optional_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(D::Error::custom("must be a string")),
    }
}

/// A title: a string of at most 500 characters, or none for `null`.
pub fn title<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= 500 => Ok(Some(s)),
        Some(_) => Err(D::Error::custom(
            "must be a string of at most 500 characters",
        )),
    }
}

/// `true` or `false`; `null` reads as `false`.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(_) => Err(D::Error::custom("must be true or false")),
    }
}

/// A whole number of 0 or more (a count of tokens), or none for `null`.
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match whole_number(d)? {
        Some(n) if n < 0 => Err(D::Error::custom("must be a whole number")),
        n => Ok(n),
    }
}

/// A whole number, or none for `null`.
pub fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| D::Error::custom("must be a whole number")),
    }
}

/// Any value: kept when it is a string, else none. For fields a client may send but the
/// server does not take from it.
pub fn any_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        _ => None,
    })
}

/// Any value: kept when it is a string, else `""`.
pub fn any_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(any_string(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        #[serde(default, deserialize_with = "id")]
        message_id: String,
        #[serde(default, deserialize_with = "string")]
        text: String,
        #[serde(default, deserialize_with = "flag")]
        done: bool,
        #[serde(default, deserialize_with = "count")]
        token_count: Option<i64>,
        #[serde(default, deserialize_with = "any_string")]
        user: Option<String>,
        #[serde(flatten)]
        extra: serde_json::Map<String, Value>,
    }

    fn refused(v: Value) -> String {
        read::<Body>(v).unwrap_err().0
    }

    #[test]
    fn wrong_types_are_refused_by_name() {
        assert_eq!(refused(json!({"text": 5})), "text must be a string");
        assert_eq!(
            refused(json!({"messageId": ""})),
            "messageId must be an id string"
        );
        assert_eq!(
            refused(json!({"done": "yes"})),
            "done must be true or false"
        );
        assert_eq!(
            refused(json!({"tokenCount": -3})),
            "tokenCount must be a whole number"
        );
        assert_eq!(
            refused(json!({"tokenCount": 1.5})),
            "tokenCount must be a whole number"
        );
    }

    #[test]
    fn nulls_read_as_not_given_and_the_rest_is_kept() {
        let b: Body = read(json!({"messageId": null, "text": null, "done": null,
            "tokenCount": null, "user": 5, "other": [1]}))
        .unwrap();
        assert_eq!(b.message_id, "");
        assert_eq!(b.text, "");
        assert!(!b.done);
        assert_eq!(b.token_count, None);
        assert_eq!(b.user, None);
        assert_eq!(b.extra.get("other"), Some(&json!([1])));
        assert!(!b.extra.contains_key("user"));
        let b: Body = read(json!({"messageId": "m", "done": true, "tokenCount": 7})).unwrap();
        assert_eq!(
            (b.message_id.as_str(), b.done, b.token_count),
            ("m", true, Some(7))
        );
    }
}
