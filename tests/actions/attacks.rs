//! What hostile documents and APIs get: a server inside this network (by address or by a name
//! that resolves there) is refused unless the administrator lists it; a redirect is never
//! followed; a huge answer is cut without being read whole; a hanging API runs into the
//! timeout; a huge or recursive document is refused.

use serde_json::json;

use crate::support::fake_tools::ToolScript;
use crate::*;

#[tokio::test]
async fn servers_inside_this_network_are_refused_unless_the_administrator_lists_them() {
    let fake = FakeOpenAi::start().await;
    let api = FakeApi::start("http://example.com/").await;
    let strict = server(&fake, "version: 1.2.8\n", &[]).await;
    let s = strict.signed_in("alice@example.org", PW).await;
    let agent_id = agent(&strict, &s).await;
    for (server_url, words) in [
        (
            format!("http://127.0.0.1:{}/v1", api.port),
            "a loopback address",
        ),
        (
            "http://169.254.169.254/latest".to_owned(),
            "a link-local address",
        ),
        (
            "http://[::ffff:10.0.0.1]/v1".to_owned(),
            "a private address",
        ),
        (
            format!("http://localhost:{}/v1", api.port),
            "localhost resolves to a private address",
        ),
    ] {
        let (status, v) = save(
            &strict,
            &s,
            &agent_id,
            &FakeApi::spec_at(&server_url),
            &["getPet"],
            json!({}),
        )
        .await;
        assert_eq!(status, 400, "{server_url}: {v}");
        let message = v["message"].as_str().unwrap();
        assert!(message.contains(words), "{server_url}: {message}");
        assert!(message.contains("actions.allowedAddresses"), "{message}");
    }
    assert_eq!(strict.count("actions").await, 0);
    assert!(api.seen().is_empty());

    // Listed (with its port), the same service is allowed.
    let open = server(&fake, &yaml(&api, ""), &[]).await;
    let s = open.signed_in("alice@example.org", PW).await;
    let agent_id = agent(&open, &s).await;
    let (status, v) = save(&open, &s, &agent_id, &api.spec(), &["getPet"], json!({})).await;
    assert_eq!(status, 200, "{v}");
    // Another port of the same host is not.
    let other = FakeApi::spec_at(&format!(
        "http://127.0.0.1:{}/v1",
        api.port.wrapping_add(1).max(1)
    ));
    let (status, _) = save(&open, &s, &agent_id, &other, &["getPet"], json!({})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let fake = FakeOpenAi::start().await;
    // Where the redirect leads: a private service the administrator did not list.
    let inside = FakeApi::start("http://example.com/").await;
    let api = FakeApi::start(&format!("http://127.0.0.1:{}/v1/secret", inside.port)).await;
    let server = server(&fake, &yaml(&api, "  allowedDomains: ['127.0.0.1']\n"), &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let agent_id = agent(&server, &s).await;
    saved(&server, &s, &agent_id, &api.spec(), &["follow"], json!({})).await;
    fake.script(
        MODEL,
        ToolScript::calls([(tool("follow").as_str(), json!({}))]),
    );
    let out = outputs(&answer(&server, &s, &agent_id).await);
    assert!(
        out[0]
            .starts_with("Error: API call to http://127.0.0.1 failed: the API answered 302 Found"),
        "{out:?}"
    );
    assert!(out[0].contains("redirects are not followed"), "{out:?}");
    assert_eq!(api.seen_at("/v1/redirect").len(), 1);
    assert!(
        inside.seen().is_empty(),
        "the redirect's target was not called"
    );
}

#[tokio::test]
async fn a_huge_answer_is_cut_without_being_read_whole() {
    let (fake, api, server, s, agent_id) = scene("").await;
    saved(&server, &s, &agent_id, &api.spec(), &["getBig"], json!({})).await;
    fake.script(
        MODEL,
        ToolScript::calls([(tool("getBig").as_str(), json!({}))]),
    );
    let out = outputs(&answer(&server, &s, &agent_id).await);
    assert!(out[0].len() < 64 * 1024, "{}", out[0].len());
    assert!(out[0].starts_with("xxxx"));
    assert!(out[0].ends_with("[The API's answer was longer than 64 KiB; the rest was not read.]"));
    // The connection was dropped: the API's stream ended long before its 100 MiB.
    eventually(|| async { api.big_sent().1 }).await;
    let (sent, _) = api.big_sent();
    assert!(
        sent < crate::support::fake_api::BIG / 4,
        "{sent} bytes were sent"
    );
}

#[tokio::test]
async fn a_hanging_api_runs_into_the_timeout_and_the_model_hears_why() {
    let (fake, api, server, s, agent_id) =
        scene_with(|api| yaml(api, ""), &[("ACTIONS_TIMEOUT_MS", "300")]).await;
    saved(&server, &s, &agent_id, &api.spec(), &["hang"], json!({})).await;
    fake.script(
        MODEL,
        ToolScript::calls([(tool("hang").as_str(), json!({}))]),
    );
    let message = answer(&server, &s, &agent_id).await;
    let out = outputs(&message);
    assert_eq!(
        out[0],
        "Error: API call to http://127.0.0.1 failed: the API did not answer within 0.3 seconds"
    );
    let sent = fake.last_chat();
    let result = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .unwrap();
    assert!(
        result["content"]
            .as_str()
            .unwrap()
            .contains("did not answer within"),
        "{result}"
    );
}

#[tokio::test]
async fn huge_and_recursive_documents_are_refused() {
    let (_fake, api, server, s, agent_id) = scene("").await;
    let server_url = format!("{}/v1", api.base);
    let padded = |bytes: usize| {
        json!({"servers": [{"url": server_url}], "paths": {"/pets/{id}": {"get": {"operationId": "getPet"}}},
               "x-padding": "p".repeat(bytes)})
        .to_string()
    };
    // 10 MB: past the request bound.
    let (status, v) = save(
        &server,
        &s,
        &agent_id,
        &padded(10 * 1024 * 1024),
        &["getPet"],
        json!({}),
    )
    .await;
    assert_eq!(status, 413, "{v}");
    assert!(v["message"].is_string());
    // Within the request bound, past the document's.
    let (status, v) = save(
        &server,
        &s,
        &agent_id,
        &padded(1536 * 1024),
        &["getPet"],
        json!({}),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(v["message"], "The OpenAPI document is larger than 1 MiB");
    // A schema that refers to itself.
    let recursive = json!({
        "servers": [{"url": server_url}],
        "paths": {"/pets": {"post": {"operationId": "addPet", "requestBody": {"content": {"application/json":
            {"schema": {"$ref": "#/components/schemas/Node"}}}}}}},
        "components": {"schemas": {"Node": {"type": "object", "properties": {
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}}}
    })
    .to_string();
    let (status, v) = save(&server, &s, &agent_id, &recursive, &["addPet"], json!({})).await;
    assert_eq!(status, 400);
    assert!(
        v["message"].as_str().unwrap().contains("refers to itself"),
        "{v}"
    );
    // A YAML alias bomb.
    let mut bomb = format!(
        "openapi: 3.0.0\nservers: [{{url: '{server_url}'}}]\npaths: {{}}\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
    );
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_owned()
        } else {
            format!("l{}", i - 1)
        };
        bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let (status, v) = save(
        &server,
        &s,
        &agent_id,
        &bomb,
        &["getPet"],
        json!({"domain": "http://127.0.0.1"}),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(server.count("actions").await, 0);
    // The server is still there, and a plain YAML document works.
    let yaml_spec = format!(
        "openapi: 3.0.0\nservers:\n  - url: {server_url}\npaths:\n  /pets/{{id}}:\n    get:\n      operationId: getPet\n      parameters:\n        - {{name: id, in: path, required: true, schema: {{type: string}}}}\n"
    );
    let (status, v) = save(
        &server,
        &s,
        &agent_id,
        &yaml_spec,
        &["getPet"],
        json!({"domain": "http://127.0.0.1"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
}
