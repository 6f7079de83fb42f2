//! The admin API behind the web app's admin screen: the users list with search, bans that
//! stop a user signing in, role changes and balance changes; refused to everyone but admins,
//! and refused for bad input.

mod support;

use serde_json::{Value, json};
use support::TestServer;

const PW: &str = "correct horse battery";

#[tokio::test]
async fn admins_list_ban_promote_and_credit_users() {
    let server = TestServer::builder()
        .yaml("balance:\n  enabled: true\n  startBalance: 1000\n")
        .start()
        .await;
    // The first account is the admin.
    let (admin, bob) = server.two_users(PW).await;
    assert_eq!(admin.user["role"], "ADMIN");
    server.register("under_score@example.org", PW).await;

    let list: Value = server.get_json("/api/admin/users", &admin.token).await;
    assert_eq!(list["users"].as_array().unwrap().len(), 3);
    let bob_id = bob.user["id"].as_str().unwrap().to_owned();
    // Search is literal: `_` is not a wildcard.
    let found: Value = server
        .get_json("/api/admin/users?search=under_", &admin.token)
        .await;
    assert_eq!(found["users"].as_array().unwrap().len(), 1);
    let none: Value = server
        .get_json("/api/admin/users?search=%25", &admin.token)
        .await;
    assert_eq!(none["users"].as_array().unwrap().len(), 0);
    let by_name: Value = server
        .get_json("/api/admin/users?search=BOB", &admin.token)
        .await;
    assert_eq!(by_name["users"][0]["id"], bob_id.as_str());

    // Others may not.
    assert_eq!(
        server.get_as("/api/admin/users", &bob.token).await.status(),
        403
    );
    let path = format!("/api/admin/users/{bob_id}/ban");
    assert_eq!(
        server
            .send("POST", &path, &bob.token, json!({"minutes": 5}))
            .await
            .status(),
        403
    );

    // A ban stops the user signing in, and ends their sessions.
    for bad in [json!({"minutes": 0}), json!({"minutes": "x"}), json!({})] {
        assert_eq!(
            server.send("POST", &path, &admin.token, bad).await.status(),
            400
        );
    }
    let resp = server
        .send("POST", &path, &admin.token, json!({"minutes": 60}))
        .await;
    assert_eq!(resp.status(), 200);
    let login = server
        .post_json(
            "/api/auth/login",
            json!({"email": "bob@example.org", "password": PW}),
        )
        .await;
    assert_eq!(login.status(), 403, "a banned user cannot sign in");
    assert_eq!(server.refresh(&bob.refresh).await.status(), 403);
    let list: Value = server
        .get_json("/api/admin/users?search=bob", &admin.token)
        .await;
    assert!(list["users"][0]["bannedUntil"].is_string());
    // And lifting it lets them back.
    let resp = server.send("DELETE", &path, &admin.token, json!({})).await;
    assert_eq!(resp.status(), 200);
    server.login("bob@example.org", PW).await;

    // Admins cannot ban themselves or drop their own role.
    let me = admin.user["id"].as_str().unwrap();
    assert_eq!(
        server
            .send(
                "POST",
                &format!("/api/admin/users/{me}/ban"),
                &admin.token,
                json!({"minutes": 5})
            )
            .await
            .status(),
        400
    );
    assert_eq!(
        server
            .send(
                "PUT",
                &format!("/api/admin/users/{me}/role"),
                &admin.token,
                json!({"role": "USER"})
            )
            .await
            .status(),
        400
    );

    // Roles: only ones that exist.
    let role = format!("/api/admin/users/{bob_id}/role");
    assert_eq!(
        server
            .send("PUT", &role, &admin.token, json!({"role": "WIZARD"}))
            .await
            .status(),
        400
    );
    let resp = server
        .send("PUT", &role, &admin.token, json!({"role": "ADMIN"}))
        .await;
    assert_eq!(resp.status(), 200);
    let bob_again = server.login("bob@example.org", PW).await;
    assert_eq!(bob_again.user["role"], "ADMIN");

    // Balances: add and set, recorded as transactions that add up.
    let balance = format!("/api/admin/users/{bob_id}/balance");
    let resp: Value = server
        .send("POST", &balance, &admin.token, json!({"add": 500}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resp["tokenCredits"], 1500);
    let resp: Value = server
        .send("POST", &balance, &admin.token, json!({"set": 42}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resp["tokenCredits"], 42);
    let mine: Value = server.get_json("/api/balance", &bob_again.token).await;
    assert_eq!(mine["tokenCredits"], 42);
    for bad in [
        json!({"add": 1, "set": 2}),
        json!({}),
        json!({"add": 1e18}),
        json!({"add": 10_000_000_000_000i64}),
    ] {
        assert_eq!(
            server
                .send("POST", &balance, &admin.token, bad)
                .await
                .status(),
            400
        );
    }
    assert_eq!(
        server
            .send(
                "POST",
                "/api/admin/users/nobody/balance",
                &admin.token,
                json!({"add": 1})
            )
            .await
            .status(),
        404
    );
}
