//! Whether a call's arguments fit its tool's JSON Schema, for the parts of JSON Schema that
//! tools' parameters use: `type` (one or a list), `properties`, `required`,
//! `additionalProperties` (`false` or a schema), `items`, `enum`, `const`, `anyOf`/`oneOf`
//! (some branch fits), `minimum`/`maximum`, `minLength`/`maxLength`. Other keywords are not
//! checked (the tool gets such arguments as they are, and checks them itself).
//!
//! Written here rather than taken from a crate: the JSON Schema crates validate every draft
//! with regexes and formats, megabytes of binary for the few keywords a tool's arguments use.

use serde_json::{Map, Value};

/// The most nesting of a schema followed (an MCP server's could be recursive through `$ref`,
/// which is not followed, or just deep).
const MAX_DEPTH: usize = 32;

/// `Err` says where and how `value` does not fit `schema`, in words the model can act on.
pub fn check(schema: &Value, value: &Value) -> Result<(), String> {
    walk(schema, value, "arguments", 0)
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_type(v: &Value, t: &str) -> bool {
    match t {
        // A float with no fraction is an integer too (`2.0`).
        "integer" => v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        other => type_of(v) == other,
    }
}

fn walk(schema: &Value, value: &Value, at: &str, depth: usize) -> Result<(), String> {
    let Value::Object(s) = schema else {
        // `true`, `{}`-less or odd schemas accept anything; `false` accepts nothing.
        return match schema {
            Value::Bool(false) => Err(format!("{at} is not allowed")),
            _ => Ok(()),
        };
    };
    if depth > MAX_DEPTH {
        return Ok(());
    }
    match s.get("type") {
        Some(Value::String(t)) if !is_type(value, t) => {
            return Err(format!("{at} must be of type {t}, not {}", type_of(value)));
        }
        Some(Value::Array(ts)) => {
            let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            if !names.is_empty() && !names.iter().any(|t| is_type(value, t)) {
                return Err(format!(
                    "{at} must be of type {}, not {}",
                    names.join(" or "),
                    type_of(value)
                ));
            }
        }
        _ => {}
    }
    if let Some(Value::Array(allowed)) = s.get("enum")
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        return Err(format!("{at} must be one of {}", list.join(", ")));
    }
    if let Some(c) = s.get("const")
        && c != value
    {
        return Err(format!("{at} must be {c}"));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = s.get(key)
            && !branches.is_empty()
        {
            let mut first = None;
            let fits = branches
                .iter()
                .any(|b| match walk(b, value, at, depth + 1) {
                    Ok(()) => true,
                    Err(e) => {
                        first.get_or_insert(e);
                        false
                    }
                });
            if !fits {
                return Err(first.unwrap_or_else(|| format!("{at} fits no allowed form")));
            }
        }
    }
    bounds(s, value, at)?;
    match value {
        Value::Object(o) => object(s, o, at, depth),
        Value::Array(items) => match s.get("items") {
            Some(item) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| walk(item, v, &format!("{at}[{i}]"), depth + 1)),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

fn bounds(s: &Map<String, Value>, value: &Value, at: &str) -> Result<(), String> {
    if let Some(n) = value.as_f64() {
        if let Some(min) = s.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            return Err(format!("{at} must be at least {min}"));
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            return Err(format!("{at} must be at most {max}"));
        }
    }
    if let Some(text) = value.as_str() {
        let chars = text.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Value::as_u64)
            && chars < min
        {
            return Err(format!("{at} must be at least {min} characters long"));
        }
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
            && chars > max
        {
            return Err(format!("{at} must be at most {max} characters long"));
        }
    }
    Ok(())
}

fn object(
    s: &Map<String, Value>,
    o: &Map<String, Value>,
    at: &str,
    depth: usize,
) -> Result<(), String> {
    let props = s.get("properties").and_then(Value::as_object);
    if let Some(Value::Array(required)) = s.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !o.contains_key(name) {
                return Err(format!("{at} is missing the required property \"{name}\""));
            }
        }
    }
    for (k, v) in o {
        match props.and_then(|p| p.get(k)) {
            Some(p) => walk(p, v, &format!("{at}.{k}"), depth + 1)?,
            None => match s.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    return Err(format!(
                        "{at} has a property \"{k}\" the tool does not take"
                    ));
                }
                Some(extra @ Value::Object(_)) => {
                    walk(extra, v, &format!("{at}.{k}"), depth + 1)?;
                }
                _ => {}
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn weather() -> Value {
        json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 1},
                "unit": {"type": "string", "enum": ["c", "f"]},
                "days": {"type": ["integer", "null"], "minimum": 1, "maximum": 7},
                "tags": {"type": "array", "items": {"type": "string"}},
                "at": {"anyOf": [{"type": "string"}, {"type": "number"}]}
            },
            "required": ["city"],
            "additionalProperties": false
        })
    }

    #[test]
    fn arguments_that_fit_pass() {
        for ok in [
            json!({"city": "Oslo"}),
            json!({"city": "Oslo", "unit": "c", "days": 3, "tags": ["a"], "at": 5}),
            json!({"city": "Oslo", "days": null, "at": "noon"}),
            json!({"city": "Oslo", "days": 2.0}),
        ] {
            assert_eq!(check(&weather(), &ok), Ok(()), "{ok}");
        }
        assert_eq!(check(&json!({}), &json!([1, "x"])), Ok(()));
        assert_eq!(check(&json!(true), &json!(1)), Ok(()));
    }

    #[test]
    fn arguments_that_do_not_fit_say_where() {
        let cases = [
            (json!([]), "arguments must be of type object, not array"),
            (
                json!({}),
                "arguments is missing the required property \"city\"",
            ),
            (
                json!({"city": 5}),
                "arguments.city must be of type string, not integer",
            ),
            (
                json!({"city": ""}),
                "arguments.city must be at least 1 characters long",
            ),
            (
                json!({"city": "x", "unit": "k"}),
                "arguments.unit must be one of \"c\", \"f\"",
            ),
            (
                json!({"city": "x", "days": 9}),
                "arguments.days must be at most 7",
            ),
            (
                json!({"city": "x", "days": 1.5}),
                "arguments.days must be of type integer or null, not number",
            ),
            (
                json!({"city": "x", "tags": ["a", 1]}),
                "arguments.tags[1] must be of type string, not integer",
            ),
            (
                json!({"city": "x", "at": true}),
                "arguments.at must be of type string, not boolean",
            ),
            (
                json!({"city": "x", "wind": 1}),
                "arguments has a property \"wind\" the tool does not take",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(check(&weather(), &args).unwrap_err(), want, "{args}");
        }
    }

    #[test]
    fn a_deep_schema_is_followed_only_so_far() {
        let mut schema = json!({"type": "string"});
        let mut value = json!(1);
        for _ in 0..100 {
            schema = json!({"type": "array", "items": schema});
            value = json!([value]);
        }
        assert_eq!(check(&schema, &value), Ok(()));
    }
}
