//! MCP servers people add themselves (`/api/mcp/servers`), against npm's reference server
//! over streamable HTTP: who may add one, what is refused (a command, `${VAR}` in the URL, a
//! private address the administrator did not allow, a server that does not answer), and that
//! a server is its author's until shared: others neither find it nor get its tools, also in a
//! chat; a viewer lists and uses it but may not change it. An agent using one of its tools
//! gives those who may see the agent the server to use through it (`consumeOnly`), and nothing
//! more.

mod support;

use serde_json::{Value, json};
use support::agents::{call, set_user_role, user_id};
use support::fake_openai::FakeOpenAi;
use support::mcp::{Everything, PW, ask, offered, output, server};
use support::{Session, TestServer};

/// librechat.yaml allowing the reference server's address, and nothing else of MCP.
fn allowing(peer: &Everything) -> String {
    format!(
        "version: 1.3.17\nmcpSettings:\n  allowedAddresses: ['{}']\n",
        peer.host_port()
    )
}

/// The configuration of the reference server, titled `title`.
fn everything(peer: &Everything, title: &str) -> Value {
    json!({"config": {"type": "streamable-http", "title": title,
        "url": format!("http://{}/mcp", peer.host_port())}})
}

/// Adds a server as `s`: its status and body.
async fn add(server: &TestServer, s: &Session, body: Value) -> (u16, Value) {
    call(server, s, "POST", "/api/mcp/servers", body).await
}

#[tokio::test]
async fn a_person_allowed_to_create_adds_a_server_and_chats_with_its_tools() {
    let peer = Everything::start("streamableHttp").await;
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &allowing(&peer)).await;
    let admin = server.signed_in("admin@example.org", PW).await;
    let alice = server.signed_in("alice@example.org", PW).await;

    // USER may use MCP servers but not add them (LibreChat's default).
    let (status, body) = add(&server, &alice, everything(&peer, "Everything")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["message"], "Forbidden: Insufficient permissions");
    set_user_role(&server, &admin, json!({"MCP_SERVERS": {"CREATE": true}})).await;

    let (status, made) = add(&server, &alice, everything(&peer, "Everything")).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["serverName"], "everything");
    assert_eq!(made["source"], "user");
    assert_eq!(made["type"], "streamable-http");
    assert!(
        made["dbId"].as_str().is_some_and(|id| id.len() == 24),
        "{made}"
    );
    // A second one with the same title gets the next name.
    let (status, again) = add(&server, &alice, everything(&peer, "Everything")).await;
    assert_eq!(
        (status, again["serverName"].as_str()),
        (201, Some("everything-2"))
    );

    // Listed with its address (its author may edit it), and with its tools.
    let (_, list) = call(&server, &alice, "GET", "/api/mcp/servers", json!({})).await;
    assert_eq!(list["everything"]["url"], made["url"]);
    assert_eq!(list["everything"]["dbId"], made["dbId"]);
    let (_, tools) = call(&server, &alice, "GET", "/api/mcp/tools", json!({})).await;
    let keys: Vec<&str> = tools["servers"]["everything"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["pluginKey"].as_str())
        .collect();
    assert!(keys.contains(&"echo_mcp_everything"), "{keys:?}");

    // A plain chat with it in the composer's MCP menu calls its tool.
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["everything"],
        "echo_mcp_everything",
        json!({"message": "from a chat"}),
    )
    .await;
    assert_eq!(output(&frames, "echo_mcp_everything"), "Echo: from a chat");

    // Deleted, it is gone.
    let (status, body) = call(
        &server,
        &alice,
        "DELETE",
        "/api/mcp/servers/everything",
        json!({}),
    )
    .await;
    assert_eq!(
        (status, body),
        (200, json!({"message": "MCP server deleted successfully"}))
    );
    let (status, _) = call(
        &server,
        &alice,
        "GET",
        "/api/mcp/servers/everything",
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
    let (_, list) = call(&server, &alice, "GET", "/api/mcp/servers", json!({})).await;
    assert!(
        list.get("everything").is_none() && list.get("everything-2").is_some(),
        "{list}"
    );
}

#[tokio::test]
async fn commands_environment_references_and_private_addresses_are_refused() {
    let peer = Everything::start("streamableHttp").await;
    let fake = FakeOpenAi::start().await;
    // No allowedAddresses: the reference server's loopback address is not for MCP servers.
    let server = server(&fake, "version: 1.3.17\n").await;
    let admin = server.signed_in("admin@example.org", PW).await;

    let stdio = json!({"config": {"type": "stdio", "command": "sh", "args": ["-c", "id"]}});
    let (status, body) = add(&server, &admin, stdio).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Invalid configuration"))
    );
    let (status, body) = add(&server, &admin, json!({"config": {"command": "sh"}})).await;
    assert_eq!(status, 400, "{body}");

    let env =
        json!({"config": {"type": "http", "url": "https://mcp.example.org/?k=${JWT_SECRET}"}});
    let (status, body) = add(&server, &admin, env).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["message"],
        "Environment variable references are not allowed in URLs"
    );

    let (status, body) = add(&server, &admin, everything(&peer, "Local")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "MCP_DOMAIN_NOT_ALLOWED");
    let (_, list) = call(&server, &admin, "GET", "/api/mcp/servers", json!({})).await;
    assert_eq!(list, json!({}), "nothing was stored");
}

#[tokio::test]
async fn a_server_that_does_not_answer_mcp_is_not_stored() {
    let fake = FakeOpenAi::start().await;
    let port = support::free_port();
    let yaml = format!("version: 1.3.17\nmcpSettings:\n  allowedAddresses: ['127.0.0.1:{port}']\n");
    let server = server(&fake, &yaml).await;
    let admin = server.signed_in("admin@example.org", PW).await;
    let body = json!({"config": {"type": "http", "title": "Nobody",
        "url": format!("http://127.0.0.1:{port}/mcp")}});
    let (status, body) = add(&server, &admin, body).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "MCP_INSPECTION_FAILED");
}

#[tokio::test]
async fn a_server_is_its_authors_until_shared_and_a_viewer_may_use_but_not_change_it() {
    let peer = Everything::start("streamableHttp").await;
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &allowing(&peer)).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    set_user_role(&server, &alice, json!({"MCP_SERVERS": {"CREATE": true}})).await;
    let (status, made) = add(&server, &alice, everything(&peer, "Private Tools")).await;
    assert_eq!(status, 201, "{made}");
    let path = "/api/mcp/servers/private-tools";

    // Bob finds nothing by its name, changes nothing, and gets none of its tools.
    for method in ["GET", "PATCH", "DELETE"] {
        let (status, body) = call(&server, &bob, method, path, everything(&peer, "Mine")).await;
        assert_eq!(status, 404, "{method}: {body}");
    }
    let (_, list) = call(&server, &bob, "GET", "/api/mcp/servers", json!({})).await;
    assert!(list.get("private-tools").is_none(), "{list}");
    let (status, _) = call(
        &server,
        &bob,
        "POST",
        "/api/mcp/private-tools/reinitialize",
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
    ask(
        &fake,
        &server,
        &bob,
        &["private-tools"],
        "echo_mcp_private-tools",
        json!({"message": "x"}),
    )
    .await;
    assert!(
        !offered(&fake)
            .iter()
            .any(|t| t.ends_with("_mcp_private-tools")),
        "{:?}",
        offered(&fake)
    );

    // Shared with him as a viewer: he lists it without its address and uses it.
    let share = json!({"updated": [{"type": "user", "id": user_id(&bob), "accessRoleId": "mcpServer_viewer"}]});
    let perms = format!(
        "/api/permissions/mcpServer/{}",
        made["dbId"].as_str().unwrap()
    );
    let (status, body) = call(&server, &alice, "PUT", &perms, share).await;
    assert_eq!(status, 200, "{body}");
    let (_, list) = call(&server, &bob, "GET", "/api/mcp/servers", json!({})).await;
    assert_eq!(list["private-tools"]["source"], "user", "{list}");
    assert!(list["private-tools"].get("url").is_none(), "{list}");
    let (status, one) = call(&server, &bob, "GET", path, json!({})).await;
    assert_eq!((status, one["dbId"].clone()), (200, made["dbId"].clone()));
    let frames = ask(
        &fake,
        &server,
        &bob,
        &["private-tools"],
        "echo_mcp_private-tools",
        json!({"message": "shared"}),
    )
    .await;
    assert_eq!(output(&frames, "echo_mcp_private-tools"), "Echo: shared");
    for method in ["PATCH", "DELETE"] {
        let (status, body) = call(&server, &bob, method, path, everything(&peer, "Mine")).await;
        assert_eq!(status, 403, "{method}: {body}");
        assert_eq!(
            body["message"],
            "Insufficient permissions to access this mcpServer"
        );
    }

    // Its author changes it; the new title shows, the name stays.
    let (status, changed) =
        call(&server, &alice, "PATCH", path, everything(&peer, "Renamed")).await;
    assert_eq!(
        (status, changed["title"].as_str()),
        (200, Some("Renamed")),
        "{changed}"
    );
    let (_, list) = call(&server, &bob, "GET", "/api/mcp/servers", json!({})).await;
    assert_eq!(list["private-tools"]["title"], "Renamed");
}

#[tokio::test]
async fn a_server_taking_each_persons_key_asks_for_it_and_keeps_it() {
    let peer = Everything::start("streamableHttp").await;
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &allowing(&peer)).await;
    let admin = server.signed_in("admin@example.org", PW).await;
    let mut body = everything(&peer, "Keyed");
    body["config"]["apiKey"] = json!({"source": "user", "authorization_type": "bearer"});
    let (status, made) = add(&server, &admin, body).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        made["apiKey"],
        json!({"source": "user", "authorization_type": "bearer"})
    );
    assert_eq!(made["customUserVars"]["MCP_API_KEY"]["title"], "API Key");

    let flags = "/api/mcp/keyed/auth-values";
    let (_, before) = call(&server, &admin, "GET", flags, json!({})).await;
    assert_eq!(before["authValueFlags"], json!({"MCP_API_KEY": false}));
    let key =
        json!({"pluginKey": "mcp_keyed", "action": "install", "auth": {"MCP_API_KEY": "k-1"}});
    let (status, body) = call(&server, &admin, "POST", "/api/user/plugins", key).await;
    assert_eq!(status, 200, "{body}");
    let (_, after) = call(&server, &admin, "GET", flags, json!({})).await;
    assert_eq!(after["authValueFlags"], json!({"MCP_API_KEY": true}));
    // Connected with the key, its tools are there.
    let frames = ask(
        &fake,
        &server,
        &admin,
        &["keyed"],
        "echo_mcp_keyed",
        json!({"message": "k"}),
    )
    .await;
    assert_eq!(output(&frames, "echo_mcp_keyed"), "Echo: k");
}

#[tokio::test]
async fn a_name_librechat_yaml_uses_stays_its_own() {
    let peer = Everything::start("streamableHttp").await;
    let fake = FakeOpenAi::start().await;
    let yaml = format!(
        "{}mcpServers:\n  everything:\n    type: streamable-http\n    url: http://{}/mcp\n    title: From Yaml\n",
        allowing(&peer),
        peer.host_port()
    );
    let server = server(&fake, &yaml).await;
    let admin = server.signed_in("admin@example.org", PW).await;
    let (status, made) = add(&server, &admin, everything(&peer, "Everything")).await;
    assert_eq!(
        (status, made["serverName"].as_str()),
        (201, Some("everything-2")),
        "{made}"
    );
    let (_, list) = call(&server, &admin, "GET", "/api/mcp/servers", json!({})).await;
    assert_eq!(list["everything"]["source"], "yaml");
    assert_eq!(list["everything"]["title"], "From Yaml");
    assert_eq!(list["everything-2"]["source"], "user");
    // Its tools carry its own name.
    let frames = ask(
        &fake,
        &server,
        &admin,
        &["everything-2"],
        "echo_mcp_everything-2",
        json!({"message": "mine"}),
    )
    .await;
    assert_eq!(output(&frames, "echo_mcp_everything-2"), "Echo: mine");
}

#[tokio::test]
async fn a_key_given_with_the_server_is_stored_sealed_and_never_shown() {
    let peer = Everything::start("streamableHttp").await;
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &allowing(&peer)).await;
    let admin = server.signed_in("admin@example.org", PW).await;
    let mut body = everything(&peer, "Sealed");
    body["config"]["apiKey"] =
        json!({"source": "admin", "authorization_type": "custom", "key": "sekret-admin-key"});
    let (status, made) = add(&server, &admin, body).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        made["apiKey"],
        json!({"source": "admin", "authorization_type": "custom"})
    );
    let (_, list) = call(&server, &admin, "GET", "/api/mcp/servers", json!({})).await;
    assert!(!list.to_string().contains("sekret"), "{list}");
    let stored: String = server
        .state
        .db
        .read(|c| {
            c.query_row(
                "SELECT config FROM mcp_servers WHERE server_name = 'sealed'",
                [],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert!(
        stored.contains("\"key\"") && !stored.contains("sekret"),
        "{stored}"
    );
    // Read back for a connection, it still works.
    let frames = ask(
        &fake,
        &server,
        &admin,
        &["sealed"],
        "echo_mcp_sealed",
        json!({"message": "s"}),
    )
    .await;
    assert_eq!(output(&frames, "echo_mcp_sealed"), "Echo: s");
}

#[tokio::test]
async fn an_agent_shared_with_someone_lets_them_use_its_server_and_nothing_more() {
    let peer = Everything::start("streamableHttp").await;
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &allowing(&peer)).await;
    let admin = server.signed_in("admin@example.org", PW).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    let carol = server.signed_in("carol@example.org", PW).await;
    let can = json!({"MCP_SERVERS": {"CREATE": true}, "AGENTS": {"SHARE": true}});
    set_user_role(&server, &admin, can).await;
    let (status, made) = add(&server, &alice, everything(&peer, "Alices Tools")).await;
    assert_eq!(status, 201, "{made}");
    let agent = support::agents::create(
        &server,
        &alice,
        json!({"model": "caller", "tools": ["echo_mcp_alices-tools"]}),
    )
    .await;
    let (_, agent_oid) = support::agents::ids(&agent);
    support::agents::share_with(&server, &alice, &agent_oid, &bob, "agent_viewer").await;

    // Bob lists it, marked consumeOnly, without its address; he lists its tools too.
    let (_, list) = call(&server, &bob, "GET", "/api/mcp/servers", json!({})).await;
    let listed = &list["alices-tools"];
    assert_eq!(listed["consumeOnly"], true, "{list}");
    assert_eq!(listed["dbId"], made["dbId"]);
    assert!(listed.get("url").is_none(), "{listed}");
    let (_, mine) = call(&server, &alice, "GET", "/api/mcp/servers", json!({})).await;
    assert!(mine["alices-tools"].get("consumeOnly").is_none(), "{mine}");
    let (_, tools) = call(&server, &bob, "GET", "/api/mcp/tools", json!({})).await;
    assert!(
        tools["servers"]["alices-tools"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["pluginKey"] == "echo_mcp_alices-tools"),
        "{tools}"
    );

    // He chats with the agent, which calls the tool.
    fake.script(
        "caller",
        support::fake_tools::ToolScript::calls([(
            "echo_mcp_alices-tools",
            json!({"message": "through the agent"}),
        )]),
    );
    let body = json!({"text": "Echo.", "endpoint": "agents", "agent_id": agent["id"]});
    let id = server.start_chat(&bob, "agents", body).await;
    let frames = support::stream::frames(&server, &bob, &id, "").await;
    assert_eq!(
        output(&frames, "echo_mcp_alices-tools"),
        "Echo: through the agent"
    );

    // He may not read it by name, change it or delete it.
    let path = "/api/mcp/servers/alices-tools";
    for method in ["GET", "PATCH", "DELETE"] {
        let (status, body) = call(&server, &bob, method, path, everything(&peer, "Mine")).await;
        assert_eq!(status, 403, "{method}: {body}");
    }

    // Carol, who may not see the agent, gets nothing: not listed, not found, no tools; naming
    // the server in an agent of her own gives her nothing either.
    support::agents::create(
        &server,
        &carol,
        json!({"model": "caller", "tools": ["echo_mcp_alices-tools"]}),
    )
    .await;
    let (_, list) = call(&server, &carol, "GET", "/api/mcp/servers", json!({})).await;
    assert!(list.get("alices-tools").is_none(), "{list}");
    let (_, tools) = call(&server, &carol, "GET", "/api/mcp/tools", json!({})).await;
    assert!(tools["servers"].get("alices-tools").is_none(), "{tools}");
    for method in ["GET", "PATCH", "DELETE"] {
        let (status, body) = call(&server, &carol, method, path, everything(&peer, "Mine")).await;
        assert_eq!(status, 404, "{method}: {body}");
    }
    let (status, _) = call(
        &server,
        &carol,
        "POST",
        "/api/mcp/alices-tools/reinitialize",
        json!({}),
    )
    .await;
    assert_eq!(status, 404);

    // Unshared, Bob loses it with the agent.
    let unshare = json!({"removed": [{"type": "user", "id": user_id(&bob)}]});
    assert_eq!(
        support::agents::share(&server, &alice, &agent_oid, unshare).await,
        200
    );
    let (_, list) = call(&server, &bob, "GET", "/api/mcp/servers", json!({})).await;
    assert!(list.get("alices-tools").is_none(), "{list}");
}
