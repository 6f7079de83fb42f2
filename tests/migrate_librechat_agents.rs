//! `librechat migrate-from-librechat` with agents and the permission system: a `mongodump`
//! written with the `bson` crate from LibreChat's schemas (agentCategory, agent, action,
//! mcpServer, group, accessRole, aclEntry, toolCall, and the users, conversation and messages
//! they name), imported by the real binary, then read through the API as LibreChat's client
//! reads it. Running it again imports nothing new; what cannot come over is reported.

mod support;

use std::path::Path;
use std::sync::Arc;

use bson::{Bson, DateTime, Document, doc, oid::ObjectId};
use serde_json::Value;
use support::TestServer;
use support::librechat_dump::migration::{self, outcomes, skipped};
use support::librechat_dump::{CREDS_IV, CREDS_KEY};

const PW: &str = "old-librechat-password";
// The secrets below are of LibreChat's CREDS_KEY/CREDS_IV of the golden vectors (made by its
// own encryptV2 in Node).
/// encryptV2(encodeURIComponent("a:b c")).
const ACTION_KEY: &str = "101112131415161718191a1b1c1d1e1f:6d3243d066dc74f57cbf9204ef634dab";
/// encryptV2("JBSWY3DPEHPK3PXP").
const MCP_KEY: &str = "101112131415161718191a1b1c1d1e1f:9ec1ef63dc3b2b61807315e1b426740bd2b0c5a190e4138b2a89da6661138e52";

fn oid(hex: &str) -> ObjectId {
    ObjectId::parse_str(hex).unwrap()
}

const ALICE: &str = "65a000000000000000000001";
const BOB: &str = "65a000000000000000000002";
const CAROL: &str = "65a000000000000000000003";
const NOBODY: &str = "65a0000000000000000000ff";
const AGENT_A: &str = "65b000000000000000000001";
const AGENT_B: &str = "65b000000000000000000002";
const AGENT_ORPHAN: &str = "65b000000000000000000003";
const MCP: &str = "65c000000000000000000001";
const TEAM: &str = "65d000000000000000000001";
const ENTRA: &str = "65d000000000000000000002";
const VIEWER_ROLE: &str = "65e000000000000000000001";
const OWNER_ROLE: &str = "65e000000000000000000002";
const MCP_OWNER_ROLE: &str = "65e000000000000000000003";
const PROJECT_ROLE: &str = "65e000000000000000000004";

fn at(ms: i64) -> DateTime {
    DateTime::from_millis(1_704_067_200_000 + ms)
}

fn user(id: &str, email: &str, hash: &str, extra: Document) -> Document {
    let mut d = doc! {
        "_id": oid(id), "name": email.split('@').next().unwrap(), "username": "",
        "email": email, "emailVerified": true, "password": hash, "provider": "local",
        "role": "USER", "createdAt": at(0), "updatedAt": at(0), "__v": 0,
    };
    d.extend(extra);
    d
}

fn agent_fields(name: &str, instructions: &str) -> Document {
    doc! {
        "name": name, "description": "Answers questions", "instructions": instructions,
        "provider": "openAI", "model": "gpt-4o", "model_parameters": {"temperature": 0.2},
        "tools": ["calculator"], "conversation_starters": ["Hello"], "edges": [],
        "category": "legal", "tool_kwargs": [], "mcpServerNames": [],
    }
}

fn agent(id: &str, agent_id: &str, author: &str, versions: Vec<Document>) -> Document {
    let mut d = doc! {"_id": oid(id), "id": agent_id, "author": oid(author), "authorName": "alice"};
    d.extend(agent_fields("Lawyer", "Be precise (v2)"));
    d.insert(
        "actions",
        vec![Bson::String("api.example.com_action_act1".into())],
    );
    d.insert(
        "versions",
        versions.into_iter().map(Bson::Document).collect::<Vec<_>>(),
    );
    d.insert("createdAt", at(1000));
    d.insert("updatedAt", at(2000));
    d
}

fn acl(
    id: &str,
    rt: &str,
    resource: &str,
    ptype: &str,
    principal: Bson,
    role: &str,
    bits: i32,
) -> Document {
    doc! {
        "_id": ObjectId::parse_str(id).unwrap(), "resourceType": rt, "resourceId": oid(resource),
        "principalType": ptype, "principalId": principal, "principalModel": "User",
        "roleId": oid(role), "permBits": bits, "grantedBy": oid(ALICE), "grantedAt": at(3000),
    }
}

/// The lawyer's picture as LibreChat keeps it (`processLocalAvatar`), and its bytes.
const PICTURE: &str =
    "/images/65a000000000000000000001/agent-agent_lawyer-avatar-1704067200000.png";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n a lawyer's face";
/// The clerk's, in S3.
const S3_PICTURE: &str = "https://b.s3.amazonaws.com/images/a/agent-agent_clerk-avatar-1.png";

/// The dump: `dump/LibreChat/<collection>.bson`, as `mongodump --out dump` writes it, and
/// `images/` (LibreChat's `client/public/images/`).
fn write_dump(root: &Path) {
    let picture = root.join(&PICTURE[1..]);
    std::fs::create_dir_all(picture.parent().unwrap()).unwrap();
    std::fs::write(picture, PNG).unwrap();
    let db = root.join("dump/LibreChat");
    std::fs::create_dir_all(&db).unwrap();
    let hash = bcrypt::hash(PW, 4).unwrap();
    let mut v1 = agent_fields("Lawyer", "Be precise");
    v1.insert("createdAt", at(1000));
    v1.insert("updatedAt", at(1000));
    let mut v2 = agent_fields("Lawyer", "Be precise (v2)");
    v2.insert("createdAt", at(1000));
    v2.insert("updatedAt", at(2000));
    v2.insert("updatedBy", oid(ALICE));
    let avatar = doc! {"filepath": format!("{PICTURE}?manual=false"), "source": "local"};
    v2.insert("avatar", avatar.clone());
    let collections: Vec<(&str, Vec<Document>)> = vec![
        (
            "users",
            vec![
                user(ALICE, "alice@example.org", &hash, doc! {}),
                user(BOB, "bob@example.org", &hash, doc! {}),
                user(
                    CAROL,
                    "carol@example.org",
                    &hash,
                    doc! {"provider": "openid", "openidId": "carol-sub", "idOnTheSource": "entra-carol"},
                ),
            ],
        ),
        (
            "conversations",
            vec![doc! {
                "_id": ObjectId::new(), "conversationId": "c0nv-0001", "user": ALICE,
                "title": "Law talk", "endpoint": "agents", "agent_id": "agent_lawyer",
                "createdAt": at(0), "updatedAt": at(0),
            }],
        ),
        (
            "messages",
            vec![
                doc! {
                    "_id": ObjectId::new(), "messageId": "m-0001", "conversationId": "c0nv-0001",
                    "user": ALICE, "parentMessageId": "00000000-0000-0000-0000-000000000000",
                    "isCreatedByUser": true, "sender": "User", "text": "2+2?",
                    "createdAt": at(10), "updatedAt": at(10),
                },
                doc! {
                    "_id": ObjectId::new(), "messageId": "m-0002", "conversationId": "c0nv-0001",
                    "user": ALICE, "parentMessageId": "m-0001", "isCreatedByUser": false,
                    "sender": "Lawyer", "text": "",
                    "content": [
                        {"type": "text", "text": "Let me count."},
                        {"type": "tool_call", "tool_call": {"id": "call_abc", "name": "calculator", "args": "2+2", "output": "4"}},
                    ],
                    "createdAt": at(20), "updatedAt": at(20),
                },
            ],
        ),
        (
            "toolcalls",
            vec![
                doc! {
                    "_id": oid("65f000000000000000000001"), "conversationId": "c0nv-0001",
                    "messageId": "m-0002", "toolId": "calculator", "user": oid(ALICE),
                    "result": {"answer": 4}, "partIndex": 1, "blockIndex": 0,
                    "createdAt": at(21), "updatedAt": at(21),
                },
                doc! {
                    "_id": oid("65f000000000000000000002"), "conversationId": "c0nv-0001",
                    "messageId": "m-gone", "toolId": "calculator", "user": oid(ALICE),
                    "partIndex": 0,
                },
            ],
        ),
        (
            "agentcategories",
            vec![
                doc! {"_id": ObjectId::new(), "value": "legal", "label": "Legal", "order": 9, "isActive": true, "custom": true},
                doc! {"_id": ObjectId::new(), "value": "general", "label": "com_agents_category_general", "order": 0},
            ],
        ),
        (
            "agents",
            vec![
                {
                    let mut a = agent(AGENT_A, "agent_lawyer", ALICE, vec![v1, v2]);
                    a.insert("avatar", avatar);
                    a
                },
                {
                    let mut b = agent(AGENT_B, "agent_clerk", ALICE, vec![]);
                    b.insert("name", "Clerk");
                    b.insert("avatar", doc! {"filepath": S3_PICTURE, "source": "s3"});
                    b.remove("actions");
                    b
                },
                agent(AGENT_ORPHAN, "agent_orphan", NOBODY, vec![]),
            ],
        ),
        (
            "actions",
            vec![
                doc! {
                    "_id": oid("65aa00000000000000000001"), "user": oid(ALICE),
                    "action_id": "act1", "type": "action_prototype", "agent_id": "agent_lawyer",
                    "metadata": {
                        "domain": "api.example.com", "raw_spec": "openapi: 3.0.0",
                        "auth": {"type": "service_http", "authorization_type": "bearer"},
                        "api_key": ACTION_KEY,
                    },
                },
                doc! {
                    "_id": oid("65aa00000000000000000002"), "user": oid(ALICE),
                    "action_id": "act2", "assistant_id": "asst_1",
                    "metadata": {"domain": "api.example.com"},
                },
            ],
        ),
        (
            "mcpservers",
            vec![doc! {
                "_id": oid(MCP), "serverName": "law-tools", "normalizedServerName": "law-tools",
                "author": oid(ALICE), "createdAt": at(0), "updatedAt": at(0),
                "config": {
                    "type": "streamable-http", "url": "https://mcp.example.com/mcp", "title": "Law tools",
                    "apiKey": {"source": "admin", "authorization_type": "bearer", "key": MCP_KEY},
                },
            }],
        ),
        (
            "groups",
            vec![
                doc! {"_id": oid(TEAM), "name": "Team", "source": "local", "memberIds": [BOB, "not-a-person"], "createdAt": at(0), "updatedAt": at(0)},
                doc! {"_id": oid(ENTRA), "name": "Entra staff", "source": "entra", "idOnTheSource": "grp-1", "memberIds": ["entra-carol"]},
            ],
        ),
        (
            "accessroles",
            vec![
                doc! {"_id": oid(VIEWER_ROLE), "accessRoleId": "agent_viewer", "name": "com_ui_role_viewer", "resourceType": "agent", "permBits": 1},
                doc! {"_id": oid(OWNER_ROLE), "accessRoleId": "agent_owner", "name": "com_ui_role_owner", "resourceType": "agent", "permBits": 15},
                doc! {"_id": oid(MCP_OWNER_ROLE), "accessRoleId": "mcpServer_owner", "name": "x", "resourceType": "mcpServer", "permBits": 15},
                doc! {"_id": oid(PROJECT_ROLE), "accessRoleId": "project_viewer", "name": "x", "resourceType": "project", "permBits": 1},
            ],
        ),
        (
            "aclentries",
            vec![
                acl(
                    "65ab00000000000000000001",
                    "agent",
                    AGENT_A,
                    "user",
                    Bson::ObjectId(oid(ALICE)),
                    OWNER_ROLE,
                    15,
                ),
                acl(
                    "65ab00000000000000000002",
                    "agent",
                    AGENT_B,
                    "user",
                    Bson::ObjectId(oid(ALICE)),
                    OWNER_ROLE,
                    15,
                ),
                acl(
                    "65ab00000000000000000003",
                    "agent",
                    AGENT_A,
                    "user",
                    Bson::ObjectId(oid(BOB)),
                    VIEWER_ROLE,
                    1,
                ),
                acl(
                    "65ab00000000000000000004",
                    "agent",
                    AGENT_B,
                    "group",
                    Bson::ObjectId(oid(TEAM)),
                    VIEWER_ROLE,
                    1,
                ),
                acl(
                    "65ab00000000000000000005",
                    "mcpServer",
                    MCP,
                    "user",
                    Bson::ObjectId(oid(ALICE)),
                    MCP_OWNER_ROLE,
                    15,
                ),
                // The orphan agent was not imported: nor is access to it.
                acl(
                    "65ab00000000000000000006",
                    "agent",
                    AGENT_ORPHAN,
                    "user",
                    Bson::ObjectId(oid(BOB)),
                    VIEWER_ROLE,
                    1,
                ),
                acl(
                    "65ab00000000000000000007",
                    "project",
                    AGENT_A,
                    "public",
                    Bson::Null,
                    PROJECT_ROLE,
                    1,
                ),
            ],
        ),
    ];
    for (name, docs) in collections {
        migration::write_bson(&db.join(format!("{name}.bson")), &docs);
    }
}

/// Runs the migration of the test server's folder's dump and images (with LibreChat's keys
/// when its .env is there); the report's JSON.
fn migrate(dir: &Path) -> Value {
    let images = dir.join("images");
    migration::migrate(
        dir,
        &dir.join("dump"),
        &["--images", images.to_str().unwrap()],
    )
}

#[tokio::test]
async fn agents_actions_sharing_groups_and_mcp_servers_come_over_and_work() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let root = dir.path();
    write_dump(root);
    std::fs::write(root.join("librechat.yaml"), "version: 1.2.8\n").unwrap();
    std::fs::write(
        root.join("librechat.env"),
        format!("CREDS_KEY={CREDS_KEY}\nCREDS_IV={CREDS_IV}\n"),
    )
    .unwrap();

    // A dry run would bring the picture over, and writes nothing.
    let images = root.join("images");
    let dry_run = ["--images", images.to_str().unwrap(), "--dry-run"];
    let dry = migration::migrate(root, &root.join("dump"), &dry_run);
    assert_eq!(outcomes(&dry, "agentAvatars"), (1, 0, 1), "{dry:#}");
    assert!(!root.join("data/librechat.db").exists());
    assert!(!root.join("data/files").exists());

    let first = migrate(root);
    let expected = [
        ("agentcategories", (1, 1, 0)),
        ("agents", (2, 0, 1)),
        ("actions", (1, 0, 1)),
        ("mcpservers", (1, 0, 0)),
        ("groups", (2, 0, 0)),
        ("accessroles", (0, 3, 1)),
        ("aclentries", (5, 0, 2)),
        ("toolcalls", (1, 0, 1)),
    ];
    for (name, want) in expected {
        assert_eq!(outcomes(&first, name), want, "{name}: {first:#}");
    }
    assert_eq!(skipped(&first, "agents", "user_not_found"), 1);
    assert_eq!(skipped(&first, "actions", "assistants_not_supported"), 1);
    assert_eq!(skipped(&first, "aclentries", "resource_not_found"), 1);
    assert_eq!(skipped(&first, "aclentries", "unsupported_resource"), 1);
    assert_eq!(skipped(&first, "toolcalls", "message_not_found"), 1);
    assert_eq!(skipped(&first, "accessroles", "unknown_access_role"), 1);
    let notes = first["notes"].to_string();
    assert!(notes.contains("1 action credentials"), "{notes}");
    assert!(notes.contains("1 MCP server secrets"), "{notes}");
    assert!(
        notes.contains("1 group members who are not people here"),
        "{notes}"
    );
    // The lawyer's picture came over; the clerk's, in S3, stays there and is listed.
    assert_eq!(outcomes(&first, "agentAvatars"), (1, 0, 1), "{first:#}");
    assert_eq!(skipped(&first, "agentAvatars", "remote_storage"), 1);
    assert_eq!(first["remoteFiles"][0]["filepath"], S3_PICTURE, "{first:#}");

    // Again: nothing new, everything already there, the same skips.
    let second = migrate(root);
    for (name, (imported, present, skips)) in expected {
        assert_eq!(
            outcomes(&second, name),
            (0, imported + present, skips),
            "{name}: {second:#}"
        );
    }
    assert_eq!(outcomes(&second, "agentAvatars"), (0, 0, 1), "{second:#}");

    let server = TestServer::builder().in_dir(dir.clone()).start().await;
    let alice = server.login("alice@example.org", PW).await;
    let bob = server.login("bob@example.org", PW).await;

    // The author's agents, with their versions, in LibreChat's shapes.
    let list = server.get_json("/api/agents", &alice.token).await;
    let mut ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["agent_clerk", "agent_lawyer"], "{list}");
    let lawyer = server
        .get_json("/api/agents/agent_lawyer/expanded", &alice.token)
        .await;
    assert_eq!(lawyer["_id"], AGENT_A, "{lawyer}");
    assert_eq!(lawyer["instructions"], "Be precise (v2)");
    assert_eq!(lawyer["category"], "legal");
    assert_eq!(lawyer["actions"][0], "api.example.com_action_act1");
    let versions = server
        .get_json("/api/agents/agent_lawyer/versions", &alice.token)
        .await;
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(versions[0]["instructions"], "Be precise");
    assert_eq!(versions[1]["instructions"], "Be precise (v2)");

    // The lawyer's picture, at this server's address (in the version naming it too), shown
    // to its author and to Bob it is shared with, not to a stranger; brought over once.
    let shown = lawyer["avatar"]["filepath"].as_str().unwrap();
    assert!(
        shown.starts_with("/images/agents/agent_lawyer/"),
        "{lawyer}"
    );
    assert!(shown.ends_with(".png"), "{lawyer}");
    assert_eq!(lawyer["avatar"]["source"], "local");
    assert_eq!(versions[1]["avatar"]["filepath"], shown, "{versions:?}");
    for token in [&alice.token, &bob.token] {
        let resp = server.get_as(shown, token).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.bytes().await.unwrap(), PNG);
    }
    let dave = server.signed_in("dave@example.org", PW).await;
    assert_eq!(server.get_as(shown, &dave.token).await.status(), 404);
    let pictures: i64 = server
        .state
        .db
        .read(|c| {
            let sql = "SELECT count(*) FROM files WHERE context = 'agent_avatar'";
            c.query_row(sql, [], |r| r.get(0))
        })
        .await
        .unwrap();
    assert_eq!(pictures, 1);
    let in_s3 = server
        .get_json("/api/agents/agent_clerk/expanded", &alice.token)
        .await;
    assert_eq!(in_s3["avatar"]["filepath"], S3_PICTURE, "{in_s3}");
    let clerk = server
        .get_json("/api/agents/agent_clerk/versions", &alice.token)
        .await;
    assert_eq!(clerk.as_array().unwrap().len(), 1, "{clerk}");
    let categories = server
        .get_json("/api/agents/categories", &alice.token)
        .await;
    assert!(
        categories
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["value"] == "legal" && c["label"] == "Legal"),
        "{categories}"
    );

    // Its action, whose API key opens with this server's key.
    let actions = server.get_json("/api/agents/actions", &alice.token).await;
    assert_eq!(actions[0]["action_id"], "act1", "{actions}");
    assert_eq!(actions[0]["metadata"]["domain"], "api.example.com");
    assert!(!actions.to_string().contains("api_key\":\""), "{actions}");
    let sealed: String = server
        .state
        .db
        .read(|c| {
            c.query_row(
                "SELECT api_key FROM actions WHERE action_id = 'act1'",
                [],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(server.state.cipher.decrypt(&sealed).unwrap(), "a:b c");

    // Shared with Bob directly (the lawyer) and through his group (the clerk).
    let shared = server.get_json("/api/agents", &bob.token).await;
    assert_eq!(shared["data"].as_array().unwrap().len(), 2, "{shared}");
    let seen = server
        .get_json("/api/agents/agent_lawyer", &bob.token)
        .await;
    assert_eq!(seen["name"], "Lawyer");
    let denied = server
        .get_as("/api/agents/agent_lawyer/versions", &bob.token)
        .await;
    assert_eq!(denied.status(), 403);
    let members: Vec<(String, String)> = server
        .state
        .db
        .read(|c| {
            let mut s = c.prepare(
                "SELECT g.name || '/' || g.source, m.user_id FROM group_members m
                 JOIN groups g ON g.id = m.group_id ORDER BY 1",
            )?;
            let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap();
    assert_eq!(
        members,
        [
            ("Entra staff/openid".to_owned(), CAROL.to_owned()),
            ("Team/local".to_owned(), BOB.to_owned()),
        ]
    );

    // The MCP server is its author's, and Bob does not see it.
    let servers = server.get_json("/api/mcp/servers", &alice.token).await;
    assert!(servers.get("law-tools").is_some(), "{servers}");
    assert!(!servers.to_string().contains("JBSWY3DPEHPK3PXP"));
    let theirs = server.get_json("/api/mcp/servers", &bob.token).await;
    assert!(theirs.get("law-tools").is_none(), "{theirs}");
    let config: String = server
        .state
        .db
        .read(|c| c.query_row("SELECT config FROM mcp_servers", [], |r| r.get(0)))
        .await
        .unwrap();
    let config: Value = serde_json::from_str(&config).unwrap();
    let key = config["apiKey"]["key"].as_str().unwrap();
    assert_eq!(
        server.state.cipher.decrypt(key).unwrap(),
        "JBSWY3DPEHPK3PXP"
    );

    // The answer's tool call, with the provider's call id read from the answer.
    let calls = server
        .get_json(
            "/api/agents/tools/calls?conversationId=c0nv-0001",
            &alice.token,
        )
        .await;
    assert_eq!(calls[0]["_id"], "65f000000000000000000001", "{calls}");
    assert_eq!(calls[0]["result"]["answer"], 4);
    let call_id: String = server
        .state
        .db
        .read(|c| c.query_row("SELECT call_id FROM tool_calls", [], |r| r.get(0)))
        .await
        .unwrap();
    assert_eq!(call_id, "call_abc");
    server.stop().await;
}

#[test]
fn without_librechat_keys_encrypted_credentials_are_refused_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_dump(root);
    std::fs::write(root.join("librechat.yaml"), "version: 1.2.8\n").unwrap();
    // The lawyer's picture is gone: the agent comes over without it, and the report says so.
    std::fs::remove_file(root.join(&PICTURE[1..])).unwrap();
    let report = migrate(root);
    assert_eq!(outcomes(&report, "agents"), (2, 0, 1), "{report:#}");
    assert_eq!(skipped(&report, "agentAvatars", "bytes_not_found"), 1);
    let words = report["collections"]["agentAvatars"]["reasons"].to_string();
    assert!(words.contains("are not in --images"), "{words}");
    assert_eq!(outcomes(&report, "actions"), (0, 0, 2), "{report:#}");
    assert_eq!(skipped(&report, "actions", "no_creds_key"), 1);
    assert_eq!(outcomes(&report, "mcpservers"), (0, 0, 1), "{report:#}");
    assert_eq!(skipped(&report, "mcpservers", "no_creds_key"), 1);
    // Access to the server that did not come over does not either.
    assert_eq!(skipped(&report, "aclentries", "resource_not_found"), 2);
    let words = report["collections"]["actions"]["reasons"].to_string();
    assert!(words.contains("CREDS_KEY was not given"), "{words}");
}
