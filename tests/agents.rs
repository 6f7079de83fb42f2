//! Agents as stored resources (`/api/agents`): what is created and answered, every change a
//! version, reverting, copying, deleting, and the bodies refused. Sharing and the marketplace
//! are in `agents_sharing.rs`; `endpoints.agents` and pictures in `agents_config.rs`.

mod support;

use serde_json::{Value, json};
use support::agents::{PW, call, create, ids, server, user_id};

#[tokio::test]
async fn a_created_agent_has_librechat_s_shape_and_its_author_owns_it() {
    let server = server(None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let agent = create(
        &server,
        &alice,
        json!({"instructions": "Answer in French.", "tools": ["web_search"],
               "conversation_starters": ["Bonjour ?"], "model_parameters": {"temperature": "0.3"},
               "ignored_field": true}),
    )
    .await;
    let (id, object_id) = ids(&agent);
    assert!(id.starts_with("agent_") && id.len() == 27, "{id}");
    assert_eq!(object_id.len(), 24);
    assert_eq!(agent["author"], user_id(&alice));
    assert_eq!(agent["category"], "general");
    assert_eq!(agent["version"], 1);
    assert_eq!(agent["is_promoted"], false);
    assert_eq!(agent["model_parameters"], json!({"temperature": 0.3}));
    assert_eq!(agent["edges"], json!([]));
    assert_eq!(agent["tool_resources"], json!({}));
    assert!(agent.get("ignored_field").is_none() && agent.get("versions").is_none());

    // The author is the owner: every bit on it.
    let bits = server
        .get_json(
            &format!("/api/permissions/agent/{object_id}/effective"),
            &alice.token,
        )
        .await;
    assert_eq!(bits["permissionBits"], 15);

    // A viewer's read leaves out the instructions, tools and settings.
    let seen = server
        .get_json(&format!("/api/agents/{id}"), &alice.token)
        .await;
    assert_eq!(seen["name"], "Helper");
    assert_eq!(seen["isPublic"], false);
    assert_eq!(seen["model_parameters"], json!({}));
    for hidden in ["instructions", "tools", "tool_resources", "edges"] {
        assert!(seen.get(hidden).is_none(), "{hidden} shown: {seen}");
    }
    let whole = server
        .get_json(&format!("/api/agents/{id}/expanded"), &alice.token)
        .await;
    assert_eq!(whole["instructions"], "Answer in French.");
    assert_eq!(whole["tools"], json!(["web_search"]));
    assert_eq!(whole["isPublic"], false);
}

#[tokio::test]
async fn every_change_is_a_version_and_a_revert_brings_one_back() {
    let server = server(None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let (id, _) = ids(&create(&server, &alice, json!({"instructions": "v1"})).await);
    let path = format!("/api/agents/{id}");
    let (status, updated) = call(
        &server,
        &alice,
        "PATCH",
        &path,
        json!({"instructions": "v2"}),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (
            updated["instructions"].as_str(),
            updated["version"].as_i64()
        ),
        (Some("v2"), Some(2))
    );
    assert_eq!(
        updated["name"], "Helper",
        "what the change does not name stays"
    );

    // The same change again records no version (LibreChat's duplicate check); it still lands.
    let (status, again) = call(
        &server,
        &alice,
        "PATCH",
        &path,
        json!({"instructions": "v2"}),
    )
    .await;
    assert_eq!((status, again["version"].as_i64()), (200, Some(2)));

    let (_, third) = call(&server, &alice, "PATCH", &path, json!({"name": "Renamed"})).await;
    assert_eq!(third["version"], 3);
    let versions = server
        .get_json(&format!("{path}/versions"), &alice.token)
        .await;
    let texts: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["instructions"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["v1", "v2", "v2"]);
    assert_eq!(versions[2]["name"], "Renamed");
    assert_eq!(versions[1]["updatedBy"], user_id(&alice));
    assert!(versions[0]["createdAt"].is_string());

    let (status, back) = call(
        &server,
        &alice,
        "POST",
        &format!("{path}/revert"),
        json!({"version_index": 0}),
    )
    .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(
        (back["instructions"].as_str(), back["name"].as_str()),
        (Some("v1"), Some("Helper"))
    );
    assert_eq!(
        back["version"], 3,
        "a revert records no version, as in LibreChat"
    );
    let stored = server
        .get_json(&format!("{path}/expanded"), &alice.token)
        .await;
    assert_eq!(stored["instructions"], "v1");

    for (body, status) in [
        (json!({}), 400),
        (json!({"version_index": 9}), 400),
        (json!({"version_index": "zero"}), 400),
        (json!({"version_index": -1}), 400),
    ] {
        let (got, v) = call(&server, &alice, "POST", &format!("{path}/revert"), body).await;
        assert_eq!(got, status, "{v}");
        assert!(v["message"].is_string());
    }
}

#[tokio::test]
async fn a_copy_gets_a_new_id_and_what_librechat_copies() {
    let server = server(None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let (sid, _) = ids(&create(&server, &alice, json!({"name": "Source"})).await);
    let (id, _) = ids(&create(
        &server,
        &alice,
        json!({"instructions": "Be kind", "tools": ["file_search"], "category": "hr",
                   "edges": [{"from": "", "to": sid, "edgeType": "handoff"}]}),
    )
    .await);
    let (status, copied) = call(
        &server,
        &alice,
        "POST",
        &format!("/api/agents/{id}/duplicate"),
        json!({}),
    )
    .await;
    assert_eq!(status, 201, "{copied}");
    assert_eq!(copied["actions"], json!([]));
    let copy = &copied["agent"];
    let (cid, _) = ids(copy);
    assert_ne!(cid, id);
    assert!(
        copy["name"].as_str().unwrap().starts_with("Helper ("),
        "{copy}"
    );
    assert_eq!(copy["instructions"], "Be kind");
    assert_eq!(copy["tools"], json!(["file_search"]));
    assert_eq!(copy["category"], "hr");
    assert_eq!(copy["actions"], json!([]));
    assert_eq!(copy["version"], 1);
    // Its own edges start from the copy, not from the original.
    assert_eq!(copy["edges"][0]["from"], cid);
    assert_eq!(copy["edges"][0]["to"], sid);
    // The original is untouched.
    let original = server
        .get_json(&format!("/api/agents/{id}/expanded"), &alice.token)
        .await;
    assert_eq!(original["edges"][0]["from"], id);
}

#[tokio::test]
async fn deleting_an_agent_takes_it_out_of_edges_and_favorites() {
    let server = server(None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let (gone, gone_oid) = ids(&create(&server, &alice, json!({"name": "Gone"})).await);
    let (stays, _) = ids(&create(
        &server,
        &alice,
        json!({"edges": [{"from": "", "to": gone}, {"from": "", "to": [gone]}]}),
    )
    .await);
    // Edges must name agents that exist.
    assert_eq!(
        server
            .send(
                "POST",
                "/api/agents",
                &alice.token,
                support::agents::body(json!({"edges": [{"from": "", "to": "agent_nope"}]}))
            )
            .await
            .status(),
        400
    );
    let (_, favs) = call(
        &server,
        &alice,
        "POST",
        "/api/user/settings/favorites",
        json!({"favorites": [{"agentId": gone}, {"model": "gpt-4o", "endpoint": "openAI"}]}),
    )
    .await;
    assert_eq!(favs.as_array().map(Vec::len), Some(2), "{favs}");

    let (status, v) = call(
        &server,
        &alice,
        "DELETE",
        &format!("/api/agents/{gone}"),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, v["message"].as_str()),
        (200, Some("Agent deleted"))
    );
    assert_eq!(
        server
            .get_as(&format!("/api/agents/{gone}"), &alice.token)
            .await
            .status(),
        404
    );
    assert_eq!(
        server.count("agent_versions").await,
        1,
        "only the other agent's version"
    );
    let entries: i64 = server
        .state
        .db
        .read(move |c| {
            c.query_row(
                "SELECT count(*) FROM acl_entries WHERE resource_id = ?1",
                [&gone_oid],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(entries, 0);
    let other = server
        .get_json(&format!("/api/agents/{stays}/expanded"), &alice.token)
        .await;
    assert_eq!(
        other["edges"],
        json!([]),
        "both edges lost their only target"
    );
    let favs = server
        .get_json("/api/user/settings/favorites", &alice.token)
        .await;
    assert_eq!(favs, json!([{"model": "gpt-4o", "endpoint": "openAI"}]));
    let (status, _) = call(
        &server,
        &alice,
        "DELETE",
        &format!("/api/agents/{gone}"),
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_bodies_are_refused_with_the_field_named_and_nothing_is_stored() {
    let server = server(None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let long = "x".repeat(100_001);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"tools": "web_search"}), "tools"),
        (json!({"tools": [1, 2]}), "tools[0]"),
        (json!({"name": 42}), "name"),
        (json!({"instructions": long}), "instructions"),
        (json!({"provider": "skynet"}), "provider"),
        (json!({"provider": null}), "provider"),
        (json!({"model": ""}), "model"),
        (json!({"model_parameters": [1]}), "model_parameters"),
        (
            json!({"conversation_starters": vec!["a"; 33]}),
            "conversation_starters",
        ),
        (json!({"edges": [{"from": "", "to": 7}]}), "edges[0].to"),
        (json!({"edges": {"from": "a"}}), "edges"),
        (json!({"recursion_limit": "many"}), "recursion_limit"),
        (
            json!({"support_contact": {"email": "not an address"}}),
            "support_contact.email",
        ),
        (
            json!({"tool_resources": {"file_search": {"file_ids": "f1"}}}),
            "tool_resources.file_search.file_ids",
        ),
        (
            json!({"avatar": {"filepath": "https://tracker.example/p.png", "source": "url"}}),
            "avatar",
        ),
        (json!({"memory_scope": "everyone"}), "memory_scope"),
    ];
    for (more, field) in cases {
        let resp = server
            .send(
                "POST",
                "/api/agents",
                &alice.token,
                support::agents::body(more.clone()),
            )
            .await;
        assert_eq!(resp.status(), 400, "{more}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"], "Invalid request data", "{v}");
        let message = v["message"].as_str().unwrap();
        assert!(message.contains(field), "{field} not named in {message}");
    }
    assert_eq!(server.count("agents").await, 0);
    // Not JSON at all.
    let resp = server
        .client
        .post(server.url("/api/agents"))
        .bearer_auth(&alice.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // An update is read the same way, and a wrong one changes nothing.
    let (id, _) = ids(&create(&server, &alice, json!({})).await);
    let path = format!("/api/agents/{id}");
    for body in [
        json!({"tools": {"a": 1}}),
        json!({"provider": "nowhere"}),
        json!({"end_after_tools": "yes"}),
    ] {
        let (status, v) = call(&server, &alice, "PATCH", &path, body).await;
        assert_eq!(status, 400, "{v}");
    }
    let stored = server
        .get_json(&format!("{path}/expanded"), &alice.token)
        .await;
    assert_eq!(
        (stored["version"].as_i64(), stored["provider"].as_str()),
        (Some(1), Some("openAI"))
    );
    // A picture that was never uploaded for it cannot be named.
    let (status, _) = call(
        &server,
        &alice,
        "PATCH",
        &path,
        json!({"avatar": {"filepath": "/images/agents/other/x.png", "source": "local"}}),
    )
    .await;
    assert_eq!(status, 400);
}
