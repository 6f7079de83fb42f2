//! Shared resources: prompt groups and their versions, the agent with versions and an action,
//! access roles and ACL entries, MCP servers, banners, tool favorites and agent categories.

use super::people::oid;
use super::{Dump, Gen, Known, at, crypto::encode_uri_component};
use bson::{Bson, Document, doc, oid::ObjectId};

pub(super) fn add(g: &mut Gen, dump: &mut Dump, known: &mut Known) {
    let alice = oid(&known.alice.id);
    let creds = known.creds();
    // schema/promptGroup.ts + schema/prompt.ts: three versions, the second in production.
    let group = g.oid();
    let texts = [
        "Review this code: {{code}}",
        "Review this code for bugs and style: {{code}}",
        "Draft: review {{code}}",
    ];
    let prompts: Vec<ObjectId> = texts.iter().map(|_| g.oid()).collect();
    dump.add("promptgroups", doc! {
        "_id": group, "name": "Code review", "numberOfGenerations": 3, "oneliner": "Reviews a snippet",
        "category": "code", "productionId": prompts[1], "author": alice, "authorName": "Alice Example",
        "command": "review", "createdAt": at(800), "updatedAt": at(803), "__v": 0,
    });
    for (i, (id, text)) in prompts.iter().zip(texts).enumerate() {
        dump.add(
            "prompts",
            doc! {
                "_id": id, "groupId": group, "author": alice, "prompt": text, "type": "text",
                "createdAt": at(801 + i as i64), "updatedAt": at(801 + i as i64), "__v": 0,
            },
        );
    }
    known.prompt_group_id = group.to_hex();
    known.prompt_command = "review".into();
    known.prompt_production_id = prompts[1].to_hex();
    known.prompt_production_text = texts[1].into();
    known.prompt_versions = texts.len();

    // schema/action.ts: metadata.api_key is encryptV2(encodeURIComponent(key)); with this IV and
    // key it is the golden vector.
    let action_id = g.nanoid(21);
    let domain = "api.example.com";
    let api_key = "a:b c";
    let iv: [u8; 16] = hex::decode("101112131415161718191a1b1c1d1e1f")
        .expect("iv")
        .try_into()
        .expect("16");
    dump.add("actions", doc! {
        "_id": g.oid(), "user": alice, "action_id": &action_id, "type": "action_prototype",
        "agent_id": &known.agent_id, "metadata": {
            "domain": domain, "privacy_policy_url": "https://example.com/privacy",
            "raw_spec": r#"{"openapi":"3.1.0","info":{"title":"Weather","version":"1"},"servers":[{"url":"https://api.example.com"}],"paths":{"/weather":{"get":{"operationId":"getWeather","responses":{"200":{"description":"ok"}}}}}}"#,
            "auth": { "type": "service_http", "authorization_type": "bearer" },
            "api_key": creds.encrypt_v2(&encode_uri_component(api_key), iv),
        },
        "createdAt": at(820), "updatedAt": at(820), "__v": 0,
    });
    known.action_id = action_id.clone();
    known.action_api_key = api_key.into();

    // schema/agent.ts: three versions (snapshots of the agent's fields).
    let agent = g.oid();
    let tool = format!("getWeather_action_{}", domain.replace('.', "_"));
    let action_ref = format!("{domain}_action_{action_id}");
    let handbook = known
        .files
        .iter()
        .find(|f| f.filename == "handbook.md")
        .expect("agent file")
        .file_id
        .clone();
    let version = |i: i64, instructions: &str| {
        Bson::Document(doc! {
            "name": "Research Helper", "description": "Finds and explains things",
            "instructions": instructions, "provider": "openAI", "model": "gpt-4o",
            "model_parameters": { "temperature": 0.5 }, "tools": ["web_search", "execute_code", &tool],
            "actions": [&action_ref], "tool_resources": { "file_search": { "file_ids": [&handbook] } },
            "updatedBy": &known.alice.id, "createdAt": at(830 + i), "updatedAt": at(830 + i),
        })
    };
    let versions = vec![
        version(0, "Be helpful."),
        version(1, "Be helpful and cite."),
        version(2, "Be helpful, cite sources."),
    ];
    known.agent_versions = versions.len();
    dump.add("agents", doc! {
        "_id": agent, "id": &known.agent_id, "name": "Research Helper", "description": "Finds and explains things",
        "instructions": "Be helpful, cite sources.", "avatar": { "filepath": "https://example.com/helper.png", "source": "url" },
        "provider": "openAI", "model": "gpt-4o", "model_parameters": { "temperature": 0.5 },
        "artifacts": "", "recursion_limit": 25, "tools": ["web_search", "execute_code", &tool],
        "actions": [&action_ref], "author": alice, "authorName": "Alice Example",
        "hide_sequential_outputs": false, "end_after_tools": false, "agent_ids": [], "edges": [],
        "conversation_starters": ["What is new?", "Explain this paper"],
        "tool_resources": { "file_search": { "file_ids": [&handbook] }, "execute_code": { "file_ids": [] } },
        "versions": versions, "category": "research", "support_contact": { "name": "Alice", "email": "alice@example.com" },
        "is_promoted": false, "mcpServerNames": [], "createdAt": at(830), "updatedAt": at(832), "__v": 0,
    });
    known.agent_object_id = agent.to_hex();

    // schema/mcpServer.ts: config.apiKey.key is encryptV2.
    let server = g.oid();
    let mcp_key = "mcp-secret-7";
    dump.add("mcpservers", doc! {
        "_id": server, "serverName": "Files Server", "normalizedServerName": "files_server",
        "config": {
            "type": "streamable-http", "url": "https://mcp.example.com/mcp", "title": "Files Server",
            "description": "Reads shared files",
            "apiKey": { "source": "admin", "authorization_type": "bearer", "key": creds.encrypt_v2(mcp_key, g.bytes16()) },
        },
        "author": alice, "createdAt": at(840), "updatedAt": at(840), "__v": 0,
    });
    known.mcp_server_id = server.to_hex();
    known.mcp_server_name = "files_server".into();
    known.mcp_api_key = mcp_key.into();

    acl(g, dump, known, agent, group, server);

    // schema/banner.ts
    let banner = g.uuid();
    dump.add("banners", doc! {
        "_id": g.oid(), "bannerId": &banner, "message": "Maintenance on Sunday 02:00 UTC", "displayFrom": at(850),
        "displayTo": bson::DateTime::from_millis(4_102_444_800_000), "type": "banner", "isPublic": true,
        "persistable": false, "createdAt": at(850), "updatedAt": at(850), "__v": 0,
    });
    known.banner_id = banner;
    // schema/favorite.ts
    for (kind, item) in [("builtin", "web_search"), ("mcp", "files_server")] {
        dump.add("toolfavorites", doc! {
            "_id": g.oid(), "user": alice, "itemType": kind, "itemId": item, "createdAt": at(860), "updatedAt": at(860), "__v": 0,
        });
    }
    // schema/agentCategory.ts: a seeded one and a custom one.
    for (i, (value, label, custom)) in [
        ("general", "com_agents_category_general", false),
        ("research", "Research", true),
    ]
    .into_iter()
    .enumerate()
    {
        dump.add("agentcategories", doc! {
            "_id": g.oid(), "value": value, "label": label, "description": format!("{value} agents"),
            "order": i as i32, "isActive": true, "custom": custom, "createdAt": at(870), "updatedAt": at(870), "__v": 0,
        });
    }
}

// schema/accessRole.ts + schema/aclEntry.ts
fn acl(
    g: &mut Gen,
    dump: &mut Dump,
    known: &mut Known,
    agent: ObjectId,
    group: ObjectId,
    server: ObjectId,
) {
    let mut roles = Vec::new();
    for resource in ["agent", "promptGroup", "mcpServer"] {
        for (level, bits) in [("viewer", 1), ("editor", 3), ("owner", 15)] {
            let id = g.oid();
            dump.add("accessroles", doc! {
                "_id": id, "accessRoleId": format!("{resource}_{level}"), "name": format!("com_ui_role_{level}"),
                "description": format!("com_ui_role_{level}_desc"), "resourceType": resource, "permBits": bits, "__v": 0,
            });
            roles.push((format!("{resource}_{level}"), id));
        }
    }
    let role = |name: &str| roles.iter().find(|(n, _)| n == name).expect("role").1;
    let alice = oid(&known.alice.id);
    let viewer = oid(&known.totp_v3.id);
    let entry = |g: &mut Gen,
                 kind: &str,
                 principal: Option<(Bson, &str)>,
                 resource: &str,
                 id: ObjectId,
                 level: &str| {
        let mut d = doc! {
            "_id": g.oid(), "principalType": kind, "resourceType": resource, "resourceId": id,
            "permBits": match level { "owner" => 15, "editor" => 3, _ => 1 }, "roleId": role(&format!("{resource}_{level}")),
            "grantedBy": alice, "grantedAt": at(880), "createdAt": at(880), "updatedAt": at(880), "__v": 0,
        };
        if let Some((principal, model)) = principal {
            d.insert("principalId", principal);
            d.insert("principalModel", model);
        }
        d
    };
    let user = |id: ObjectId| Some((Bson::ObjectId(id), "User"));
    let docs: Vec<Document> = vec![
        entry(g, "user", user(alice), "agent", agent, "owner"),
        entry(g, "user", user(viewer), "agent", agent, "viewer"),
        entry(
            g,
            "group",
            Some((Bson::ObjectId(oid(&known.group_id)), "Group")),
            "agent",
            agent,
            "viewer",
        ),
        entry(g, "user", user(alice), "promptGroup", group, "owner"),
        entry(g, "public", None, "promptGroup", group, "viewer"),
        entry(
            g,
            "role",
            Some((Bson::String("EDITOR".into()), "Role")),
            "promptGroup",
            group,
            "editor",
        ),
        entry(g, "user", user(alice), "mcpServer", server, "owner"),
    ];
    for d in docs {
        dump.add("aclentries", d);
    }
    known.agent_viewer_id = known.totp_v3.id.clone();
}
