//! Chats: bookmarks, projects, files (with their bytes), conversations, messages of every era
//! LibreChat has had, the 2,000-message branching conversation, presets, shared links and tool
//! calls.

use super::people::oid;
use super::{
    Branching, Dump, Gen, Known, KnownConvo, KnownFile, KnownShare, KnownUser, NO_PARENT, at,
};
use bson::{Bson, Document, doc, oid::ObjectId};

/// A 1x1 PNG.
pub const PNG: &str = "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8dfc0f01f000680027f104c1be10000000049454e44ae426082";

/// Messages of the branching conversation.
pub const BRANCHING_MESSAGES: usize = 2_000;

/// One conversation being written: its id, owner and messages (`_id`s in creation order).
struct Convo {
    id: String,
    user: String,
    endpoint: &'static str,
    model: &'static str,
    oids: Vec<ObjectId>,
    minute: i64,
}

impl Convo {
    fn new(
        g: &mut Gen,
        user: &KnownUser,
        endpoint: &'static str,
        model: &'static str,
        minute: i64,
    ) -> Convo {
        Convo {
            id: g.uuid(),
            user: user.id.clone(),
            endpoint,
            model,
            oids: Vec::new(),
            minute,
        }
    }

    // schema/message.ts: the fields every era has.
    fn message(
        &mut self,
        g: &mut Gen,
        parent: &str,
        by_user: bool,
        text: &str,
    ) -> (String, Document) {
        let (id, message_id) = (g.oid(), g.uuid());
        self.oids.push(id);
        self.minute += 1;
        let sender = if by_user { "User" } else { "GPT-4o" };
        let d = doc! {
            "_id": id, "messageId": &message_id, "conversationId": &self.id, "user": &self.user,
            "parentMessageId": parent, "sender": sender, "text": text, "isCreatedByUser": by_user,
            "model": if by_user { Bson::Null } else { self.model.into() }, "endpoint": self.endpoint,
            "tokenCount": (text.len() / 4 + 3) as i32, "unfinished": false, "error": false,
            "_meiliIndex": true, "createdAt": at(self.minute), "updatedAt": at(self.minute), "__v": 0,
        };
        (message_id, d)
    }

    // schema/convo.ts + conversationPreset (schema/defaults.ts)
    fn doc(&self, g: &mut Gen, title: &str) -> Document {
        doc! {
            "_id": g.oid(),
            "conversationId": &self.id, "title": title, "user": &self.user, "endpoint": self.endpoint,
            "model": self.model, "messages": self.oids.clone(), "isArchived": false, "isTemporary": false,
            "tags": [], "files": [], "resendFiles": true, "imageDetail": "auto", "_meiliIndex": true,
            "createdAt": at(self.minute - self.oids.len() as i64), "updatedAt": at(self.minute), "__v": 0,
        }
    }

    fn known(&self, title: &str) -> KnownConvo {
        KnownConvo {
            id: self.id.clone(),
            user_id: self.user.clone(),
            title: title.into(),
            messages: self.oids.len(),
        }
    }
}

pub(super) fn add(g: &mut Gen, dump: &mut Dump, known: &mut Known) {
    let alice = known.alice.clone();
    known.agent_id = format!("agent_{}", g.nanoid(21));
    // schema/conversationTag.ts
    for (i, (tag, description)) in [("Saved", ""), ("work", "Things for the day job")]
        .into_iter()
        .enumerate()
    {
        dump.add("conversationtags", doc! {
            "_id": g.oid(), "tag": tag, "user": &alice.id, "description": description, "count": 1,
            "position": i as i32, "createdAt": at(100), "updatedAt": at(100), "__v": 0,
        });
        known.tags.push(tag.into());
    }
    // schema/chatProject.ts
    let project = g.oid();
    dump.add("chatprojects", doc! {
        "_id": project, "name": "Research", "description": "Reading notes", "user": &alice.id,
        "conversationCount": 1, "lastConversationAt": at(120), "createdAt": at(101), "updatedAt": at(120), "__v": 0,
    });
    known.project_id = project.to_hex();
    let files = files(g, dump, known, &alice);

    // 2023: `text` only.
    let mut c = Convo::new(g, &alice, "openAI", "gpt-3.5-turbo", 110);
    let (q, mut m) = c.message(g, NO_PARENT, true, "Hello from 2023, what is a monad?");
    m.remove("tokenCount");
    dump.add("messages", m);
    let (_, mut m) = c.message(g, &q, false, "A monad is a way to chain computations.");
    m.insert("sender", "ChatGPT");
    dump.add("messages", m);
    let mut d = c.doc(g, "Monads in 2023");
    d.insert("tags", vec!["work"]);
    d.insert("chatProjectId", project.to_hex());
    d.insert("chatGptLabel", Bson::Null);
    dump.add("conversations", d);
    known.conversations.push(c.known("Monads in 2023"));

    // 2024: `text` + `files`, feedback, conversation settings.
    let mut c = Convo::new(g, &alice, "openAI", "gpt-4o", 200);
    let (q, mut m) = c.message(g, NO_PARENT, true, "What is in this picture?");
    m.insert("files", vec![Bson::Document(file_ref(&files[0], true))]);
    dump.add("messages", m);
    let (a, mut m) = c.message(g, &q, false, "A single transparent pixel.");
    m.insert(
        "feedback",
        doc! { "rating": "thumbsUp", "tag": "accurate_reliable", "text": "Exactly right" },
    );
    m.insert("finish_reason", "stop");
    dump.add("messages", m);
    let (q, mut m) = c.message(g, &a, true, "Summarize my notes.");
    m.insert("files", vec![Bson::Document(file_ref(&files[1], false))]);
    dump.add("messages", m);
    let (_, mut m) = c.message(g, &q, false, "Your notes are about migrations.");
    m.insert(
        "feedback",
        doc! { "rating": "thumbsDown", "tag": "not_helpful" },
    );
    dump.add("messages", m);
    let mut d = c.doc(g, "A picture and notes");
    d.insert("pinned", true);
    d.insert("temperature", 0.7);
    d.insert("top_p", 1.0);
    d.insert("promptPrefix", "Answer briefly.");
    d.insert("modelLabel", "Brief GPT");
    d.insert("maxContextTokens", 8000);
    d.insert(
        "files",
        vec![files[0].file_id.clone(), files[1].file_id.clone()],
    );
    d.insert("tags", vec!["Saved"]);
    dump.add("conversations", d);
    let files_convo = c.known("A picture and notes");
    let files_oids = c.oids.clone();
    known.conversations.push(files_convo.clone());

    agents_convo(g, dump, known, &alice, &files);

    // 2025: empty `text` and a text part; archived.
    let mut c = Convo::new(g, &alice, "anthropic", "claude-sonnet-4", 400);
    let (q, mut m) = c.message(g, NO_PARENT, true, "Plan a trip to Lisbon.");
    m.insert(
        "content",
        vec![Bson::Document(
            doc! { "type": "text", "text": "Plan a trip to Lisbon." },
        )],
    );
    dump.add("messages", m);
    let (_, mut m) = c.message(g, &q, false, "");
    m.insert(
        "content",
        vec![Bson::Document(
            doc! { "type": "text", "text": "Day 1: Alfama. Day 2: Belém." },
        )],
    );
    dump.add("messages", m);
    let mut d = c.doc(g, "Lisbon trip");
    d.insert("isArchived", true);
    d.insert("thinking", true);
    d.insert("thinkingBudget", 2000);
    dump.add("conversations", d);
    known.conversations.push(c.known("Lisbon trip"));

    // A temporary chat (expires far in the future, so it is still there).
    let far = bson::DateTime::from_millis(4_102_444_800_000);
    let mut c = Convo::new(g, &alice, "openAI", "gpt-4o-mini", 500);
    let (q, mut m) = c.message(g, NO_PARENT, true, "Temporary question");
    m.insert("expiredAt", far);
    dump.add("messages", m);
    let (_, mut m) = c.message(g, &q, false, "Temporary answer");
    m.insert("expiredAt", far);
    dump.add("messages", m);
    let mut d = c.doc(g, "Temporary");
    d.insert("isTemporary", true);
    d.insert("expiredAt", far);
    dump.add("conversations", d);
    known.conversations.push(c.known("Temporary"));

    // Another user's conversation.
    let bob = known.totp_v3.clone();
    let mut c = Convo::new(g, &bob, "google", "gemini-2.5-pro", 600);
    let (q, m) = c.message(g, NO_PARENT, true, "Bob asks about tides");
    dump.add("messages", m);
    let (_, m) = c.message(g, &q, false, "Tides come from the moon.");
    dump.add("messages", m);
    dump.add("conversations", c.doc(g, "Tides"));
    known.conversations.push(c.known("Tides"));

    let branch_oids = branching(g, dump, known, &alice);
    presets(g, dump, known, &alice);
    // schema/share.ts
    for (convo, oids, target) in [
        (&files_convo.id, files_oids, None),
        (
            &known.branching.conversation_id.clone(),
            branch_oids,
            Some(known.branching.main_branch[500].clone()),
        ),
    ] {
        let share_id = g.nanoid(21);
        let mut d = doc! {
            "_id": g.oid(), "conversationId": convo, "title": "Shared chat", "user": &alice.id,
            "messages": oids.clone(), "shareId": &share_id, "isPublic": true,
            "createdAt": at(900), "updatedAt": at(900), "__v": 0,
        };
        if let Some(t) = &target {
            d.insert("targetMessageId", t);
        }
        dump.add("sharedlinks", d);
        known.shares.push(KnownShare {
            share_id,
            conversation_id: convo.clone(),
            target_message_id: target,
            messages: oids.len(),
        });
    }
}

/// A message's `files[]` entry (2024 shape).
fn file_ref(f: &KnownFile, image: bool) -> Document {
    let mut d = doc! { "file_id": &f.file_id, "filepath": &f.filepath, "type": &f.mime, "filename": &f.filename };
    if image {
        d.insert("width", 1);
        d.insert("height", 1);
    }
    d
}

// schema/file.ts: two local uploads, an agent document and a file kept in S3.
fn files(g: &mut Gen, dump: &mut Dump, known: &mut Known, alice: &KnownUser) -> Vec<KnownFile> {
    let png = hex::decode(PNG).expect("png hex");
    let specs: [(&str, &str, &str, Vec<u8>, &str); 3] = [
        ("cat.png", "image/png", "images", png, "message_attachment"),
        (
            "notes.txt",
            "text/plain",
            "uploads",
            b"Notes: migrate the data first.\n".to_vec(),
            "message_attachment",
        ),
        (
            "handbook.md",
            "text/markdown",
            "uploads",
            b"# Handbook\nBe kind.\n".to_vec(),
            "agents",
        ),
    ];
    let mut out = Vec::new();
    for (i, (name, mime, root, bytes, context)) in specs.into_iter().enumerate() {
        let file_id = g.uuid();
        let filepath = format!("/{root}/{}/{file_id}__{name}", alice.id);
        let mut d = doc! {
            "_id": g.oid(), "user": oid(&alice.id), "file_id": &file_id, "temp_file_id": g.uuid(),
            "bytes": bytes.len() as i32, "filename": name, "filepath": &filepath, "object": "file",
            "embedded": context == "agents", "type": mime, "context": context, "usage": 1, "source": "local",
            "createdAt": at(150 + i as i64), "updatedAt": at(150 + i as i64), "__v": 0,
        };
        if root == "images" {
            d.insert("width", 1);
            d.insert("height", 1);
        }
        if context == "agents" {
            d.insert("text", String::from_utf8_lossy(&bytes).into_owned());
        }
        dump.add("files", d);
        dump.add_upload(&filepath[1..], bytes.clone());
        out.push(KnownFile {
            file_id,
            user_id: alice.id.clone(),
            filename: name.into(),
            mime: mime.into(),
            filepath,
            bytes,
        });
    }
    let file_id = g.uuid();
    dump.add("files", doc! {
        "_id": g.oid(), "user": oid(&alice.id), "file_id": &file_id, "bytes": 52_000, "filename": "report.pdf",
        "filepath": format!("https://librechat-files.s3.us-east-1.amazonaws.com/uploads/{}/{file_id}__report.pdf", alice.id),
        "storageKey": format!("uploads/{}/{file_id}__report.pdf", alice.id), "storageRegion": "us-east-1",
        "object": "file", "embedded": false, "type": "application/pdf", "context": "message_attachment",
        "usage": 0, "source": "s3", "createdAt": at(160), "updatedAt": at(160), "__v": 0,
    });
    known.remote_file_ids.push(file_id);
    known.files = out.clone();
    out
}

/// An agents conversation with content parts (think, tool_call, text, image_file, error),
/// web search attachments, an unfinished and an errored answer, and a tool call record.
fn agents_convo(
    g: &mut Gen,
    dump: &mut Dump,
    known: &mut Known,
    alice: &KnownUser,
    files: &[KnownFile],
) {
    let mut c = Convo::new(g, alice, "agents", "gpt-4o", 300);
    let (q, m) = c.message(g, NO_PARENT, true, "Compute 6*7 and draw it.");
    dump.add("messages", m);
    let (a, mut m) = c.message(g, &q, false, "");
    m.insert("sender", "Research Helper");
    let call = format!("call_{}", g.nanoid(24));
    m.insert("content", vec![
        Bson::Document(doc! { "type": "think", "think": "The user wants arithmetic, then an image." }),
        Bson::Document(doc! { "type": "tool_call", "tool_call": {
            "id": &call, "name": "execute_code", "args": r#"{"lang":"py","code":"print(6*7)"}"#,
            "output": "42\n", "type": "tool_call", "progress": 1,
        } }),
        Bson::Document(doc! { "type": "text", "text": "The answer is 42." }),
        Bson::Document(doc! { "type": "image_file", "image_file": {
            "file_id": &files[0].file_id, "filepath": &files[0].filepath, "height": 1, "width": 1,
        } }),
    ]);
    m.insert("attachments", vec![Bson::Document(doc! {
        "type": "web_search", "messageId": m.get_str("messageId").expect("id"), "toolCallId": &call,
        "conversationId": &c.id, "web_search": { "organic": [{ "link": "https://example.com/42", "title": "42" }] },
    })]);
    m.insert("finish_reason", "stop");
    let tool_message = a.clone();
    dump.add("messages", m);
    let (q, m) = c.message(g, &a, true, "Now explain it at length.");
    dump.add("messages", m);
    let (a, mut m) = c.message(g, &q, false, "");
    m.insert("unfinished", true);
    m.insert(
        "content",
        vec![Bson::Document(
            doc! { "type": "text", "text": "Six times seven is" },
        )],
    );
    dump.add("messages", m);
    let (q, m) = c.message(g, &a, true, "Try again.");
    dump.add("messages", m);
    let (_, mut m) = c.message(g, &q, false, "");
    m.insert("error", true);
    m.insert(
        "content",
        vec![Bson::Document(
            doc! { "type": "error", "error": "429: rate limit reached" },
        )],
    );
    dump.add("messages", m);
    let mut d = c.doc(g, "Agent arithmetic");
    d.insert("agent_id", &known.agent_id);
    d.insert("endpointType", Bson::Null);
    d.insert("iconURL", Bson::Null);
    dump.add("conversations", d);
    known.conversations.push(c.known("Agent arithmetic"));
    // schema/toolCall.ts
    dump.add("toolcalls", doc! {
        "_id": g.oid(), "conversationId": &c.id, "messageId": &tool_message, "toolId": "execute_code",
        "user": oid(&alice.id), "result": { "stdout": "42\n", "stderr": "" }, "attachments": [],
        "blockIndex": 0, "partIndex": 1, "createdAt": at(302), "updatedAt": at(302), "__v": 0,
    });
}

/// 2,000 messages; every 10th message of the main branch gets 2 or 3 siblings (regenerations
/// or edits, each a leaf). Written in shuffled order. Returns the `_id`s in creation order.
fn branching(g: &mut Gen, dump: &mut Dump, known: &mut Known, alice: &KnownUser) -> Vec<ObjectId> {
    let mut c = Convo::new(g, alice, "openAI", "gpt-4o", 10_000);
    let mut b = Branching {
        conversation_id: c.id.clone(),
        user_id: alice.id.clone(),
        ..Default::default()
    };
    let mut docs = Vec::with_capacity(BRANCHING_MESSAGES);
    let mut parent = NO_PARENT.to_owned();
    let mut i = 0;
    while docs.len() < BRANCHING_MESSAGES {
        let by_user = i % 2 == 0;
        let text = if i == 1234 {
            "The quixotically named harbour appears only here.".to_owned()
        } else {
            format!(
                "Main branch message {i}: {}",
                if by_user { "a question" } else { "an answer" }
            )
        };
        let (id, m) = c.message(g, &parent, by_user, &text);
        if i == 1234 {
            known.search_message_id = id.clone();
        }
        docs.push(m);
        b.tree.push((id.clone(), parent.clone()));
        b.main_branch.push(id.clone());
        if i > 0 && i % 10 == 0 && docs.len() < BRANCHING_MESSAGES {
            b.forks += 1;
            for s in 0..2 + (i / 10) % 2 {
                if docs.len() == BRANCHING_MESSAGES {
                    break;
                }
                let (sid, m) =
                    c.message(g, &parent, by_user, &format!("Sibling {s} of message {i}"));
                docs.push(m);
                b.tree.push((sid, parent.clone()));
            }
        }
        parent = id;
        i += 1;
    }
    known.search_word = "quixotically".into();
    b.messages = docs.len();
    b.root_id = b.main_branch[0].clone();
    b.leaf_id = b.main_branch.last().expect("messages").clone();
    g.shuffle(&mut docs);
    for m in docs {
        dump.add("messages", m);
    }
    let title = "A very long branching chat";
    let mut d = c.doc(g, title);
    d.insert("promptPrefix", "You are a patient tutor.");
    d.insert("temperature", 0.2);
    dump.add("conversations", d);
    known.branching = b;
    c.oids
}

// schema/preset.ts (+ conversationPreset)
fn presets(g: &mut Gen, dump: &mut Dump, known: &mut Known, alice: &KnownUser) {
    let id = g.uuid();
    dump.add("presets", doc! {
        "_id": g.oid(), "presetId": &id, "title": "Terse GPT", "user": &alice.id, "defaultPreset": true,
        "order": 0, "endpoint": "openAI", "model": "gpt-4o", "temperature": 0.3, "promptPrefix": "Be terse.",
        "modelLabel": "Terse", "resendFiles": false, "createdAt": at(700), "updatedAt": at(700), "__v": 0,
    });
    known.preset_ids.push(id);
    let id = g.uuid();
    dump.add("presets", doc! {
        "_id": g.oid(), "presetId": &id, "title": "Research agent", "user": &alice.id, "order": 1,
        "endpoint": "agents", "agent_id": &known.agent_id, "createdAt": at(701), "updatedAt": at(701), "__v": 0,
    });
    known.preset_ids.push(id);
}
