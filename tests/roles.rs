//! Roles as LibreChat answers them: who reads which role, the per-type permission routes, the
//! admin API, and features this server does not have reading as off whatever is stored.

mod support;

use serde_json::{Value, json};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

/// Every permission type LibreChat's `permissionsSchema` has.
const TYPES: [&str; 16] = [
    "PROMPTS",
    "BOOKMARKS",
    "AGENTS",
    "MEMORIES",
    "MULTI_CONVO",
    "TEMPORARY_CHAT",
    "RUN_CODE",
    "WEB_SEARCH",
    "PEOPLE_PICKER",
    "MARKETPLACE",
    "FILE_SEARCH",
    "FILE_CITATIONS",
    "MCP_SERVERS",
    "REMOTE_AGENTS",
    "SKILLS",
    "SHARED_LINKS",
];
/// The ones this server has.
const BUILT: [&str; 13] = [
    "PROMPTS",
    "BOOKMARKS",
    "AGENTS",
    "MEMORIES",
    "MULTI_CONVO",
    "TEMPORARY_CHAT",
    "WEB_SEARCH",
    "PEOPLE_PICKER",
    "MARKETPLACE",
    "FILE_SEARCH",
    "FILE_CITATIONS",
    "MCP_SERVERS",
    "SHARED_LINKS",
];

async fn put(server: &TestServer, s: &Session, path: &str, body: Value) -> reqwest::Response {
    server.send("PUT", path, &s.token, body).await
}

/// The role as stored, features not built included.
async fn stored(server: &TestServer, role: &'static str) -> Value {
    server
        .state
        .db
        .read(move |c| Ok(librechat::db::roles::get(c, role)?.unwrap()))
        .await
        .unwrap()
}

#[tokio::test]
async fn people_read_their_own_role_and_user_admins_read_any() {
    let server = TestServer::start().await;
    let (admin, user) = server.two_users(PW).await;

    let own = server.get_json("/api/roles/USER", &user.token).await;
    assert_eq!(own["name"], "USER");
    assert_eq!(own["description"], "");
    let p = own["permissions"].as_object().unwrap();
    assert_eq!(p.len(), TYPES.len(), "{p:?}");
    for t in TYPES {
        let perms = p[t].as_object().unwrap_or_else(|| panic!("{t} missing"));
        assert!(perms.values().all(Value::is_boolean), "{t}: {perms:?}");
        if !BUILT.contains(&t) {
            assert!(
                perms.values().all(|v| v == false),
                "{t} is not built here, so it is off: {perms:?}"
            );
        }
    }
    assert_eq!(p["BOOKMARKS"]["USE"], true);
    assert_eq!(p["TEMPORARY_CHAT"]["USE"], true);
    assert_eq!(
        p["SHARED_LINKS"],
        json!({"CREATE": true, "SHARE": true, "SHARE_PUBLIC": true})
    );

    let refused = server.get_as("/api/roles/ADMIN", &user.token).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"message": "Unauthorized"})
    );
    // A role that is neither one's own nor a default one needs the admin, before any 404.
    assert_eq!(
        server.get_as("/api/roles/NOPE", &user.token).await.status(),
        403
    );

    let admin_role = server.get_json("/api/roles/ADMIN", &admin.token).await;
    assert_eq!(
        admin_role["permissions"]["SHARED_LINKS"]["SHARE_PUBLIC"],
        true
    );
    assert_eq!(
        admin_role["permissions"]["SKILLS"]["USE"], false,
        "not built: off even for ADMIN"
    );
    assert_eq!(admin_role["permissions"]["MCP_SERVERS"]["CREATE"], true);
    assert_eq!(server.get_json("/api/roles/USER", &admin.token).await, own);
    let missing = server.get_as("/api/roles/NOPE", &admin.token).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap(),
        json!({"message": "Role not found"})
    );
    assert_eq!(
        server
            .client
            .get(server.url("/api/roles/USER"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    server.stop().await;
}

#[tokio::test]
async fn each_permission_route_stores_but_features_not_built_stay_off() {
    let server = TestServer::start().await;
    let (admin, user) = server.two_users(PW).await;
    let refused = put(
        &server,
        &user,
        "/api/roles/USER/prompts",
        json!({"SHARE": true}),
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"message": "Forbidden"})
    );
    for (segment, kind, permission) in [
        ("prompts", "PROMPTS", "SHARE"),
        ("agents", "AGENTS", "SHARE_PUBLIC"),
        ("people-picker", "PEOPLE_PICKER", "VIEW_USERS"),
        ("mcp-servers", "MCP_SERVERS", "CONFIGURE_OBO"),
        ("marketplace", "MARKETPLACE", "USE"),
        ("remote-agents", "REMOTE_AGENTS", "CREATE"),
        ("skills", "SKILLS", "SHARE"),
    ] {
        let path = format!("/api/roles/USER/{segment}");
        let resp = put(&server, &admin, &path, json!({ permission: true })).await;
        assert_eq!(resp.status(), 200, "{path}");
        let role: Value = resp.json().await.unwrap();
        assert_eq!(role["name"], "USER");
        assert_eq!(
            role["permissions"][kind][permission],
            BUILT.contains(&kind),
            "{kind}: answered as stored where it exists, off where it does not"
        );
        assert_eq!(
            stored(&server, "USER").await[kind][permission],
            true,
            "{kind}.{permission} is kept for the day it exists"
        );
    }

    // LibreChat's zod schema: unknown permissions are dropped, wrong types refused.
    let resp = put(
        &server,
        &admin,
        "/api/roles/USER/prompts",
        json!({"FLY": true}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(
        stored(&server, "USER").await["PROMPTS"]
            .get("FLY")
            .is_none()
    );
    let bad = put(
        &server,
        &admin,
        "/api/roles/USER/prompts",
        json!({"USE": "yes"}),
    )
    .await;
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["message"], "Invalid prompt permissions.");
    assert_eq!(bad["error"][0]["path"], json!(["USE"]));
    assert_eq!(bad["error"][0]["code"], "invalid_type");
    let bad = put(&server, &admin, "/api/roles/NOPE/people-picker", json!([1])).await;
    assert_eq!(bad.status(), 400, "the body is checked before the role");
    assert_eq!(
        bad.json::<Value>().await.unwrap()["message"],
        "Invalid people picker permissions."
    );
    let missing = put(
        &server,
        &admin,
        "/api/roles/NOPE/prompts",
        json!({"USE": true}),
    )
    .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap(),
        json!({"message": "Role not found"})
    );
    assert_eq!(
        put(
            &server,
            &admin,
            "/api/roles/USER/bookmarks",
            json!({"USE": false})
        )
        .await
        .status(),
        404,
        "LibreChat has no such route"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_admin_api_changes_any_type() {
    let server = TestServer::start().await;
    let (admin, user) = server.two_users(PW).await;
    let patch = |s: &Session, role: &str, body: Value| {
        let (path, token) = (
            format!("/api/admin/roles/{role}/permissions"),
            s.token.clone(),
        );
        let server = &server;
        async move { server.send("PATCH", &path, &token, body).await }
    };
    let body = json!({"permissions": {"BOOKMARKS": {"USE": false}, "PROMPTS": {"USE": false}, "NOPE": {"USE": true}}});
    assert_eq!(patch(&user, "USER", body.clone()).await.status(), 403);
    let resp = patch(&admin, "USER", body.clone()).await;
    assert_eq!(resp.status(), 200);
    let role = &resp.json::<Value>().await.unwrap()["role"];
    assert_eq!(role["name"], "USER");
    assert_eq!(role["permissions"]["BOOKMARKS"]["USE"], false);
    assert_eq!(
        role["permissions"]["TEMPORARY_CHAT"]["USE"], true,
        "untouched"
    );
    let stored = stored(&server, "USER").await;
    assert_eq!(stored["PROMPTS"]["USE"], false);
    assert!(stored.get("NOPE").is_none());
    assert_eq!(
        server.get_json("/api/admin/roles/USER", &admin.token).await["role"],
        *role
    );
    assert_eq!(
        server
            .get_as("/api/admin/roles/USER", &user.token)
            .await
            .status(),
        403
    );

    for (role, body, status, error) in [
        ("USER", json!({}), 400, "permissions object is required"),
        (
            "USER",
            json!({"permissions": [1]}),
            400,
            "permissions object is required",
        ),
        (
            "USER",
            json!({"permissions": {"BOOKMARKS": {"USE": "no"}}}),
            400,
            "permissions.BOOKMARKS.USE must be true or false",
        ),
        ("NOPE", body.clone(), 404, "Role not found"),
    ] {
        let resp = patch(&admin, role, body.clone()).await;
        assert_eq!(resp.status(), status, "{body}");
        assert_eq!(
            resp.json::<Value>().await.unwrap(),
            json!({ "error": error })
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn interface_switches_seed_the_roles_and_features_not_built_stay_off() {
    let server = TestServer::builder()
        .yaml(
            "version: 1.3.17\ninterface:\n  prompts: false\n  agents:\n    use: true\n    share: true\n  \
             bookmarks: false\n  sharedLinks:\n    public: false\n  skills: true\n",
        )
        .start()
        .await;
    let user = server.signed_in("user@example.org", PW).await;
    let p = &server.get_json("/api/roles/USER", &user.token).await["permissions"];
    assert_eq!(p["BOOKMARKS"]["USE"], false);
    assert_eq!(
        p["SHARED_LINKS"],
        json!({"CREATE": true, "SHARE": true, "SHARE_PUBLIC": false})
    );
    assert_eq!(p["AGENTS"]["SHARE"], true, "as the yaml says");
    assert_eq!(p["SKILLS"]["USE"], false, "skills are not built here");
    for role in ["USER", "ADMIN"] {
        let s = stored(&server, role).await;
        assert_eq!(s["PROMPTS"]["USE"], false, "{role}");
        assert_eq!(
            s["AGENTS"]["SHARE"], true,
            "{role}: stored as the yaml says"
        );
        assert_eq!(s["BOOKMARKS"]["USE"], false, "{role}");
    }
    server.stop().await;
}

#[tokio::test]
async fn concurrent_role_updates_are_all_kept() {
    let server = TestServer::start().await;
    let admin = server.signed_in("admin@example.org", PW).await;
    let flags = ["USE", "CREATE", "SHARE", "SHARE_PUBLIC"];
    // Start from all off, then switch each on in a separate, simultaneous request.
    let off: serde_json::Map<String, Value> = flags
        .iter()
        .map(|f| (f.to_string(), json!(false)))
        .collect();
    assert_eq!(
        put(
            &server,
            &admin,
            "/api/roles/USER/agents",
            Value::Object(off)
        )
        .await
        .status(),
        200
    );
    let [a, b, c, d] = flags.map(|flag| {
        put(
            &server,
            &admin,
            "/api/roles/USER/agents",
            json!({ flag: true }),
        )
    });
    let (a, b, c, d) = tokio::join!(a, b, c, d);
    for resp in [a, b, c, d] {
        assert_eq!(resp.status(), 200);
    }
    let stored = stored(&server, "USER").await;
    for flag in flags {
        assert_eq!(stored["AGENTS"][flag], true, "{flag} lost");
    }
    server.stop().await;
}

#[tokio::test]
async fn roles_from_an_older_version_take_librechats_table() {
    let server = TestServer::start().await;
    // As the version before stored USER: a SCHEDULES type LibreChat does not have, and shared
    // links seeded with public links off.
    server
        .state
        .db
        .write(|c| {
            let mut old = librechat::db::roles::get(c, "USER")?.unwrap();
            old["SCHEDULES"] = json!({"USE": true, "CREATE": true});
            old["SHARED_LINKS"]["SHARE_PUBLIC"] = json!(false);
            old["PROMPTS"]["SHARE"] = json!(true);
            librechat::db::roles::put(c, "USER", &old)
        })
        .await
        .unwrap();
    let dir = server.stop().await;
    let server = TestServer::builder().in_dir(dir).start().await;
    let now = stored(&server, "USER").await;
    assert!(now.get("SCHEDULES").is_none());
    assert_eq!(now["SHARED_LINKS"]["SHARE_PUBLIC"], true);
    assert_eq!(
        now["PROMPTS"]["SHARE"], true,
        "other stored choices are kept"
    );
    let dir = server.stop().await;

    // Once: an administrator's choice made afterwards survives restarts.
    let server = TestServer::builder().in_dir(dir).start().await;
    server
        .state
        .db
        .write(|c| {
            let mut p = librechat::db::roles::get(c, "USER")?.unwrap();
            p["SHARED_LINKS"]["SHARE_PUBLIC"] = json!(false);
            librechat::db::roles::put(c, "USER", &p)
        })
        .await
        .unwrap();
    let dir = server.stop().await;
    let server = TestServer::builder().in_dir(dir).start().await;
    assert_eq!(
        stored(&server, "USER").await["SHARED_LINKS"]["SHARE_PUBLIC"],
        false
    );
    server.stop().await;
}
