//! Conversations and what belongs to them: bookmarks (schema/conversationTag.ts),
//! conversations (convo.ts with defaults.ts's preset fields), messages (message.ts) and
//! shared links (share.ts).

use serde_json::{Map, Value};

use super::{inserted, settle};
use crate::db::from_librechat::{self as sql, Owned, insert};
use crate::db::messages::NO_PARENT;
use crate::from_librechat::doc::Doc;
use crate::from_librechat::report::Skip;
use crate::from_librechat::{Ctx, Failure, Learned, Mapped};
use crate::shapes::{TConversation, TMessage};

/// Fields of LibreChat's database documents that no client ever sees.
const INTERNAL: &[&str] = &[
    "_id",
    "__v",
    "_meiliIndex",
    "tenantId",
    "expiresAt",
    "messages",
    "subagentThread",
    "subagentThreadLease",
    "subagentTranscript",
    "subagentTask",
    "searchResult",
    "snippet",
    "children",
];

/// What is left of a document once its columns are taken: the extra fields, as sent.
fn rest(d: &mut Doc, columns: &[&str]) -> Map<String, Value> {
    std::mem::take(&mut d.0)
        .into_iter()
        .filter(|(k, _)| !columns.contains(&k.as_str()) && !INTERNAL.contains(&k.as_str()))
        .collect()
}

fn owner(d: &mut Doc) -> Result<String, Skip> {
    d.reference("user")?
        .ok_or_else(|| Skip::new("missing_field", "user is missing"))
}

/// A bookmark (LibreChat's conversation tag).
pub fn tag(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = d.id();
    let user = owner(d)?;
    ctx.user_exists(&user)?;
    let tag = d.required("tag")?;
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let id = if id.is_empty() {
        crate::db::new_object_id()
    } else {
        id
    };
    inserted(insert(
        ctx.conn,
        sql::TAG,
        &[
            &id,
            &user,
            &tag,
            &d.text("description")?.unwrap_or_default(),
            &d.int("position").unwrap_or(0),
            &created,
            &updated,
        ],
    )?)
}

pub fn conversation(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = d.required("conversationId")?;
    let user = owner(d)?;
    ctx.user_exists(&user)?;
    let temporary = d.flag("isTemporary");
    let expired = d.time("expiredAt");
    if expired
        .as_deref()
        .is_some_and(|e| e < crate::db::now().as_str())
    {
        return Err(Skip::new("expired", "a temporary chat past its expiry").into());
    }
    let tags: Vec<String> = d
        .array("tags")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    let project = d
        .reference("chatProjectId")?
        .filter(|p| sql::project_of(ctx.conn, p, &user).unwrap_or(false));
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let title = d.text("title")?.unwrap_or_else(|| "New Chat".into());
    let (endpoint, endpoint_type, model) = (
        d.text("endpoint")?,
        d.text("endpointType")?,
        d.text("model")?,
    );
    let archived = d.flag("isArchived");
    let archived_at = d.time("archivedAt");
    let pinned = d.flag("pinned");
    let settings = Value::Object(rest(d, TConversation::FIELDS)).to_string();
    let row = insert(
        ctx.conn,
        sql::CONVERSATION,
        &[
            &id,
            &user,
            &title,
            &endpoint,
            &endpoint_type,
            &model,
            &archived,
            &archived_at,
            &pinned,
            &temporary,
            &expired,
            &settings,
            &project,
            &created,
            &updated,
        ],
    )?;
    let outcome = settle(ctx, row, Owned::Conversation, &id, &user)?;
    for tag in tags {
        insert(
            ctx.conn,
            sql::TAG_NAMED,
            &[&crate::db::new_object_id(), &user, &tag, &created],
        )?;
        insert(ctx.conn, sql::CONVERSATION_TAG, &[&id, &user, &tag])?;
    }
    Ok(outcome)
}

/// Message fields that are not carried as extra fields (besides [`INTERNAL`]).
const NOT_EXTRA: &[&str] = &["user", "expiredAt", "isTemporary", "title"];

pub fn message(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let object_id = d.id();
    let id = d.required("messageId")?;
    let conversation = d.required("conversationId")?;
    let user = owner(d)?;
    let parent = d
        .text("parentMessageId")?
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| NO_PARENT.to_owned());
    let by_user = d.flag("isCreatedByUser");
    let sender = d
        .text("sender")?
        .unwrap_or_else(|| if by_user { "User" } else { "Assistant" }.into());
    let text = d.text("text")?.unwrap_or_default();
    let mut content = d.json("content").filter(Value::is_array);
    // Files brought over are fetched from their places here.
    let carried = super::files::relink(ctx, d.0.get_mut("files"), content.as_mut())?;
    let content = content.map(|v| v.to_string());
    let feedback = d
        .json("feedback")
        .filter(Value::is_object)
        .map(|v| v.to_string());
    let (model, endpoint) = (d.text("model")?, d.text("endpoint")?);
    let token_count = d.int("tokenCount");
    let (error, unfinished) = (d.flag("error"), d.flag("unfinished"));
    let created = d.created_at();
    let updated = d.updated_at(&created);
    for k in NOT_EXTRA {
        d.0.remove(*k);
    }
    let extra = Value::Object(rest(d, TMessage::FIELDS)).to_string();
    match ctx.conversation_owner(&conversation)? {
        Some(o) if o == user => {}
        found => {
            let why = match found {
                None => format!("its conversation {conversation} was not imported"),
                Some(_) => format!("its conversation {conversation} belongs to someone else"),
            };
            return Err(Skip::new("conversation_not_found", why).into());
        }
    }
    let row = insert(
        ctx.conn,
        sql::MESSAGE,
        &[
            &id,
            &conversation,
            &user,
            &parent,
            &sender,
            &by_user,
            &text,
            &content,
            &model,
            &endpoint,
            &token_count,
            &error,
            &unfinished,
            &feedback,
            &extra,
            &created,
            &updated,
        ],
    )?;
    if let Some(slot) = ctx.learned.shared_message_ids.get_mut(&object_id) {
        *slot = Some(id.clone());
    }
    let outcome = settle(ctx, row, Owned::Message, &id, &user)?;
    super::files::carried_by(ctx, carried, &id, &user);
    Ok(outcome)
}

/// Notes the messages shared links name, so the messages pass can say what they became.
pub fn prescan_shared_link(learned: &mut Learned, d: &mut Doc) {
    for m in d.array("messages").unwrap_or_default() {
        if let Value::String(id) = m {
            learned.shared_message_ids.insert(id, None);
        }
    }
}

/// A shared link keeps its share id, so links people posted keep working. Its page shows
/// the messages the link held, anonymized as links made here are.
pub fn shared_link(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let share_id = d.required("shareId")?;
    let user = owner(d)?;
    ctx.user_exists(&user)?;
    let conversation = d.required("conversationId")?;
    if matches!(d.0.get("isPublic"), Some(Value::Bool(false))) {
        return Err(Skip::new("not_public", "the link was not public in LibreChat").into());
    }
    if d.time("expiredAt").is_some_and(|e| e < crate::db::now()) {
        return Err(Skip::new("expired", "the link had expired").into());
    }
    if sql::conversation_owner(ctx.conn, &conversation)?.as_deref() != Some(user.as_str()) {
        return Err(Skip::new(
            "conversation_not_found",
            format!("its conversation {conversation} was not imported"),
        )
        .into());
    }
    let wanted: std::collections::HashSet<String> = d
        .array("messages")
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|oid| ctx.learned.shared_message_ids.get(oid).cloned().flatten())
        .collect();
    let branch: Vec<_> = crate::db::messages::list(ctx.store, &user, &conversation)?
        .into_iter()
        .filter(|m| wanted.contains(&m.message_id))
        .collect();
    if branch.is_empty() {
        return Err(Skip::new("no_messages", "none of the messages it shows was imported").into());
    }
    let snapshot = crate::server::routes::shares::snapshot(&branch).to_string();
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let title = d.text("title")?.unwrap_or_default();
    let row = insert(
        ctx.conn,
        sql::SHARED_LINK,
        &[
            &share_id,
            &user,
            &conversation,
            &title,
            &d.text("targetMessageId")?,
            &snapshot,
            &created,
            &updated,
        ],
    )?;
    match settle(ctx, row, Owned::SharedLink, &share_id, &user) {
        Err(Failure::Skip(s)) if s.code == "refused" => Err(Skip::new(
            "one_link_per_conversation",
            "its conversation already has a shared link (this server keeps one per conversation)",
        )
        .into()),
        other => other,
    }
}
