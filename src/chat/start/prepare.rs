//! The turn's starting point, saved and read in one transaction: the conversation (created or
//! updated with the settings sent), the person's message (or the one answered again), and the
//! branch that leads to it.

use crate::db::sql::Connection;

use super::StartError;
use crate::chat::{attachments, tree};
use crate::config::EndpointFiles;
use crate::db::conversations::{self, Changes, Conversation};
use crate::db::messages::{self, Message, NO_PARENT, Saved};
use crate::db::{Db, DbError};

/// Regenerate or continue instead of asking something new.
pub struct Again {
    pub regenerate: bool,
    /// The answer to continue.
    pub continued: Option<String>,
}

/// What [`prepare`] saves: the message as the request names it, and the conversation's changes.
pub struct Prepare {
    pub user_id: String,
    pub conversation_id: String,
    /// The settings sent with the message (applied to the conversation, created if new).
    pub changes: Changes,
    pub again: Again,
    pub text: String,
    pub endpoint: String,
    pub model: String,
    /// The ids from the request, unchecked (see `StartRequest`).
    pub message_id: Option<String>,
    pub parent_message_id: Option<String>,
    pub override_parent_message_id: Option<String>,
    /// The files the message carries (ids from the body, unchecked), and the endpoint's
    /// upload limits they must keep to.
    pub files: Vec<String>,
    pub file_limits: EndpointFiles,
    /// The model, when it is known not to see images (they are refused).
    pub blind_model: Option<String>,
}

/// What a turn starts from.
pub struct PreparedTurn {
    pub conversation: Conversation,
    /// The message answered: just saved, or the one answered again.
    pub request: Message,
    /// The branch from the first message down to `request`.
    pub branch: Vec<Message>,
    /// Whether this request created the conversation.
    pub is_new: bool,
    /// The answer being continued.
    pub partial: Option<Message>,
}

/// The id a client chose for a message: short, printable.
pub fn checked_id(v: &str, what: &'static str) -> Result<String, StartError> {
    if v.len() > 200 || v.chars().any(char::is_control) {
        return Err(StartError::InvalidId(what));
    }
    Ok(v.to_owned())
}

/// Saves the conversation and the user's message (or finds the message a regeneration
/// answers again) and reads the branch that leads to it: one transaction, so the turn starts
/// from a consistent state and with as little waiting as possible.
pub async fn prepare(db: &Db, p: Prepare) -> Result<PreparedTurn, StartError> {
    let parent = p
        .parent_message_id
        .as_deref()
        .map(|id| checked_id(id, "parentMessageId"))
        .transpose()?
        .unwrap_or_else(|| NO_PARENT.to_owned());
    // The question answered again. LibreChat's client names it `overrideParentMessageId` (and
    // sends its parent as `parentMessageId`); the bundled app names it `parentMessageId`.
    let asked = match p.override_parent_message_id.as_deref() {
        Some(id) if p.again.regenerate => checked_id(id, "overrideParentMessageId")?,
        _ => parent.clone(),
    };
    let new_id = match p.message_id.as_deref() {
        Some(id) => checked_id(id, "messageId")?,
        None => uuid::Uuid::new_v4().to_string(),
    };
    let message = Message {
        message_id: new_id,
        conversation_id: p.conversation_id.clone(),
        user_id: p.user_id.clone(),
        parent_message_id: parent,
        sender: "User".into(),
        is_created_by_user: true,
        text: p.text,
        content: None,
        model: Some(p.model),
        endpoint: Some(p.endpoint),
        // The token count is recorded with the answer, off this path.
        ..Message::default()
    };
    let turn = Transaction {
        user_id: p.user_id,
        conversation_id: p.conversation_id,
        changes: p.changes,
        again: p.again,
        asked,
        message,
        files: p.files,
        file_limits: p.file_limits,
        blind_model: p.blind_model,
    };
    db.write(move |c| Ok(turn.run(c))).await?
}

/// [`prepare`]'s work inside the transaction.
struct Transaction {
    user_id: String,
    conversation_id: String,
    changes: Changes,
    again: Again,
    /// The question answered again, when regenerating or continuing.
    asked: String,
    /// The new message, when asking something new.
    message: Message,
    files: Vec<String>,
    file_limits: EndpointFiles,
    blind_model: Option<String>,
}

impl Transaction {
    /// Any refusal returns before the commit, so nothing is saved.
    fn run(self, db: &mut Connection) -> Result<PreparedTurn, StartError> {
        let (u, c) = (&self.user_id, &self.conversation_id);
        let regenerate = self.again.regenerate || self.again.continued.is_some();
        let tx = db.transaction()?;
        let is_new = conversations::get(&tx, u, c)?.is_none();
        let conversation = conversations::upsert_in(&tx, u, c, &self.changes)?
            .ok_or(StartError::ConversationNotFound)?;
        let mut all = messages::list(&tx, u, c)?;
        let request = if regenerate {
            all.iter()
                .find(|x| x.message_id == self.asked && x.is_created_by_user)
                .cloned()
                .ok_or(StartError::NoRegenerateTarget)?
        } else {
            if all.iter().any(|x| x.message_id == self.message.message_id) {
                return Err(StartError::IdTaken);
            }
            let mut m = self.message;
            let endpoint = m.endpoint.clone().unwrap_or_default();
            let files = attachments::check(
                &tx,
                u,
                &self.files,
                &endpoint,
                &self.file_limits,
                self.blind_model.as_deref(),
            )??;
            if !files.is_empty() {
                m.extra
                    .insert("files".into(), attachments::files_json(&files));
            }
            // LibreChat goes ahead with a parent it cannot find: the history is empty and
            // the message keeps the parent it named, which no client can load. Here it
            // starts a new root, so the tree stays whole (and another account's or
            // conversation's id reads the same as none).
            if m.parent_message_id != NO_PARENT
                && !all.iter().any(|x| x.message_id == m.parent_message_id)
            {
                m.parent_message_id = NO_PARENT.to_owned();
            }
            match messages::save_in(&tx, &m)? {
                Saved::Yes => {}
                // LibreChat keeps message ids per account, so another account's id is free
                // there and the chat starts. Ids are global here: the message is kept under
                // a new id, which the events report, and so tell the sender that the id is
                // taken (README). They learn nothing else: ids are random UUIDs, and the
                // other account's message is neither read nor touched.
                Saved::OtherUsers => {
                    m.message_id = uuid::Uuid::new_v4().to_string();
                    if messages::save_in(&tx, &m)? != Saved::Yes {
                        return Err(StartError::IdTaken);
                    }
                }
                Saved::OtherConversation => return Err(StartError::IdTaken),
                Saved::Cycle => return Err(StartError::Cycle),
            }
            crate::db::files::attach(&tx, u, &self.files, c, &m.message_id)?;
            messages::get(&tx, u, c, &m.message_id)?.ok_or(DbError::NotFound)?
        };
        let partial = match &self.again.continued {
            None => None,
            Some(id) => Some(
                all.iter()
                    .find(|x| {
                        x.message_id == *id
                            && !x.is_created_by_user
                            && x.parent_message_id == request.message_id
                    })
                    .cloned()
                    .ok_or(StartError::NoContinueTarget)?,
            ),
        };
        if !regenerate {
            all.push(request.clone());
        }
        let branch = tree::branch(&all, Some(&request.message_id));
        tx.commit()?;
        Ok(PreparedTurn {
            conversation,
            request,
            branch,
            is_new,
            partial,
        })
    }
}
