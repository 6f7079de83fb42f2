//! An OpenAPI 3 document as an action's tools: each operation a function the model may call
//! (its `operationId` the name, its summary the description, its parameters and request
//! body's properties the arguments, as LibreChat's `openapiToFunction` makes them) and the
//! request that call becomes.
//!
//! A document is JSON or YAML, at most [`MAX_SPEC_BYTES`], with a server URL and at least
//! one path; every operation's name must be usable as a tool name, and every `$ref` must
//! resolve to a finite schema (`refs`).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::refs::{RefError, Resolver};

/// The largest document read: far above any API a model is given as tools (each operation is
/// a tool, sent with every request of a turn), and well under the request body bound.
pub const MAX_SPEC_BYTES: usize = 1024 * 1024;
/// The most operations one document may have (OpenAI takes at most 128 tools in a request).
pub const MAX_OPERATIONS: usize = 128;
/// The longest operation name: a tool name is at most 64 characters, and the action's part
/// (`_action_` and the encoded domain) takes up to 18.
pub const MAX_NAME: usize = 46;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Where an argument goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Header,
    Body,
}

/// One operation: a tool, and the request a call to it makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Its `operationId` (or LibreChat's name made of the method and the path).
    pub name: String,
    pub description: String,
    /// The arguments' JSON Schema (`{type: object, properties, required}`).
    pub parameters: Value,
    /// Lower case (`get`, `post`, ...).
    pub method: String,
    /// As written in the document (`/pets/{id}`).
    pub path: String,
    pub locations: HashMap<String, Location>,
    /// The request body's media type, when it has one.
    pub content_type: Option<String>,
}

/// A document, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Its first server's URL: every request goes there.
    pub server_url: String,
    pub operations: Vec<Operation>,
    /// Query parameters its `apiKey` security schemes name (`in: query`).
    pub query_keys: Vec<String>,
}

/// Why a document cannot be an action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("The OpenAPI document is larger than {} MiB", MAX_SPEC_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("Error parsing OpenAPI spec: it is neither JSON nor YAML ({0})")]
    Unreadable(String),
    #[error("Could not find a valid URL in `servers`")]
    NoServer,
    #[error("No paths found in the OpenAPI spec.")]
    NoPaths,
    #[error("The OpenAPI document has more than {MAX_OPERATIONS} operations")]
    TooManyOperations,
    #[error(
        "The operation name {0:?} cannot be a tool name: use at most {MAX_NAME} letters, digits, \
         `_` or `-`"
    )]
    BadName(String),
    #[error("Two operations are named {0:?}")]
    Duplicate(String),
    #[error("In {at}: {error}")]
    Reference { at: String, error: RefError },
}

/// Reads a document (JSON, else YAML) into a value, bounded in size and shape.
pub fn read(text: &str) -> Result<Value, SpecError> {
    if text.len() > MAX_SPEC_BYTES {
        return Err(SpecError::TooLarge);
    }
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 200_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_nodes = 100_000;
    budget.max_depth = 64;
    budget.max_recorded_anchor_events = 100_000;
    budget.max_total_scalar_bytes = 4 * MAX_SPEC_BYTES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    serde_saphyr::from_str_with_options::<Value>(text, options).map_err(|e| {
        let shown = e.to_string();
        SpecError::Unreadable(
            shown
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect(),
        )
    })
}

/// Reads and checks a document: its server, its operations, their schemas.
pub fn parse(text: &str) -> Result<Spec, SpecError> {
    let doc = read(text)?;
    let server_url = doc
        .get("servers")
        .and_then(|s| s.get(0))
        .and_then(|s| s.get("url"))
        .and_then(Value::as_str)
        .filter(|u| !u.trim().is_empty())
        .ok_or(SpecError::NoServer)?
        .trim()
        .to_owned();
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .filter(|p| !p.is_empty())
        .ok_or(SpecError::NoPaths)?;
    let mut operations: Vec<Operation> = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let method = method.to_ascii_lowercase();
            if !METHODS.contains(&method.as_str()) || !op.is_object() {
                continue;
            }
            if operations.len() == MAX_OPERATIONS {
                return Err(SpecError::TooManyOperations);
            }
            let operation = operation(&doc, path, &method, op, item.get("parameters"))?;
            if operations.iter().any(|o| o.name == operation.name) {
                return Err(SpecError::Duplicate(operation.name));
            }
            operations.push(operation);
        }
    }
    Ok(Spec {
        server_url,
        operations,
        query_keys: query_keys(&doc),
    })
}

/// LibreChat's name for an operation without an `operationId`: `<method>_<path>` with
/// everything but letters, digits, `_` and `-` left out.
fn default_name(method: &str, path: &str) -> String {
    format!("{method}_{path}")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn operation(
    doc: &Value,
    path: &str,
    method: &str,
    op: &Value,
    shared_parameters: Option<&Value>,
) -> Result<Operation, SpecError> {
    let name = op
        .get("operationId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| default_name(method, path));
    if !valid_name(&name) {
        return Err(SpecError::BadName(name));
    }
    let at = |what: &str| format!("{} {path} ({what})", method.to_uppercase());
    let text = |key: &str| {
        op.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let description = text("summary")
        .or_else(|| text("description"))
        .unwrap_or("")
        .to_owned();
    let mut resolver = Resolver::new(doc);
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut locations = HashMap::new();
    let listed = shared_parameters
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(
            op.get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    for param in listed {
        let param = resolver
            .shallow(param)
            .map_err(|error| SpecError::Reference {
                at: at("parameters"),
                error,
            })?;
        let (Some(name), Some(schema)) = (
            param.get("name").and_then(Value::as_str),
            param.get("schema"),
        ) else {
            continue;
        };
        let mut schema = resolver
            .deep(schema)
            .map_err(|error| SpecError::Reference {
                at: at(name),
                error,
            })?;
        // LibreChat's client shows the parameter's description; so does the model's schema.
        if let (Some(d), Value::Object(s)) = (param.get("description"), &mut schema)
            && !s.contains_key("description")
        {
            s.insert("description".into(), d.clone());
        }
        properties.insert(name.to_owned(), schema);
        if param.get("required") == Some(&Value::Bool(true)) && !required.iter().any(|r| r == name)
        {
            required.push(json!(name));
        }
        let location = match param.get("in").and_then(Value::as_str) {
            Some("path") => Location::Path,
            Some("header") => Location::Header,
            Some("body") => Location::Body,
            _ => Location::Query,
        };
        locations.insert(name.to_owned(), location);
    }
    let mut content_type = None;
    if let Some(body) = op.get("requestBody") {
        let body = resolver
            .shallow(body)
            .map_err(|error| SpecError::Reference {
                at: at("requestBody"),
                error,
            })?;
        if let Some((media, content)) = body
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| c.iter().next())
        {
            content_type = Some(media.clone());
            if let Some(schema) = content.get("schema") {
                let schema = resolver
                    .deep(schema)
                    .map_err(|error| SpecError::Reference {
                        at: at("requestBody"),
                        error,
                    })?;
                if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                    for (k, v) in props {
                        properties.insert(k.clone(), v.clone());
                        locations.insert(k.clone(), Location::Body);
                    }
                }
                for r in schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if !required.contains(r) {
                        required.push(r.clone());
                    }
                }
            }
        }
    }
    let mut parameters = json!({"type": "object", "properties": properties, "required": required});
    if op.get("x-strict") == Some(&Value::Bool(true)) {
        parameters["additionalProperties"] = json!(false);
    }
    Ok(Operation {
        name,
        description,
        parameters,
        method: method.to_owned(),
        path: path.to_owned(),
        locations,
        content_type,
    })
}

/// The query parameters named by the document's `apiKey` security schemes.
fn query_keys(doc: &Value) -> Vec<String> {
    doc.pointer("/components/securitySchemes")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.values())
        .filter(|s| s.get("type").and_then(Value::as_str) == Some("apiKey"))
        .filter(|s| s.get("in").and_then(Value::as_str) == Some("query"))
        .filter_map(|s| s.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PETS: &str = r##"
openapi: 3.0.0
servers: [{url: "https://pets.example.com/v1"}]
paths:
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, schema: {type: string}}
    get:
      operationId: getPet
      summary: One pet
      parameters:
        - $ref: "#/components/parameters/Verbose"
  /pets:
    post:
      description: Adds a pet
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/NewPet"}
components:
  parameters:
    Verbose: {name: verbose, in: query, schema: {type: boolean}}
  schemas:
    NewPet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        tag: {$ref: "#/components/schemas/Tag"}
    Tag: {type: string, enum: [dog, cat]}
  securitySchemes:
    key: {type: apiKey, in: query, name: api_key}
"##;

    #[test]
    fn operations_become_functions_and_requests() {
        let spec = parse(PETS).unwrap();
        assert_eq!(spec.server_url, "https://pets.example.com/v1");
        assert_eq!(spec.query_keys, ["api_key"]);
        // Paths in the order of their names (JSON objects are read sorted here).
        let get = spec.operations.iter().find(|o| o.name == "getPet").unwrap();
        assert_eq!(
            (get.name.as_str(), get.description.as_str()),
            ("getPet", "One pet")
        );
        assert_eq!(get.parameters["required"], json!(["petId"]));
        assert_eq!(get.parameters["properties"]["verbose"]["type"], "boolean");
        assert_eq!(get.locations["petId"], Location::Path);
        assert_eq!(get.locations["verbose"], Location::Query);
        let post = spec.operations.iter().find(|o| o.method == "post").unwrap();
        assert_eq!(post.name, "post_pets");
        assert_eq!(post.description, "Adds a pet");
        assert_eq!(post.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            post.parameters["properties"]["tag"]["enum"],
            json!(["dog", "cat"])
        );
        assert_eq!(post.parameters["required"], json!(["name"]));
        assert_eq!(post.locations["name"], Location::Body);
    }

    #[test]
    fn bad_documents_say_why() {
        assert_eq!(parse("{}"), Err(SpecError::NoServer));
        assert_eq!(
            parse(r#"{"servers":[{"url":"https://a.b"}],"paths":{}}"#),
            Err(SpecError::NoPaths)
        );
        assert!(matches!(
            parse("{ not: [json"),
            Err(SpecError::Unreadable(_))
        ));
        let bad_name =
            r#"{"servers":[{"url":"https://a.b"}],"paths":{"/x":{"get":{"operationId":"a b"}}}}"#;
        assert_eq!(parse(bad_name), Err(SpecError::BadName("a b".into())));
        let big = format!("{{\"x\": \"{}\"}}", "a".repeat(MAX_SPEC_BYTES));
        assert_eq!(parse(&big), Err(SpecError::TooLarge));
        let recursive = r##"{"servers":[{"url":"https://a.b"}],"paths":{"/x":{"post":{"requestBody":
            {"content":{"application/json":{"schema":{"$ref":"#/components/schemas/N"}}}}}}},
            "components":{"schemas":{"N":{"type":"object","properties":{"n":{"$ref":"#/components/schemas/N"}}}}}}"##;
        assert!(matches!(
            parse(recursive),
            Err(SpecError::Reference {
                error: RefError::Recursive(_),
                ..
            })
        ));
    }

    #[test]
    fn yaml_bombs_are_bounded() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 {
                "a".to_owned()
            } else {
                format!("l{}", i - 1)
            };
            text.push_str(&format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        assert!(matches!(read(&text), Err(SpecError::Unreadable(_))));
    }
}
