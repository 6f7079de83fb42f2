//! Starred tools (`/api/user/settings/favorites/tools`), as LibreChat's Tool Library keeps
//! them: listed in the order starred, starring twice changes nothing, at most 100 per person,
//! LibreChat's codes for a bad kind or id, and nobody sees or changes another's.

mod support;

use serde_json::{Value, json};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const BASE: &str = "/api/user/settings/favorites/tools";

async fn star(
    server: &TestServer,
    s: &Session,
    method: &str,
    kind: &str,
    id: &str,
) -> (u16, Value) {
    let resp = server
        .send(method, &format!("{BASE}/{kind}/{id}"), &s.token, json!({}))
        .await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn starred(server: &TestServer, s: &Session) -> Value {
    let resp = server.get_as(BASE, &s.token).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn starred_tools_are_kept_in_order_once_each_and_per_person() {
    let server = TestServer::start().await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    assert_eq!(starred(&server, &alice).await, json!([]));

    for (kind, id) in [
        ("builtin", "calculator"),
        ("mcp", "get_time_mcp_clock"),
        ("tool", "wolfram"),
    ] {
        let (status, body) = star(&server, &alice, "PUT", kind, id).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"itemType": kind, "itemId": id}));
    }
    // Again: the same answer, no second entry, the order unchanged.
    assert_eq!(
        star(&server, &alice, "PUT", "builtin", "calculator")
            .await
            .0,
        200
    );
    let expected = json!([
        {"itemType": "builtin", "itemId": "calculator"},
        {"itemType": "mcp", "itemId": "get_time_mcp_clock"},
        {"itemType": "tool", "itemId": "wolfram"},
    ]);
    assert_eq!(starred(&server, &alice).await, expected);

    // Bob sees none of Alice's, and his unstarring hers changes nothing of hers.
    assert_eq!(starred(&server, &bob).await, json!([]));
    assert_eq!(
        star(&server, &bob, "DELETE", "tool", "wolfram").await,
        (200, json!({"ok": true}))
    );
    assert_eq!(starred(&server, &alice).await, expected);

    // Unstarring: gone; unstarring what is not starred is no error.
    assert_eq!(
        star(&server, &alice, "DELETE", "mcp", "get_time_mcp_clock").await,
        (200, json!({"ok": true}))
    );
    assert_eq!(
        star(&server, &alice, "DELETE", "mcp", "get_time_mcp_clock").await,
        (200, json!({"ok": true}))
    );
    assert_eq!(
        starred(&server, &alice).await,
        json!([{"itemType": "builtin", "itemId": "calculator"}, {"itemType": "tool", "itemId": "wolfram"}])
    );

    // Without a session: 401.
    let resp = server.client.get(server.url(BASE)).send().await.unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn bad_kinds_ids_and_the_hundred_and_first_are_refused_with_librechat_s_codes() {
    let server = TestServer::start().await;
    let alice = server.signed_in("alice@example.org", PW).await;

    for method in ["PUT", "DELETE"] {
        let (status, body) = star(&server, &alice, method, "plugin", "calculator").await;
        assert_eq!(status, 400);
        assert_eq!(body["code"], "INVALID_ITEM_TYPE", "{body}");
        assert_eq!(
            body["message"],
            "itemType must be one of: builtin, tool, mcp, skill"
        );
        let long = "x".repeat(257);
        let (status, body) = star(&server, &alice, method, "tool", &long).await;
        assert_eq!(status, 400);
        assert_eq!(body["code"], "INVALID_ITEM_ID", "{body}");
    }
    // 256 characters, and ids with characters a path must escape, are fine.
    let longest = "y".repeat(256);
    assert_eq!(star(&server, &alice, "PUT", "tool", &longest).await.0, 200);
    assert_eq!(
        star(&server, &alice, "PUT", "skill", "caf%C3%A9%20%27x%27")
            .await
            .1,
        json!({"itemType": "skill", "itemId": "café 'x'"})
    );
    assert_eq!(starred(&server, &alice).await.as_array().unwrap().len(), 2);

    for n in 2..100 {
        assert_eq!(
            star(&server, &alice, "PUT", "tool", &format!("t{n}"))
                .await
                .0,
            200
        );
    }
    let (status, body) = star(&server, &alice, "PUT", "tool", "one-too-many").await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"code": "MAX_FAVORITES_EXCEEDED", "message": "Maximum of 100 favorites reached", "limit": 100})
    );
    // One already starred is still fine at the limit, and one freed makes room.
    assert_eq!(star(&server, &alice, "PUT", "tool", "t2").await.0, 200);
    assert_eq!(star(&server, &alice, "DELETE", "tool", "t2").await.0, 200);
    assert_eq!(
        star(&server, &alice, "PUT", "tool", "one-too-many").await.0,
        200
    );
    let all = starred(&server, &alice).await;
    assert_eq!(all.as_array().unwrap().len(), 100);
    assert_eq!(
        all[99],
        json!({"itemType": "tool", "itemId": "one-too-many"})
    );
}
