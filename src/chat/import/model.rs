//! The shape every importer produces, and the checks that make an imported conversation safe to
//! store: ids unique, every parent present, no loops. Imported conversations get new ids (as in
//! LibreChat), so importing a file twice gives two copies instead of a conflict, and nothing in
//! a file can touch another conversation or another user's rows.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::db::messages::{Message, NO_PARENT};

/// A conversation read from a file, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct Convo {
    pub title: String,
    pub endpoint: Option<String>,
    pub model: Option<String>,
    /// Other conversation settings (LibreChat's `options`).
    pub settings: Map<String, Value>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub messages: Vec<Msg>,
}

/// A message read from a file. `id` and `parent` are the file's ids.
#[derive(Debug, Clone, Default)]
pub struct Msg {
    pub id: String,
    /// `None` for a first message.
    pub parent: Option<String>,
    pub sender: String,
    pub is_created_by_user: bool,
    pub text: String,
    pub content: Option<Value>,
    pub model: Option<String>,
    pub endpoint: Option<String>,
    pub created_at: Option<String>,
    pub error: bool,
    pub unfinished: bool,
    pub feedback: Option<Value>,
    pub extra: Map<String, Value>,
    /// Not worth keeping (a system note, an empty node): left out, its children moved up to its
    /// nearest kept ancestor.
    pub skip: bool,
}

/// A conversation ready to store, with new ids. Its messages stay as read until they are
/// stored: [`Prepared::messages`] builds each row as it is asked for, so a large conversation
/// is never held twice.
#[derive(Debug)]
pub struct Prepared {
    pub conversation_id: String,
    pub title: String,
    pub endpoint: Option<String>,
    pub model: Option<String>,
    pub settings: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
    user_id: String,
    /// As read, but each `created_at` is the time to store.
    messages: Vec<Msg>,
    /// Indexes into `messages`, parents before children, each with its parent's index.
    order: Vec<(u32, Option<u32>)>,
    /// The new id of each message, by index.
    ids: Vec<uuid::Uuid>,
}

impl Prepared {
    /// How many messages it has.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Whose conversation it becomes.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The rows to store, parents before children, each made as it is taken.
    pub fn messages(&mut self) -> impl Iterator<Item = Message> + '_ {
        let Self {
            conversation_id,
            endpoint,
            user_id,
            messages,
            order,
            ids,
            ..
        } = self;
        order.iter().map(move |&(i, parent)| {
            let m = std::mem::take(&mut messages[i as usize]);
            let at = m.created_at.unwrap_or_default();
            Message {
                message_id: ids[i as usize].to_string(),
                conversation_id: conversation_id.clone(),
                user_id: user_id.clone(),
                parent_message_id: parent
                    .map_or_else(|| NO_PARENT.to_owned(), |p| ids[p as usize].to_string()),
                sender: if m.sender.is_empty() {
                    if m.is_created_by_user {
                        "User".into()
                    } else {
                        "Assistant".into()
                    }
                } else {
                    m.sender
                },
                is_created_by_user: m.is_created_by_user,
                // Counted when the chat engine first needs it, not for every imported message.
                token_count: None,
                text: m.text,
                content: m.content,
                model: m.model,
                endpoint: m.endpoint.or_else(|| endpoint.clone()),
                error: m.error,
                unfinished: m.unfinished,
                feedback: m.feedback,
                extra: m.extra,
                created_at: at.clone(),
                updated_at: at,
            }
        })
    }
}

/// Checks the tree and gives everything new ids. `Err` says why the conversation is refused.
pub fn prepare(convo: Convo, user_id: &str, now: &str) -> Result<Prepared, String> {
    let mut messages = drop_skipped(convo.messages)?;
    // Stored JSON is read back (and wrapped in exports and shared links) by parsers with a
    // depth limit: refuse what would not read back, as the API does.
    let deep = |v: &Value| crate::chat::input::reject_deep(v).map_err(|e| e.to_string());
    deep(&Value::Object(convo.settings.clone()))?;
    for m in &messages {
        deep(&Value::Object(m.extra.clone()))?;
        if let Some(c) = &m.content {
            deep(c)?;
        }
        if let Some(f) = &m.feedback {
            deep(f)?;
        }
    }
    if messages.is_empty() {
        return Err("it has no messages".into());
    }
    let n = u32::try_from(messages.len()).map_err(|_| "it has too many messages".to_owned())?;
    let parents = parents(&messages)?;
    // Children in one list, each message's a slice of it (one allocation, not one per message).
    let mut starts = vec![0u32; n as usize + 1];
    for p in parents.iter().flatten() {
        starts[*p as usize + 1] += 1;
    }
    for i in 0..n as usize {
        starts[i + 1] += starts[i];
    }
    let mut filled = starts.clone();
    let mut children = vec![0u32; parents.iter().flatten().count()];
    for (i, p) in parents.iter().enumerate() {
        if let Some(p) = p {
            children[filled[*p as usize] as usize] = i as u32;
            filled[*p as usize] += 1;
        }
    }
    drop(filled);
    // Parents before children; whatever is not reached from a first message sits on a loop.
    let mut order: Vec<(u32, Option<u32>)> = Vec::with_capacity(messages.len());
    order.extend(
        (0..n)
            .filter(|&i| parents[i as usize].is_none())
            .map(|i| (i, None)),
    );
    let mut next = 0;
    while let Some(&(i, _)) = order.get(next) {
        next += 1;
        let kids = &children[starts[i as usize] as usize..starts[i as usize + 1] as usize];
        order.extend(kids.iter().map(|&c| (c, Some(i))));
    }
    drop((children, starts, parents));
    if order.len() != messages.len() {
        return Err("its messages form a loop (a message is its own ancestor)".into());
    }
    let created_at = convo
        .created_at
        .as_deref()
        .and_then(normalize_time)
        .unwrap_or_else(|| now.to_owned());
    let mut newest = created_at.clone();
    for &(i, parent) in &order {
        // A reply is never older than what it answers: the client orders by time.
        let mut at = messages[i as usize]
            .created_at
            .as_deref()
            .and_then(normalize_time)
            .unwrap_or_else(|| created_at.clone());
        if let Some(p) = parent {
            let parent_at = messages[p as usize].created_at.as_deref().unwrap_or("");
            if at.as_str() <= parent_at {
                at = crate::db::to_rfc3339(after(parent_at));
            }
        }
        if at > newest {
            newest.clone_from(&at);
        }
        messages[i as usize].created_at = Some(at);
    }
    let updated_at = convo
        .updated_at
        .as_deref()
        .and_then(normalize_time)
        .filter(|u| *u >= newest)
        .unwrap_or(newest);
    let title = convo.title.trim();
    Ok(Prepared {
        conversation_id: uuid::Uuid::new_v4().to_string(),
        title: if title.is_empty() {
            "Imported Chat".into()
        } else {
            title.chars().take(200).collect()
        },
        endpoint: convo.endpoint,
        model: convo.model,
        settings: convo.settings,
        created_at,
        updated_at,
        user_id: user_id.to_owned(),
        ids: (0..n).map(|_| uuid::Uuid::new_v4()).collect(),
        messages,
        order,
    })
}

/// Each message's parent, by index; refuses empty and repeated ids and missing parents.
fn parents(messages: &[Msg]) -> Result<Vec<Option<u32>>, String> {
    let mut index: HashMap<&str, u32> = HashMap::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        if m.id.is_empty() {
            return Err(format!("message {} has no id", i + 1));
        }
        if index.insert(&m.id, i as u32).is_some() {
            return Err(format!("the message id {} appears twice", m.id));
        }
    }
    messages
        .iter()
        .map(|m| match m.parent.as_deref() {
            None => Ok(None),
            Some(p) => index
                .get(p)
                .map(|&pi| Some(pi))
                .ok_or_else(|| format!("message {} answers {p}, which is not in the file", m.id)),
        })
        .collect()
}

/// Leaves out skipped messages, moving their children up to the nearest kept ancestor. Each
/// skipped message's answer is worked out once (linear time however long the skipped chains).
fn drop_skipped(messages: Vec<Msg>) -> Result<Vec<Msg>, String> {
    if !messages.iter().any(|m| m.skip) {
        return Ok(messages);
    }
    let skipped: HashMap<String, Option<String>> = messages
        .iter()
        .filter(|m| m.skip)
        .map(|m| (m.id.clone(), m.parent.clone()))
        .collect();
    // Skipped id -> its nearest kept (or missing) ancestor, filled as chains are walked.
    let mut resolved: HashMap<String, Option<String>> = HashMap::with_capacity(skipped.len());
    let mut resolve = |start: &str| -> Result<Option<String>, String> {
        let mut chain = Vec::new();
        let mut at = Some(start.to_owned());
        let answer = loop {
            let Some(id) = at else { break None };
            if let Some(known) = resolved.get(&id) {
                break known.clone();
            }
            match skipped.get(&id) {
                Some(up) => {
                    if chain.len() > skipped.len() {
                        return Err(
                            "its messages form a loop (a message is its own ancestor)".into()
                        );
                    }
                    chain.push(id);
                    at = up.clone();
                }
                // Kept, or missing (the tree check reports that).
                None => break Some(id),
            }
        };
        for id in chain {
            resolved.insert(id, answer.clone());
        }
        Ok(answer)
    };
    let mut kept = Vec::with_capacity(messages.len());
    for mut m in messages.into_iter().filter(|m| !m.skip) {
        m.parent = match m.parent.take() {
            Some(p) if skipped.contains_key(&p) => resolve(&p)?,
            other => other,
        };
        kept.push(m);
    }
    Ok(kept)
}

/// Any common time format as our RFC 3339 form; `None` when it is not a time.
pub fn normalize_time(text: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(text.trim(), &Rfc3339)
        .ok()
        .or_else(|| {
            // `2024-01-01T10:00:00.123456` without a zone (Python's isoformat): UTC.
            let fmt = time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
            );
            time::PrimitiveDateTime::parse(text.trim(), &fmt)
                .ok()
                .map(|p| p.assume_utc())
        })?;
    in_range(t)
}

/// Times from 1970 to 9998 only: stored times must format and compare as fixed-width text,
/// and arithmetic near the ends of the calendar would overflow.
fn in_range(t: time::OffsetDateTime) -> Option<String> {
    let t = t.checked_to_offset(time::UtcOffset::UTC)?;
    (1970..=9998)
        .contains(&t.year())
        .then(|| crate::db::to_rfc3339(t))
}

/// A Unix time in seconds (ChatGPT's `create_time`) as our RFC 3339 form.
pub fn unix_time(seconds: f64) -> Option<String> {
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 32_503_680_000.0 {
        return None;
    }
    // Whole milliseconds, rounded: 1700000000.25 is not exactly representable.
    let millis = (seconds * 1000.0).round() as i128;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).ok()?;
    in_range(t)
}

/// One millisecond after an RFC 3339 time of ours.
fn after(text: &str) -> time::OffsetDateTime {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(text, &Rfc3339).map_or_else(
        |_| time::OffsetDateTime::now_utc(),
        |t| t.checked_add(time::Duration::milliseconds(1)).unwrap_or(t),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: &str, parent: Option<&str>) -> Msg {
        Msg {
            id: id.into(),
            parent: parent.map(Into::into),
            text: format!("text {id}"),
            ..Msg::default()
        }
    }

    fn convo(messages: Vec<Msg>) -> Convo {
        Convo {
            title: "t".into(),
            messages,
            ..Convo::default()
        }
    }

    const NOW: &str = "2026-01-01T00:00:00.000Z";

    #[test]
    fn trees_get_new_ids_and_keep_their_shape() {
        let mut p = prepare(
            convo(vec![
                msg("c", Some("a")),
                msg("a", None),
                msg("b", Some("a")),
            ]),
            "u",
            NOW,
        )
        .unwrap();
        let rows: Vec<Message> = p.messages().collect();
        assert_eq!(rows.len(), 3);
        let root = &rows[0];
        assert_eq!(root.text, "text a");
        assert_eq!(root.parent_message_id, NO_PARENT);
        assert!(
            rows[1..]
                .iter()
                .all(|m| m.parent_message_id == root.message_id)
        );
        assert!(
            rows.iter()
                .all(|m| m.message_id.len() == 36 && m.conversation_id == p.conversation_id)
        );
        assert!(rows[1].created_at > root.created_at);
    }

    #[test]
    fn broken_trees_are_refused_with_a_reason() {
        let missing =
            prepare(convo(vec![msg("a", None), msg("b", Some("zzz"))]), "u", NOW).unwrap_err();
        assert!(missing.contains("zzz"), "{missing}");
        let looped = prepare(
            convo(vec![
                msg("a", None),
                msg("b", Some("c")),
                msg("c", Some("b")),
            ]),
            "u",
            NOW,
        )
        .unwrap_err();
        assert!(looped.contains("loop"), "{looped}");
        let twice = prepare(convo(vec![msg("a", None), msg("a", None)]), "u", NOW).unwrap_err();
        assert!(twice.contains("twice"), "{twice}");
        assert!(prepare(convo(vec![]), "u", NOW).is_err());
        // A loop through skipped messages is still a loop.
        let mut b = msg("b", Some("c"));
        b.skip = true;
        let mut c = msg("c", Some("b"));
        c.skip = true;
        let d = msg("d", Some("c"));
        assert!(
            prepare(convo(vec![msg("a", None), b, c, d]), "u", NOW)
                .unwrap_err()
                .contains("loop")
        );
    }

    #[test]
    fn long_chains_of_skipped_messages_resolve_once() {
        // 20,000 skipped messages in a chain with a kept reply under each: every walk stops at
        // an answer already known.
        let n = 20_000;
        let mut messages = vec![msg("root", None)];
        for i in 0..n {
            let parent = if i == 0 {
                "root".to_owned()
            } else {
                format!("s{}", i - 1)
            };
            let mut s = msg(&format!("s{i}"), Some(&parent));
            s.skip = true;
            messages.push(s);
            messages.push(msg(&format!("k{i}"), Some(&format!("s{i}"))));
        }
        let mut p = prepare(convo(messages), "u", NOW).unwrap();
        let rows: Vec<Message> = p.messages().collect();
        assert_eq!(rows.len(), n + 1);
        let root = rows[0].message_id.clone();
        assert!(rows[1..].iter().all(|m| m.parent_message_id == root));
    }

    #[test]
    fn skipped_messages_hand_their_children_up() {
        let mut sys = msg("s", None);
        sys.skip = true;
        let mut p = prepare(
            convo(vec![sys, msg("a", Some("s")), msg("b", Some("a"))]),
            "u",
            NOW,
        )
        .unwrap();
        let rows: Vec<Message> = p.messages().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].parent_message_id, NO_PARENT);
    }

    #[test]
    fn times_are_normalized() {
        assert_eq!(
            normalize_time("2024-03-01T10:00:00Z").unwrap(),
            "2024-03-01T10:00:00.000Z"
        );
        assert_eq!(
            normalize_time("2024-03-01T10:00:00.123456").unwrap(),
            "2024-03-01T10:00:00.123Z"
        );
        assert_eq!(
            normalize_time("2024-03-01T12:00:00.5+02:00").unwrap(),
            "2024-03-01T10:00:00.500Z"
        );
        assert!(normalize_time("yesterday").is_none());
        // The ends of the calendar are refused, not overflowed.
        assert!(normalize_time("9999-12-31T23:30:00-01:00").is_none());
        assert!(normalize_time("9999-12-31T23:59:59.999Z").is_none());
        assert!(normalize_time("1969-12-31T23:59:59Z").is_none());
        assert_eq!(
            unix_time(1_700_000_000.25).unwrap(),
            "2023-11-14T22:13:20.250Z"
        );
        assert!(unix_time(f64::NAN).is_none() && unix_time(-1.0).is_none());
    }
}
