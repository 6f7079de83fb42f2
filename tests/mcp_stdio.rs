//! MCP servers over stdio, real ones: PyPI's `mcp-server-time`, and a hostile server on the
//! official Python SDK (`tests/mcp/hostile_server.py`). Their tools join a plain chat through
//! the composer's MCP menu under LibreChat's names, with their instructions in the system
//! prompt; a server that crashes, hangs, floods its stderr, answers 100 MB or lists 10,000
//! tools leaves the chat and the server whole; and each ends with the server. PyPI's
//! `mcp-server-fetch` and npm's reference server (`tests/mcp`) work over stdio too.

mod support;

use serde_json::json;
use support::fake_openai::FakeOpenAi;
use support::mcp::{PW, ask, everything_over_stdio, gone, offered, output, server, yaml};
use support::poll::eventually;

#[tokio::test]
async fn a_plain_chat_uses_the_servers_the_composer_names() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &yaml(60_000, "")).await;
    let alice = server.signed_in("alice@example.org", PW).await;

    let frames = ask(
        &fake,
        &server,
        &alice,
        &["time"],
        "get_current_time_mcp_time",
        json!({"timezone": "Asia/Tokyo"}),
    )
    .await;
    let out = output(&frames, "get_current_time_mcp_time");
    assert!(
        out.contains("\"timezone\": \"Asia/Tokyo\"") && out.contains("datetime"),
        "{out}"
    );
    // Only the named server's tools, under LibreChat's names.
    let mut tools = offered(&fake);
    tools.sort();
    assert_eq!(
        tools,
        ["convert_time_mcp_time", "get_current_time_mcp_time"]
    );
    // Its administrator's instructions, as LibreChat words them.
    let asked = fake.last_chat();
    let system = asked["messages"][0]["content"].as_str().unwrap_or_default();
    assert!(
        system.contains("# MCP Server Instructions")
            && system
                .contains("## time MCP Server Instructions\n\nAnswer times in 24-hour format."),
        "{asked}"
    );

    // The listing routes, as LibreChat's client reads them.
    let listed = server.get_json("/api/mcp/tools", &alice.token).await;
    let time = &listed["servers"]["time"];
    assert_eq!(time["authenticated"], true);
    let keys: Vec<&str> = time["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["pluginKey"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"convert_time_mcp_time"), "{listed}");
    let status = server
        .get_json("/api/mcp/connection/status", &alice.token)
        .await;
    assert_eq!(
        status["connectionStatus"]["time"],
        json!({"requiresOAuth": false, "connectionState": "connected", "authorizationState": "not_required"})
    );
    let servers = server.get_json("/api/mcp/servers", &alice.token).await;
    assert_eq!(servers["time"]["type"], "stdio");
    assert!(servers["time"].get("command").is_none(), "{servers}");

    // Without the menu, no MCP tool is offered.
    fake.script("caller", support::fake_tools::ToolScript::default());
    let id = server
        .start_chat(&alice, "openAI", json!({"text": "hi", "model": "caller"}))
        .await;
    support::stream::frames(&server, &alice, &id, "").await;
    assert!(offered(&fake).is_empty(), "{:?}", offered(&fake));
}

#[tokio::test]
async fn a_role_without_mcp_gets_no_mcp_tools() {
    let fake = FakeOpenAi::start().await;
    let server = server(
        &fake,
        &yaml(60_000, "interface:\n  mcpServers:\n    use: false\n"),
    )
    .await;
    let alice = server.signed_in("alice@example.org", PW).await;
    fake.script("caller", support::fake_tools::ToolScript::default());
    let id = server
        .start_chat(
            &alice,
            "openAI",
            json!({"text": "hi", "model": "caller", "ephemeralAgent": {"mcp": ["time"]}}),
        )
        .await;
    support::stream::frames(&server, &alice, &id, "").await;
    assert!(offered(&fake).is_empty(), "{:?}", offered(&fake));
}

#[tokio::test]
async fn a_server_that_crashes_mid_call_is_started_again() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &yaml(60_000, "")).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let pid = |frames: &[serde_json::Value]| -> u32 {
        output(frames, "pid_mcp_hostile").trim().parse().unwrap()
    };
    let first = pid(&ask(
        &fake,
        &server,
        &alice,
        &["hostile"],
        "pid_mcp_hostile",
        json!({}),
    )
    .await);

    let frames = ask(
        &fake,
        &server,
        &alice,
        &["hostile"],
        "crash_mcp_hostile",
        json!({}),
    )
    .await;
    let out = output(&frames, "crash_mcp_hostile");
    assert!(
        out.contains("[MCP][hostile][crash] tool call failed: "),
        "{out}"
    );
    // The crashed process is reaped, not left a zombie.
    eventually(|| async move { gone(first) }).await;

    // The next call starts it again.
    let second = pid(&ask(
        &fake,
        &server,
        &alice,
        &["hostile"],
        "pid_mcp_hostile",
        json!({}),
    )
    .await);
    assert_ne!(first, second);
    // Its instructions are the server's own (`serverInstructions: true`).
    let system = fake.last_chat()["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        system.contains(
            "## hostile MCP Server Instructions\n\nCall hostile tools only when asked to."
        ),
        "{system}"
    );

    // Stopping the server stops its MCP servers.
    server.stop().await;
    eventually(|| async move { gone(second) }).await;
}

#[tokio::test]
async fn hangs_floods_and_huge_answers_leave_the_chat_whole() {
    let fake = FakeOpenAi::start().await;
    // Calls may take 3 s: the hanging one is cut there.
    let server = server(&fake, &yaml(3_000, "")).await;
    let alice = server.signed_in("alice@example.org", PW).await;

    let frames = ask(
        &fake,
        &server,
        &alice,
        &["hostile"],
        "hang_mcp_hostile",
        json!({}),
    )
    .await;
    let out = output(&frames, "hang_mcp_hostile");
    assert!(
        out.contains("did not answer a tool call within 3000 ms"),
        "{out}"
    );

    let frames = ask(
        &fake,
        &server,
        &alice,
        &["hostile"],
        "flood_mcp_hostile",
        json!({}),
    )
    .await;
    assert_eq!(output(&frames, "flood_mcp_hostile"), "flooded");

    // 100 MB is past the 16 MiB a message may have: the connection ends, the model is told.
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["hostile"],
        "huge_mcp_hostile",
        json!({}),
    )
    .await;
    let out = output(&frames, "huge_mcp_hostile");
    assert!(
        out.contains("[MCP][hostile][huge] tool call failed"),
        "{out}"
    );
    assert!(out.len() < 1_000, "{}", out.len());

    // And the server works again after it.
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["hostile"],
        "echo_mcp_hostile",
        json!({"text": "still here"}),
    )
    .await;
    assert_eq!(output(&frames, "echo_mcp_hostile"), "echo: still here");

    // Progress reports keep a call going to its end.
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["hostile"],
        "slow_mcp_hostile",
        json!({"steps": 5}),
    )
    .await;
    assert_eq!(output(&frames, "slow_mcp_hostile"), "done after 5 steps");
}

#[tokio::test]
async fn a_tool_named_like_a_built_in_one_keeps_its_server_in_its_name() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &yaml(60_000, "")).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["hostile"],
        "web_search_mcp_hostile",
        json!({"query": "tides"}),
    )
    .await;
    assert_eq!(
        output(&frames, "web_search_mcp_hostile"),
        "hostile results for tides"
    );
    let tools = offered(&fake);
    assert!(
        tools.contains(&"web_search_mcp_hostile".to_owned()),
        "{tools:?}"
    );
    assert!(!tools.contains(&"web_search".to_owned()), "{tools:?}");
}

#[tokio::test]
async fn a_server_listing_ten_thousand_tools_gives_a_thousand() {
    let fake = FakeOpenAi::start().await;
    let py = support::mcp::python();
    let yaml = format!(
        "version: 1.3.17\nmcpServers:\n  many:\n    command: {py}\n    args: ['{}']\n    env:\n      MANY_TOOLS: '10000'\n    initTimeout: 120000\n",
        support::mcp::hostile_script()
    );
    let server = server(&fake, &yaml).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let listed = server.get_json("/api/mcp/tools", &alice.token).await;
    let tools = listed["servers"]["many"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1_000);
    assert_eq!(tools[0]["pluginKey"], "echo_mcp_many");
}

#[tokio::test]
async fn an_agent_uses_the_mcp_tools_it_lists() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &yaml(60_000, "")).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    // One tool of `time`, as LibreChat's agent builder stores it, with the server's pin.
    let agent = support::agents::create(
        &server,
        &alice,
        json!({"model": "caller", "instructions": "Be brief.",
               "tools": ["get_current_time_mcp_time", "sys__server__sys_mcp_time"]}),
    )
    .await;
    fake.script(
        "caller",
        support::fake_tools::ToolScript::calls([(
            "get_current_time_mcp_time",
            json!({"timezone": "Europe/Paris"}),
        )]),
    );
    let id = server
        .start_chat(
            &alice,
            "agents",
            json!({"text": "What time is it in Paris?", "endpoint": "agents",
                   "agent_id": agent["id"]}),
        )
        .await;
    let frames = support::stream::frames(&server, &alice, &id, "").await;
    let out = output(&frames, "get_current_time_mcp_time");
    assert!(out.contains("Europe/Paris"), "{out}");
    // Only the tool it lists, and its server's instructions after its own.
    assert_eq!(offered(&fake), ["get_current_time_mcp_time"]);
    let system = fake.last_chat()["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        system.starts_with("Be brief.\n\n# MCP Server Instructions"),
        "{system}"
    );
}

#[tokio::test]
async fn each_person_connects_with_their_own_values() {
    let fake = FakeOpenAi::start().await;
    let py = support::mcp::python();
    let yaml = format!(
        "version: 1.3.17\nmcpServers:\n  vars:\n    command: {py}\n    args: ['{}']\n    env:\n      PREFIX: '{{{{ECHO_PREFIX}}}}'\n    customUserVars:\n      ECHO_PREFIX:\n        title: Prefix\n        description: What the echo starts with\n",
        support::mcp::hostile_script()
    );
    let server = server(&fake, &yaml).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;

    // Nothing connects before the person set their values; the client is told which.
    let again = |s: &support::Session| {
        let (server, token) = (&server, s.token.clone());
        async move {
            server
                .send("POST", "/api/mcp/vars/reinitialize", &token, json!({}))
                .await
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let answer = again(&alice).await;
    assert_eq!(answer["success"], false);
    assert_eq!(answer["failureReason"], "missing_custom_user_vars");
    assert_eq!(answer["missingUserVars"], json!(["ECHO_PREFIX"]));
    let flags = server
        .get_json("/api/mcp/vars/auth-values", &alice.token)
        .await;
    assert_eq!(flags["authValueFlags"], json!({"ECHO_PREFIX": false}));
    let listed = server.get_json("/api/mcp/tools", &alice.token).await;
    assert_eq!(listed["servers"]["vars"]["authenticated"], false);
    assert_eq!(
        listed["servers"]["vars"]["authConfig"][0]["label"],
        "Prefix"
    );

    let set = |s: &support::Session, value: &str| {
        let (server, token) = (&server, s.token.clone());
        let body =
            json!({"pluginKey": "mcp_vars", "action": "install", "auth": {"ECHO_PREFIX": value}});
        async move {
            server
                .send("POST", "/api/user/plugins", &token, body)
                .await
                .status()
        }
    };
    assert_eq!(set(&alice, "alice says").await, 200);
    assert_eq!(set(&bob, "bob says").await, 200);
    assert_eq!(again(&alice).await["success"], true);
    let flags = server
        .get_json("/api/mcp/vars/auth-values", &alice.token)
        .await;
    assert_eq!(flags["authValueFlags"], json!({"ECHO_PREFIX": true}));

    // Each person's calls run on their own connection, with their own values.
    for (s, said) in [(&alice, "alice says: hi"), (&bob, "bob says: hi")] {
        let frames = ask(
            &fake,
            &server,
            s,
            &["vars"],
            "echo_mcp_vars",
            json!({"text": "hi"}),
        )
        .await;
        assert_eq!(output(&frames, "echo_mcp_vars"), said);
    }
    // A changed value takes effect at once.
    assert_eq!(set(&alice, "alice now says").await, 200);
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["vars"],
        "echo_mcp_vars",
        json!({"text": "hi"}),
    )
    .await;
    assert_eq!(output(&frames, "echo_mcp_vars"), "alice now says: hi");
    // Forgotten, the server is not offered to her again.
    let resp = server
        .send(
            "POST",
            "/api/user/plugins",
            &alice.token,
            json!({"pluginKey": "mcp_vars", "action": "uninstall", "auth": {}}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        again(&alice).await["failureReason"],
        "missing_custom_user_vars"
    );
    // A value for a variable the server does not take is refused.
    let resp = server
        .send(
            "POST",
            "/api/user/plugins",
            &bob.token,
            json!({"pluginKey": "mcp_vars", "action": "install", "auth": {"OTHER": "x"}}),
        )
        .await;
    assert_eq!(resp.status(), 400);
}

/// PyPI's `mcp-server-fetch` and npm's reference server over stdio: a page the fetch server
/// fetches comes back as its text; the reference server echoes, and its long-running
/// operation (progress notifications on the way) completes.
#[tokio::test]
async fn the_fetch_and_reference_servers_work_over_stdio() {
    let Some(everything) = everything_over_stdio() else {
        return;
    };
    // A page for the fetch server to read (on loopback, which it refuses unless told).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page = format!("http://{}/notes.html", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let body = "<html><body><h1>Field notes</h1><p>The heron came back on Tuesday.</p></body></html>";
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = sock.write_all(format!("{head}{body}").as_bytes()).await;
        }
    });
    let py = support::mcp::python();
    let yaml = format!(
        "version: 1.3.17\nmcpServers:\n  fetch:\n    command: {py}\n    args: ['-m', 'mcp_server_fetch', '--ignore-robots-txt', '--allow-private-ips']\n{everything}"
    );
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &yaml).await;
    let alice = server.signed_in("alice@example.org", PW).await;

    let frames = ask(
        &fake,
        &server,
        &alice,
        &["fetch"],
        "fetch_mcp_fetch",
        json!({"url": page}),
    )
    .await;
    let out = output(&frames, "fetch_mcp_fetch");
    assert!(out.contains("The heron came back on Tuesday."), "{out}");

    let frames = ask(
        &fake,
        &server,
        &alice,
        &["everything"],
        "echo_mcp_everything",
        json!({"message": "over stdio"}),
    )
    .await;
    assert_eq!(output(&frames, "echo_mcp_everything"), "Echo: over stdio");
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["everything"],
        "trigger-long-running-operation_mcp_everything",
        json!({"duration": 1, "steps": 2}),
    )
    .await;
    assert_eq!(
        output(&frames, "trigger-long-running-operation_mcp_everything"),
        "Long running operation completed. Duration: 1 seconds, Steps: 2."
    );
}
