//! A large deployment for the import benchmark, written document by document (never held in
//! memory): `n_users` users, `n_convos` conversations spread over them, `per_convo` messages each
//! (every 10th a sibling of the one before, as a regeneration), half the answers as content parts.

use super::{DB_NAME, T0_MS, metadata_json, object_id, open_out, people::bcrypt_2a};
use bson::{Bson, DateTime, doc};
use std::io::{self, Write};
use std::path::Path;

/// The password of every bulk user.
pub const BULK_PASSWORD: &str = "bulk-password-1";

const FILLER: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor \
incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco \
laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit \
esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa \
qui officia deserunt mollit anim id est laborum. Sed ut perspiciatis unde omnis iste natus error sit \
voluptatem accusantium doloremque laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore.";

/// What a bulk dump holds.
#[derive(Clone, Debug)]
pub struct Bulk {
    pub users: usize,
    pub conversations: usize,
    pub messages: usize,
}

/// The `_id` hex of bulk user `i`.
pub fn bulk_user_id(i: usize) -> String {
    object_id((T0_MS / 1000) as u32, 0x80_0000 | i as u32).to_hex()
}

/// The email of bulk user `i`.
pub fn bulk_email(i: usize) -> String {
    format!("bulk{i}@example.com")
}

/// The conversationId of bulk conversation `c`.
pub fn bulk_conversation_id(c: usize) -> String {
    format!("{c:08x}-0000-4000-a000-000000000000")
}

/// The messageId of message `m` of bulk conversation `c`.
pub fn bulk_message_id(c: usize, m: usize) -> String {
    format!("{c:08x}-{:04x}-4000-8000-{m:012x}", (m >> 48) & 0xffff)
}

fn date(seconds: usize) -> DateTime {
    DateTime::from_millis(T0_MS + seconds as i64 * 1000)
}

/// `users.bson` documents (schema/user.ts), local users sharing one bcrypt hash.
pub fn users_bulk<W: Write>(out: &mut W, n_users: usize) -> io::Result<()> {
    let hash = bcrypt_2a(BULK_PASSWORD);
    for i in 0..n_users {
        let d = doc! {
            "_id": bson::oid::ObjectId::parse_str(bulk_user_id(i)).expect("hex"), "name": format!("Bulk {i}"),
            "username": format!("bulk{i}"), "email": bulk_email(i), "emailVerified": true, "password": &hash,
            "provider": "local", "role": "USER", "plugins": [], "twoFactorEnabled": false, "backupCodes": [],
            "refreshToken": [], "createdAt": date(i), "updatedAt": date(i), "__v": 0,
        };
        d.to_writer(&mut *out).map_err(io::Error::other)?;
    }
    Ok(())
}

/// `conversations.bson` documents (schema/convo.ts); conversation `c` belongs to user `c % n_users`.
pub fn conversations_bulk<W: Write>(
    out: &mut W,
    n_users: usize,
    n_convos: usize,
) -> io::Result<()> {
    for c in 0..n_convos {
        let d = doc! {
            "_id": object_id((T0_MS / 1000) as u32 + 1, 0x40_0000 | c as u32), "conversationId": bulk_conversation_id(c),
            "title": format!("Bulk conversation {c}"), "user": bulk_user_id(c % n_users), "endpoint": "openAI",
            "model": "gpt-4o", "isArchived": false, "tags": [], "createdAt": date(c), "updatedAt": date(c), "__v": 0,
        };
        d.to_writer(&mut *out).map_err(io::Error::other)?;
    }
    Ok(())
}

/// `messages.bson` documents (schema/message.ts), conversation by conversation; returns the
/// number written (`n_convos * per_convo`).
pub fn messages_bulk<W: Write>(
    out: &mut W,
    n_users: usize,
    n_convos: usize,
    per_convo: usize,
) -> io::Result<usize> {
    let mut n = 0usize;
    for c in 0..n_convos {
        let (conversation_id, user) = (bulk_conversation_id(c), bulk_user_id(c % n_users));
        let (mut main, mut main_parent) =
            (super::NO_PARENT.to_owned(), super::NO_PARENT.to_owned());
        for m in 0..per_convo {
            let id = bulk_message_id(c, m);
            let sibling = m > 0 && m % 10 == 0;
            let parent = if sibling {
                main_parent.clone()
            } else {
                main.clone()
            };
            let by_user = m % 2 == 0;
            let text = format!("Message {m} of conversation {c}. {FILLER}");
            let mut d = doc! {
                "_id": object_id((T0_MS / 1000) as u32 + 2 + (n >> 24) as u32, n as u32 & 0xff_ffff),
                "messageId": &id, "conversationId": &conversation_id, "user": &user, "parentMessageId": &parent,
                "sender": if by_user { "User" } else { "GPT-4o" }, "isCreatedByUser": by_user,
                "endpoint": "openAI", "tokenCount": (text.len() / 4) as i32, "unfinished": false, "error": false,
                "createdAt": date(c * per_convo + m), "updatedAt": date(c * per_convo + m), "__v": 0,
            };
            if !by_user && m % 4 == 1 {
                d.insert("model", "gpt-4o");
                d.insert("text", "");
                d.insert(
                    "content",
                    vec![Bson::Document(doc! { "type": "text", "text": text })],
                );
            } else {
                d.insert("text", text);
            }
            d.to_writer(&mut *out).map_err(io::Error::other)?;
            if !sibling {
                main_parent = std::mem::replace(&mut main, id);
            }
            n += 1;
        }
    }
    Ok(n)
}

/// A `mongodump` folder `dir/LibreChat/` with users, conversations and messages streamed to
/// disk (gzipped when asked).
pub fn write_bulk_mongodump(
    dir: &Path,
    n_users: usize,
    n_convos: usize,
    per_convo: usize,
    gzip: bool,
) -> io::Result<Bulk> {
    let db = dir.join(DB_NAME);
    std::fs::create_dir_all(&db)?;
    let gz = if gzip { ".gz" } else { "" };
    let mut messages = 0;
    for coll in ["users", "conversations", "messages"] {
        let mut out = open_out(&db.join(format!("{coll}.bson{gz}")), gzip)?;
        match coll {
            "users" => users_bulk(&mut out, n_users)?,
            "conversations" => conversations_bulk(&mut out, n_users, n_convos)?,
            _ => messages = messages_bulk(&mut out, n_users, n_convos, per_convo)?,
        }
        out.finish()?;
        let mut meta = open_out(&db.join(format!("{coll}.metadata.json{gz}")), gzip)?;
        meta.write_all(metadata_json(coll).as_bytes())?;
        meta.finish()?;
    }
    Ok(Bulk {
        users: n_users,
        conversations: n_convos,
        messages,
    })
}
