//! The LibreChat dump builder on its own: the standard dump written as mongodump (plain and
//! gzipped), mongoexport (relaxed and canonical lines, JSON array) and the upload folders, read
//! back with the bson crate; the bulk dump streamed and counted.

mod support;

use bson::Document;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use support::librechat_dump::{self as lc, NO_PARENT, bulk, read_bson, read_extjson};

/// Every collection of issue 21, and the unknown one.
const COLLECTIONS: &[&str] = &[
    "users",
    "roles",
    "balances",
    "transactions",
    "groups",
    "keys",
    "pluginauths",
    "memoryentries",
    "tokens",
    "sessions",
    "conversationtags",
    "chatprojects",
    "files",
    "conversations",
    "messages",
    "toolcalls",
    "presets",
    "sharedlinks",
    "promptgroups",
    "prompts",
    "actions",
    "agents",
    "mcpservers",
    "accessroles",
    "aclentries",
    "banners",
    "toolfavorites",
    "agentcategories",
    "foo",
];

fn read_all(
    dir: &Path,
    ext: &str,
    read: fn(&Path) -> std::io::Result<Vec<Document>>,
) -> BTreeMap<String, Vec<Document>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if let Some(coll) = name.strip_suffix(ext) {
            out.insert(coll.to_owned(), read(&path).unwrap());
        }
    }
    out
}

#[test]
fn standard_dump_round_trips_in_every_form() {
    let (dump, known) = lc::standard();
    for c in COLLECTIONS {
        assert!(
            known.counts.get(*c).copied().unwrap_or(0) > 0,
            "{c} is empty"
        );
    }
    assert_eq!(
        known.counts.len(),
        COLLECTIONS.len(),
        "{:?}",
        known.counts.keys()
    );
    let tmp = tempfile::tempdir().unwrap();

    for gzip in [false, true] {
        let out = tmp.path().join(format!("dump-{gzip}"));
        let db = dump.write_mongodump(&out, gzip).unwrap();
        assert_eq!(db, out.join("LibreChat"));
        let ext = if gzip { ".bson.gz" } else { ".bson" };
        let read = read_all(&db, ext, read_bson);
        for (coll, docs) in &read {
            assert_eq!(docs.as_slice(), dump.docs(coll), "{coll} (gzip {gzip})");
            let meta = db.join(format!(
                "{coll}.metadata.json{}",
                if gzip { ".gz" } else { "" }
            ));
            let mut text = String::new();
            std::io::Read::read_to_string(&mut lc::open_in(&meta).unwrap(), &mut text).unwrap();
            let meta: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(meta["collectionName"], coll.as_str());
        }
        assert_eq!(
            read.iter()
                .map(|(c, d)| (c.clone(), d.len()))
                .collect::<BTreeMap<_, _>>(),
            known.counts
        );
    }

    for (form, canonical, array) in [
        ("relaxed", false, false),
        ("canonical", true, false),
        ("array", false, true),
    ] {
        let out = tmp.path().join(form);
        if array {
            dump.write_mongoexport_array(&out, canonical).unwrap();
        } else {
            dump.write_mongoexport(&out, canonical).unwrap();
        }
        let read = read_all(&out, ".json", read_extjson);
        assert_eq!(
            read.iter()
                .map(|(c, d)| (c.clone(), d.len()))
                .collect::<BTreeMap<_, _>>(),
            known.counts,
            "{form}"
        );
        // Canonical Extended JSON keeps every BSON type; relaxed turns int64/double details into
        // plain numbers, so only the ids are compared there.
        for (coll, docs) in &read {
            for (a, b) in docs.iter().zip(dump.docs(coll)) {
                if canonical {
                    assert_eq!(a, b, "{coll} ({form})");
                } else {
                    assert_eq!(a.get("_id"), b.get("_id"), "{coll} ({form})");
                }
            }
        }
        let first = std::fs::read_to_string(out.join("users.json")).unwrap();
        assert_eq!(first.trim_start().starts_with('['), array);
        assert_eq!(first.contains("$numberInt"), canonical);
    }

    dump.write_uploads(tmp.path()).unwrap();
    assert_eq!(known.files.len(), 3);
    for f in &known.files {
        assert_eq!(
            std::fs::read(tmp.path().join(&f.filepath[1..])).unwrap(),
            f.bytes,
            "{}",
            f.filepath
        );
    }
}

#[test]
fn standard_dump_is_deterministic_and_consistent() {
    let (a, known) = lc::standard();
    let (b, again) = lc::standard();
    // Same ids every run (bcrypt salts differ, so compare everything but passwords).
    for coll in a.collections() {
        let strip = |d: &Document| {
            let mut d = d.clone();
            d.remove("password");
            d
        };
        let (x, y): (Vec<_>, Vec<_>) = (
            a.docs(coll).iter().map(strip).collect(),
            b.docs(coll).iter().map(strip).collect(),
        );
        assert_eq!(x, y, "{coll}");
    }
    assert_eq!(known.branching.leaf_id, again.branching.leaf_id);

    // Users: the passwords verify, every sign-in kind is there, the 2FA fields are LibreChat's.
    let users = a.docs("users");
    for u in &known.users {
        let doc = users
            .iter()
            .find(|d| d.get_object_id("_id").unwrap().to_hex() == u.id)
            .unwrap();
        if let Some(pw) = &u.password {
            let hash = doc.get_str("password").unwrap();
            assert!(hash.starts_with("$2a$10$"), "{hash}");
            assert!(bcrypt::verify(pw, hash).unwrap());
        }
    }
    let providers: HashSet<_> = users
        .iter()
        .map(|d| d.get_str("provider").unwrap())
        .collect();
    for p in [
        "local", "google", "facebook", "github", "discord", "apple", "openid", "saml", "ldap",
    ] {
        assert!(providers.contains(p), "{p}");
    }
    let secret_of = |id: &str| {
        users
            .iter()
            .find(|d| d.get_object_id("_id").unwrap().to_hex() == id)
            .unwrap()
            .get_str("totpSecret")
            .unwrap()
            .to_owned()
    };
    assert!(secret_of(&known.totp_v3.id).starts_with("v3:"));
    assert_eq!(secret_of(&known.totp_v2.id).split(':').count(), 2);
    assert_eq!(
        secret_of(&known.totp_plain.id),
        known.totp_plain.totp_secret.clone().unwrap()
    );
    assert_eq!(known.totp_v3.backup_codes.len(), 9);
    assert!(
        known
            .env
            .contains(&format!("CREDS_KEY={}", known.creds_key))
    );

    // The branching conversation: 2,000 messages, one tree, shuffled in the dump.
    let b = &known.branching;
    let msgs: Vec<&Document> = a
        .docs("messages")
        .iter()
        .filter(|d| d.get_str("conversationId").unwrap() == b.conversation_id)
        .collect();
    assert_eq!(msgs.len(), 2_000);
    assert_eq!(b.messages, 2_000);
    let ids: HashSet<&str> = msgs
        .iter()
        .map(|d| d.get_str("messageId").unwrap())
        .collect();
    assert_eq!(ids.len(), 2_000);
    for d in &msgs {
        let parent = d.get_str("parentMessageId").unwrap();
        assert!(parent == NO_PARENT || ids.contains(parent));
    }
    assert!(
        msgs.iter()
            .all(|d| d.get_str("parentMessageId").unwrap() != b.leaf_id)
    );
    let in_order: Vec<&str> = msgs
        .iter()
        .map(|d| d.get_str("messageId").unwrap())
        .collect();
    let created: Vec<&str> = b.tree.iter().map(|(m, _)| m.as_str()).collect();
    assert_ne!(in_order, created, "written in shuffled order");
    assert!(b.forks >= 150, "{}", b.forks);
    let hits = a
        .docs("messages")
        .iter()
        .filter(|d| d.get_str("text").unwrap_or("").contains(&known.search_word))
        .count();
    assert_eq!(hits, 1);

    // Cross references hold.
    let share = &known.shares[1];
    let link = a
        .docs("sharedlinks")
        .iter()
        .find(|d| d.get_str("shareId").unwrap() == share.share_id)
        .unwrap();
    assert_eq!(link.get_array("messages").unwrap().len(), 2_000);
    assert_eq!(
        link.get_str("targetMessageId").unwrap(),
        share.target_message_id.as_deref().unwrap()
    );
    let group = &a.docs("promptgroups")[0];
    assert_eq!(
        group.get_object_id("productionId").unwrap().to_hex(),
        known.prompt_production_id
    );
    let agent = &a.docs("agents")[0];
    assert_eq!(agent.get_str("id").unwrap(), known.agent_id);
    assert_eq!(
        agent.get_array("versions").unwrap().len(),
        known.agent_versions
    );
    let action = &a.docs("actions")[0];
    assert_eq!(
        action
            .get_document("metadata")
            .unwrap()
            .get_str("api_key")
            .unwrap(),
        "101112131415161718191a1b1c1d1e1f:6d3243d066dc74f57cbf9204ef634dab"
    );
    assert_eq!(
        a.docs("keys")[0].get_str("value").unwrap(),
        "dc3546e738f27e44d62925ec7c3db7a5"
    );
}

#[test]
fn bulk_dump_streams_every_message() {
    let tmp = tempfile::tempdir().unwrap();
    for gzip in [false, true] {
        let out = tmp.path().join(format!("bulk-{gzip}"));
        let made = bulk::write_bulk_mongodump(&out, 3, 10, 25, gzip).unwrap();
        assert_eq!(made.messages, 250);
        let ext = if gzip { ".bson.gz" } else { ".bson" };
        let db = out.join("LibreChat");
        let messages = read_bson(&db.join(format!("messages{ext}"))).unwrap();
        assert_eq!(messages.len(), 250);
        assert_eq!(read_bson(&db.join(format!("users{ext}"))).unwrap().len(), 3);
        assert_eq!(
            read_bson(&db.join(format!("conversations{ext}")))
                .unwrap()
                .len(),
            10
        );
        let ids: HashSet<_> = messages
            .iter()
            .map(|d| d.get_object_id("_id").unwrap())
            .collect();
        assert_eq!(ids.len(), 250);
        let mids: HashSet<_> = messages
            .iter()
            .map(|d| d.get_str("messageId").unwrap())
            .collect();
        for d in &messages {
            let parent = d.get_str("parentMessageId").unwrap();
            assert!(parent == NO_PARENT || mids.contains(parent), "{parent}");
        }
        assert_eq!(messages[0].get_str("user").unwrap(), bulk::bulk_user_id(0));
    }
}
