//! Gemini's function calling: `tools: [{functionDeclarations}]` and
//! `toolConfig.functionCallingConfig` in the request; `functionCall` parts (with their
//! `thoughtSignature`) in a `model` turn and `functionResponse` parts in the next `user` turn
//! of the history; whole `functionCall` parts in the stream.
//!
//! A declaration's `parameters` is Gemini's `Schema`, "a select subset of an OpenAPI 3.0
//! schema object", and Gemini refuses the whole request over a field outside it (`Invalid
//! JSON payload received. Unknown name "additionalProperties" ... Cannot find field.`), which
//! the JSON Schemas tools come with (MCP servers, OpenAPI actions) are full of. So
//! [`schema`] keeps the fields the API reference lists and rewrites the JSON Schema forms
//! that have an equivalent there (`$ref`, `type: [..., "null"]`, `const`, `oneOf`, `allOf`).
//! (Newer models also take `parametersJsonSchema`, full JSON Schema; `parameters` works with
//! every model and with Vertex AI.)

use std::collections::VecDeque;

use serde_json::{Map, Value, json};

use super::tools::{Calls, MADE_ID_PREFIX};
use super::{ChatMessage, ChatRequest, Part, ProviderError, Role, StreamEvent, ToolChoice};

/// The fields of Gemini's `Schema` (the API reference's list).
const SCHEMA_FIELDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "items",
    "minItems",
    "maxItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "minimum",
    "maximum",
];

/// How deep a schema is followed (through `$ref`s too, which may loop); below, a value is
/// described as any object.
const MAX_SCHEMA_DEPTH: usize = 24;

/// `parameters` as Gemini's `Schema` takes it (see the module's comment).
pub(super) fn schema(parameters: &Value) -> Value {
    clean(parameters, parameters, 0)
}

fn clean(v: &Value, root: &Value, depth: usize) -> Value {
    let Some(obj) = v.as_object() else {
        return json!({}); // `true` (anything) and other non-schemas
    };
    if depth > MAX_SCHEMA_DEPTH {
        return json!({"type": "object"});
    }
    // A local `$ref` is replaced by what it names (its own description kept).
    if let Some(target) = obj
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| resolve(root, r))
    {
        let mut out = clean(target, root, depth + 1);
        if let (Some(d), Some(o)) = (obj.get("description"), out.as_object_mut()) {
            o.insert("description".into(), d.clone());
        }
        return out;
    }
    let mut merged = obj.clone();
    // `allOf` of object schemas: their properties together.
    if let Some(all) = merged.remove("allOf").as_ref().and_then(Value::as_array) {
        for part in all {
            let part = clean(part, root, depth + 1);
            for (k, val) in part.as_object().into_iter().flatten() {
                match (k.as_str(), merged.get_mut(k)) {
                    ("properties", Some(Value::Object(p))) => {
                        p.extend(val.as_object().cloned().unwrap_or_default());
                    }
                    ("required", Some(Value::Array(r))) => {
                        r.extend(val.as_array().cloned().unwrap_or_default());
                    }
                    (_, Some(_)) => {}
                    (_, None) => {
                        merged.insert(k.clone(), val.clone());
                    }
                }
            }
        }
    }
    if let Some(one) = merged.remove("oneOf") {
        merged.entry("anyOf").or_insert(one);
    }
    if let Some(c) = merged.remove("const").filter(Value::is_string) {
        merged.insert("enum".into(), json!([c]));
    }
    let mut out = Map::new();
    for (k, val) in &merged {
        if !SCHEMA_FIELDS.contains(&k.as_str()) {
            continue;
        }
        let val = match k.as_str() {
            "properties" => Value::Object(
                val.as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, s)| (name.clone(), clean(s, root, depth + 1)))
                    .collect(),
            ),
            "items" => clean(val, root, depth + 1),
            "anyOf" => Value::Array(
                val.as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| clean(s, root, depth + 1))
                    .collect(),
            ),
            // Gemini's enums are strings.
            "enum"
                if !val
                    .as_array()
                    .is_some_and(|e| e.iter().all(Value::is_string)) =>
            {
                continue;
            }
            _ => val.clone(),
        };
        out.insert(k.clone(), val);
    }
    // `type: ["string", "null"]`: one type, nullable; several: any of them.
    if let Some(types) = out.get("type").and_then(Value::as_array).cloned() {
        out.remove("type");
        let kinds: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
        if kinds.len() < types.len() {
            out.insert("nullable".into(), json!(true));
        }
        match kinds.as_slice() {
            [one] => {
                out.insert("type".into(), (*one).clone());
            }
            [] => {}
            many => {
                let any: Vec<Value> = many.iter().map(|t| json!({"type": t})).collect();
                out.insert("anyOf".into(), Value::Array(any));
            }
        }
    } else if out.get("type").is_some_and(|t| t == "null") {
        out.remove("type");
        out.insert("nullable".into(), json!(true));
    }
    // Gemini wants an array's items, and required names it knows.
    if out.get("type").is_some_and(|t| t == "array") && !out.contains_key("items") {
        out.insert("items".into(), json!({"type": "string"}));
    }
    if let Some(Value::Array(required)) = out.get("required") {
        let props = out.get("properties").and_then(Value::as_object);
        let known: Vec<Value> = required
            .iter()
            .filter(|r| {
                r.as_str()
                    .is_some_and(|r| props.is_some_and(|p| p.contains_key(r)))
            })
            .cloned()
            .collect();
        out.insert("required".into(), Value::Array(known));
    }
    Value::Object(out)
}

/// What a local `$ref` (`#/$defs/Name`, `#/definitions/Name`, any JSON pointer) names.
fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    root.pointer(pointer)
}

/// `tools: [{functionDeclarations: [{name, description, parameters}]}]` and
/// `toolConfig.functionCallingConfig` (`AUTO`, `NONE`, `ANY`, or `ANY` with the one name in
/// `allowedFunctionNames`).
pub(super) fn write_tools(request: &ChatRequest, body: &mut Map<String, Value>) {
    if request.tools.is_empty() {
        return;
    }
    let declarations: Vec<Value> = request
        .tools
        .iter()
        .map(|t| {
            let mut d = Map::new();
            d.insert("name".into(), json!(t.name));
            if !t.description.is_empty() {
                d.insert("description".into(), json!(t.description));
            }
            // A function without parameters has none: Gemini refuses an object schema
            // without properties.
            let has_properties = t.parameters["properties"]
                .as_object()
                .is_some_and(|p| !p.is_empty());
            if has_properties {
                d.insert("parameters".into(), schema(&t.parameters));
            }
            Value::Object(d)
        })
        .collect();
    body.insert(
        "tools".into(),
        json!([{ "functionDeclarations": declarations }]),
    );
    if let Some(choice) = &request.tool_choice {
        let config = match choice {
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Required => json!({"mode": "ANY"}),
            ToolChoice::Tool(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        };
        body.insert(
            "toolConfig".into(),
            json!({ "functionCallingConfig": config }),
        );
    }
}

/// The parts of a turn that has tool parts: in a `model` turn its words, then its
/// `functionCall` parts, each with the `thoughtSignature` it came with; in a `user` turn the
/// `functionResponse` parts first (`response: {output}` or, for a failed call, `{error}`, as
/// Gemini reads them; text only), then its words and images. Ids go back only when Gemini
/// gave them (it matches results by name and order otherwise).
pub(super) fn parts(m: &ChatMessage) -> Vec<Value> {
    let wire = m.wire();
    let gemini_id = |id: &str| (!id.starts_with(MADE_ID_PREFIX)).then(|| id.to_owned());
    let mut parts = Vec::new();
    for r in m.tool_results() {
        let key = if r.is_error { "error" } else { "output" };
        let mut response = json!({"name": r.name, "response": {key: r.content}});
        if let Some(id) = gemini_id(&r.call_id) {
            response["id"] = json!(id);
        }
        parts.push(json!({ "functionResponse": response }));
    }
    if !wire.text.is_empty() {
        parts.push(json!({"text": wire.text}));
    }
    for image in wire.images {
        parts.push(json!({"inlineData": {"mimeType": image.mime, "data": &*image.base64}}));
    }
    if m.role == Role::Assistant {
        for c in m.tool_calls() {
            let args = serde_json::from_str::<Value>(&c.args)
                .ok()
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            let mut call = json!({"name": c.name, "args": args});
            if let Some(id) = gemini_id(&c.id) {
                call["id"] = json!(id);
            }
            let mut part = json!({ "functionCall": call });
            if let Some(s) = &c.signature {
                part["thoughtSignature"] = json!(s);
            }
            parts.push(part);
        }
    }
    parts
}

/// A `functionCall` part of the stream: Gemini sends a call whole, so it starts and gets all
/// its arguments at once (and an id made here when Gemini gave none).
pub(super) fn function_call(
    calls: &mut Calls,
    part: &Value,
    out: &mut VecDeque<StreamEvent>,
) -> Result<(), ProviderError> {
    let call = &part["functionCall"];
    let signature = part["thoughtSignature"].as_str().map(str::to_owned);
    let name = call["name"].as_str().unwrap_or("");
    let n = calls.start(call["id"].as_str(), name, signature, out)?;
    let args = match call.get("args") {
        Some(a) if !a.is_null() => a.to_string(),
        _ => "{}".to_owned(),
    };
    calls.args(n, &args, out)
}

/// Whether a part is a tool part this module writes (see [`parts`]).
pub(super) fn is_call_part(p: &Part) -> bool {
    matches!(p, Part::ToolCall(_) | Part::ToolResult(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{ToolCall, ToolResult};

    #[test]
    fn json_schema_forms_become_gemini_s() {
        let s = schema(&json!({
            "type": "object",
            "properties": {
                "a": {"oneOf": [{"type": "string"}, {"type": "integer", "enum": [1, 2]}]},
                "b": {"type": ["string", "integer", "null"]},
                "c": {"const": "x", "title": "C", "default": "x"},
                "d": {"allOf": [{"$ref": "#/definitions/node"}], "description": "A node."},
                "e": {"type": "array"},
                "f": true
            },
            "required": ["a", "ghost"],
            "patternProperties": {"^x": {}},
            "definitions": {"node": {"type": "object", "properties": {"next": {"$ref": "#/definitions/node"}}}}
        }));
        let p = &s["properties"];
        assert_eq!(
            p["a"],
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
        assert_eq!(
            p["b"],
            json!({"nullable": true, "anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
        assert_eq!(p["c"], json!({"enum": ["x"], "title": "C", "default": "x"}));
        assert_eq!(p["d"]["description"], "A node.");
        assert_eq!(p["d"]["properties"]["next"]["type"], "object");
        assert_eq!(
            p["e"],
            json!({"type": "array", "items": {"type": "string"}})
        );
        assert_eq!(p["f"], json!({}));
        assert_eq!(s["required"], json!(["a"]));
        assert!(s.get("patternProperties").is_none() && s.get("definitions").is_none());
        // A `$ref` that loops ends, deep down, as any object.
        let mut depth = 0;
        let mut node = &p["d"];
        while let Some(next) = node["properties"].get("next") {
            node = next;
            depth += 1;
        }
        assert!(depth > 5 && depth <= MAX_SCHEMA_DEPTH, "{depth}");
    }

    #[test]
    fn ids_gemini_gave_go_back_and_made_ones_do_not() {
        let call = |id: &str| ToolCall {
            id: id.into(),
            name: "f".into(),
            args: "not json".into(),
            signature: None,
        };
        let m = ChatMessage {
            role: Role::Assistant,
            content: vec![
                Part::ToolCall(call("gemini-7")),
                Part::ToolCall(call(&crate::providers::tools::new_call_id())),
            ],
        };
        assert_eq!(
            parts(&m),
            vec![
                json!({"functionCall": {"name": "f", "args": {}, "id": "gemini-7"}}),
                json!({"functionCall": {"name": "f", "args": {}}}),
            ]
        );
        let r = ChatMessage {
            role: Role::Tool,
            content: vec![Part::ToolResult(ToolResult {
                call_id: "gemini-7".into(),
                name: "f".into(),
                content: "ok".into(),
                images: Vec::new(),
                is_error: false,
            })],
        };
        assert_eq!(
            parts(&r),
            vec![
                json!({"functionResponse": {"name": "f", "response": {"output": "ok"}, "id": "gemini-7"}})
            ]
        );
    }
}
