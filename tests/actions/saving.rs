//! Saving, listing and deleting actions: LibreChat's shapes, the agent's tools following,
//! secrets encrypted at rest and never answered, and who may do what.

use serde_json::{Value, json};

use crate::support::agents::{create, ids, share_with};
use crate::*;

const KEY_VALUE: &str = "sk-live-0123456789abcdef";

fn api_key_auth() -> Value {
    json!({
        "auth": {"type": "service_http", "authorization_type": "custom", "custom_auth_header": "X-Api-Key"},
        "api_key": KEY_VALUE,
    })
}

async fn stored_key(server: &TestServer) -> Option<String> {
    server
        .state
        .db
        .read(|c| c.query_row("SELECT api_key FROM actions", [], |r| r.get(0)))
        .await
        .unwrap()
}

/// A server letting actions reach the fake API as `127.0.0.1` and as `localhost`, with an
/// agent of Alice's.
async fn alice_with_agent() -> Scene {
    let both_names = |api: &FakeApi| {
        yaml(api, "  allowedDomains: ['127.0.0.1', 'localhost']\n").replace(
            &format!("['127.0.0.1:{}']", api.port),
            &format!("['127.0.0.1:{0}', 'localhost:{0}']", api.port),
        )
    };
    scene_with(both_names, &[]).await
}

/// `POST /api/agents/actions/:agent_id` with this body.
async fn post(server: &TestServer, s: &Session, agent_id: &str, body: Value) -> (u16, Value) {
    let path = format!("/api/agents/actions/{agent_id}");
    crate::support::agents::call(server, s, "POST", &path, body).await
}

#[tokio::test]
async fn an_action_is_saved_and_listed_as_librechat_answers_without_its_secret() {
    let (_fake, api, server, s, agent_id) = alice_with_agent().await;
    // Names that are no operation of the document are left out; none left is no functions.
    let (status, v) = save(&server, &s, &agent_id, &api.spec(), &["nope"], json!({})).await;
    assert_eq!(
        (status, v["message"].as_str()),
        (400, Some("No functions provided"))
    );
    let names = ["getPet", "addPet", "nope"];
    let (status, body) = save(&server, &s, &agent_id, &api.spec(), &names, api_key_auth()).await;
    assert_eq!(status, 200, "{body}");
    let (agent, action) = (&body[0], &body[1]);
    let action_id = action["action_id"].as_str().unwrap().to_owned();
    assert_eq!(agent["id"], agent_id);
    assert_eq!(
        agent["tools"],
        json!([
            "getPet_action_127---0---0---1",
            "addPet_action_127---0---0---1"
        ])
    );
    assert_eq!(
        agent["actions"],
        json!([format!("127---0---0---1_action_{action_id}")])
    );
    assert_eq!(action["agent_id"], agent_id);
    assert_eq!(action["type"], "action_prototype");
    assert_eq!(action["metadata"]["domain"], "http://127.0.0.1");
    assert_eq!(
        action["metadata"]["auth"]["custom_auth_header"],
        "X-Api-Key"
    );
    assert!(action["metadata"].get("api_key").is_none());
    assert!(!body.to_string().contains(KEY_VALUE));

    // Listed for its editor, without the secret.
    let list = server.get_json("/api/agents/actions", &s.token).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["action_id"], action_id);
    assert_eq!(list[0]["metadata"]["raw_spec"], api.spec());
    assert!(!list.to_string().contains(KEY_VALUE));

    // Encrypted at rest: the key is nowhere in the database's bytes.
    let sealed = stored_key(&server).await.unwrap();
    assert!(sealed.starts_with("v3:"), "{sealed}");
    assert!(!contains(&raw_database(&server), KEY_VALUE));
}

#[tokio::test]
async fn an_update_keeps_the_secret_only_while_the_target_stays_and_a_delete_takes_the_tools() {
    let (_fake, api, server, s, agent_id) = alice_with_agent().await;
    let names = ["getPet", "addPet"];
    let action = saved(&server, &s, &agent_id, &api.spec(), &names, api_key_auth()).await;
    let action_id = action["action_id"].as_str().unwrap().to_owned();
    let sealed = stored_key(&server).await.unwrap();

    // Saved again as the client saves an unchanged action (no secrets, no auth): kept.
    let again = json!({"functions": functions(&names), "action_id": action_id,
        "metadata": {"domain": "http://127.0.0.1", "raw_spec": api.spec()}});
    assert_eq!(post(&server, &s, &agent_id, again).await.0, 200);
    assert_eq!(stored_key(&server).await.as_deref(), Some(sealed.as_str()));

    // Pointed elsewhere without the key again: refused, as LibreChat refuses it.
    let elsewhere = FakeApi::spec_at(&format!("http://localhost:{}/v1", api.port));
    let moved = json!({"domain": "http://localhost", "raw_spec": elsewhere});
    let body =
        json!({"functions": functions(&["getPet"]), "action_id": action_id, "metadata": moved});
    let (status, refused) = post(&server, &s, &agent_id, body).await;
    assert_eq!(status, 400);
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.starts_with("Action credentials must be re-entered"),
        "{message}"
    );
    // With it: the tools follow the new domain, the old ones go.
    let mut meta = api_key_auth();
    meta["api_key"] = json!("sk-new");
    meta["domain"] = json!("http://localhost");
    meta["raw_spec"] = json!(elsewhere);
    let body =
        json!({"functions": functions(&["getPet"]), "action_id": action_id, "metadata": meta});
    let (status, body) = post(&server, &s, &agent_id, body).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[1]["action_id"], action_id);
    assert_eq!(body[0]["tools"], json!(["getPet_action_localhost"]));
    assert_ne!(stored_key(&server).await.as_deref(), Some(sealed.as_str()));

    // Deleted: its tools and its entry go from the agent, as a new version.
    let versions_path = format!("/api/agents/{agent_id}/versions");
    let before = server.get_json(&versions_path, &s.token).await;
    let path = format!("/api/agents/actions/{agent_id}/{action_id}");
    let resp = server.send("DELETE", &path, &s.token, json!({})).await;
    assert_eq!(resp.status(), 200);
    let agent = server
        .get_json(&format!("/api/agents/{agent_id}/expanded"), &s.token)
        .await;
    assert_eq!(
        (&agent["actions"], &agent["tools"]),
        (&json!([]), &json!([]))
    );
    let after = server.get_json(&versions_path, &s.token).await;
    assert_eq!(
        after.as_array().unwrap().len(),
        before.as_array().unwrap().len() + 1
    );
    assert_eq!(
        server.get_json("/api/agents/actions", &s.token).await,
        json!([])
    );
    assert_eq!(server.count("actions").await, 0);
    let resp = server.send("DELETE", &path, &s.token, json!({})).await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn others_cannot_see_or_change_an_agents_actions() {
    let fake = FakeOpenAi::start().await;
    let api = FakeApi::start("http://example.com/").await;
    let server = server(&fake, &yaml(&api, ""), &[]).await;
    let (alice, bob) = server.two_users(PW).await;
    let made = create(&server, &alice, json!({"model": MODEL})).await;
    let (agent_id, object_id) = ids(&made);
    let action = saved(
        &server,
        &alice,
        &agent_id,
        &api.spec(),
        &["getPet"],
        api_key_auth(),
    )
    .await;
    let action_id = action["action_id"].as_str().unwrap();
    let path = format!("/api/agents/actions/{agent_id}");
    let delete = format!("/api/agents/actions/{agent_id}/{action_id}");
    let body = json!({"functions": functions(&["getPet"]), "action_id": action_id,
        "metadata": {"domain": "http://127.0.0.1", "raw_spec": api.spec()}});

    // Not shared: not found, nothing said of it.
    for (method, p) in [("POST", &path), ("DELETE", &delete)] {
        let (status, v) =
            crate::support::agents::call(&server, &bob, method, p, body.clone()).await;
        assert_eq!(status, 404, "{method} {v}");
        assert!(!v.to_string().contains("getPet"), "{v}");
    }
    assert_eq!(
        server.get_json("/api/agents/actions", &bob.token).await,
        json!([])
    );

    // A viewer may use the agent, not change its actions (nor read them).
    share_with(&server, &alice, &object_id, &bob, "agent_viewer").await;
    for (method, p) in [("POST", &path), ("DELETE", &delete)] {
        let (status, _) =
            crate::support::agents::call(&server, &bob, method, p, body.clone()).await;
        assert_eq!(status, 403, "{method}");
    }
    assert_eq!(
        server.get_json("/api/agents/actions", &bob.token).await,
        json!([])
    );

    // Alice's action id on Bob's own agent: refused, and Alice's action is untouched.
    let bobs = agent(&server, &bob).await;
    let (status, v) = crate::support::agents::call(
        &server,
        &bob,
        "POST",
        &format!("/api/agents/actions/{bobs}"),
        body.clone(),
    )
    .await;
    assert_eq!(status, 403, "{v}");
    assert_eq!(v["message"], "Action does not belong to this agent");
    let (status, _) = crate::support::agents::call(
        &server,
        &bob,
        "DELETE",
        &format!("/api/agents/actions/{bobs}/{action_id}"),
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(server.count("actions").await, 1);

    // An editor may; still no secret is shown.
    share_with(&server, &alice, &object_id, &bob, "agent_editor").await;
    let list = server.get_json("/api/agents/actions", &bob.token).await;
    assert_eq!(list[0]["action_id"], action_id);
    assert!(!list.to_string().contains(KEY_VALUE));
    let (status, v) = crate::support::agents::call(&server, &bob, "POST", &path, body).await;
    assert_eq!(status, 200, "{v}");
    assert!(!v.to_string().contains(KEY_VALUE));
}

#[tokio::test]
async fn the_domain_must_be_the_documents_and_allowed() {
    let (_fake, api, server, s, agent_id) =
        scene("  allowedDomains: ['swapi.dev', '*.example.org']\n").await;

    // Not in allowedDomains.
    let (status, v) = save(&server, &s, &agent_id, &api.spec(), &["getPet"], json!({})).await;
    assert_eq!(
        (status, v["message"].as_str()),
        (400, Some("Domain not allowed"))
    );
    // A domain the document's server is not on (an allowed one, to smuggle another host in).
    let (status, v) = save(
        &server,
        &s,
        &agent_id,
        &api.spec(),
        &["getPet"],
        json!({"domain": "https://api.example.org"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        v["message"],
        "Domain mismatch: The domain in the OpenAPI spec does not match the provided domain"
    );
    // No functions, no document, a document that is not one.
    let (status, v) = save(&server, &s, &agent_id, &api.spec(), &[], json!({})).await;
    assert_eq!(
        (status, v["message"].as_str()),
        (400, Some("No functions provided"))
    );
    let (status, v) = save(
        &server,
        &s,
        &agent_id,
        "{\"openapi\": \"3.0.0\"}",
        &["getPet"],
        json!({"domain": "https://swapi.dev"}),
    )
    .await;
    assert_eq!(
        (status, v["message"].as_str()),
        (400, Some("Could not find a valid URL in `servers`"))
    );
    let (status, _) = save(
        &server,
        &s,
        &agent_id,
        &api.spec(),
        &["getPet"],
        json!({"auth": {"type": "kerberos"}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(server.count("actions").await, 0);
}

#[tokio::test]
async fn a_copy_of_an_agent_gets_copies_of_its_actions_without_their_secrets() {
    let (_fake, api, server, s, agent_id) = alice_with_agent().await;
    let action = saved(
        &server,
        &s,
        &agent_id,
        &api.spec(),
        &["getPet"],
        api_key_auth(),
    )
    .await;
    let path = format!("/api/agents/{agent_id}/duplicate");
    let (status, copied) =
        crate::support::agents::call(&server, &s, "POST", &path, json!({})).await;
    assert_eq!(status, 201, "{copied}");
    let copy = &copied["actions"][0];
    let new_id = copy["action_id"].as_str().unwrap();
    assert_ne!(copy["action_id"], action["action_id"]);
    assert_eq!(copy["agent_id"], copied["agent"]["id"]);
    assert_eq!(copy["metadata"], action["metadata"]);
    assert_eq!(
        copied["agent"]["actions"],
        json!([format!("127---0---0---1_action_{new_id}")])
    );
    assert_eq!(
        copied["agent"]["tools"],
        json!(["getPet_action_127---0---0---1"])
    );
    // The key stays with the source.
    let keys: Vec<Option<String>> = server
        .state
        .db
        .read(|c| {
            let mut stmt = c.prepare("SELECT api_key FROM actions ORDER BY created_at")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap();
    assert!(keys[0].is_some() && keys[1].is_none(), "{keys:?}");
    assert_eq!(
        server
            .get_json("/api/agents/actions", &s.token)
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
