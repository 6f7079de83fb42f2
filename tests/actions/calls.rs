//! The agent's model calls its actions: the request the API gets, the answer the model gets
//! and the call as stored; API keys in each place LibreChat (and we) put them; and a tool
//! output that asks for another agent's action gets nowhere.

use serde_json::{Value, json};

use crate::support::fake_tools::ToolScript;
use crate::*;

#[tokio::test]
async fn the_model_calls_an_action_and_its_answer_is_given_back_and_stored() {
    let (fake, api, server, s, agent_id) = scene("").await;
    saved(
        &server,
        &s,
        &agent_id,
        &api.spec(),
        &["getPet", "addPet"],
        json!({}),
    )
    .await;
    fake.script(
        MODEL,
        ToolScript::calls([
            (
                tool("getPet").as_str(),
                json!({"id": "42 & co", "verbose": true}),
            ),
            (
                tool("addPet").as_str(),
                json!({"name": "Rex", "tag": "dog"}),
            ),
        ]),
    );
    let message = answer(&server, &s, &agent_id).await;
    assert_eq!(
        outputs(&message),
        [
            r#"{"id":"42 & co","name":"Rex"}"#,
            r#"{"created":{"name":"Rex","tag":"dog"}}"#
        ]
    );
    // The requests, as the document describes them.
    let get = &api.seen_at("/v1/pets/42%20%26%20co")[0];
    assert_eq!(
        (get.method.as_str(), get.query.as_str()),
        ("GET", "verbose=true")
    );
    let post = &api.seen_at("/v1/pets")[0];
    assert_eq!(post.method, "POST");
    assert_eq!(post.headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(&post.body).unwrap(),
        json!({"name": "Rex", "tag": "dog"})
    );
    // The model was offered the tools under LibreChat's names, with the document's schemas,
    // and got the answers back.
    let first = fake
        .requests()
        .into_iter()
        .find(|r| r.get("tools").is_some())
        .unwrap();
    let offered: Vec<&Value> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["function"])
        .collect();
    assert_eq!(offered[0]["name"], tool("addPet"));
    assert_eq!(offered[0]["parameters"]["required"], json!(["name"]));
    assert_eq!(offered[1]["name"], tool("getPet"));
    assert_eq!(offered[1]["description"], "One pet by id");
    assert!(
        message["text"]
            .as_str()
            .unwrap()
            .contains("\"name\":\"Rex\"")
    );
    // Stored as tool calls.
    let convo = message["conversationId"].as_str().unwrap();
    let calls = server
        .get_json(
            &format!("/api/agents/tools/calls?conversationId={convo}"),
            &s.token,
        )
        .await;
    let ids: Vec<&str> = calls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["toolId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [tool("getPet"), tool("addPet")]);
}

#[tokio::test]
async fn api_keys_reach_the_api_in_a_header_or_the_query() {
    let fake = FakeOpenAi::start().await;
    let api = FakeApi::start("http://example.com/").await;
    let server = server(&fake, &yaml(&api, ""), &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    fake.script(
        MODEL,
        ToolScript::calls([(tool("whoami").as_str(), json!({}))]),
    );
    let cases = [
        (
            json!({"authorization_type": "bearer"}),
            "authorization",
            json!("Bearer k-1"),
        ),
        (
            json!({"authorization_type": "basic"}),
            "authorization",
            json!("Basic ay0x"),
        ),
        (
            json!({"authorization_type": "custom", "custom_auth_header": "X-Api-Key"}),
            "x-api-key",
            json!("k-1"),
        ),
        // The document's apiKey scheme puts `api_key` in the query.
        (
            json!({"authorization_type": "custom", "custom_auth_header": "api_key"}),
            "api_key",
            json!("k-1"),
        ),
        (
            json!({"authorization_type": "query", "custom_auth_header": "api_key"}),
            "api_key",
            json!("k-1"),
        ),
    ];
    for (auth, field, expected) in cases {
        let agent_id = agent(&server, &s).await;
        let mut auth = auth;
        auth["type"] = json!("service_http");
        saved(
            &server,
            &s,
            &agent_id,
            &api.spec(),
            &["whoami"],
            json!({"auth": auth, "api_key": "k-1"}),
        )
        .await;
        let message = answer(&server, &s, &agent_id).await;
        let seen: Value = serde_json::from_str(&outputs(&message)[0]).unwrap();
        assert_eq!(seen[field], expected, "{auth}: {seen}");
    }
    // Without auth, nothing is sent.
    let agent_id = agent(&server, &s).await;
    saved(&server, &s, &agent_id, &api.spec(), &["whoami"], json!({})).await;
    let seen: Value =
        serde_json::from_str(&outputs(&answer(&server, &s, &agent_id).await)[0]).unwrap();
    assert_eq!(
        seen,
        json!({"authorization": null, "x-api-key": null, "api_key": null})
    );
}

#[tokio::test]
async fn a_tool_output_asking_for_another_agents_action_gets_no_such_tool() {
    let fake = FakeOpenAi::start().await;
    let api = FakeApi::start("http://example.com/").await;
    let yaml = yaml(&api, "").replace(
        &format!("['127.0.0.1:{}']", api.port),
        &format!("['127.0.0.1:{0}', 'localhost:{0}']", api.port),
    );
    let server = server(&fake, &yaml, &[]).await;
    let (alice, bob) = server.two_users(PW).await;
    // Bob's agent reads secrets, on its own domain.
    let bobs = agent(&server, &bob).await;
    let secret_spec = FakeApi::spec_at(&format!("http://localhost:{}/v1", api.port));
    saved(
        &server,
        &bob,
        &bobs,
        &secret_spec,
        &["getSecret"],
        json!({}),
    )
    .await;
    // Alice's agent reads a note, and even names Bob's tool among its own.
    let alices = agent(&server, &alice).await;
    saved(
        &server,
        &alice,
        &alices,
        &api.spec(),
        &["readNote"],
        json!({}),
    )
    .await;
    let patched = server
        .send(
            "PATCH",
            &format!("/api/agents/{alices}"),
            &alice.token,
            json!({"tools": ["readNote_action_127---0---0---1", "getSecret_action_localhost"]}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    // The model does what the note says.
    fake.script(
        MODEL,
        ToolScript::calls([
            (tool("readNote").as_str(), json!({})),
            ("getSecret_action_localhost", json!({})),
        ]),
    );
    let message = answer(&server, &alice, &alices).await;
    let out = outputs(&message);
    assert!(out[0].contains("getSecret_action_localhost"), "{out:?}");
    assert!(
        out[1].starts_with("Error: there is no tool named \"getSecret_action_localhost\""),
        "{out:?}"
    );
    assert!(
        api.seen_at("/v1/secret").is_empty(),
        "the other agent's API was not called"
    );
    let offered = &fake
        .requests()
        .into_iter()
        .find(|r| r.get("tools").is_some())
        .unwrap()["tools"];
    assert_eq!(offered.as_array().unwrap().len(), 1, "{offered}");
}

#[tokio::test]
async fn an_action_saved_with_another_document_is_read_anew_at_the_next_turn() {
    let (fake, api, server, s, agent_id) = scene("").await;
    let action = saved(&server, &s, &agent_id, &api.spec(), &["getPet"], json!({})).await;
    fake.script(
        MODEL,
        ToolScript::calls([(tool("getPet").as_str(), json!({"id": "7"}))]),
    );
    // The tool offered in the last turn.
    let offered = || {
        let last = fake
            .requests()
            .into_iter()
            .rfind(|r| r.get("tools").is_some())
            .unwrap();
        last["tools"][0]["function"].clone()
    };
    answer(&server, &s, &agent_id).await;
    assert_eq!(offered()["description"], "One pet by id");
    assert!(
        offered()["parameters"]["properties"]
            .get("verbose")
            .is_some()
    );

    // Saved again with another summary and another query parameter, as the client saves it.
    let changed = api
        .spec()
        .replace("One pet by id", "A pet, by its number")
        .replace("\"verbose\"", "\"detail\"");
    let body = json!({"functions": functions(&["getPet"]), "action_id": action["action_id"],
        "metadata": {"domain": "http://127.0.0.1", "raw_spec": changed}});
    let path = format!("/api/agents/actions/{agent_id}");
    let resp = server.send("POST", &path, &s.token, body).await;
    assert_eq!(resp.status(), 200);
    answer(&server, &s, &agent_id).await;
    let tool = offered();
    assert_eq!(tool["description"], "A pet, by its number");
    let properties = &tool["parameters"]["properties"];
    assert!(
        properties.get("detail").is_some() && properties.get("verbose").is_none(),
        "{properties}"
    );
}
