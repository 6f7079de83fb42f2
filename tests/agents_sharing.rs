//! Agents shared through the access entries: another account's agent is a 404 and never its
//! data, a viewer reads but cannot change, delete or share, an editor changes but cannot delete
//! or share, public sharing needs `AGENTS.SHARE_PUBLIC`; and the marketplace's list and
//! categories, filtered in the database by what the caller can see.

mod support;

use serde_json::{Value, json};
use support::agents::{PW, call, create, ids, server, set_user_role, share, share_with, user_id};

#[tokio::test]
async fn another_account_s_agent_is_not_found_whatever_is_asked() {
    let server = server(None).await;
    let (alice, bob) = server.two_users(PW).await;
    let agent = create(&server, &alice, json!({"instructions": "secret sauce"})).await;
    let (id, object_id) = ids(&agent);
    let p = format!("/api/agents/{id}");
    let attempts = [
        ("GET", p.clone(), json!(null)),
        ("GET", format!("{p}/expanded"), json!(null)),
        ("GET", format!("{p}/versions"), json!(null)),
        ("PATCH", p.clone(), json!({"name": "mine now"})),
        ("DELETE", p.clone(), json!(null)),
        ("POST", format!("{p}/duplicate"), json!({})),
        ("POST", format!("{p}/revert"), json!({"version_index": 0})),
        (
            "GET",
            format!("/api/permissions/agent/{object_id}"),
            json!(null),
        ),
        (
            "PUT",
            format!("/api/permissions/agent/{object_id}"),
            json!({"public": true, "publicAccessRoleId": "agent_viewer"}),
        ),
    ];
    for (method, path, body) in attempts {
        let (status, v) = call(&server, &bob, method, &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {v}");
        let text = v.to_string();
        assert!(
            !text.contains("secret sauce") && !text.contains("Helper"),
            "{text}"
        );
    }
    let bits = server
        .get_json(
            &format!("/api/permissions/agent/{object_id}/effective"),
            &bob.token,
        )
        .await;
    assert_eq!(bits["permissionBits"], 0);
    // Bob's list and categories count nothing of Alice's.
    let list = server.get_json("/api/agents", &bob.token).await;
    assert_eq!(list["data"], json!([]));
    let cats = server.get_json("/api/agents/categories", &bob.token).await;
    assert_eq!(cats[0]["value"], "general");
    assert_eq!(cats[0]["count"], 0);
    // The agent is as Alice left it.
    let mine = server
        .get_json(&format!("{p}/expanded"), &alice.token)
        .await;
    assert_eq!(
        (mine["name"].as_str(), mine["version"].as_i64()),
        (Some("Helper"), Some(1))
    );
}

#[tokio::test]
async fn a_viewer_uses_an_editor_edits_and_only_the_owner_deletes_and_shares() {
    let server = server(None).await;
    let (alice, bob) = server.two_users(PW).await;
    let carol = server.signed_in("carol@example.org", PW).await;
    set_user_role(&server, &alice, json!({"AGENTS": {"SHARE": true}})).await;
    let (id, oid) = ids(&create(&server, &bob, json!({"instructions": "hidden"})).await);
    share_with(&server, &bob, &oid, &carol, "agent_viewer").await;
    let p = format!("/api/agents/{id}");

    let seen = server.get_json(&p, &carol.token).await;
    assert_eq!(seen["name"], "Helper");
    assert!(seen.get("instructions").is_none() && seen.get("author").is_none());
    for (method, path, body, status) in [
        ("GET", format!("{p}/expanded"), json!(null), 403),
        ("PATCH", p.clone(), json!({"name": "x"}), 403),
        ("DELETE", p.clone(), json!(null), 403),
        ("POST", format!("{p}/duplicate"), json!({}), 403),
        (
            "POST",
            format!("{p}/revert"),
            json!({"version_index": 0}),
            403,
        ),
        (
            "PUT",
            format!("/api/permissions/agent/{oid}"),
            json!({"updated": [{"type": "user", "id": user_id(&alice), "accessRoleId": "agent_owner"}]}),
            403,
        ),
    ] {
        let (got, v) = call(&server, &carol, method, &path, body).await;
        assert_eq!(got, status, "{method} {path}: {v}");
        assert!(!v.to_string().contains("hidden"));
    }

    share_with(&server, &bob, &oid, &carol, "agent_editor").await;
    let (status, v) = call(
        &server,
        &carol,
        "PATCH",
        &p,
        json!({"instructions": "carol's"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert!(
        v.get("author").is_none(),
        "the author's id only to the author"
    );
    let (status, copy) = call(
        &server,
        &carol,
        "POST",
        &format!("{p}/duplicate"),
        json!({}),
    )
    .await;
    assert_eq!(status, 201, "an editor may copy it, as their own");
    assert_eq!(copy["agent"]["author"], user_id(&carol));
    let (status, _) = call(&server, &carol, "DELETE", &p, json!(null)).await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &server,
        &carol,
        "GET",
        &format!("/api/permissions/agent/{oid}"),
        json!(null),
    )
    .await;
    assert_eq!(status, 403);

    // Taking the entry away ends it at once.
    let body = json!({"removed": [{"type": "user", "id": user_id(&carol)}]});
    assert_eq!(share(&server, &bob, &oid, body).await, 200);
    assert_eq!(server.get_as(&p, &carol.token).await.status(), 404);
}

#[tokio::test]
async fn sharing_with_everyone_needs_share_public_and_then_everyone_sees_it() {
    let server = server(None).await;
    let (alice, bob) = server.two_users(PW).await;
    let carol = server.signed_in("carol@example.org", PW).await;
    let (id, oid) = ids(&create(&server, &bob, json!({})).await);
    let public = json!({"public": true, "publicAccessRoleId": "agent_viewer"});
    // USER may not share agents at all by default (LibreChat's), nor publicly.
    assert_eq!(share(&server, &bob, &oid, public.clone()).await, 403);
    set_user_role(&server, &alice, json!({"AGENTS": {"SHARE": true}})).await;
    assert_eq!(share(&server, &bob, &oid, public.clone()).await, 403);
    assert_eq!(
        server
            .get_as(&format!("/api/agents/{id}"), &carol.token)
            .await
            .status(),
        404
    );
    set_user_role(&server, &alice, json!({"AGENTS": {"SHARE_PUBLIC": true}})).await;
    assert_eq!(share(&server, &bob, &oid, public).await, 200);
    let seen = server
        .get_json(&format!("/api/agents/{id}"), &carol.token)
        .await;
    assert_eq!(seen["isPublic"], true);
    let list = server.get_json("/api/agents", &carol.token).await;
    assert_eq!(list["data"][0]["isPublic"], true);
    assert_eq!(list["data"][0]["isEditable"], false);
    let entries = server
        .get_json(&format!("/api/permissions/agent/{oid}"), &bob.token)
        .await;
    assert_eq!(entries["public"], true);
    assert_eq!(entries["publicAccessRoleId"], "agent_viewer");
    let roles = server
        .get_json("/api/permissions/agent/roles", &bob.token)
        .await;
    let ids: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["accessRoleId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["agent_viewer", "agent_editor", "agent_owner"]);
}

#[tokio::test]
async fn a_role_without_agents_is_refused_and_categories_stay_readable() {
    let server = server(None).await;
    let (alice, bob) = server.two_users(PW).await;
    set_user_role(&server, &alice, json!({"AGENTS": {"CREATE": false}})).await;
    let (status, _) = call(
        &server,
        &bob,
        "POST",
        "/api/agents",
        support::agents::body(json!({})),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(server.get_as("/api/agents", &bob.token).await.status(), 200);
    set_user_role(&server, &alice, json!({"AGENTS": {"USE": false}})).await;
    let resp = server.get_as("/api/agents", &bob.token).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["message"],
        "Forbidden: Insufficient permissions"
    );
    assert_eq!(
        server
            .get_as("/api/agents/categories", &bob.token)
            .await
            .status(),
        200
    );
    assert_eq!(server.get("/api/agents").await.status(), 401);
}

#[tokio::test]
async fn the_list_pages_and_filters_by_category_search_promotion_and_permission() {
    let server = server(None).await;
    let (alice, bob) = server.two_users(PW).await;
    set_user_role(&server, &alice, json!({"AGENTS": {"SHARE": true}})).await;
    let mut made = Vec::new();
    for i in 0..5 {
        let category = if i < 2 { "finance" } else { "general" };
        let a = create(
            &server,
            &alice,
            json!({"name": format!("Agent {i}"), "category": category,
            "description": if i == 4 { "Handles TAXES" } else { "" }}),
        )
        .await;
        made.push(ids(&a));
    }
    // Bob's own, and one of Alice's he may only view.
    create(&server, &bob, json!({"name": "Bob's"})).await;
    share_with(&server, &alice, &made[0].1, &bob, "agent_viewer").await;
    let (id3, _) = made[3].clone();
    server
        .state
        .db
        .write(move |c| librechat::db::agents::set_promoted(c, &id3, true))
        .await
        .unwrap();

    // Pages of two, newest change first, until the cursor runs out.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = server
            .get_json(
                &format!("/api/agents?limit=2&cursor={cursor}"),
                &alice.token,
            )
            .await;
        assert_eq!(page["object"], "list");
        for a in page["data"].as_array().unwrap() {
            seen.push(a["name"].as_str().unwrap().to_owned());
        }
        if page["has_more"] != true {
            assert_eq!(page["after"], Value::Null);
            break;
        }
        assert_eq!(page["last_id"], page["data"][1]["id"]);
        cursor = page["after"].as_str().unwrap().to_owned();
    }
    assert_eq!(
        seen,
        ["Agent 4", "Agent 3", "Agent 2", "Agent 1", "Agent 0"]
    );

    let names = |v: &Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let finance = server
        .get_json("/api/agents?category=finance", &alice.token)
        .await;
    assert_eq!(names(&finance), ["Agent 1", "Agent 0"]);
    let taxes = server
        .get_json("/api/agents?search=taxes", &alice.token)
        .await;
    assert_eq!(names(&taxes), ["Agent 4"]);
    let promoted = server
        .get_json("/api/agents?promoted=1", &alice.token)
        .await;
    assert_eq!(names(&promoted), ["Agent 3"]);
    assert_eq!(promoted["data"][0]["is_promoted"], true);
    let others = server
        .get_json("/api/agents?promoted=0", &alice.token)
        .await;
    assert_eq!(names(&others).len(), 4);

    // Bob sees his own and the one shared; only his own is editable.
    let bobs = server.get_json("/api/agents", &bob.token).await;
    assert_eq!(names(&bobs), ["Bob's", "Agent 0"]);
    assert_eq!(bobs["data"][0]["isEditable"], true);
    assert_eq!(bobs["data"][1]["isEditable"], false);
    assert_eq!(bobs["data"][1]["author"], user_id(&alice));
    let editable = server
        .get_json("/api/agents?requiredPermission=2", &bob.token)
        .await;
    assert_eq!(names(&editable), ["Bob's"]);

    // Categories count what each can see; `promoted` leads when there is one, `all` ends.
    let cats = server
        .get_json("/api/agents/categories", &alice.token)
        .await;
    let cats = cats.as_array().unwrap();
    assert_eq!(
        cats[0],
        json!({"value": "promoted", "label": "Promoted", "count": 1, "description": "Our recommended agents"})
    );
    let count = |value: &str| cats.iter().find(|c| c["value"] == value).unwrap()["count"].clone();
    assert_eq!(
        (count("general"), count("finance"), count("hr")),
        (json!(3), json!(2), json!(0))
    );
    assert_eq!(cats[1]["label"], "com_agents_category_general");
    assert_eq!(
        cats.last().unwrap(),
        &json!({"value": "all", "label": "All", "description": "All available agents"})
    );
    let bob_cats = server.get_json("/api/agents/categories", &bob.token).await;
    assert_eq!(
        bob_cats[0]["value"], "general",
        "no promoted agent Bob can see"
    );
    assert_eq!(bob_cats[0]["count"], 1);
    assert_eq!(bob_cats[3]["count"], 1, "finance: the one shared with him");
}

#[tokio::test]
async fn an_agent_s_files_are_listed_to_its_editors_only() {
    let server = server(None).await;
    let (alice, bob) = server.two_users(PW).await;
    let carol = server.signed_in("carol@example.org", PW).await;
    let dave = server.signed_in("dave@example.org", PW).await;
    let (status, file) = server
        .upload(
            &alice,
            "/api/files",
            "tides.txt",
            "text/plain",
            b"High water at 06:12 (the whole text).".to_vec(),
        )
        .await;
    assert_eq!(status, 200, "{file}");
    let file_id = file["file_id"].as_str().unwrap();
    let agent = create(
        &server,
        &alice,
        json!({"tool_resources": {"context": {"file_ids": [file_id]}}}),
    )
    .await;
    let (id, object_id) = ids(&agent);
    share_with(&server, &alice, &object_id, &bob, "agent_viewer").await;
    share_with(&server, &alice, &object_id, &carol, "agent_editor").await;
    let path = format!("/api/files/agent/{id}");

    // The author and an editor: the file, without the text read out of it.
    for s in [&alice, &carol] {
        let files = server.get_json(&path, &s.token).await;
        let files = files.as_array().unwrap();
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(files[0]["file_id"], file_id);
        assert_eq!(files[0]["filename"], "tides.txt");
        assert!(
            !files[0].to_string().contains("the whole text"),
            "{files:?}"
        );
    }
    // A viewer, a stranger and an agent that does not exist: nothing, as in LibreChat.
    for (s, p) in [
        (&bob, path.clone()),
        (&dave, path.clone()),
        (&alice, "/api/files/agent/agent_nope".to_owned()),
    ] {
        assert_eq!(server.get_json(&p, &s.token).await, json!([]), "{p}");
    }
    assert_eq!(server.get(&path).await.status(), 401);
}
