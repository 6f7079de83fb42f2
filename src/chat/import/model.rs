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

/// A conversation ready to store, with new ids.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub conversation_id: String,
    pub title: String,
    pub endpoint: Option<String>,
    pub model: Option<String>,
    pub settings: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
    /// Parents before children.
    pub messages: Vec<Message>,
}

/// Checks the tree and gives everything new ids. `Err` says why the conversation is refused.
pub fn prepare(convo: Convo, user_id: &str, now: &str) -> Result<Prepared, String> {
    let messages = drop_skipped(convo.messages)?;
    // Stored JSON is read back (and wrapped in exports and shared links) by parsers with a
    // depth limit: refuse what would not read back, as the API does.
    let deep = |v: &Value| crate::server::routes::reject_deep(v).map_err(|e| e.to_string());
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
    let mut index: HashMap<String, usize> = HashMap::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        if m.id.is_empty() {
            return Err(format!("message {} has no id", i + 1));
        }
        if index.insert(m.id.clone(), i).is_some() {
            return Err(format!("the message id {} appears twice", m.id));
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); messages.len()];
    let mut roots = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        match m.parent.as_deref() {
            None => roots.push(i),
            Some(p) => match index.get(p) {
                Some(&pi) => children[pi].push(i),
                None => {
                    return Err(format!(
                        "message {} answers {p}, which is not in the file",
                        m.id
                    ));
                }
            },
        }
    }
    // Parents before children; whatever is not reached from a first message sits on a loop.
    let mut order = Vec::with_capacity(messages.len());
    let mut queue = std::collections::VecDeque::from(roots);
    while let Some(i) = queue.pop_front() {
        order.push(i);
        queue.extend(children[i].iter().copied());
    }
    if order.len() != messages.len() {
        return Err("its messages form a loop (a message is its own ancestor)".into());
    }
    let conversation_id = uuid::Uuid::new_v4().to_string();
    let created_at = convo
        .created_at
        .as_deref()
        .and_then(normalize_time)
        .unwrap_or_else(|| now.to_owned());
    let mut new_ids: Vec<String> = vec![String::new(); messages.len()];
    let mut times: Vec<String> = vec![String::new(); messages.len()];
    let mut messages: Vec<Option<Msg>> = messages.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(order.len());
    let mut newest = created_at.clone();
    for i in order {
        let m = messages[i].take().expect("each message once");
        new_ids[i] = uuid::Uuid::new_v4().to_string();
        let parent = m.parent.as_deref().map(|p| index[p]);
        // A reply is never older than what it answers: the client orders by time.
        let mut at = m
            .created_at
            .as_deref()
            .and_then(normalize_time)
            .unwrap_or_else(|| created_at.clone());
        if let Some(p) = parent
            && at <= times[p]
        {
            at = crate::db::to_rfc3339(after(&times[p]));
        }
        if at > newest {
            newest = at.clone();
        }
        times[i] = at.clone();
        out.push(Message {
            message_id: new_ids[i].clone(),
            conversation_id: conversation_id.clone(),
            user_id: user_id.to_owned(),
            parent_message_id: parent.map_or_else(|| NO_PARENT.to_owned(), |p| new_ids[p].clone()),
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
            endpoint: m.endpoint.or_else(|| convo.endpoint.clone()),
            error: m.error,
            unfinished: m.unfinished,
            feedback: m.feedback,
            extra: m.extra,
            created_at: at.clone(),
            updated_at: at,
        });
    }
    let updated_at = convo
        .updated_at
        .as_deref()
        .and_then(normalize_time)
        .filter(|u| *u >= newest)
        .unwrap_or(newest);
    let title = convo.title.trim();
    Ok(Prepared {
        conversation_id,
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
        messages: out,
    })
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
        let p = prepare(
            convo(vec![
                msg("c", Some("a")),
                msg("a", None),
                msg("b", Some("a")),
            ]),
            "u",
            NOW,
        )
        .unwrap();
        assert_eq!(p.messages.len(), 3);
        let root = &p.messages[0];
        assert_eq!(root.text, "text a");
        assert_eq!(root.parent_message_id, NO_PARENT);
        assert!(
            p.messages[1..]
                .iter()
                .all(|m| m.parent_message_id == root.message_id)
        );
        assert!(
            p.messages
                .iter()
                .all(|m| m.message_id.len() == 36 && m.conversation_id == p.conversation_id)
        );
        assert!(p.messages[1].created_at > root.created_at);
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
        let p = prepare(convo(messages), "u", NOW).unwrap();
        assert_eq!(p.messages.len(), n + 1);
        let root = p.messages[0].message_id.clone();
        assert!(p.messages[1..].iter().all(|m| m.parent_message_id == root));
    }

    #[test]
    fn skipped_messages_hand_their_children_up() {
        let mut sys = msg("s", None);
        sys.skip = true;
        let p = prepare(
            convo(vec![sys, msg("a", Some("s")), msg("b", Some("a"))]),
            "u",
            NOW,
        )
        .unwrap();
        assert_eq!(p.messages.len(), 2);
        assert_eq!(p.messages[0].parent_message_id, NO_PARENT);
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
