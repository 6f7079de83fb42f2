//! Reading the fields of one LibreChat document (already JSON, see [`super::bson`]), moving
//! values out rather than copying them, and saying clearly what is wrong when a field has the
//! wrong shape.

use serde_json::{Map, Value};

use super::report::Skip;

/// One document, taken apart field by field.
pub struct Doc(pub Map<String, Value>);

impl Doc {
    /// The `_id` as text (an ObjectId's 24 hex characters), or "" when missing.
    pub fn id(&self) -> String {
        match self.0.get("_id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    }

    /// A text field, moved out; missing or null is `None`, another type is a skip.
    pub fn text(&mut self, key: &str) -> Result<Option<String>, Skip> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(Skip::new(
                "bad_shape",
                format!("{key} is {} where text was expected", kind(&other)),
            )),
        }
    }

    /// A text field that must be there and not empty.
    pub fn required(&mut self, key: &str) -> Result<String, Skip> {
        self.text(key)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Skip::new("missing_field", format!("{key} is missing")))
    }

    /// A reference to another document (an ObjectId, or its hex text, as LibreChat stores
    /// both): lowercased.
    pub fn reference(&mut self, key: &str) -> Result<Option<String>, Skip> {
        Ok(self.text(key)?.map(|s| s.to_ascii_lowercase()))
    }

    pub fn flag(&mut self, key: &str) -> bool {
        matches!(self.0.remove(key), Some(Value::Bool(true)))
    }

    pub fn int(&mut self, key: &str) -> Option<i64> {
        match self.0.remove(key) {
            Some(Value::Number(n)) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.round() as i64)
            }),
            _ => None,
        }
    }

    pub fn real(&mut self, key: &str) -> Option<f64> {
        self.0.remove(key).and_then(|v| v.as_f64())
    }

    /// A date, as stored here (`2024-01-02T03:04:05.678Z`); text in another ISO form is
    /// normalized, anything else is `None`.
    pub fn time(&mut self, key: &str) -> Option<String> {
        match self.0.remove(key)? {
            Value::String(s) => normalize_time(&s),
            Value::Number(n) => n
                .as_i64()
                .and_then(|ms| super::bson::date_value(ms).as_str().map(str::to_owned)),
            _ => None,
        }
    }

    /// A JSON value moved out as it is.
    pub fn json(&mut self, key: &str) -> Option<Value> {
        self.0.remove(key).filter(|v| !v.is_null())
    }

    pub fn array(&mut self, key: &str) -> Option<Vec<Value>> {
        match self.0.remove(key) {
            Some(Value::Array(a)) => Some(a),
            _ => None,
        }
    }

    /// `createdAt`, or the time in the `_id` (an ObjectId starts with its seconds), or now.
    pub fn created_at(&mut self) -> String {
        self.time("createdAt")
            .or_else(|| id_time(&self.id()))
            .unwrap_or_else(crate::db::now)
    }

    /// `updatedAt`, or `created`.
    pub fn updated_at(&mut self, created: &str) -> String {
        self.time("updatedAt").unwrap_or_else(|| created.to_owned())
    }
}

/// An ISO date in any offset, as stored here; `None` when it is not one.
pub fn normalize_time(s: &str) -> Option<String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .filter(|t| (0..=9999).contains(&t.year()))
        .map(crate::db::to_rfc3339)
}

/// The creation time an ObjectId carries in its first four bytes.
fn id_time(id: &str) -> Option<String> {
    if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let secs = i64::from_str_radix(&id[..8], 16).ok()?;
    super::bson::date_value(secs * 1000)
        .as_str()
        .map(str::to_owned)
}

/// Is `s` an ObjectId's hex text?
pub fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Doc {
        match v {
            Value::Object(m) => Doc(m),
            _ => unreachable!(),
        }
    }

    #[test]
    fn fields_are_read_or_refused_with_words() {
        let mut d = doc(
            json!({"_id":"65a1b2c3d4e5f60718293a4b","n":2.6,"t":"2024-01-02T04:04:05+01:00","x":42}),
        );
        assert_eq!(d.int("n"), Some(3));
        assert_eq!(d.time("t").unwrap(), "2024-01-02T03:04:05.000Z");
        assert!(d.text("x").unwrap_err().why.contains("a number"));
        assert_eq!(d.created_at(), "2024-01-12T21:44:35.000Z");
    }
}
