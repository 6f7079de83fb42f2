//! Temporary chats: kept for `interface.temporaryChatRetention` hours, then swept away with
//! their messages.

mod support;

use serde_json::{Value, json};
use support::TestServer;

const PW: &str = "correct horse battery";

async fn expire(server: &TestServer, id: &'static str) {
    server
        .state
        .db
        .write(move |c| {
            c.execute(
                "UPDATE conversations SET expired_at = '2000-01-01T00:00:00.000Z' WHERE conversation_id = ?1",
                [id],
            )?;
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn temporary_chats_expire_after_the_retention_period() {
    let server = TestServer::builder()
        .yaml("version: 1.2.8\ninterface:\n  temporaryChatRetention: 2\n")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let resp = server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": "tmp", "isTemporary": true}}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let convo: Value = resp.json().await.unwrap();
    assert_eq!(convo["isTemporary"], true);
    let expires = time::OffsetDateTime::parse(
        convo["expiredAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let hours = (expires - time::OffsetDateTime::now_utc()).whole_minutes() as f64 / 60.0;
    assert!((1.9..=2.0).contains(&hours), "expires in {hours} h");
    server
        .send(
            "POST",
            "/api/messages/tmp",
            &s.token,
            json!({"messageId": "m", "text": "forget me"}),
        )
        .await;
    server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": "keep", "title": "Normal"}}),
        )
        .await;
    // The flag does not turn an existing conversation into a temporary one.
    let resp: Value = server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": "keep", "isTemporary": true}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resp["isTemporary"], false);
    assert_eq!(
        server
            .send(
                "POST",
                "/api/convos/update",
                &s.token,
                json!({"arg": {"conversationId": "x", "isTemporary": "yes"}})
            )
            .await
            .status(),
        400
    );

    // Temporary chats stay out of the sidebar, as in LibreChat.
    let listed: Value = server
        .get_as("/api/convos", &s.token)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = listed["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversationId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["keep"]);
    assert_eq!(
        librechat::server::sweeper::sweep(&server.state.db)
            .await
            .unwrap(),
        0,
        "not yet"
    );
    expire(&server, "tmp").await;
    assert_eq!(
        librechat::server::sweeper::sweep(&server.state.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        server.get_as("/api/convos/tmp", &s.token).await.status(),
        404
    );
    assert_eq!(server.count("messages").await, 0);
    assert_eq!(
        server.get_as("/api/convos/keep", &s.token).await.status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn the_sweeper_runs_when_the_server_starts() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": "tmp", "isTemporary": true}}),
        )
        .await;
    expire(&server, "tmp").await;
    let dir = server.stop().await;

    let again = TestServer::builder().in_dir(dir).start().await;
    let mut left = 1;
    for _ in 0..600 {
        left = again.count("conversations").await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "the expired chat was swept at start");
    again.stop().await;
}
