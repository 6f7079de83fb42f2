//! The site banner: admins set and remove it; it shows between its dates, to everyone when
//! public and to signed-in users otherwise; bad input is refused.

mod support;

use serde_json::{Value, json};
use support::TestServer;

const PW: &str = "correct horse battery";

async fn banner(server: &TestServer, token: Option<&str>) -> Value {
    let resp = match token {
        Some(t) => server.get_as("/api/banner", t).await,
        None => server.get("/api/banner").await,
    };
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn admins_set_a_banner_that_shows_between_its_dates() {
    let server = TestServer::start().await;
    let (admin, bob) = server.two_users(PW).await;
    assert_eq!(banner(&server, None).await, Value::Null);

    let set = |body: Value| {
        let (server, token) = (&server, admin.token.clone());
        async move { server.send("PUT", "/api/admin/banner", &token, body).await }
    };
    // Public: everyone sees it, signed in or not.
    let resp = set(json!({"message": "Maintenance tonight", "isPublic": true})).await;
    assert_eq!(resp.status(), 200);
    let made: Value = resp.json().await.unwrap();
    let shown = banner(&server, None).await;
    assert_eq!(shown["message"], "Maintenance tonight");
    assert_eq!(shown["bannerId"], made["bannerId"]);
    // The id follows the message, so a dismissal lasts until the message changes.
    let again: Value = set(json!({"message": "Maintenance tonight", "isPublic": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["bannerId"], made["bannerId"]);

    // For members: not shown signed out.
    set(json!({"message": "Members only", "isPublic": false})).await;
    assert_eq!(banner(&server, None).await, Value::Null);
    assert_eq!(
        banner(&server, Some(&bob.token)).await["message"],
        "Members only"
    );
    assert_ne!(
        banner(&server, Some(&bob.token)).await["bannerId"],
        made["bannerId"]
    );

    // Not yet, and no longer.
    set(json!({"message": "Later", "isPublic": true, "displayFrom": "2999-01-01T00:00:00Z"})).await;
    assert_eq!(banner(&server, Some(&bob.token)).await, Value::Null);
    let stored = server.get_json("/api/admin/banner", &admin.token).await;
    assert_eq!(stored["message"], "Later");
    set(json!({"message": "Earlier", "isPublic": true,
        "displayFrom": "2000-01-01T00:00:00Z", "displayTo": "2001-01-01T00:00:00+02:00"}))
    .await;
    assert_eq!(banner(&server, None).await, Value::Null);

    // Bad input, and people who are not admins.
    for bad in [
        json!({"message": ""}),
        json!({"message": "x".repeat(2001)}),
        json!({"message": "x", "type": "marquee"}),
        json!({"message": "x", "displayFrom": "tomorrow"}),
        json!({"message": "x", "displayFrom": "2030-01-02T00:00:00Z", "displayTo": "2030-01-01T00:00:00Z"}),
        json!({"message": "x", "color": "red"}),
        json!({"nope": 1}),
    ] {
        assert_eq!(set(bad.clone()).await.status(), 400, "{bad}");
    }
    assert_eq!(
        server
            .send(
                "PUT",
                "/api/admin/banner",
                &bob.token,
                json!({"message": "mine"})
            )
            .await
            .status(),
        403
    );
    assert_eq!(
        server
            .send("DELETE", "/api/admin/banner", &bob.token, json!({}))
            .await
            .status(),
        403
    );

    set(json!({"message": "Now", "isPublic": true})).await;
    assert_eq!(banner(&server, None).await["message"], "Now");
    let resp = server
        .send("DELETE", "/api/admin/banner", &admin.token, json!({}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(banner(&server, None).await, Value::Null);
}
