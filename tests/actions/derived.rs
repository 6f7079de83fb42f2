//! A save without `functions` (the bundled app's): the server reads the operations, and the
//! domain when none is named, from the document, as LibreChat's client would have sent them;
//! what LibreChat refuses stays refused, and a document that does not read saves nothing.

use serde_json::{Value, json};

use crate::support::agents::call;
use crate::support::fake_tools::ToolScript;
use crate::*;

const KEY_VALUE: &str = "sk-derived-0123456789";

/// The fake API in YAML: `getPet`, and `/whoami` without an `operationId` (LibreChat names
/// it `get_whoami`).
fn yaml_spec(api: &FakeApi, summary: &str) -> String {
    format!(
        "openapi: 3.0.0\ninfo: {{title: Pets, version: '1'}}\nservers:\n  - url: {}/v1\npaths:\n  \
         /pets/{{id}}:\n    get:\n      operationId: getPet\n      summary: One pet by id\n      \
         parameters:\n        - {{name: id, in: path, required: true, schema: {{type: string}}}}\n  \
         /whoami:\n    get:\n      summary: {summary}\n",
        api.base
    )
}

fn key_auth() -> Value {
    json!({"type": "service_http", "authorization_type": "custom", "custom_auth_header": "X-Api-Key"})
}

async fn post(server: &TestServer, s: &Session, agent_id: &str, body: Value) -> (u16, Value) {
    call(
        server,
        s,
        "POST",
        &format!("/api/agents/actions/{agent_id}"),
        body,
    )
    .await
}

/// What `/whoami` told the model it was sent, in the answer's one tool call.
async fn whoami(server: &TestServer, s: &Session, agent_id: &str) -> Value {
    let message = answer(server, s, agent_id).await;
    serde_json::from_str(&outputs(&message)[0]).unwrap()
}

#[tokio::test]
async fn the_operations_and_the_domain_are_read_from_the_document_when_left_out() {
    let fake = FakeOpenAi::start().await;
    let api = FakeApi::start("http://example.com/").await;
    let server = server(&fake, &yaml(&api, ""), &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let agent_id = agent(&server, &s).await;

    let metadata =
        json!({"raw_spec": yaml_spec(&api, "Who am I"), "auth": key_auth(), "api_key": KEY_VALUE});
    let (status, body) = post(&server, &s, &agent_id, json!({"metadata": metadata})).await;
    assert_eq!(status, 200, "{body}");
    let mut tools: Vec<&str> = body[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tools.sort_unstable();
    assert_eq!(
        tools,
        [
            "getPet_action_127---0---0---1",
            "get_whoami_action_127---0---0---1"
        ]
    );
    let action = &body[1];
    let action_id = action["action_id"].as_str().unwrap().to_owned();
    assert_eq!(action["metadata"]["domain"], "http://127.0.0.1");
    assert!(!body.to_string().contains(KEY_VALUE));

    // The model is offered the operation under LibreChat's name, and the call carries the key.
    fake.script(
        MODEL,
        ToolScript::calls([(tool("get_whoami").as_str(), json!({}))]),
    );
    assert_eq!(whoami(&server, &s, &agent_id).await["x-api-key"], KEY_VALUE);

    // An edit as the app sends it (the document changed, no secret, no domain): saved, the
    // key kept because the action still calls the same place.
    let edited = json!({"action_id": action_id, "metadata": {
        "raw_spec": yaml_spec(&api, "Who the API thinks I am"), "auth": key_auth()}});
    let (status, body) = post(&server, &s, &agent_id, edited).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[1]["action_id"], action_id);
    assert_eq!(body[1]["metadata"]["domain"], "http://127.0.0.1");
    assert!(
        body[1]["metadata"]["raw_spec"]
            .as_str()
            .unwrap()
            .contains("Who the API thinks I am")
    );
    assert_eq!(body[0]["tools"].as_array().unwrap().len(), 2);
    assert_eq!(whoami(&server, &s, &agent_id).await["x-api-key"], KEY_VALUE);
    assert_eq!(server.count("actions").await, 1);
}

#[tokio::test]
async fn what_librechat_refuses_stays_refused_and_a_bad_document_saves_nothing() {
    let fake = FakeOpenAi::start().await;
    let api = FakeApi::start("http://example.com/").await;
    let server = server(&fake, &yaml(&api, ""), &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let agent_id = agent(&server, &s).await;
    let spec = yaml_spec(&api, "Who am I");
    let no_methods = format!(
        r#"{{"servers":[{{"url":"{}/v1"}}],"paths":{{"/x":{{"parameters":[]}}}}}}"#,
        api.base
    );
    let cases = [
        // LibreChat's shapes: an empty or null list is no functions.
        (
            json!({"functions": [], "metadata": {"domain": "http://127.0.0.1", "raw_spec": spec}}),
            "No functions provided",
        ),
        (
            json!({"functions": null, "metadata": {"domain": "http://127.0.0.1", "raw_spec": spec}}),
            "No functions provided",
        ),
        // A document that is neither JSON nor YAML: the parser's words.
        (
            json!({"metadata": {"raw_spec": "openapi: [3.0.0\n  paths: {"}}),
            "Error parsing OpenAPI spec",
        ),
        (
            json!({"metadata": {"raw_spec": no_methods}}),
            "No operations found in the OpenAPI spec",
        ),
        // A domain that is named is still checked against the document.
        (
            json!({"metadata": {"domain": "https://api.example.com", "raw_spec": spec}}),
            "Domain mismatch",
        ),
        (json!({"metadata": {}}), "No domain provided"),
    ];
    for (body, expected) in cases {
        let (status, v) = post(&server, &s, &agent_id, body.clone()).await;
        assert_eq!(status, 400, "{body} {v}");
        let message = v["message"].as_str().unwrap_or("");
        assert!(message.starts_with(expected), "{body}: {message}");
    }
    assert_eq!(server.count("actions").await, 0);
    let agent = server
        .get_json(&format!("/api/agents/{agent_id}/expanded"), &s.token)
        .await;
    assert_eq!(agent["tools"], json!([]));
    assert!(
        agent["actions"].as_array().is_none_or(Vec::is_empty),
        "{agent}"
    );
}
