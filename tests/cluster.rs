//! Three replicas of the real binary behind HAProxy with the shipped configuration
//! (packaging/compose/haproxy.cfg), on one PostgreSQL, one Redis and one S3-compatible store:
//! any replica serves anyone, HAProxy spreads the requests, a file uploaded through one is
//! downloaded through another, a limiter counts across all of them, and when one replica dies
//! the others go on serving.

mod support;

use serde_json::{Value, json};
use support::cluster::{Cluster, Remote};

const PW: &str = "correct horse battery";

/// Asks the replica directly for an answer and follows it there: the final frame.
async fn chat_on(replica: &Remote, token: &str, text: &str) -> Value {
    let id = replica
        .start_chat(token, json!({"text": text, "model": "gpt-4o"}))
        .await;
    let mut frames = replica.frames(token, &id).await;
    let last = frames.pop().expect("frames");
    assert_eq!(last["final"], true, "{last}");
    last
}

#[tokio::test]
async fn three_replicas_behind_haproxy_serve_as_one() {
    // Six logins per window from one address: counted in Redis, whichever replica is asked.
    let Some(mut cluster) = Cluster::start(3, &[("LOGIN_MAX", "6")]).await else {
        return;
    };
    let front = cluster.front();
    // Signed up through the load balancer (register and login land on different replicas).
    let (token, user_id) = front.signed_in("erin@example.org", PW).await;
    let done = chat_on(&cluster.direct(0), &token, "hello cluster").await;
    assert_eq!(done["responseMessage"]["text"], "Echo: hello cluster");
    let convo = done["conversation"]["conversationId"]
        .as_str()
        .unwrap()
        .to_owned();

    // Every replica, asked through HAProxy in turn, lists it: the token of one is honoured by
    // all (shared secrets), the data is the one database.
    for _ in 0..6 {
        let page = front.get_json("/api/convos?limit=25", &token).await;
        assert_eq!(page["conversations"][0]["conversationId"], convo, "{page}");
    }
    // A chat through HAProxy: the POST and the stream land on different replicas (round
    // robin); the answer is followed through Redis wherever it runs.
    let id = front
        .start_chat(
            &token,
            json!({"text": "through the balancer", "model": "gpt-4o"}),
        )
        .await;
    let last = front.frames(&token, &id).await.pop().expect("frames");
    assert_eq!(last["final"], true, "{last}");
    assert_eq!(
        last["responseMessage"]["text"],
        "Echo: through the balancer"
    );
    // Every replica's index finds it (each fed from the database's change log).
    for i in 0..3 {
        let replica = cluster.direct(i);
        support::poll::eventually(|| async {
            let found = replica.get_json("/api/search?q=balancer", &token).await;
            found["messages"].as_array().is_some_and(|c| !c.is_empty())
        })
        .await;
    }

    let servers = cluster.servers().await;
    assert!(
        servers
            .iter()
            .all(|(_, status, requests)| status == "UP" && *requests > 0),
        "HAProxy spread the requests over all three: {servers:?}"
    );

    // A file uploaded through one replica is downloaded through another (S3), and through
    // HAProxy.
    let text = b"tide tables for the harbour\n".to_vec();
    let (status, file) = cluster
        .direct(0)
        .upload(&token, "tides.txt", "text/plain", text.clone())
        .await;
    assert_eq!(status, 200, "{file}");
    let download = format!(
        "/api/files/download/{user_id}/{}",
        file["file_id"].as_str().unwrap()
    );
    for remote in [cluster.direct(2), front] {
        let resp = remote.get(&download, &token).await;
        assert_eq!(resp.status(), 200, "download through {}", remote.base);
        assert_eq!(resp.bytes().await.unwrap().to_vec(), text);
    }

    // One replica dies: HAProxy takes it out and the others serve every request.
    cluster.kill(1).await;
    let front = cluster.front();
    for _ in 0..6 {
        let page = front.get_json("/api/convos?limit=25", &token).await;
        let listed = page["conversations"].as_array().expect("a list");
        assert_eq!(listed.len(), 2, "{page}");
        assert!(
            listed.iter().any(|c| c["conversationId"] == convo),
            "{page}"
        );
    }

    // The login limiter counts across the replicas: one login was made above, five more pass
    // (wrong password, but counted), and the next is refused whichever replica gets it.
    for _ in 0..5 {
        let resp = front
            .send(
                "POST",
                "/api/auth/login",
                "",
                json!({"email": "erin@example.org", "password": "wrong password"}),
            )
            .await;
        assert_ne!(resp.status(), 429, "limited too early");
    }
    let resp = front
        .send(
            "POST",
            "/api/auth/login",
            "",
            json!({"email": "erin@example.org", "password": PW}),
        )
        .await;
    assert_eq!(
        resp.status(),
        429,
        "the seventh login in the window is refused"
    );
}
