//! `$ref`s of an OpenAPI document, resolved into the schemas a model is given.
//!
//! Only references inside the document (`#/components/schemas/Pet`, any JSON pointer) are
//! followed. A schema that refers to itself, directly or through others, has no finite
//! expansion and is refused, as is one whose expansion passes [`MAX_NODES`] values (a few
//! schemas that each refer twice to the next double at every step) or [`MAX_DEPTH`] levels:
//! so no document makes the server loop, recurse without end or fill its memory.

use serde_json::{Map, Value};

/// The most values one operation's parameters may expand to: far more than any schema a model
/// could use (each is sent with every request of the turn).
pub const MAX_NODES: usize = 20_000;
/// The deepest nesting followed.
pub const MAX_DEPTH: usize = 48;

/// Why a reference cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error(
        "the $ref {0:?} points outside the document; only local references (#/...) are followed"
    )]
    External(String),
    #[error("the $ref {0:?} points to nothing in the document")]
    Missing(String),
    #[error("the schema {0:?} refers to itself; actions cannot use recursive schemas")]
    Recursive(String),
    #[error(
        "a schema is too large once its $refs are resolved (more than {MAX_NODES} values or {MAX_DEPTH} levels)"
    )]
    TooLarge,
}

/// Resolves references against one document, counting what it expands.
pub struct Resolver<'a> {
    root: &'a Value,
    nodes: usize,
    /// The references being expanded, outermost first.
    stack: Vec<String>,
}

impl<'a> Resolver<'a> {
    pub fn new(root: &'a Value) -> Self {
        Resolver {
            root,
            nodes: 0,
            stack: Vec::new(),
        }
    }

    /// What `value` is once a `$ref` at its top is followed (through chains of them), without
    /// expanding further: for a parameter or a request body.
    pub fn shallow(&mut self, value: &'a Value) -> Result<&'a Value, RefError> {
        let mut cur = value;
        let mut seen = Vec::new();
        while let Some(r) = cur.get("$ref").and_then(Value::as_str) {
            if seen.iter().any(|s| s == r) {
                return Err(RefError::Recursive(r.to_owned()));
            }
            if seen.len() >= MAX_DEPTH {
                return Err(RefError::TooLarge);
            }
            seen.push(r.to_owned());
            cur = self.target(r)?;
        }
        Ok(cur)
    }

    /// `value` with every reference inside it replaced by what it points to.
    pub fn deep(&mut self, value: &Value) -> Result<Value, RefError> {
        self.walk(value, 0)
    }

    fn target(&self, reference: &str) -> Result<&'a Value, RefError> {
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(RefError::External(reference.to_owned()));
        };
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(RefError::Missing(reference.to_owned()));
        }
        let decoded = percent_encoding::percent_decode_str(pointer).decode_utf8_lossy();
        self.root
            .pointer(&decoded)
            .ok_or_else(|| RefError::Missing(reference.to_owned()))
    }

    fn walk(&mut self, value: &Value, depth: usize) -> Result<Value, RefError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES || depth > MAX_DEPTH {
            return Err(RefError::TooLarge);
        }
        match value {
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                    if self.stack.iter().any(|s| s == r) {
                        return Err(RefError::Recursive(r.to_owned()));
                    }
                    let target = self.target(r)?;
                    self.stack.push(r.to_owned());
                    let out = self.walk(target, depth + 1);
                    self.stack.pop();
                    return out;
                }
                let mut out = Map::with_capacity(map.len());
                for (k, v) in map {
                    // An example is data, not schema: a `$ref` key in it is not a reference.
                    let v = if matches!(
                        k.as_str(),
                        "example" | "examples" | "default" | "enum" | "const"
                    ) {
                        v.clone()
                    } else {
                        self.walk(v, depth + 1)?
                    };
                    out.insert(k.clone(), v);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => items
                .iter()
                .map(|v| self.walk(v, depth + 1))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            other => Ok(other.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn local_references_are_followed_into_nested_schemas() {
        let doc = json!({"components": {"schemas": {
            "Pet": {"type": "object", "properties": {"tag": {"$ref": "#/components/schemas/Tag"}}},
            "Tag": {"type": "string", "example": {"$ref": "not followed"}},
            "Alias": {"$ref": "#/components/schemas/Pet"},
        }}});
        let mut r = Resolver::new(&doc);
        let pet = r
            .deep(&json!({"$ref": "#/components/schemas/Alias"}))
            .unwrap();
        assert_eq!(pet["properties"]["tag"]["type"], "string");
        assert_eq!(
            pet["properties"]["tag"]["example"],
            json!({"$ref": "not followed"})
        );
        assert_eq!(
            r.shallow(&doc["components"]["schemas"]["Alias"]).unwrap()["type"],
            "object"
        );
    }

    #[test]
    fn recursion_missing_external_and_blowups_are_refused() {
        let doc = json!({"components": {"schemas": {
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}},
            "A": {"$ref": "#/components/schemas/B"},
            "B": {"$ref": "#/components/schemas/A"},
        }}});
        let mut r = Resolver::new(&doc);
        assert!(matches!(
            r.deep(&json!({"$ref": "#/components/schemas/Node"})),
            Err(RefError::Recursive(_))
        ));
        assert!(matches!(
            Resolver::new(&doc).shallow(&json!({"$ref": "#/components/schemas/A"})),
            Err(RefError::Recursive(_))
        ));
        assert!(matches!(
            Resolver::new(&doc).deep(&json!({"$ref": "#/components/schemas/Nope"})),
            Err(RefError::Missing(_))
        ));
        assert!(matches!(
            Resolver::new(&doc).deep(&json!({"$ref": "https://evil.example/x.json"})),
            Err(RefError::External(_))
        ));
        // Each level refers twice to the next: 2^30 values if expanded.
        let mut schemas = Map::new();
        for i in 0..30 {
            let next = format!("#/components/schemas/S{}", i + 1);
            schemas.insert(
                format!("S{i}"),
                json!({"type": "object", "properties": {"a": {"$ref": next}, "b": {"$ref": next}}}),
            );
        }
        schemas.insert("S30".into(), json!({"type": "string"}));
        let doc = json!({"components": {"schemas": schemas}});
        assert_eq!(
            Resolver::new(&doc).deep(&json!({"$ref": "#/components/schemas/S0"})),
            Err(RefError::TooLarge)
        );
    }
}
