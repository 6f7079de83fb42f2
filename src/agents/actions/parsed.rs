//! Action documents as parsed, kept between turns. Without it every turn with an agent's
//! actions read each document again (JSON or YAML up to 1 MiB, every `$ref` expanded) only to
//! find what the last turn found. Kept by the action's id with a digest of the document's
//! text: an action saved with another document is read again at its next turn, whichever
//! path saved it (the API, an import, another process sharing the database).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::spec::{self, Spec, SpecError};
use crate::bounded::BoundedCache;

/// The most JSON values kept, every document's operations together: a value is some tens of
/// bytes, so a few MB. A usual action has a few hundred; one heavier than the whole bound is
/// not kept (it is read at each turn, as before there was a cache).
const MAX_VALUES: u64 = 200_000;
/// A document no turn used for this long is let go.
const IDLE: Duration = Duration::from_secs(60 * 60);

/// A document read once, and what it gave (a refusal is kept too: a bad document is as slow
/// to read each time as a good one).
pub type Parsed = Result<Arc<Spec>, SpecError>;

#[derive(Clone)]
struct Entry {
    /// SHA-256 of the text it was read from.
    digest: [u8; 32],
    parsed: Parsed,
    /// Its share of [`MAX_VALUES`].
    weight: u32,
}

/// Parsed documents by action id.
pub struct ParsedSpecs {
    entries: BoundedCache<Entry>,
}

impl Default for ParsedSpecs {
    fn default() -> Self {
        ParsedSpecs {
            entries: BoundedCache::builder(MAX_VALUES)
                .weigher(|_, e: &Entry| e.weight)
                .time_to_idle(IDLE)
                .build(),
        }
    }
}

impl ParsedSpecs {
    /// The action `action_id`'s document `raw`, parsed: as an earlier turn parsed it if the
    /// text is the same, else read now (and kept in place of the old one).
    pub fn get(&self, action_id: &str, raw: &str) -> Parsed {
        let digest: [u8; 32] = Sha256::digest(raw.as_bytes()).into();
        if let Some(e) = self.entries.get(action_id)
            && e.digest == digest
        {
            return e.parsed;
        }
        let parsed: Parsed = spec::parse(raw).map(Arc::new);
        let weight = parsed.as_deref().map_or(1, weight);
        let entry = Entry {
            digest,
            parsed: parsed.clone(),
            weight,
        };
        self.entries.insert(action_id.to_owned(), entry);
        parsed
    }
}

/// The JSON values a document's operations hold (each operation's arguments' schema, the
/// bulk of what is kept), at least one.
fn weight(spec: &Spec) -> u32 {
    fn values(v: &Value) -> usize {
        1 + match v {
            Value::Array(a) => a.iter().map(values).sum(),
            Value::Object(o) => o.values().map(values).sum(),
            _ => 0,
        }
    }
    let total: usize = 1 + spec
        .operations
        .iter()
        .map(|op| 1 + values(&op.parameters))
        .sum::<usize>();
    u32::try_from(total).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(summary: &str) -> String {
        serde_json::json!({
            "servers": [{"url": "https://api.example.com/v1"}],
            "paths": {"/pets/{id}": {"get": {"operationId": "getPet", "summary": summary,
                "parameters": [{"name": "id", "in": "path", "required": true,
                    "schema": {"type": "string"}}]}}}
        })
        .to_string()
    }

    fn description(p: &Parsed) -> &str {
        &p.as_ref().unwrap().operations[0].description
    }

    fn same(a: &Parsed, b: &Parsed) -> bool {
        Arc::ptr_eq(a.as_ref().unwrap(), b.as_ref().unwrap())
    }

    #[test]
    fn the_same_text_is_read_once_and_a_changed_one_again() {
        let specs = ParsedSpecs::default();
        let first = specs.get("a1", &doc("One pet"));
        assert_eq!(description(&first), "One pet");
        assert!(same(&first, &specs.get("a1", &doc("One pet"))));
        let changed = specs.get("a1", &doc("One pet by id"));
        assert_eq!(description(&changed), "One pet by id");
        assert!(same(&changed, &specs.get("a1", &doc("One pet by id"))));
        // Another action with the same text has its own entry.
        let other = specs.get("a2", &doc("One pet"));
        assert!(!same(&first, &other));
        assert_eq!(description(&other), "One pet");
    }

    #[test]
    fn a_refusal_stands_until_the_document_is_fixed() {
        let specs = ParsedSpecs::default();
        assert_eq!(specs.get("a1", "{\"paths\": {}}"), Err(SpecError::NoServer));
        assert_eq!(specs.get("a1", "{\"paths\": {}}"), Err(SpecError::NoServer));
        assert!(specs.get("a1", &doc("One pet")).is_ok());
    }

    #[test]
    fn weight_counts_the_operations_schemas() {
        let parsed = spec::parse(&doc("One pet")).unwrap();
        let w = weight(&parsed);
        assert!(w > 5, "{w}");
        assert!(w < 50, "{w}");
    }
}
