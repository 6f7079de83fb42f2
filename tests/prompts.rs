//! The prompts library over HTTP: groups with versions, the production switch, the `/` command,
//! lists filtered by what each person can see, and the refusals (another user's prompt, a
//! duplicate command, an oversize prompt, a role without `PROMPTS.USE`).

mod support;

use serde_json::{Value, json};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

/// Creates a prompt group as `s`; asserts success and returns `{prompt, group}`.
async fn create(server: &TestServer, s: &Session, name: &str, command: Option<&str>) -> Value {
    let resp = server
        .send(
            "POST",
            "/api/prompts",
            &s.token,
            json!({"prompt": {"prompt": format!("Text of {name}"), "type": "text"},
                   "group": {"name": name, "category": "code", "command": command}}),
        )
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    resp.json().await.unwrap()
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_group_keeps_its_versions_and_one_is_in_production() {
    let server = TestServer::start().await;
    let (alice, _) = server.two_users(PW).await;
    let made = create(&server, &alice, "Review", Some("review")).await;
    let gid = made["group"]["_id"].as_str().unwrap().to_owned();
    assert_eq!(
        made["group"]["productionPrompt"]["prompt"],
        "Text of Review"
    );
    assert_eq!(made["group"]["command"], "review");
    assert_eq!(made["prompt"]["groupId"], gid.as_str());

    let resp = server
        .send(
            "POST",
            &format!("/api/prompts/groups/{gid}/prompts"),
            &alice.token,
            json!({"prompt": {"prompt": "Version two", "type": "chat"}}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v2: Value = resp.json().await.unwrap();
    let v2_id = v2["prompt"]["_id"].as_str().unwrap();
    let versions = server
        .get_json(&format!("/api/prompts?groupId={gid}"), &alice.token)
        .await;
    assert_eq!(versions.as_array().unwrap().len(), 2);
    assert_eq!(versions[0]["prompt"], "Version two", "newest first");

    let resp = server
        .send(
            "PATCH",
            &format!("/api/prompts/{v2_id}/tags/production"),
            &alice.token,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let group = server
        .get_json(&format!("/api/prompts/groups/{gid}"), &alice.token)
        .await;
    assert_eq!(group["productionPrompt"]["prompt"], "Version two");
    assert_eq!(group["productionId"], v2_id);

    // Used twice: the counter says so.
    for n in 1..=2 {
        let resp = server
            .send(
                "POST",
                &format!("/api/prompts/groups/{gid}/use"),
                &alice.token,
                json!({}),
            )
            .await;
        assert_eq!(
            resp.json::<Value>().await.unwrap()["numberOfGenerations"],
            n
        );
    }

    // Deleting the production version makes the remaining one production; deleting the last
    // takes the group.
    let resp = server
        .send(
            "DELETE",
            &format!("/api/prompts/{v2_id}?groupId={gid}"),
            &alice.token,
            json!({}),
        )
        .await;
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"prompt": "Prompt deleted successfully"})
    );
    let group = server
        .get_json(&format!("/api/prompts/groups/{gid}"), &alice.token)
        .await;
    assert_eq!(group["productionPrompt"]["prompt"], "Text of Review");
    let v1 = made["prompt"]["_id"].as_str().unwrap();
    let resp = server
        .send(
            "DELETE",
            &format!("/api/prompts/{v1}?groupId={gid}"),
            &alice.token,
            json!({}),
        )
        .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["promptGroup"]["id"], gid.as_str());
    let resp = server
        .get_as(&format!("/api/prompts/groups/{gid}"), &alice.token)
        .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        server.count("acl_entries").await,
        0,
        "its access went with it"
    );
}

#[tokio::test]
async fn another_users_prompt_is_not_found_and_never_listed() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    let made = create(&server, &alice, "Secret plan", Some("plan")).await;
    let gid = made["group"]["_id"].as_str().unwrap();
    let pid = made["prompt"]["_id"].as_str().unwrap();

    for path in [
        format!("/api/prompts/groups/{gid}"),
        format!("/api/prompts/{pid}"),
        format!("/api/prompts?groupId={gid}"),
        format!("/api/permissions/promptGroup/{gid}"),
    ] {
        let resp = server.get_as(&path, &bob.token).await;
        assert_eq!(resp.status(), 404, "{path}");
        assert!(!resp.text().await.unwrap().contains("Secret"), "{path}");
    }
    for (method, path, body) in [
        (
            "PATCH",
            format!("/api/prompts/groups/{gid}"),
            json!({"name": "Mine now"}),
        ),
        ("DELETE", format!("/api/prompts/groups/{gid}"), json!({})),
        (
            "POST",
            format!("/api/prompts/groups/{gid}/prompts"),
            json!({"prompt": {"prompt": "x", "type": "text"}}),
        ),
        ("POST", format!("/api/prompts/groups/{gid}/use"), json!({})),
        (
            "PATCH",
            format!("/api/prompts/{pid}/tags/production"),
            json!({}),
        ),
        (
            "DELETE",
            format!("/api/prompts/{pid}?groupId={gid}"),
            json!({}),
        ),
    ] {
        let resp = server.send(method, &path, &bob.token, body).await;
        assert_eq!(resp.status(), 404, "{method} {path}");
    }
    assert_eq!(
        server.get_json("/api/prompts/all", &bob.token).await,
        json!([])
    );
    let page = server
        .get_json("/api/prompts/groups?pageSize=10", &bob.token)
        .await;
    assert_eq!(page["promptGroups"], json!([]));
    assert_eq!(
        server
            .get_json("/api/permissions/promptGroup/effective/all", &bob.token)
            .await,
        json!({})
    );
    let bits = server
        .get_json(
            &format!("/api/permissions/promptGroup/{gid}/effective"),
            &bob.token,
        )
        .await;
    assert_eq!(bits["permissionBits"], 0);
    // Still whole for its owner.
    let group = server
        .get_json(&format!("/api/prompts/groups/{gid}"), &alice.token)
        .await;
    assert_eq!(group["name"], "Secret plan");
    let all = server
        .get_json("/api/permissions/promptGroup/effective/all", &alice.token)
        .await;
    assert_eq!(all[gid], 15);
}

#[tokio::test]
async fn lists_filter_and_page_in_librechats_order() {
    let server = TestServer::start().await;
    let (alice, _) = server.two_users(PW).await;
    let mut ids = Vec::new();
    for name in ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"] {
        let made = create(&server, &alice, name, None).await;
        ids.push(made["group"]["_id"].as_str().unwrap().to_owned());
    }
    // Gamma is used: it comes first; the rest newest change first.
    server
        .send(
            "POST",
            &format!("/api/prompts/groups/{}/use", ids[2]),
            &alice.token,
            json!({}),
        )
        .await;
    let all = server.get_json("/api/prompts/all", &alice.token).await;
    assert_eq!(names(&all), ["Gamma", "Epsilon", "Delta", "Beta", "Alpha"]);
    let found = server
        .get_json("/api/prompts/all?name=ELT", &alice.token)
        .await;
    assert_eq!(names(&found), ["Delta"]);

    let first = server
        .get_json("/api/prompts/groups?pageSize=2", &alice.token)
        .await;
    assert_eq!(names(&first["promptGroups"]), ["Gamma", "Epsilon"]);
    assert_eq!(first["has_more"], true);
    let cursor = first["after"].as_str().unwrap();
    let second = server
        .get_json(
            &format!(
                "/api/prompts/groups?pageSize=2&cursor={}",
                urlencode(cursor)
            ),
            &alice.token,
        )
        .await;
    assert_eq!(names(&second["promptGroups"]), ["Delta", "Beta"]);
    let mine = server
        .get_json(
            "/api/prompts/groups?pageSize=10&category=sys__my__prompts__sys",
            &alice.token,
        )
        .await;
    assert_eq!(mine["promptGroups"].as_array().unwrap().len(), 5);
    let shared = server
        .get_json(
            "/api/prompts/groups?pageSize=10&category=sys__shared__prompts__sys",
            &alice.token,
        )
        .await;
    assert_eq!(shared["promptGroups"], json!([]));
    let random = server
        .get_json("/api/prompts/random?limit=5&skip=0", &alice.token)
        .await;
    assert_eq!(
        random["prompts"].as_array().unwrap().len(),
        1,
        "one per category"
    );
    let cats = server.get_json("/api/categories", &alice.token).await;
    assert_eq!(cats[0], json!({"label": "com_ui_idea", "value": "idea"}));
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

#[tokio::test]
async fn commands_are_unique_among_what_a_person_sees_and_checked() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    let first = create(&server, &alice, "One", Some("summary")).await;
    let body = json!({"prompt": {"prompt": "x", "type": "text"},
                      "group": {"name": "Two", "command": "summary"}});
    let resp = server
        .send("POST", "/api/prompts", &alice.token, body.clone())
        .await;
    assert_eq!(resp.status(), 409);
    // Bob does not see alice's, so the name is free for him.
    let resp = server.send("POST", "/api/prompts", &bob.token, body).await;
    assert_eq!(resp.status(), 200);
    // Renaming another of alice's groups to the taken command is refused too.
    let other = create(&server, &alice, "Three", None).await;
    let resp = server
        .send(
            "PATCH",
            &format!(
                "/api/prompts/groups/{}",
                other["group"]["_id"].as_str().unwrap()
            ),
            &alice.token,
            json!({"command": "summary"}),
        )
        .await;
    assert_eq!(resp.status(), 409);
    // Its own command can be set again.
    let resp = server
        .send(
            "PATCH",
            &format!(
                "/api/prompts/groups/{}",
                first["group"]["_id"].as_str().unwrap()
            ),
            &alice.token,
            json!({"command": "summary", "oneliner": "Sums up"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    for bad in ["Has Caps", "under_score", &"x".repeat(57)] {
        let resp = server
            .send(
                "POST",
                "/api/prompts",
                &alice.token,
                json!({"prompt": {"prompt": "x", "type": "text"}, "group": {"name": "Bad", "command": bad}}),
            )
            .await;
        assert_eq!(resp.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn bad_prompts_are_refused_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let (alice, _) = server.two_users(PW).await;
    let huge = "a".repeat(50_001);
    for (body, status) in [
        (
            json!({"prompt": {"prompt": huge, "type": "text"}, "group": {"name": "Big"}}),
            413,
        ),
        (
            json!({"prompt": {"prompt": "ok", "type": "image"}, "group": {"name": "T"}}),
            400,
        ),
        (
            json!({"prompt": {"prompt": "  ", "type": "text"}, "group": {"name": "T"}}),
            400,
        ),
        (
            json!({"prompt": {"prompt": "ok", "type": "text"}, "group": {}}),
            400,
        ),
        (
            json!({"prompt": {"prompt": "ok", "type": "text"}, "group": {"name": "x".repeat(256)}}),
            400,
        ),
        (json!({"group": {"name": "No prompt"}}), 400),
    ] {
        let resp = server
            .send("POST", "/api/prompts", &alice.token, body)
            .await;
        assert_eq!(resp.status(), status);
        assert!(resp.json::<Value>().await.unwrap()["message"].is_string());
    }
    assert_eq!(server.count("prompt_groups").await, 0);
    let made = create(&server, &alice, "Fine", None).await;
    let gid = made["group"]["_id"].as_str().unwrap();
    let resp = server
        .send(
            "PATCH",
            &format!("/api/prompts/groups/{gid}"),
            &alice.token,
            json!({"author": "someone"}),
        )
        .await;
    assert_eq!(
        resp.status(),
        400,
        "unknown keys are refused, as LibreChat's strict schema does"
    );
}

#[tokio::test]
async fn a_role_without_prompts_use_is_refused_everywhere() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    create(&server, &bob, "Before", None).await;
    let resp = server
        .send(
            "PATCH",
            "/api/admin/roles/USER/permissions",
            &alice.token,
            json!({"permissions": {"PROMPTS": {"USE": false}}}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    for path in [
        "/api/prompts/all",
        "/api/prompts/groups?pageSize=5",
        "/api/prompts/random",
        "/api/prompts",
    ] {
        let resp = server.get_as(path, &bob.token).await;
        assert_eq!(resp.status(), 403, "{path}");
    }
    let resp = server
        .send(
            "POST",
            "/api/prompts",
            &bob.token,
            json!({"prompt": {"prompt": "x", "type": "text"}, "group": {"name": "After"}}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    // CREATE alone is not enough either way round: USE back, CREATE off.
    server
        .send(
            "PATCH",
            "/api/admin/roles/USER/permissions",
            &alice.token,
            json!({"permissions": {"PROMPTS": {"USE": true, "CREATE": false}}}),
        )
        .await;
    assert_eq!(
        server.get_as("/api/prompts/all", &bob.token).await.status(),
        200
    );
    let resp = server
        .send(
            "POST",
            "/api/prompts",
            &bob.token,
            json!({"prompt": {"prompt": "x", "type": "text"}, "group": {"name": "After"}}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    let config = server.get_json("/api/config", &bob.token).await;
    assert_eq!(
        config["interface"]["prompts"]["use"], true,
        "the feature is on"
    );
}

#[tokio::test]
async fn counting_uses_is_limited_per_user_as_librechat_limits_it() {
    // LibreChat's 30 a minute, made 3 here so the test needs no minute of requests.
    let server = TestServer::builder()
        .env("PROMPT_USAGE_MAX", "3")
        .start()
        .await;
    let (alice, bob) = server.two_users(PW).await;
    let made = create(&server, &alice, "Counted", None).await;
    let gid = made["group"]["_id"].as_str().unwrap().to_owned();
    let other = create(&server, &alice, "Other", None).await;
    let other = other["group"]["_id"].as_str().unwrap().to_owned();
    let use_of = |s: &Session, id: &str| {
        let (path, token) = (format!("/api/prompts/groups/{id}/use"), s.token.clone());
        let server = &server;
        async move { server.send("POST", &path, &token, json!({})).await }
    };
    for n in 1..=3 {
        let resp = use_of(&alice, &gid).await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["numberOfGenerations"], n);
    }
    // Per user, whichever group: alice's next use of any group is refused, with LibreChat's
    // message, and not counted.
    for id in [&gid, &other] {
        let resp = use_of(&alice, id).await;
        assert_eq!(resp.status(), 429);
        assert!(resp.headers().contains_key("retry-after"));
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            body,
            json!({"message": "Too many prompt usage requests. Try again later"})
        );
    }
    let group = server
        .get_json(&format!("/api/prompts/groups/{gid}"), &alice.token)
        .await;
    assert_eq!(group["numberOfGenerations"], 3);
    // Bob has his own count (a group he cannot see is a 404, not a 429).
    assert_eq!(use_of(&bob, &gid).await.status(), 404);
    // Refusals score no violation (LibreChat's limiter logs none): no ban however many.
    for _ in 0..25 {
        assert_eq!(use_of(&alice, &gid).await.status(), 429);
    }
    assert_eq!(
        server
            .get_as("/api/prompts/all", &alice.token)
            .await
            .status(),
        200
    );
}
