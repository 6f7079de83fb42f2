//! Files over HTTP, as LibreChat's client uses them: upload a document (read as text), list,
//! download, delete; the limits and the bad uploads that must be refused with nothing stored.

mod support;

use serde_json::{Value, json};
use support::{Session, TestServer, declared_png, png};

const PW: &str = "correct horse battery";

/// A LibreChat-client upload: `endpoint`, `file_id` and the file (its name percent-encoded).
struct Upload<'a> {
    name: &'a str,
    mime: &'a str,
    bytes: Vec<u8>,
    file_id: Option<String>,
    endpoint: Option<&'a str>,
}

impl<'a> Upload<'a> {
    fn text(name: &'a str, text: &str) -> Self {
        Upload {
            name,
            mime: "text/plain",
            bytes: text.as_bytes().to_vec(),
            file_id: Some(uuid::Uuid::new_v4().to_string()),
            endpoint: Some("openAI"),
        }
    }
}

async fn send(server: &TestServer, s: &Session, u: Upload<'_>) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    if let Some(e) = u.endpoint {
        form = form.text("endpoint", e.to_owned()).text("endpointType", "");
    }
    let part = reqwest::multipart::Part::bytes(u.bytes)
        .file_name(u.name.to_owned())
        .mime_str(u.mime)
        .unwrap();
    form = form.part("file", part);
    if let Some(id) = u.file_id {
        form = form.text("file_id", id);
    }
    form = form.text("message_file", "true");
    server.post_form(&s.token, "/api/files", form).await
}

#[tokio::test]
async fn a_document_is_uploaded_listed_downloaded_and_deleted_by_its_owner_only() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    let temp_id = uuid::Uuid::new_v4().to_string();
    let (status, file) = send(
        &server,
        &alice,
        Upload {
            file_id: Some(temp_id.clone()),
            ..Upload::text("r%C3%A9sum%C3%A9.md", "# Notes\nThe tide turns at six.")
        },
    )
    .await;
    assert_eq!(status, 200, "{file}");
    assert_eq!(file["temp_file_id"], temp_id);
    let id = file["file_id"].as_str().unwrap().to_owned();
    assert_ne!(id, temp_id, "the server makes the id");
    assert_eq!(file["filename"], "résumé.md");
    assert_eq!(file["type"], "text/plain");
    assert_eq!(file["source"], "text");
    assert_eq!(file["bytes"], 30);
    assert_eq!(file["object"], "file");
    assert!(file.get("text").is_none(), "the text stays on the server");
    let user_id = alice.user["id"].as_str().unwrap();
    assert_eq!(
        file["filepath"],
        format!("/api/files/download/{user_id}/{id}")
    );
    assert_eq!(server.stored_files(), 1);

    let list = server.get_json("/api/files", &alice.token).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["file_id"], id);
    assert_eq!(server.get_json("/api/files", &bob.token).await, json!([]));

    let path = format!("/api/files/download/{user_id}/{id}");
    let resp = server.get_as(&path, &alice.token).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("r%C3%A9sum%C3%A9.md")
    );
    assert_eq!(
        resp.text().await.unwrap(),
        "# Notes\nThe tide turns at six."
    );
    // Bob, by Alice's path or his own: nothing.
    assert_eq!(server.get_as(&path, &bob.token).await.status(), 404);
    let bob_id = bob.user["id"].as_str().unwrap();
    let his = format!("/api/files/download/{bob_id}/{id}");
    assert_eq!(server.get_as(&his, &bob.token).await.status(), 404);

    // Bob cannot delete it, and learns only that it is not his.
    let body = json!({"files": [{"file_id": id, "filepath": file["filepath"]}]});
    let resp = server
        .send("DELETE", "/api/files", &bob.token, body.clone())
        .await;
    assert_eq!(resp.status(), 403);
    let refused: Value = resp.json().await.unwrap();
    assert_eq!(refused["unauthorizedFiles"], json!([id]));
    assert_eq!(server.stored_files(), 1);
    assert_eq!(server.count("files").await, 1);

    let resp = server
        .send("DELETE", "/api/files", &alice.token, body)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(server.get_json("/api/files", &alice.token).await, json!([]));
    assert_eq!(server.stored_files(), 0, "the bytes go with the record");
    assert_eq!(server.get_as(&path, &alice.token).await.status(), 404);
    let nothing = server
        .send("DELETE", "/api/files", &alice.token, json!({"files": []}))
        .await;
    assert_eq!(nothing.status(), 204);
}

#[tokio::test]
async fn bad_uploads_are_refused_and_nothing_is_stored() {
    let server = TestServer::builder()
        .yaml(
            "version: 1.3.17\nfileConfig:\n  endpoints:\n    openAI:\n      fileSizeLimit: 0.001\n",
        )
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let cases: Vec<(&str, Upload, u16)> = vec![
        ("empty", Upload::text("a.txt", ""), 400),
        (
            "over the endpoint's size",
            Upload::text("a.txt", &"x".repeat(2000)),
            413,
        ),
        (
            "text that says it is a PNG",
            Upload {
                mime: "image/png",
                ..Upload::text("a.png", "not a picture")
            },
            415,
        ),
        (
            "a PNG that says it is text",
            Upload {
                bytes: png,
                ..Upload::text("a.txt", "")
            },
            415,
        ),
        (
            "a type the endpoint does not take",
            Upload {
                mime: "video/mp4",
                bytes: b"\0\0\0\x18ftypmp42".to_vec(),
                ..Upload::text("a.mp4", "")
            },
            415,
        ),
        (
            "bytes that are not UTF-8",
            Upload {
                bytes: b"caf\xe9 au lait".to_vec(),
                ..Upload::text("a.txt", "")
            },
            415,
        ),
        (
            "a path in the name",
            Upload::text("..%2F..%2Fetc%2Fpasswd", "x"),
            400,
        ),
        (
            "a backslash in the name",
            Upload::text("a\\b.txt", "x"),
            400,
        ),
        (
            "no file_id",
            Upload {
                file_id: None,
                ..Upload::text("a.txt", "x")
            },
            400,
        ),
        (
            "a file_id that is not a UUID",
            Upload {
                file_id: Some("../x".into()),
                ..Upload::text("a.txt", "x")
            },
            400,
        ),
        (
            "no endpoint",
            Upload {
                endpoint: None,
                ..Upload::text("a.txt", "x")
            },
            400,
        ),
    ];
    for (what, upload, expected) in cases {
        let (status, body) = send(&server, &s, upload).await;
        assert_eq!(status, expected, "{what}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {body}"
        );
    }
    // Not multipart at all.
    let resp = server
        .send("POST", "/api/files", &s.token, json!({"file": "x"}))
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(server.count("files").await, 0);
    assert_eq!(server.stored_files(), 0);
    assert_eq!(
        server.partial_uploads(),
        0,
        "no partial upload is left behind"
    );
    // Another endpoint keeps the default limits.
    let (status, _) = send(
        &server,
        &s,
        Upload {
            endpoint: Some("anthropic"),
            ..Upload::text("a.txt", &"x".repeat(2000))
        },
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_quota_and_the_upload_limiter_hold() {
    let server = TestServer::builder()
        .env("FILE_USER_QUOTA_MB", "1")
        .env("FILE_UPLOAD_USER_MAX", "3")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let big = "y".repeat(700 * 1024);
    assert_eq!(send(&server, &s, Upload::text("a.txt", &big)).await.0, 200);
    // 1 MB in all: a second 700 KB file does not fit, and is not kept.
    assert_eq!(send(&server, &s, Upload::text("b.txt", &big)).await.0, 413);
    assert_eq!(server.stored_files(), 1);
    assert_eq!(
        send(&server, &s, Upload::text("c.txt", "small")).await.0,
        200
    );
    // The fourth upload in the window.
    let (status, body) = send(&server, &s, Upload::text("d.txt", "small")).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(server.count("files").await, 2);
}

#[tokio::test]
async fn fifty_uploads_at_once_leave_only_what_was_answered() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let all = (0..50).map(|i| {
        let (server, s) = (&server, &s);
        async move {
            let name = format!("{i}.txt");
            send(server, s, Upload::text(&name, &"z".repeat(64 * 1024)))
                .await
                .0
        }
    });
    let statuses = futures_util::future::join_all(all).await;
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    let taken = statuses.iter().filter(|s| **s == 200).count();
    assert!(taken >= 1);
    assert_eq!(server.count("files").await as usize, taken);
    assert_eq!(server.stored_files(), taken);
    assert_eq!(server.partial_uploads(), 0);
}

#[tokio::test]
async fn the_upload_limits_reach_the_client_in_librechats_form() {
    let server = TestServer::builder()
        .yaml(
            "version: 1.3.17\nfileConfig:\n  serverFileSizeLimit: 100\n  endpoints:\n    openAI:\n      fileLimit: 2\n      fileSizeLimit: 5\n    anthropic:\n      disabled: true\n",
        )
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let config = server.get_json("/api/files/config", &s.token).await;
    assert_eq!(config["serverFileSizeLimit"], 100.0);
    assert_eq!(config["endpoints"]["openAI"]["fileLimit"], 2);
    assert_eq!(config["endpoints"]["openAI"]["fileSizeLimit"], 5.0);
    assert_eq!(config["endpoints"]["anthropic"]["disabled"], true);
    let default = &config["endpoints"]["default"];
    assert_eq!(default["disabled"], false);
    assert!(
        default["supportedMimeTypes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("markdown")),
        "{default}"
    );
    // Uploads to a disabled endpoint are refused.
    let (status, body) = send(
        &server,
        &s,
        Upload {
            endpoint: Some("anthropic"),
            ..Upload::text("a.txt", "x")
        },
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["message"],
        "Uploads are turned off for the anthropic endpoint"
    );
}

#[tokio::test]
async fn deleting_an_account_removes_its_files() {
    let server = TestServer::builder()
        .env("ALLOW_ACCOUNT_DELETION", "true")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    assert_eq!(send(&server, &s, Upload::text("a.txt", "bye")).await.0, 200);
    assert_eq!(server.stored_files(), 1);
    let resp = server
        .send(
            "DELETE",
            "/api/user/delete",
            &s.token,
            json!({"password": PW}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(server.count("files").await, 0);
    assert_eq!(server.stored_files(), 0);
}

async fn send_image(
    server: &TestServer,
    s: &Session,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    server
        .upload(s, "/api/files/images", name, mime, bytes)
        .await
}

#[tokio::test]
async fn images_are_shrunk_stored_once_and_shown_to_their_owner_only() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    let (status, file) =
        send_image(&server, &alice, "wide.png", "image/png", png(4000, 1000)).await;
    assert_eq!(status, 200, "{file}");
    // LibreChat's "high" size: the long side at most 2,000 pixels.
    assert_eq!(
        (file["width"].as_u64(), file["height"].as_u64()),
        (Some(2000), Some(500))
    );
    assert_eq!(file["type"], "image/png");
    assert_eq!(file["source"], "local");
    let user_id = alice.user["id"].as_str().unwrap();
    let id = file["file_id"].as_str().unwrap();
    let path = format!("/images/{user_id}/{id}.png");
    assert_eq!(file["filepath"], path);
    assert_eq!(server.stored_files(), 1);

    // By the bearer token, or by the session cookie a browser sends with <img>.
    let resp = server.get_as(&path, &alice.token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"\x89PNG");
    let by_cookie = server
        .client
        .get(server.url(&path))
        .header("cookie", format!("refreshToken={}", alice.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), 200);
    assert_eq!(server.get_as(&path, &bob.token).await.status(), 404);
    let bobs_cookie = server
        .client
        .get(server.url(&path))
        .header("cookie", format!("refreshToken={}", bob.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(bobs_cookie.status(), 404);
    assert_eq!(server.get(&path).await.status(), 401);
}

#[tokio::test]
async fn image_bombs_and_broken_images_are_refused_with_nothing_stored() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let bomb = declared_png(50_000, 50_000);
    let (status, body) = send_image(&server, &s, "bomb.png", "image/png", bomb).await;
    assert_eq!(status, 413, "{body}");
    let mut cut = png(200, 200);
    cut.truncate(cut.len() / 2);
    let (status, body) = send_image(&server, &s, "cut.png", "image/png", cut).await;
    assert_eq!(status, 415, "{body}");
    let (status, _) = send_image(&server, &s, "fake.png", "image/png", b"<svg/>".to_vec()).await;
    assert_eq!(status, 415);
    assert_eq!(server.count("files").await, 0);
    assert_eq!(server.stored_files(), 0);
    assert_eq!(server.partial_uploads(), 0);
}

#[tokio::test]
async fn a_text_file_over_the_text_limit_is_refused_before_it_is_read() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let big = "a".repeat(15 * 1024 * 1024 + 1);
    let (status, body) = send(&server, &s, Upload::text("big.txt", &big)).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("15 MB"),
        "{body}"
    );
    assert_eq!(server.stored_files(), 0);
    assert_eq!(server.partial_uploads(), 0);
}
