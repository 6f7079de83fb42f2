//! Files on S3-compatible storage (`fileStrategy: s3`) against a real store, moto, that checks
//! every signature: uploads, images and avatars land in the bucket and nowhere else, come back
//! byte for byte, and leave it when deleted; a store that refuses the keys or is down gets a
//! clear 503 and nothing recorded.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::moto::Moto;
use support::{Session, TestServer, png};

const PW: &str = "correct horse battery";

fn avatar_form() -> reqwest::multipart::Form {
    let part = reqwest::multipart::Part::bytes(png(400, 200))
        .file_name("avatar.png")
        .mime_str("image/png")
        .unwrap();
    reqwest::multipart::Form::new()
        .part("file", part)
        .text("manual", "true")
}

/// A text file `name` holding `text`, uploaded by `who`: the status and the answer.
async fn upload_text(server: &TestServer, who: &Session, name: &str, text: &str) -> (u16, Value) {
    server
        .upload(
            who,
            "/api/files",
            name,
            "text/plain",
            text.as_bytes().to_vec(),
        )
        .await
}

/// Nothing left in the data folder's `files/` but its empty `tmp/`.
fn nothing_local(server: &TestServer) {
    assert_eq!(server.stored_files(), 0);
    let tmp = server.data_dir().join("files/tmp");
    assert_eq!(std::fs::read_dir(tmp).unwrap().count(), 0);
}

#[tokio::test]
async fn files_images_and_avatars_live_in_the_bucket() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let server = moto.server(&[]).await;
    let (alice, bob) = server.two_users(PW).await;
    // Large enough to be sent in many pieces.
    let text = "High tide is at 06:12 in Brest.\n"
        .repeat(10_000)
        .into_bytes();
    let (status, doc) = server
        .upload(
            &alice,
            "/api/files",
            "tides.md",
            "text/markdown",
            text.clone(),
        )
        .await;
    assert_eq!(status, 200, "{doc}");
    let picture = png(64, 48);
    let (status, image) = server
        .upload(&alice, "/api/files/images", "sea.png", "image/png", picture)
        .await;
    assert_eq!(status, 200, "{image}");
    let objects = moto.objects().await;
    assert_eq!(objects.len(), 2, "{objects:?}");
    assert!(
        objects.iter().all(|o| o.starts_with("files/")),
        "{objects:?}"
    );
    nothing_local(&server);

    // Downloads stream the stored bytes back; someone else gets nothing.
    let user_id = alice.user["id"].as_str().unwrap();
    let doc_id = doc["file_id"].as_str().unwrap();
    let download = format!("/api/files/download/{user_id}/{doc_id}");
    let resp = server.get_as(&download, &alice.token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), text);
    assert_eq!(server.get_as(&download, &bob.token).await.status(), 404);
    let image_path = image["filepath"].as_str().unwrap();
    let resp = server.get_as(image_path, &alice.token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    let shown = resp.bytes().await.unwrap().to_vec();
    let stored = futures_util::future::join_all(objects.iter().map(|o| moto.object(o))).await;
    assert!(stored.contains(&shown), "the image shown is the one stored");
    assert!(stored.contains(&text), "the document is stored as sent");

    // An avatar is stored there too, and shown.
    let (status, body) = server
        .post_form(&alice.token, "/api/files/images/avatar", avatar_form())
        .await;
    assert_eq!(status, 200, "{body}");
    let resp = server
        .get_as(body["url"].as_str().unwrap(), &alice.token)
        .await;
    assert_eq!(resp.status(), 200);
    let avatar = image::load_from_memory(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!((avatar.width(), avatar.height()), (150, 150));
    assert_eq!(moto.objects().await.len(), 3);

    // So is an agent's picture.
    let agent = support::agents::create(&server, &alice, json!({})).await;
    let agent_id = agent["id"].as_str().unwrap();
    let (status, agent) = server
        .post_form(
            &alice.token,
            &format!("/api/files/images/agents/{agent_id}/avatar"),
            avatar_form(),
        )
        .await;
    assert_eq!(status, 201, "{agent}");
    let resp = server
        .get_as(agent["avatar"]["filepath"].as_str().unwrap(), &alice.token)
        .await;
    assert_eq!(resp.status(), 200);
    assert!(image::load_from_memory(&resp.bytes().await.unwrap()).is_ok());
    assert_eq!(moto.objects().await.len(), 4);

    // The sweeper's listing sees what is stored (page by page through ListObjectsV2).
    let mut listed = server.state.files.stale_keys(Duration::ZERO).await.unwrap();
    listed.sort();
    let mut expected: Vec<String> = moto
        .objects()
        .await
        .iter()
        .map(|o| o["files/".len()..].to_owned())
        .collect();
    expected.sort();
    assert_eq!(listed, expected);

    // Deleting the file removes its object; the download is then gone.
    let body = json!({"files": [{"file_id": doc_id}]});
    let resp = server
        .send("DELETE", "/api/files", &alice.token, body)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(moto.objects().await.len(), 3);
    assert_eq!(server.get_as(&download, &alice.token).await.status(), 404);

    // An object gone behind the server's back reads as missing, not as a failure.
    let image_id = image["file_id"].as_str().unwrap().to_owned();
    let owner = user_id.to_owned();
    let key: String = server
        .state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT storage_key FROM files WHERE file_id = ?1 AND user_id = ?2",
                [&image_id, &owner],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    server.state.files.remove(&key).await.unwrap();
    server.state.files.remove(&key).await.unwrap();
    assert_eq!(server.get_as(image_path, &alice.token).await.status(), 404);
    nothing_local(&server);
}

#[tokio::test]
async fn a_store_that_refuses_or_is_down_gets_a_clear_error_and_nothing_is_recorded() {
    let Some(mut moto) = Moto::start().await else {
        return;
    };
    // Wrong secret: the store refuses the signature.
    let server = moto
        .server(&[("AWS_SECRET_ACCESS_KEY", "not-the-secret")])
        .await;
    let (alice, _) = server.two_users(PW).await;
    let (status, body) = upload_text(&server, &alice, "a.txt", "hello").await;
    assert_eq!(status, 503, "{body}");
    let words = body["message"].as_str().unwrap_or_default();
    assert!(words.contains("file storage"), "{body}");
    assert_eq!(server.count("files").await, 0);
    nothing_local(&server);
    let (status, body) = server
        .post_form(&alice.token, "/api/files/images/avatar", avatar_form())
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(server.count("files").await, 0);
    assert_eq!(moto.objects().await, Vec::<String>::new());
    drop(server);

    // A bucket that is not there is the store's failure too, not a missing file.
    let server = moto.server(&[("AWS_BUCKET_NAME", "no-such-bucket")]).await;
    let (alice, _) = server.two_users(PW).await;
    let (status, body) = upload_text(&server, &alice, "a.txt", "hello").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(server.count("files").await, 0);
    drop(server);

    // The right keys, then the store stops.
    let server = moto.server(&[]).await;
    let (alice, _) = server.two_users(PW).await;
    let (status, doc) = upload_text(&server, &alice, "a.txt", "hello").await;
    assert_eq!(status, 200, "{doc}");
    moto.stop();
    let (status, body) = upload_text(&server, &alice, "b.txt", "world").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(server.count("files").await, 1);
    let user_id = alice.user["id"].as_str().unwrap();
    let download = format!(
        "/api/files/download/{user_id}/{}",
        doc["file_id"].as_str().unwrap()
    );
    let resp = server.get_as(&download, &alice.token).await;
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("try again"),
        "{body}"
    );
    nothing_local(&server);
}

#[tokio::test]
async fn s3_without_its_settings_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let err = TestServer::builder()
        .yaml("version: 1.2.8\nfileStrategy: s3\n")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_BUCKET_NAME", "uploads")
        .settings(dir.path())
        .expect_err("refused");
    let words = err.to_string();
    assert!(words.contains("AWS_ACCESS_KEY_ID"), "{words}");
    // Other strategies are noted, and files stay on the local disk.
    let settings = TestServer::builder()
        .yaml("version: 1.2.8\nfileStrategy: azure_blob\n")
        .settings(dir.path())
        .unwrap();
    assert!(
        settings
            .yaml_unsupported
            .iter()
            .any(|n| n.contains("`fileStrategy: azure_blob` is not supported")),
        "{:?}",
        settings.yaml_unsupported
    );
}

/// `librechat CMD` in a data folder whose librechat.yaml sets `fileStrategy: s3` on `moto`,
/// with `change` over its settings: the exit code and what it printed.
fn librechat_on(moto: &Moto, change: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("librechat.yaml"),
        "version: 1.2.8\nfileStrategy: s3\n",
    )
    .unwrap();
    let mut cmd = support::librechat(dir.path());
    for (k, v) in moto.env() {
        let v = change
            .iter()
            .find(|(ck, _)| *ck == k)
            .map_or(v, |(_, cv)| (*cv).to_owned());
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[tokio::test]
async fn doctor_checks_the_bucket_and_the_migration_will_not_copy_into_it() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let (_, report) = librechat_on(&moto, &[], &["doctor"]);
    assert!(
        report.lines().any(|l| l.starts_with("ok")
            && l.contains("file storage: bucket uploads at")
            && l.contains("keys accepted")),
        "{report}"
    );
    let wrong = [("AWS_SECRET_ACCESS_KEY", "not-the-secret")];
    let (code, report) = librechat_on(&moto, &wrong, &["doctor"]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains("file storage: bucket uploads")),
        "{report}"
    );

    let args = ["migrate-from-librechat", "dump", "--uploads", "uploads"];
    let (code, text) = librechat_on(&moto, &[], &args);
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("`fileStrategy: s3`"), "{text}");
}
