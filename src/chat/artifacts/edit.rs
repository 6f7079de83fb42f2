//! Changing an artifact in a stored message, as LibreChat's `POST
//! /api/messages/artifact/:messageId` does: the `index`-th artifact of the message (counted in
//! its content's text parts, or in its text when those hold none) has `original` replaced by
//! `updated`, inside that artifact only, and the message is saved (the search index follows
//! through the database's change log, as for every message write).
//!
//! Beyond LibreChat: when the artifact was found in a content part, the same artifact in the
//! message's `text` changes too, so the two never disagree (this server stores an answer's text
//! beside its parts); and `original` is looked for as sent before LibreChat's LaTeX unescaping
//! is tried, so an artifact that really holds `\$` can be edited.

use serde_json::Value;

use super::{Span, find_in, replace, unescape_latex};
use crate::db::messages::{self, Message};
use crate::db::{Db, DbError};

/// What to change: in the `index`-th artifact, `original` becomes `updated`.
#[derive(Debug, Clone)]
pub struct Change {
    pub index: usize,
    pub original: String,
    pub updated: String,
}

/// Why an artifact was not changed; the messages are LibreChat's.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// No message of this person has the id.
    #[error("Message not found")]
    NotFound,
    #[error("Artifact index out of bounds")]
    OutOfBounds,
    #[error("Original content not found in target artifact")]
    NotInArtifact,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The message as saved.
#[derive(Debug, Clone)]
pub struct Edited {
    pub conversation_id: String,
    pub text: String,
    pub content: Option<Value>,
}

/// Where an artifact was found: a content part (by position) or the text.
#[derive(Debug, Clone, Copy)]
struct Found {
    part: Option<usize>,
    span: Span,
}

/// The artifacts of a message, numbered as LibreChat numbers them: those of its text parts (a
/// `text` that is a string), in order; only when there are none, those of its `text`.
fn artifacts(m: &Message) -> Vec<Found> {
    let mut found = Vec::new();
    for (i, part) in m
        .content
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if part["type"] == "text"
            && let Some(text) = part["text"].as_str()
        {
            found.extend(find_in(text).into_iter().map(|span| Found {
                part: Some(i),
                span,
            }));
        }
    }
    if found.is_empty() {
        found.extend(
            find_in(&m.text)
                .into_iter()
                .map(|span| Found { part: None, span }),
        );
    }
    found
}

/// `original` replaced by `updated` in the artifact at `span` of `text`: as sent, else both
/// unescaped as LibreChat's client escaped them for display. `None` when neither is there.
/// Also says which pair matched, to change the same artifact elsewhere alike.
fn replaced(text: &str, span: Span, change: &Change) -> Option<(String, (String, String))> {
    let sent = (change.original.clone(), change.updated.clone());
    if let Some(t) = replace(text, span, &sent.0, &sent.1) {
        return Some((t, sent));
    }
    let unescaped = (
        unescape_latex(&change.original),
        unescape_latex(&change.updated),
    );
    replace(text, span, &unescaped.0, &unescaped.1).map(|t| (t, unescaped))
}

/// Applies `change` to `m` (its content part or its text).
pub fn apply(m: &mut Message, change: &Change) -> Result<(), EditError> {
    let all = artifacts(m);
    let Found { part, span } = *all.get(change.index).ok_or(EditError::OutOfBounds)?;
    let Some(i) = part else {
        let (text, _) = replaced(&m.text, span, change).ok_or(EditError::NotInArtifact)?;
        m.text = text;
        return Ok(());
    };
    let slot = m
        .content
        .as_mut()
        .and_then(Value::as_array_mut)
        .and_then(|parts| parts.get_mut(i))
        .map(|p| &mut p["text"])
        .ok_or(EditError::NotInArtifact)?;
    let before = slot.as_str().unwrap_or_default().to_owned();
    let (text, (original, updated)) =
        replaced(&before, span, change).ok_or(EditError::NotInArtifact)?;
    *slot = Value::String(text);
    // The same artifact in the message's text, when it is there as it was in the part.
    let block = &before[span.start..span.end];
    if let Some(same) = find_in(&m.text)
        .into_iter()
        .find(|s| &m.text[s.start..s.end] == block)
        && let Some(text) = replace(&m.text, same, &original, &updated)
    {
        m.text = text;
    }
    Ok(())
}

/// Changes an artifact of `user_id`'s message `message_id`, and saves the message (its token
/// count recounted). Read, changed and written in one turn of the database's single writer, so
/// two edits at once never lose one another's change.
pub async fn edit(
    db: &Db,
    user_id: &str,
    message_id: &str,
    change: Change,
) -> Result<Edited, EditError> {
    let (user, id) = (user_id.to_owned(), message_id.to_owned());
    let saved = db
        .write(move |conn| {
            let Some(mut m) = messages::find(conn, &user, &id)? else {
                return Ok(Err(EditError::NotFound));
            };
            if let Err(refused) = apply(&mut m, &change) {
                return Ok(Err(refused));
            }
            let tokens = m.token_count.unwrap_or_default();
            messages::edit(
                conn,
                &user,
                &m.conversation_id,
                &id,
                &m.text,
                m.content.as_ref(),
                tokens,
            )?;
            Ok(Ok(m))
        })
        .await??;
    recount(db, user_id, &saved).await;
    Ok(Edited {
        conversation_id: saved.conversation_id,
        text: saved.text,
        content: saved.content,
    })
}

/// Counts the edited message's tokens again (off the writer: counting a long text takes a
/// while). A failure leaves the old count, which only makes the context window a little off.
async fn recount(db: &Db, user_id: &str, m: &Message) {
    let all = crate::chat::tokens::message_text(&m.text, m.content.as_ref());
    // A person's message carries no model; counted as today's models count.
    let model = m.model.clone().unwrap_or_else(|| "gpt-4o".into());
    let Ok(tokens) =
        tokio::task::spawn_blocking(move || crate::chat::tokens::count(&model, &all)).await
    else {
        return;
    };
    let (user, id) = (user_id.to_owned(), m.message_id.clone());
    if let Err(e) = db
        .write(move |c| messages::set_token_count(c, &user, &id, tokens))
        .await
    {
        tracing::warn!(error = %e, "an edited artifact's tokens could not be recounted");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(index: usize, original: &str, updated: &str) -> Change {
        Change {
            index,
            original: original.into(),
            updated: updated.into(),
        }
    }

    const HTML: &str = ":::artifact{identifier=\"p\" type=\"text/html\" title=\"P\"}\n````html\n<p>old</p>\n````\n:::";

    #[test]
    fn a_content_part_changes_and_the_text_follows() {
        let mut m = Message {
            text: format!("Here:\n{HTML}\nDone."),
            content: Some(json!([
                {"type": "think", "think": ":::artifact{} not this one"},
                {"type": "text", "text": format!("Here:\n{HTML}\nDone.")},
            ])),
            ..Message::default()
        };
        apply(&mut m, &change(0, "<p>old</p>\n", "<p>new</p>")).unwrap();
        let part = m.content.as_ref().unwrap()[1]["text"].as_str().unwrap();
        assert!(part.contains("````html\n<p>new</p>\n````\n:::"), "{part}");
        assert_eq!(m.text, part);
        assert_eq!(
            m.content.as_ref().unwrap()[0]["think"],
            ":::artifact{} not this one"
        );
    }

    #[test]
    fn the_text_is_used_when_no_part_holds_an_artifact() {
        let mut m = Message {
            text: format!("{HTML}\n\n{}", HTML.replace("old", "second")),
            content: Some(json!([{"type": "text", "text": "no artifacts here"}])),
            ..Message::default()
        };
        apply(&mut m, &change(1, "<p>second</p>", "<p>2nd</p>")).unwrap();
        assert!(m.text.contains("<p>old</p>") && m.text.contains("<p>2nd</p>"));
        assert_eq!(m.content.as_ref().unwrap()[0]["text"], "no artifacts here");
        assert!(matches!(
            apply(&mut m, &change(2, "x", "y")),
            Err(EditError::OutOfBounds)
        ));
        // Found elsewhere in the message, but not in the artifact named: refused.
        let mut m = Message {
            text: format!("<p>outside</p>\n{HTML}"),
            ..Message::default()
        };
        assert!(matches!(
            apply(&mut m, &change(0, "<p>outside</p>", "y")),
            Err(EditError::NotInArtifact)
        ));
    }

    #[test]
    fn latex_escapes_of_librechats_client_are_undone_only_when_needed() {
        let priced = HTML.replace("old", "costs $5");
        let mut m = Message {
            text: priced.clone(),
            ..Message::default()
        };
        apply(&mut m, &change(0, "<p>costs \\$5</p>", "<p>costs \\$6</p>")).unwrap();
        assert!(m.text.contains("<p>costs $6</p>"), "{}", m.text);
        // An artifact that holds `\$` itself is matched as sent, and keeps it.
        let mut m = Message {
            text: HTML.replace("old", "echo \\$HOME"),
            ..Message::default()
        };
        apply(&mut m, &change(0, "echo \\$HOME", "echo \\$PATH")).unwrap();
        assert!(m.text.contains("echo \\$PATH"), "{}", m.text);
    }
}
