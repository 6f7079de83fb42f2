//! Presets and bookmarks over HTTP, each user's kept apart.

mod support;

use serde_json::{Value, json};
use support::TestServer;

const PW: &str = "correct horse battery";

async fn json_of(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

#[tokio::test]
async fn presets_upsert_default_and_delete() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    let a = &alice.token;
    let created = server.send("POST",
        "/api/presets",
        a,
        json!({"title": "Creative", "endpoint": "openAI", "model": "gpt-4o", "temperature": 1.2}),
    )
    .await;
    assert_eq!(created.status(), 201);
    let created = json_of(created).await;
    let id = created["presetId"].as_str().unwrap().to_owned();
    assert_eq!(created["temperature"], 1.2);
    assert_eq!(created["defaultPreset"], false);

    // Upsert by presetId; defaults move.
    server
        .send(
            "POST",
            "/api/presets",
            a,
            json!({"presetId": id, "title": "Creative", "model": "gpt-4.1", "defaultPreset": true}),
        )
        .await;
    server
        .send(
            "POST",
            "/api/presets",
            a,
            json!({"presetId": "p-2", "title": "Precise", "temperature": 0}),
        )
        .await;
    let list = json_of(server.get_as("/api/presets", a).await).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["presetId"], id, "the default comes first");
    assert_eq!(list[0]["model"], "gpt-4.1");
    server
        .send(
            "POST",
            "/api/presets",
            a,
            json!({"presetId": "p-2", "title": "Precise", "defaultPreset": true}),
        )
        .await;
    let list = json_of(server.get_as("/api/presets", a).await).await;
    let defaults: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["defaultPreset"] == true)
        .collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["presetId"], "p-2");

    for bad in [
        json!({"title": 5}),
        json!({"presetId": 7}),
        json!({"order": "first"}),
        json!({"defaultPreset": "yes"}),
    ] {
        assert_eq!(
            server
                .send("POST", "/api/presets", a, bad.clone())
                .await
                .status(),
            400,
            "{bad}"
        );
    }

    // Bob sees none of it and cannot overwrite or delete it.
    assert_eq!(
        json_of(server.get_as("/api/presets", &bob.token).await).await,
        json!([])
    );
    assert_eq!(
        server
            .send(
                "POST",
                "/api/presets",
                &bob.token,
                json!({"presetId": "p-2", "title": "mine now"})
            )
            .await
            .status(),
        404
    );
    let none = json_of(
        server
            .send(
                "POST",
                "/api/presets/delete",
                &bob.token,
                json!({"presetId": "p-2"}),
            )
            .await,
    )
    .await;
    assert_eq!(none["deletedCount"], 0);
    assert_eq!(
        json_of(
            server
                .send("POST", "/api/presets/delete", &bob.token, json!({}))
                .await
        )
        .await["deletedCount"],
        0
    );

    let one = json_of(
        server
            .send(
                "POST",
                "/api/presets/delete",
                a,
                json!({"presetId": "p-2", "title": "Precise"}),
            )
            .await,
    )
    .await;
    assert_eq!(one["deletedCount"], 1);
    assert_eq!(
        server
            .send("POST", "/api/presets/delete", a, json!({"title": "no id"}))
            .await
            .status(),
        400,
        "never delete all by accident"
    );
    let all = json_of(
        server
            .send("POST", "/api/presets/delete", a, json!({}))
            .await,
    )
    .await;
    assert_eq!(all["deletedCount"], 1);
    assert_eq!(server.count("presets").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn bookmarks_count_rename_filter_and_delete() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    let a = &alice.token;
    for id in ["c-1", "c-2", "c-3"] {
        let resp = server
            .send(
                "POST",
                "/api/convos/update",
                a,
                json!({"arg": {"conversationId": id, "title": id}}),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    let created = server
        .send(
            "POST",
            "/api/tags",
            a,
            json!({"tag": "work", "description": "Day job"}),
        )
        .await;
    // 200 as LibreChat answers (not 201); a name already there answers with that bookmark.
    assert_eq!(created.status(), 200);
    let created = json_of(created).await;
    assert_eq!(created["count"], 0);
    let again = server
        .send("POST", "/api/tags", a, json!({"tag": "work"}))
        .await;
    assert_eq!(again.status(), 200);
    let again = json_of(again).await;
    assert_eq!(again["_id"], created["_id"]);
    assert_eq!(
        again["description"], "Day job",
        "the existing one, unchanged"
    );
    let added = json_of(
        server
            .send(
                "POST",
                "/api/tags",
                a,
                json!({"tag": "ideas", "addToConversation": true, "conversationId": "c-1"}),
            )
            .await,
    )
    .await;
    assert_eq!(added["count"], 1);

    // Setting a conversation's bookmarks creates missing ones and replaces the old set.
    let set = json_of(
        server
            .send(
                "PUT",
                "/api/tags/convo/c-2",
                a,
                json!({"tags": ["work", "ideas"]}),
            )
            .await,
    )
    .await;
    let mut got: Vec<&str> = set
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, ["ideas", "work"]);
    server
        .send(
            "PUT",
            "/api/tags/convo/c-3",
            a,
            json!({"tags": ["work", "later"]}),
        )
        .await;
    let tags = json_of(server.get_as("/api/tags", a).await).await;
    let count = |name: &str| {
        tags.as_array()
            .unwrap()
            .iter()
            .find(|t| t["tag"] == name)
            .map(|t| t["count"].clone())
    };
    assert_eq!(count("work"), Some(json!(2)));
    assert_eq!(count("ideas"), Some(json!(2)));
    assert_eq!(count("later"), Some(json!(1)));

    // The sidebar can filter by bookmarks (all of them must match).
    let ids = |page: &Value| -> Vec<String> {
        page["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["conversationId"].as_str().unwrap().to_owned())
            .collect()
    };
    let work = json_of(server.get_as("/api/convos?tags=work", a).await).await;
    assert_eq!(ids(&work), ["c-3", "c-2"]);
    let both = json_of(
        server
            .get_as("/api/convos?tags[]=later&tags[]=ideas", a)
            .await,
    )
    .await;
    assert_eq!(
        ids(&both),
        ["c-3", "c-2", "c-1"],
        "any of the bookmarks, as LibreChat"
    );
    let c2 = json_of(server.get_as("/api/convos/c-2", a).await).await;
    assert_eq!(c2["tags"].as_array().unwrap().len(), 2);

    // Renaming follows into conversations; deleting takes it off them; counts stay right.
    let renamed = json_of(
        server
            .send(
                "PUT",
                "/api/tags/work",
                a,
                json!({"tag": "job", "description": "Renamed"}),
            )
            .await,
    )
    .await;
    assert_eq!(
        (renamed["tag"].as_str(), renamed["count"].as_i64()),
        (Some("job"), Some(2))
    );
    assert_eq!(
        server
            .send("PUT", "/api/tags/job", a, json!({"tag": "ideas"}))
            .await
            .status(),
        409
    );
    let c3 = json_of(server.get_as("/api/convos/c-3", a).await).await;
    assert!(c3["tags"].as_array().unwrap().contains(&json!("job")));
    // Deleting answers with the bookmark as it was, as LibreChat does.
    let deleted = server.send("DELETE", "/api/tags/later", a, json!({})).await;
    assert_eq!(deleted.status(), 200);
    let deleted = json_of(deleted).await;
    assert_eq!(
        (deleted["tag"].as_str(), deleted["count"].as_i64()),
        (Some("later"), Some(1))
    );
    assert!(deleted["_id"].is_string() && deleted["user"].is_string());
    let c3 = json_of(server.get_as("/api/convos/c-3", a).await).await;
    assert_eq!(c3["tags"], json!(["job"]));
    server
        .send(
            "DELETE",
            "/api/convos",
            a,
            json!({"arg": {"conversationId": "c-2"}}),
        )
        .await;
    let tags = json_of(server.get_as("/api/tags", a).await).await;
    let count = |name: &str| {
        tags.as_array()
            .unwrap()
            .iter()
            .find(|t| t["tag"] == name)
            .map(|t| t["count"].clone())
    };
    assert_eq!(
        count("job"),
        Some(json!(1)),
        "a deleted conversation no longer counts"
    );

    for (method, path, body) in [
        ("POST", "/api/tags", json!({"tag": ""})),
        ("POST", "/api/tags", json!({"tag": "x".repeat(101)})),
        (
            "POST",
            "/api/tags",
            json!({"tag": "ok", "addToConversation": true}),
        ),
        ("PUT", "/api/tags/convo/c-1", json!({"tags": ["fine", " "]})),
        ("PUT", "/api/tags/convo/c-1", json!({"tags": "work"})),
        ("PUT", "/api/tags/job", json!({"position": -1})),
    ] {
        assert_eq!(
            server.send(method, path, a, body.clone()).await.status(),
            400,
            "{method} {path} {body}"
        );
    }
    assert_eq!(
        server
            .send("DELETE", "/api/tags/nothing", a, json!({}))
            .await
            .status(),
        404
    );

    // Bob's bookmarks are his own: same names allowed, Alice's conversations untouchable.
    assert_eq!(
        server
            .send("POST", "/api/tags", &bob.token, json!({"tag": "job"}))
            .await
            .status(),
        200
    );
    assert_eq!(
        server
            .send(
                "PUT",
                "/api/tags/convo/c-1",
                &bob.token,
                json!({"tags": ["job"]})
            )
            .await
            .status(),
        404
    );
    assert_eq!(
        server
            .send(
                "POST",
                "/api/tags",
                &bob.token,
                json!({"tag": "spy", "addToConversation": true, "conversationId": "c-1"})
            )
            .await
            .status(),
        404
    );
    assert_eq!(
        json_of(server.get_as("/api/tags", &bob.token).await)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        server
            .send("DELETE", "/api/tags/ideas", &bob.token, json!({}))
            .await
            .status(),
        404
    );
    let mine = json_of(server.get_as("/api/tags", a).await).await;
    assert!(mine.as_array().unwrap().iter().any(|t| t["tag"] == "ideas"));
    // An existing bookmark asked for with `addToConversation` is put on the conversation.
    let existing = server
        .send(
            "POST",
            "/api/tags",
            a,
            json!({"tag": "job", "addToConversation": true, "conversationId": "c-1"}),
        )
        .await;
    assert_eq!(existing.status(), 200);
    assert_eq!(json_of(existing).await["count"], 2);
    let c1 = json_of(server.get_as("/api/convos/c-1", a).await).await;
    assert!(c1["tags"].as_array().unwrap().contains(&json!("job")));
    server.stop().await;
}
