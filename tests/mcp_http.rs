//! MCP servers over the network, through the server: npm's reference server
//! (`@modelcontextprotocol/server-everything`) over streamable HTTP and over SSE. Its tools
//! answer in chats (text, an image kept as the person's file and attached, an embedded
//! resource), and a server on a private address is refused unless `mcpSettings` allows it. A
//! server using the chat request's values (`{{LIBRECHAT_BODY_*}}`, tests/mcp/echo_server.py)
//! is connected afresh for each turn with that turn's values, and closed after it.

mod support;

use serde_json::{Value, json};
use support::fake_openai::FakeOpenAi;
use support::mcp::{EchoServer, Everything, PW, ask, offered, output, server};

fn yaml(url: &str, kind: &str, allowed: Option<&str>) -> String {
    let settings = match allowed {
        Some(a) => format!("mcpSettings:\n  allowedAddresses: ['{a}']\n"),
        None => String::new(),
    };
    format!(
        "version: 1.3.17\nmcpServers:\n  everything:\n    type: {kind}\n    url: {url}\n    iconPath: /assets/mcp.svg\n{settings}"
    )
}

#[tokio::test]
async fn streamable_http_tools_answer_with_text_images_and_resources() {
    let everything = Everything::start("streamableHttp").await;
    let fake = FakeOpenAi::start().await;
    let url = format!("http://{}/mcp", everything.host_port());
    let server = server(
        &fake,
        &yaml(&url, "streamable-http", Some(&everything.host_port())),
    )
    .await;
    let alice = server.signed_in("alice@example.org", PW).await;

    let frames = ask(
        &fake,
        &server,
        &alice,
        &["everything"],
        "echo_mcp_everything",
        json!({"message": "over HTTP"}),
    )
    .await;
    assert_eq!(output(&frames, "echo_mcp_everything"), "Echo: over HTTP");
    assert!(offered(&fake).contains(&"get-tiny-image_mcp_everything".to_owned()));

    // An image: kept as Alice's file, attached to the answer with the call's id, and served
    // to her at its path.
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["everything"],
        "get-tiny-image_mcp_everything",
        json!({}),
    )
    .await;
    let out = output(&frames, "get-tiny-image_mcp_everything");
    assert!(out.starts_with("Here's the image you requested:"), "{out}");
    assert!(
        !out.contains("iVBOR"),
        "the image is not in the text: {out}"
    );
    let attached: Vec<&Value> = frames
        .iter()
        .filter(|f| f["event"] == "attachment")
        .map(|f| &f["data"])
        .collect();
    assert_eq!(attached.len(), 1, "{frames:?}");
    let image = attached[0];
    let last = frames.last().unwrap();
    let call = last["responseMessage"]["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "tool_call")
        .unwrap();
    assert_eq!(image["toolCallId"], call["tool_call"]["id"]);
    assert_eq!(image["messageId"], last["responseMessage"]["messageId"]);
    assert_eq!(image["context"], "image_generation");
    assert!(
        image["type"].as_str().unwrap().starts_with("image/"),
        "{image}"
    );
    assert_eq!(last["responseMessage"]["attachments"], json!([image]));
    let path = image["filepath"].as_str().unwrap();
    let got = server.get_as(path, &alice.token).await;
    assert_eq!(got.status(), 200, "{path}");
    let bob = server.signed_in("bob@example.org", PW).await;
    assert_eq!(server.get_as(path, &bob.token).await.status(), 404);

    // An embedded resource, as LibreChat formats it for the model.
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["everything"],
        "get-resource-reference_mcp_everything",
        json!({"resourceType": "Text", "resourceId": 1}),
    )
    .await;
    let out = output(&frames, "get-resource-reference_mcp_everything");
    assert!(out.contains("Resource URI: "), "{out}");

    // The listing shows its icon and tools; its state is connected.
    let listed = server.get_json("/api/mcp/tools", &alice.token).await;
    assert_eq!(listed["servers"]["everything"]["icon"], "/assets/mcp.svg");
    let status = server
        .get_json("/api/mcp/connection/status/everything", &alice.token)
        .await;
    assert_eq!(status["connectionStatus"], "connected");
    // Its address is for administrators only (Alice, the first account, is one).
    let servers = server.get_json("/api/mcp/servers", &bob.token).await;
    assert!(servers["everything"].get("url").is_none(), "{servers}");
    let servers = server.get_json("/api/mcp/servers", &alice.token).await;
    assert_eq!(servers["everything"]["url"], url.as_str());
}

#[tokio::test]
async fn the_older_sse_transport_works_too() {
    let everything = Everything::start("sse").await;
    let fake = FakeOpenAi::start().await;
    let url = format!("http://{}/sse", everything.host_port());
    // No `type`: a URL that is not a websocket is SSE, as LibreChat infers it.
    let yaml = yaml(&url, "sse", Some(&everything.host_port())).replace("    type: sse\n", "");
    let server = server(&fake, &yaml).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["everything"],
        "echo_mcp_everything",
        json!({"message": "over SSE"}),
    )
    .await;
    assert_eq!(output(&frames, "echo_mcp_everything"), "Echo: over SSE");
    let servers = server.get_json("/api/mcp/servers", &alice.token).await;
    assert_eq!(servers["everything"]["type"], "sse");
}

#[tokio::test]
async fn a_server_on_a_private_address_is_refused_unless_allowed() {
    let everything = Everything::start("streamableHttp").await;
    let fake = FakeOpenAi::start().await;
    let url = format!("http://{}/mcp", everything.host_port());
    let server = server(&fake, &yaml(&url, "streamable-http", None)).await;
    let alice = server.signed_in("alice@example.org", PW).await;

    fake.script("caller", support::fake_tools::ToolScript::default());
    let id = server
        .start_chat(
            &alice,
            "openAI",
            json!({"text": "hi", "model": "caller", "ephemeralAgent": {"mcp": ["everything"]}}),
        )
        .await;
    let frames = support::stream::frames(&server, &alice, &id, "").await;
    assert!(frames.last().unwrap().get("error").is_none());
    assert!(offered(&fake).is_empty(), "{:?}", offered(&fake));
    let listed = server.get_json("/api/mcp/tools", &alice.token).await;
    assert_eq!(listed["servers"]["everything"]["tools"], json!([]));
    let status = server
        .get_json("/api/mcp/connection/status/everything", &alice.token)
        .await;
    assert_eq!(status["connectionStatus"], "error");
    let again = server
        .send(
            "POST",
            "/api/mcp/everything/reinitialize",
            &alice.token,
            json!({}),
        )
        .await;
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["success"], false);
    assert_eq!(again["failureReason"], "unreachable");
    // Another name is not found, in LibreChat's words.
    let resp = server
        .send(
            "POST",
            "/api/mcp/nobody/reinitialize",
            &alice.token,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"error": "MCP server 'nobody' not found in configuration"})
    );
}

#[tokio::test]
async fn a_websocket_server_works_through_the_chat() {
    // PyPI's time server behind a websocket (no MCP SDK serves one).
    let bridge = tokio::task::spawn_blocking(|| {
        support::mcp_peers::Peer::ws_bridge(&["-m", "mcp_server_time", "--local-timezone", "UTC"])
    })
    .await
    .unwrap()
    .expect("websockets and mcp-server-time next to LIBRECHAT_TEST_PYTHON");
    let fake = FakeOpenAi::start().await;
    let at = format!("127.0.0.1:{}", bridge.port);
    // No `type`: a ws:// URL is a websocket, as LibreChat infers it.
    let yaml =
        yaml(&format!("ws://{at}/"), "websocket", Some(&at)).replace("    type: websocket\n", "");
    let server = server(&fake, &yaml).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["everything"],
        "get_current_time_mcp_everything",
        json!({"timezone": "UTC"}),
    )
    .await;
    assert!(output(&frames, "get_current_time_mcp_everything").contains("\"timezone\": \"UTC\""));
    let servers = server.get_json("/api/mcp/servers", &alice.token).await;
    assert_eq!(servers["everything"]["type"], "websocket");
}

/// librechat.yaml with tests/mcp/echo_server.py as `echo`, sent the chat request's values in
/// its headers and URL.
fn echo_yaml(echo: &EchoServer) -> String {
    let body = |f: &str| format!("'{{{{LIBRECHAT_BODY_{f}}}}}'");
    format!(
        "version: 1.3.17\nmcpSettings:\n  allowedAddresses: ['127.0.0.1:{p}']\nmcpServers:\n  echo:\n    type: streamable-http\n    url: http://127.0.0.1:{p}/mcp?c={{{{LIBRECHAT_BODY_CONVERSATIONID}}}}\n    headers:\n      X-Conversation: {}\n      X-Parent: {}\n      X-Message: {}\n",
        body("CONVERSATIONID"),
        body("PARENTMESSAGEID"),
        body("MESSAGEID"),
        p = echo.port
    )
}

/// One turn of a plain chat with `echo` in the composer's MCP menu, its model calling
/// `request_info`: the final frame, and what the server saw.
async fn echo_turn(
    fake: &FakeOpenAi,
    server: &support::TestServer,
    s: &support::Session,
    more: Value,
) -> (Value, Value) {
    fake.script(
        "caller",
        support::fake_tools::ToolScript::calls([("request_info_mcp_echo", json!({}))]),
    );
    let mut body =
        json!({"text": "Use the tool.", "model": "caller", "ephemeralAgent": {"mcp": ["echo"]}});
    for (k, v) in more.as_object().unwrap() {
        body[k] = v.clone();
    }
    let id = server.start_chat(s, "openAI", body).await;
    let frames = support::stream::frames(server, s, &id, "").await;
    let seen = serde_json::from_str(&output(&frames, "request_info_mcp_echo")).unwrap();
    (frames.last().unwrap().clone(), seen)
}

#[tokio::test]
async fn a_server_using_the_chat_requests_values_connects_for_each_turn_with_them() {
    let echo = EchoServer::start().await;
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &echo_yaml(&echo)).await;
    let alice = server.signed_in("alice@example.org", PW).await;

    // Listed as request-scoped; outside a turn it has no connection, so no tools.
    let servers = server.get_json("/api/mcp/servers", &alice.token).await;
    assert_eq!(servers["echo"]["requestScoped"], true, "{servers}");
    let listed = server.get_json("/api/mcp/tools", &alice.token).await;
    assert_eq!(listed["servers"]["echo"]["tools"], json!([]));
    let again: Value = server
        .send(
            "POST",
            "/api/mcp/echo/reinitialize",
            &alice.token,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&again["success"], &again["connectionDeferred"]),
        (&json!(true), &json!(true)),
        "{again}"
    );

    // The first turn: its conversation, its message and no parent (LibreChat's zero id).
    let (first, seen) = echo_turn(&fake, &server, &alice, json!({})).await;
    let conversation = first["conversation"]["conversationId"].as_str().unwrap();
    assert_eq!(seen["x-conversation"], conversation, "{seen}");
    assert_eq!(seen["query"], format!("c={conversation}"));
    assert_eq!(seen["x-message"], first["requestMessage"]["messageId"]);
    assert_eq!(seen["x-parent"], "00000000-0000-0000-0000-000000000000");

    // The second, answering the first answer, with a message id of the client's.
    let answer = first["responseMessage"]["messageId"].as_str().unwrap();
    let message = uuid::Uuid::new_v4().to_string();
    let more = json!({"conversationId": conversation, "parentMessageId": answer,
                      "messageId": message});
    let (_, seen_again) = echo_turn(&fake, &server, &alice, more).await;
    assert_eq!(seen_again["x-conversation"], conversation);
    assert_eq!(seen_again["x-parent"], answer);
    assert_eq!(seen_again["x-message"], message.as_str());

    // Each turn had its own connection, closed after it.
    let sessions =
        [&seen["session"], &seen_again["session"]].map(|s| s.as_str().unwrap().to_owned());
    assert_ne!(sessions[0], sessions[1]);
    support::poll::eventually(|| async {
        let closed = echo.closed().await;
        sessions.iter().all(|s| closed.contains(s))
    })
    .await;
}
