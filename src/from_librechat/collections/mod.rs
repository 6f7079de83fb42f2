//! One mapper per LibreChat collection: a document in, a row here (or a reason it cannot be).
//! Field lists follow LibreChat's mongoose schemas (packages/data-schemas/src/schema/).

pub mod access;
pub mod accounts;
pub mod agents;
pub mod chats;
pub mod files;
pub mod library;
pub mod pictures;

use super::doc::{Doc, is_object_id};
use super::report::Skip;
use super::{Failure, Mapped, Outcome};
use crate::db::from_librechat::{Owned, owned_by};

/// The document's `_id`, which must be an ObjectId (lowercased).
fn object_id(d: &Doc) -> Result<String, Skip> {
    let id = d.id();
    if is_object_id(&id) {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(Skip::new("bad_shape", "_id is not an ObjectId"))
    }
}

/// The id `key` refers to, which must be there.
fn required_ref(d: &mut Doc, key: &str) -> Result<String, Skip> {
    d.reference(key)?
        .ok_or_else(|| Skip::new("missing_field", format!("{key} is missing")))
}

/// The outcome of an insert that did not go in because the key is taken: by the same owner
/// (imported before), or by someone else (a clash, reported).
fn settle(ctx: &super::Ctx, inserted: bool, table: Owned, key: &str, owner: &str) -> Mapped {
    if inserted {
        return Ok(Outcome::Imported);
    }
    match owned_by(ctx.conn, table, key, owner)? {
        Some(true) => Ok(Outcome::Present),
        Some(false) => Err(Failure::Skip(Skip::new(
            "conflict",
            format!("{key} already belongs to someone else here"),
        ))),
        None => Err(Failure::Skip(Skip::new(
            "refused",
            format!("{key} was not written (a unique value it holds is taken)"),
        ))),
    }
}

/// `Present` when the row went in before, `Imported` when now.
fn inserted(yes: bool) -> Mapped {
    Ok(if yes {
        Outcome::Imported
    } else {
        Outcome::Present
    })
}

/// JSON text of a value, or of `default` when missing.
fn json_or(v: Option<serde_json::Value>, default: &str) -> String {
    v.map_or_else(|| default.to_owned(), |v| v.to_string())
}
