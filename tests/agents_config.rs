//! `endpoints.agents` in librechat.yaml (the builder switch, the providers agents may use, the
//! capabilities `/api/endpoints` offers) and agents' pictures.

mod support;

use serde_json::{Value, json};
use support::agents::{PW, call, create, ids, server};
use support::{TestServer, png};

#[tokio::test]
async fn the_endpoints_list_agents_as_librechat_does() {
    let server = server(None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let e = server.get_json("/api/endpoints", &s.token).await;
    let agents = &e["agents"];
    assert_eq!(agents["userProvide"], false);
    assert_eq!(agents["disableBuilder"], false);
    assert_eq!(
        (e["openAI"]["order"].as_u64(), agents["order"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(e["anthropic"]["order"], 2);
    let caps: Vec<&str> = agents["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    // LibreChat's defaults, less what does not run here (code, MCP, OCR, ...;
    // memory tools without a `memory` section): LibreChat's client offers no toggle that
    // would do nothing.
    assert_eq!(
        caps,
        [
            "file_search",
            "web_search",
            "artifacts",
            "actions",
            "context",
            "tools",
            "chain"
        ]
    );
    assert!(agents.get("allowedProviders").is_none());
    let config = server.get_json("/api/config", &s.token).await;
    assert_eq!(
        config["interface"]["agents"],
        json!({"use": true, "create": true, "share": false, "public": false})
    );

    // `ENDPOINTS` without `agents` leaves them out, as LibreChat does.
    let hidden = TestServer::builder()
        .env("OPENAI_API_KEY", "sk-test")
        .env("ENDPOINTS", "openAI")
        .start()
        .await;
    let s = hidden.signed_in("alice@example.org", PW).await;
    assert!(
        hidden
            .get_json("/api/endpoints", &s.token)
            .await
            .get("agents")
            .is_none()
    );
}

#[tokio::test]
async fn disable_builder_refuses_every_change_and_reads_still_work() {
    let yaml = "version: 1.3.17\nendpoints:\n  agents:\n    disableBuilder: true\n    capabilities: [tools, memory]\nmemory:\n  disabled: false\n";
    let server = server(Some(yaml)).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let e = server.get_json("/api/endpoints", &s.token).await;
    assert_eq!(e["agents"]["disableBuilder"], true);
    // Agents' memory tools run when memories are on.
    assert_eq!(e["agents"]["capabilities"], json!(["tools", "memory"]));
    let (status, v) = call(
        &server,
        &s,
        "POST",
        "/api/agents",
        support::agents::body(json!({})),
    )
    .await;
    assert_eq!(status, 403, "{v}");
    assert!(v["message"].as_str().unwrap().contains("disableBuilder"));
    assert_eq!(server.count("agents").await, 0);

    // One made before the switch (here, in the store directly) stays readable and deletable.
    let viewer = librechat::access::viewer(&user(&server, "alice@example.org").await);
    let def: librechat::db::agents::Definition =
        serde_json::from_value(json!({"provider": "openAI", "model": "gpt-4o", "name": "Old"}))
            .unwrap();
    let owner = librechat::access::roles::owner_of(librechat::access::ResourceType::Agent);
    let (o_id, o_bits) = (owner.id, owner.bits);
    let agent = server
        .state
        .db
        .write(move |c| {
            let owners = [(librechat::access::ResourceType::Agent, o_id, o_bits)];
            librechat::db::agents::create(c, &viewer, "agent_old", &def, &owners)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(agent.id, "agent_old");
    let p = "/api/agents/agent_old";
    assert_eq!(server.get_json(p, &s.token).await["name"], "Old");
    for (method, path, body) in [
        ("PATCH", p.to_owned(), json!({"name": "New"})),
        ("POST", format!("{p}/duplicate"), json!({})),
        ("POST", format!("{p}/revert"), json!({"version_index": 0})),
    ] {
        let (status, _) = call(&server, &s, method, &path, body).await;
        assert_eq!(status, 403, "{method} {path}");
    }
    let (status, _) = upload(&server, &s.token, "agent_old", png(10, 10)).await;
    assert_eq!(status, 403);
    let (status, _) = call(&server, &s, "DELETE", p, json!(null)).await;
    assert_eq!(status, 200);
}

async fn user(server: &TestServer, email: &'static str) -> librechat::db::users::User {
    server
        .state
        .db
        .read(move |c| librechat::db::users::find_by_email(c, email))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn agents_use_only_the_providers_allowed() {
    let yaml = "version: 1.3.17\nendpoints:\n  agents:\n    allowedProviders: [anthropic]\n";
    let server = server(Some(yaml)).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let e = server.get_json("/api/endpoints", &s.token).await;
    assert_eq!(e["agents"]["allowedProviders"], json!(["anthropic"]));
    let (status, v) = call(
        &server,
        &s,
        "POST",
        "/api/agents",
        support::agents::body(json!({})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        v["message"].as_str().unwrap().contains("allowedProviders"),
        "{v}"
    );
    let agent = create(
        &server,
        &s,
        json!({"provider": "anthropic", "model": "claude-sonnet-4-5"}),
    )
    .await;
    let (id, _) = ids(&agent);
    let (status, _) = call(
        &server,
        &s,
        "PATCH",
        &format!("/api/agents/{id}"),
        json!({"provider": "openAI"}),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn capabilities_that_do_not_run_here_are_left_out_with_a_warning() {
    let yaml = "version: 1.3.17\nendpoints:\n  agents:\n    capabilities: [skills, tools, execute_code, artifacts, chain, ocr]\n";
    let dir = tempfile::tempdir().unwrap();
    let settings = TestServer::builder()
        .yaml(yaml)
        .settings(dir.path())
        .unwrap();
    let warned: Vec<&String> = settings
        .yaml_warnings
        .iter()
        .filter(|w| w.contains("endpoints.agents.capabilities"))
        .collect();
    assert_eq!(warned.len(), 3, "{:?}", settings.yaml_warnings);
    for (w, name) in warned.iter().zip(["skills", "execute_code", "ocr"]) {
        assert!(
            w.contains(&format!("`{name}` does not run on this server")),
            "{w}"
        );
    }

    let server = server(Some(yaml)).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let e = server.get_json("/api/endpoints", &s.token).await;
    // In the order the administrator gave.
    assert_eq!(
        e["agents"]["capabilities"],
        json!(["tools", "artifacts", "chain"])
    );
}

#[tokio::test]
async fn a_bad_agents_section_stops_the_server_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "version: 1.3.17\nendpoints:\n  agents:\n    maxCitations: 500\n";
    let err = TestServer::builder()
        .yaml(yaml)
        .settings(dir.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("endpoints.agents.maxCitations"), "{err}");
    let yaml = "version: 1.3.17\nendpoints:\n  agents:\n    capabilities: [tools, mind_reading]\n";
    let err = TestServer::builder()
        .yaml(yaml)
        .settings(dir.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("mind_reading"), "{err}");
}

async fn upload(server: &TestServer, token: &str, agent_id: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name("pic.png")
            .mime_str("image/png")
            .unwrap(),
    );
    server
        .post_form(
            token,
            &format!("/api/files/images/agents/{agent_id}/avatar"),
            form,
        )
        .await
}

#[tokio::test]
async fn a_picture_is_made_kept_with_its_versions_and_shown_to_those_who_see_the_agent() {
    let server = server(None).await;
    let (alice, bob) = server.two_users(PW).await;
    let (id, oid) = ids(&create(&server, &alice, json!({})).await);
    let (status, agent) = upload(&server, &alice.token, &id, png(300, 200)).await;
    assert_eq!(status, 201, "{agent}");
    assert_eq!(agent["version"], 2, "a new picture is a change");
    let first = agent["avatar"]["filepath"].as_str().unwrap().to_owned();
    assert!(
        first.starts_with(&format!("/images/agents/{id}/")),
        "{first}"
    );
    assert_eq!(agent["avatar"]["source"], "local");

    // Its owner sees it, by token or by the browser's refresh cookie; Bob does not.
    let resp = server.get_as(&first, &alice.token).await;
    assert_eq!(resp.status(), 200);
    let img = image::load_from_memory(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (150, 150));
    let by_cookie = server
        .client
        .get(server.url(&first))
        .header("cookie", format!("refreshToken={}", alice.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), 200);
    assert_eq!(server.get_as(&first, &bob.token).await.status(), 404);
    assert_eq!(server.get(&first).await.status(), 401);
    assert_eq!(upload(&server, &bob.token, &id, png(10, 10)).await.0, 404);
    assert_eq!(
        upload(&server, &alice.token, &id, b"not a picture".to_vec())
            .await
            .0,
        415
    );

    // Shared with Bob, he sees it too; a second picture keeps the first for the versions.
    support::agents::share_with(&server, &alice, &oid, &bob, "agent_viewer").await;
    assert_eq!(server.get_as(&first, &bob.token).await.status(), 200);
    let (_, again) = upload(&server, &alice.token, &id, png(50, 50)).await;
    assert_ne!(again["avatar"]["filepath"], first.as_str());
    let (status, back) = call(
        &server,
        &alice,
        "POST",
        &format!("/api/agents/{id}/revert"),
        json!({"version_index": 1}),
    )
    .await;
    assert_eq!(
        (status, back["avatar"]["filepath"].as_str()),
        (200, Some(first.as_str()))
    );
    assert_eq!(server.get_as(&first, &bob.token).await.status(), 200);
    // Naming one of its own pictures is allowed; taking it away too.
    let (status, v) = call(
        &server,
        &alice,
        "PATCH",
        &format!("/api/agents/{id}"),
        json!({"avatar": null}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(v.get("avatar").is_none(), "{v}");

    // A copy gets its own copy of the picture.
    call(
        &server,
        &alice,
        "POST",
        &format!("/api/agents/{id}/revert"),
        json!({"version_index": 1}),
    )
    .await;
    let (_, copied) = call(
        &server,
        &alice,
        "POST",
        &format!("/api/agents/{id}/duplicate"),
        json!({}),
    )
    .await;
    let copy_pic = copied["agent"]["avatar"]["filepath"]
        .as_str()
        .unwrap()
        .to_owned();
    let (cid, _) = ids(&copied["agent"]);
    assert!(
        copy_pic.starts_with(&format!("/images/agents/{cid}/")),
        "{copy_pic}"
    );
    assert_eq!(server.get_as(&copy_pic, &alice.token).await.status(), 200);

    // The pictures are not in the files list, and go with their agent.
    let files = server.get_json("/api/files", &alice.token).await;
    assert_eq!(files, json!([]));
    let stored = server.stored_files();
    assert_eq!(stored, 3);
    assert_eq!(
        call(
            &server,
            &alice,
            "DELETE",
            &format!("/api/agents/{id}"),
            json!(null)
        )
        .await
        .0,
        200
    );
    assert_eq!(server.stored_files(), 1);
    assert_eq!(server.get_as(&first, &alice.token).await.status(), 404);
}

#[tokio::test]
async fn an_administrator_promotes_an_agent_from_the_command_line() {
    let server = server(None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (id, _) = ids(&create(&server, &s, json!({"name": "Tax helper"})).await);
    let dir = server.stop().await;
    let cli = |args: &[&str]| support::run(support::librechat(dir.path()).args(args));
    let out = cli(&["agents", "promote", &id]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    let out = cli(&["agents", "list"]);
    let listed = support::text(&out.stdout);
    assert!(
        listed.contains(&format!(
            "{id}\tpromoted\tgeneral\talice@example.org\tTax helper"
        )),
        "{listed}"
    );
    support::assert_clean_failure(
        &cli(&["agents", "promote", "agent_nope"]),
        "no agent agent_nope",
    );

    let server = support::agents::server_in(dir).await;
    let s = server.login("alice@example.org", PW).await;
    let promoted = server.get_json("/api/agents?promoted=1", &s.token).await;
    assert_eq!(promoted["data"][0]["id"], id.as_str());
    let out = support::run(support::librechat(server.dir.path()).args(["agents", "demote", &id]));
    assert!(out.status.success());
    let promoted = server.get_json("/api/agents?promoted=1", &s.token).await;
    assert_eq!(promoted["data"], json!([]), "safe while the server runs");
}
