//! A whole LibreChat deployment moved over with `librechat migrate-from-librechat`: its
//! `mongodump` (written with MongoDB's BSON crate from LibreChat's schemas, see
//! tests/support/librechat_dump) is imported, then the server starts on the data folder and the
//! people of the old deployment use it as LibreChat's client does: they sign in with their old
//! passwords and 2FA codes, see every conversation and branch, search them, open old shared
//! links and use their prompts.

mod support;

use std::sync::Arc;

use librechat::auth::two_factor::current_code;
use serde_json::{Value, json};
use support::TestServer;
use support::fake_openai::{FakeOpenAi, KEY};
use support::librechat_dump::migration::{imported, migrate};
use support::librechat_dump::{Known, standard};
use support::poll::eventually;

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The LibreChat configuration the deployment ran with: balances on.
const YAML: &str = "version: 1.2.8\nbalance:\n  enabled: true\n";

fn prepare(known: &Known) -> Arc<tempfile::TempDir> {
    let home = Arc::new(tempfile::tempdir().unwrap());
    std::fs::write(home.path().join("librechat.yaml"), YAML).unwrap();
    std::fs::write(home.path().join("librechat.env"), &known.env).unwrap();
    home
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_deployment_comes_over_and_its_people_carry_on() {
    let (dump, known) = standard();
    let home = prepare(&known);
    let dir = dump
        .write_mongodump(&home.path().join("dump"), true)
        .unwrap();
    dump.write_uploads(home.path()).unwrap();
    let (uploads, images) = (home.path().join("uploads"), home.path().join("images"));
    let report = migrate(
        home.path(),
        dir.parent().unwrap(),
        &[
            "--uploads",
            uploads.to_str().unwrap(),
            "--images",
            images.to_str().unwrap(),
        ],
    );
    let count = |c: &str| known.counts.get(c).copied().unwrap_or(0) as u64;
    assert_eq!(imported(&report, "users"), count("users"), "{report}");
    for c in [
        "conversations",
        "messages",
        "presets",
        "conversationtags",
        "promptgroups",
        "prompts",
        "memoryentries",
        "keys",
        "pluginauths",
        "balances",
        "transactions",
        "agents",
        "actions",
        "mcpservers",
        "groups",
    ] {
        assert_eq!(imported(&report, c), count(c), "{c}: {report}");
    }
    assert_eq!(imported(&report, "sharedlinks"), known.shares.len() as u64);
    assert_eq!(
        imported(&report, "files"),
        known.files.len() as u64,
        "{report}"
    );
    assert_eq!(
        report["remoteFilesCount"],
        known.remote_file_ids.len(),
        "{report}"
    );
    assert_eq!(report["notImported"]["foo"]["documents"], count("foo"));
    let notes = report["notes"].to_string();
    assert!(notes.contains("2FA secrets"), "{notes}");
    assert!(notes.contains("search: indexed"), "{notes}");

    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .yaml(YAML)
        .in_dir(home.clone())
        .start()
        .await;

    // The old password works; every conversation and the whole branching tree are there.
    let alice = known.alice.clone();
    let s = server
        .login(&alice.email, alice.password.as_deref().unwrap())
        .await;
    // With the terms accepted, and when.
    let me = server.get_json("/api/user", &s.token).await;
    assert_eq!(me["termsAccepted"], true, "{me}");
    assert_eq!(me["termsAcceptedAt"], "2024-01-01T00:03:00.000Z", "{me}");
    let mut ids = Vec::new();
    for archived in [false, true] {
        let list = server
            .get_json(
                &format!("/api/convos?limit=100&isArchived={archived}"),
                &s.token,
            )
            .await;
        ids.extend(
            list["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c["conversationId"].as_str().map(str::to_owned)),
        );
    }
    // Temporary chats are not listed (as in LibreChat); they open by id until they expire.
    for c in known.conversations.iter().filter(|c| c.user_id == alice.id) {
        if c.title == "Temporary" {
            let convo = server
                .get_json(&format!("/api/convos/{}", c.id), &s.token)
                .await;
            assert_eq!(convo["conversationId"], c.id.as_str());
            continue;
        }
        assert!(
            ids.contains(&c.id),
            "{} ({}) missing from {ids:?}",
            c.id,
            c.title
        );
    }
    let b = &known.branching;
    let messages = server
        .get_json(&format!("/api/messages/{}", b.conversation_id), &s.token)
        .await;
    let messages = messages.as_array().unwrap();
    assert_eq!(messages.len(), b.messages);
    let tree: std::collections::HashMap<&str, &str> = messages
        .iter()
        .map(|m| {
            (
                m["messageId"].as_str().unwrap(),
                m["parentMessageId"].as_str().unwrap(),
            )
        })
        .collect();
    for (id, parent) in &b.tree {
        assert_eq!(tree.get(id.as_str()), Some(&parent.as_str()), "{id}");
    }

    // Search finds a word of an old message.
    let found = server
        .get_json(&format!("/api/search?q={}", known.search_word), &s.token)
        .await;
    assert_eq!(
        found["messages"][0]["messageId"], known.search_message_id,
        "{found}"
    );

    // Old shared links open, with the messages they held.
    for share in &known.shares {
        let page = server
            .get_json(&format!("/api/share/{}", share.share_id), &s.token)
            .await;
        let shown = page["messages"].as_array().map_or(0, Vec::len);
        assert!(shown > 0 && shown <= share.messages, "{page}");
        assert!(!page.to_string().contains(&alice.id), "anonymized");
    }

    // The prompt group, its versions and its production text.
    let group = server
        .get_json(
            &format!("/api/prompts/groups/{}", known.prompt_group_id),
            &s.token,
        )
        .await;
    assert_eq!(
        group["productionPrompt"]["prompt"], known.prompt_production_text,
        "{group}"
    );
    assert_eq!(group["command"], known.prompt_command);
    let versions = server
        .get_json(
            &format!("/api/prompts?groupId={}", known.prompt_group_id),
            &s.token,
        )
        .await;
    assert_eq!(versions.as_array().unwrap().len(), known.prompt_versions);

    // Stored keys were sealed again and still say the same: the endpoint key's expiry shows.
    let balance = server.get_json("/api/balance", &s.token).await;
    let credits = known
        .balances
        .iter()
        .find(|(u, _)| *u == alice.id)
        .map(|(_, c)| *c);
    assert_eq!(balance["tokenCredits"], credits.unwrap(), "{balance}");

    // The old conversation goes on where its branch ended, with its history.
    let done = server
        .chat(
            &s,
            "openAI",
            json!({"text": "And then, zwieback?", "endpoint": "openAI", "model": "gpt-4o",
                   "conversationId": b.conversation_id, "parentMessageId": b.leaf_id}),
        )
        .await;
    assert!(done.get("error").is_none(), "{done}");
    let asked = fake.last_chat();
    assert!(
        asked["messages"].as_array().unwrap().len() > 2,
        "the history reaches the model: {asked}"
    );
    // The import wrote messages past the search outbox; new ones are indexed again as they
    // come (its trigger is back).
    eventually(|| async {
        let found = server.get_json("/api/search?q=zwieback", &s.token).await;
        found["messages"].as_array().is_some_and(|m| !m.is_empty())
    })
    .await;
    // The old agent answers with its instructions.
    let done = server
        .chat(
            &s,
            "agents",
            json!({"text": "Hello", "endpoint": "agents", "agent_id": known.agent_id}),
        )
        .await;
    assert!(done.get("error").is_none(), "{done}");
    assert!(
        fake.last_chat()
            .to_string()
            .contains("Be helpful, cite sources."),
        "{}",
        fake.last_chat()
    );

    // Files come with their bytes; the agent with its versions.
    for f in known.files.iter().filter(|f| f.user_id == alice.id) {
        let resp = server
            .get_as(
                &format!("/api/files/download/{}/{}", alice.id, f.file_id),
                &s.token,
            )
            .await;
        assert_eq!(resp.status(), 200, "{}", f.filename);
        assert_eq!(resp.bytes().await.unwrap().as_ref(), &f.bytes[..]);
    }
    let versions = server
        .get_json(
            &format!("/api/agents/{}/versions", known.agent_id),
            &s.token,
        )
        .await;
    assert_eq!(
        versions.as_array().map(Vec::len),
        Some(known.agent_versions),
        "{versions}"
    );

    // 2FA: each stored form of the secret (v3, v2, plain) still gives the codes the person's
    // authenticator app shows; a used backup code stays used.
    for user in [&known.totp_v3, &known.totp_v2, &known.totp_plain] {
        let resp = server
            .post_json(
                "/api/auth/login",
                json!({"email": user.email, "password": user.password}),
            )
            .await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["twoFAPending"], true, "{}: {body}", user.email);
        let temp = body["tempToken"].as_str().unwrap();
        let code = current_code(user.totp_secret.as_deref().unwrap(), now_secs()).unwrap();
        let resp = server
            .post_json(
                "/api/auth/2fa/verify-temp",
                json!({"tempToken": temp, "token": code}),
            )
            .await;
        assert_eq!(
            resp.status(),
            200,
            "{} ({:?})",
            user.email,
            user.totp_format
        );
    }
    let bob = &known.totp_v3;
    for (code, status) in [
        (bob.used_backup_code.clone().unwrap(), 400),
        (bob.backup_codes[0].clone(), 200),
    ] {
        let body: Value = server
            .post_json(
                "/api/auth/login",
                json!({"email": bob.email, "password": bob.password}),
            )
            .await
            .json()
            .await
            .unwrap();
        let resp = server
            .post_json(
                "/api/auth/2fa/verify-temp",
                json!({"tempToken": body["tempToken"], "backupCode": code}),
            )
            .await;
        assert_eq!(resp.status(), status, "backup code {code}");
    }
    let home = server.stop().await;

    // Again: nothing new comes in, nothing is doubled.
    let again = migrate(home.path(), dir.parent().unwrap(), &["--no-reindex"]);
    for (name, c) in again["collections"].as_object().unwrap() {
        assert_eq!(c["imported"], 0, "{name}: {c}");
    }
    assert_eq!(
        again["collections"]["messages"]["alreadyPresent"],
        count("messages")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_of_the_backup_imports_the_same() {
    let (dump, known) = standard();
    let mut reports = Vec::new();
    for form in ["bson", "bson.gz", "relaxed", "canonical", "array"] {
        let home = prepare(&known);
        let out = home.path().join("dump");
        let dir = match form {
            "bson" => dump.write_mongodump(&out, false).unwrap(),
            "bson.gz" => dump.write_mongodump(&out, true).unwrap(),
            "relaxed" => {
                dump.write_mongoexport(&out, false).unwrap();
                out.clone()
            }
            "canonical" => {
                dump.write_mongoexport(&out, true).unwrap();
                out.clone()
            }
            _ => {
                dump.write_mongoexport_array(&out, false).unwrap();
                out.clone()
            }
        };
        let report = migrate(home.path(), &dir, &["--dry-run"]);
        let summary: Vec<(String, Value, Value)> = report["collections"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v["imported"].clone(), v["skipped"].clone()))
            .collect();
        reports.push((form, summary));
    }
    for (form, summary) in &reports[1..] {
        assert_eq!(summary, &reports[0].1, "{form} differs from bson");
    }
}

/// Into a data folder whose server already ran (it has a search index), without rebuilding
/// the index at the end: the next start rebuilds it, and the old messages are found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_left_unindexed_is_searchable_after_the_next_start() {
    let (dump, known) = standard();
    let home = prepare(&known);
    let server = TestServer::builder()
        .yaml(YAML)
        .in_dir(home.clone())
        .start()
        .await;
    let home = server.stop().await;
    let dir = dump
        .write_mongodump(&home.path().join("dump"), false)
        .unwrap();
    let report = migrate(home.path(), dir.parent().unwrap(), &["--no-reindex"]);
    assert!(imported(&report, "messages") > 0, "{report}");
    let server = TestServer::builder()
        .yaml(YAML)
        .in_dir(home.clone())
        .start()
        .await;
    let alice = known.alice.clone();
    let s = server
        .login(&alice.email, alice.password.as_deref().unwrap())
        .await;
    eventually(|| async {
        let found = server
            .get_json(&format!("/api/search?q={}", known.search_word), &s.token)
            .await;
        found["messages"][0]["messageId"] == known.search_message_id
    })
    .await;
}
