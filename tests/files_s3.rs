//! Files on S3-compatible storage (`fileStrategy: s3`) against a real store, moto, that checks
//! every signature: uploads, images and avatars land in the bucket and nowhere else, come back
//! byte for byte, and leave it when deleted; a store that refuses the keys or is down gets a
//! clear 503 and nothing recorded; `doctor` checks the bucket, and the migration from
//! LibreChat copies its files into it.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use support::librechat_dump::migration::write_bson;
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
            c.query_row(
                "SELECT storage_key FROM files WHERE file_id = ?1 AND user_id = ?2",
                [&image_id, &owner],
                |r| r.get(0),
            )
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

/// `librechat ARGS` in `home`, whose librechat.yaml sets `fileStrategy: s3` on `moto` (data in
/// `home/data`), with `change` over its environment: the exit code and what it printed.
fn librechat_in(
    home: &Path,
    moto: &Moto,
    change: &[(&str, String)],
    args: &[&str],
) -> (Option<i32>, String) {
    std::fs::write(
        home.join("librechat.yaml"),
        "version: 1.2.8\nfileStrategy: s3\n",
    )
    .unwrap();
    let mut cmd = support::librechat(home);
    cmd.env("LIBRECHAT_DATA_DIR", home.join("data"));
    for (k, v) in moto.env() {
        cmd.env(k, v);
    }
    for (k, v) in change {
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

/// With `AWS_FORCE_PATH_STYLE=false` the bucket is in the host name, `uploads.localhost`.
/// That name does not resolve on this machine, so the command reaches it through moto itself
/// as its HTTP proxy (reqwest takes `HTTP_PROXY`): moto routes on the `Host` header, as S3
/// does, and checks the signature made for that host.
fn virtual_host(moto: &Moto) -> Vec<(&str, String)> {
    let port = moto.endpoint.rsplit(':').next().unwrap();
    vec![
        ("AWS_ENDPOINT_URL", format!("http://localhost:{port}")),
        ("AWS_FORCE_PATH_STYLE", "false".into()),
        ("HTTP_PROXY", moto.endpoint.clone()),
    ]
}

#[tokio::test]
async fn doctor_checks_the_bucket_in_either_addressing_style() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let accepted = |report: &str| {
        report.lines().any(|l| {
            l.starts_with("ok")
                && l.contains("file storage: bucket uploads at")
                && l.contains("keys accepted")
        })
    };
    let (_, report) = librechat_in(home.path(), &moto, &[], &["doctor"]);
    assert!(accepted(&report), "{report}");
    let (_, report) = librechat_in(home.path(), &moto, &virtual_host(&moto), &["doctor"]);
    assert!(accepted(&report), "{report}");
    let wrong = [("AWS_SECRET_ACCESS_KEY", "not-the-secret".to_owned())];
    for change in [
        wrong.to_vec(),
        [virtual_host(&moto), wrong.to_vec()].concat(),
    ] {
        let (code, report) = librechat_in(home.path(), &moto, &change, &["doctor"]);
        assert_eq!(code, Some(1), "{report}");
        assert!(
            report
                .lines()
                .any(|l| l.starts_with("FAIL") && l.contains("file storage: bucket uploads")),
            "{report}"
        );
    }
}

const USER: &str = "65a1b2c3d4e5f60718293a4b";
const DOC: &str = "f1000000-0000-4000-8000-000000000001";

/// A LibreChat deployment in `home`: a dump with one account (its picture in `images/`) and
/// one document (in `uploads/`); the document's bytes.
fn librechat_deployment(home: &Path) -> Vec<u8> {
    use bson::{Bson, DateTime, doc, oid::ObjectId};
    let at = Bson::DateTime(DateTime::from_millis(1_704_067_200_000));
    for d in ["dump/LibreChat", "uploads/{USER}", "images/{USER}"] {
        std::fs::create_dir_all(home.join(d.replace("{USER}", USER))).unwrap();
    }
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(
        home.join(format!("uploads/{USER}/{DOC}__tides.bin")),
        &bytes,
    )
    .unwrap();
    std::fs::write(home.join(format!("images/{USER}/avatar-1.png")), png(4, 4)).unwrap();
    let dump = home.join("dump/LibreChat");
    write_bson(
        &dump.join("users.bson"),
        &[doc! {
            "_id": ObjectId::parse_str(USER).unwrap(), "name": "Tide", "username": "tide",
            "email": "tide@example.org", "emailVerified": true,
            "password": bcrypt::hash(PW, 4).unwrap(), "provider": "local", "role": "USER",
            "avatar": format!("/images/{USER}/avatar-1.png?manual=true"),
            "createdAt": at.clone(), "updatedAt": at.clone(),
        }],
    );
    write_bson(
        &dump.join("files.bson"),
        &[doc! {
            "_id": ObjectId::new(), "user": ObjectId::parse_str(USER).unwrap(), "file_id": DOC,
            "filename": "tides.bin", "filepath": format!("/uploads/{USER}/{DOC}__tides.bin"),
            "type": "application/octet-stream", "bytes": 300_000, "source": "local",
            "context": "message_attachment", "usage": 0, "object": "file",
            "createdAt": at.clone(), "updatedAt": at,
        }],
    );
    bytes
}

#[tokio::test]
async fn the_migration_copies_librechats_files_into_the_bucket() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let home = Arc::new(tempfile::tempdir().unwrap());
    let bytes = librechat_deployment(home.path());
    let args = [
        "migrate-from-librechat",
        "dump",
        "--uploads",
        "uploads",
        "--images",
        "images",
        "--no-reindex",
    ];
    // Virtual-host style, as a bucket on AWS is addressed.
    let (code, text) = librechat_in(home.path(), &moto, &virtual_host(&moto), &args);
    assert_eq!(code, Some(0), "{text}");
    let objects = moto.objects().await;
    assert_eq!(
        objects.len(),
        2,
        "the document and the picture: {objects:?}"
    );
    let stored = futures_util::future::join_all(objects.iter().map(|o| moto.object(o))).await;
    assert!(stored.contains(&bytes), "copied as it was");
    let files = home.path().join("data/files");
    let left: Vec<_> = walk(&files);
    assert!(left.is_empty(), "nothing kept on the local disk: {left:?}");

    // A second run copies nothing.
    let (code, text) = librechat_in(home.path(), &moto, &[], &args);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(moto.objects().await.len(), 2, "{text}");

    // The server (path style, same bucket) gives them back.
    let server = moto.builder(&[]).in_dir(home.clone()).start().await;
    let s = server.login("tide@example.org", PW).await;
    let resp = server
        .get_as(&format!("/api/files/download/{USER}/{DOC}"), &s.token)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let avatar = s.user["avatar"]
        .as_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    let resp = server.get_as(avatar, &s.token).await;
    assert_eq!(resp.status(), 200, "{avatar}");
    assert!(image::load_from_memory(&resp.bytes().await.unwrap()).is_ok());
}

/// The files under `dir`, in its folders too.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

/// A deployment that kept its uploads on the local disk moves them into the bucket with
/// `librechat files to-bucket`: every stored file goes over under its own key and comes back
/// byte for byte through a server on the bucket, with the local folder gone. A second run sends
/// nothing; without a bucket in the settings, or with keys the store refuses, it says so and
/// exits 1.
#[tokio::test]
async fn files_to_bucket_moves_a_local_deployment_s_uploads() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let local = TestServer::start().await;
    let (alice, _) = local.two_users(PW).await;
    let text = "Neap tides follow the quarter moons.\n".repeat(2_000);
    let (status, doc) = upload_text(&local, &alice, "neap.txt", &text).await;
    assert_eq!(status, 200, "{doc}");
    let (status, avatar) = local
        .post_form(&alice.token, "/api/files/images/avatar", avatar_form())
        .await;
    assert_eq!(status, 200, "{avatar}");
    let kept = local.stored_files();
    assert!(kept >= 2, "{kept}");
    let home = local.stop().await;
    let data = home.path().join("data");

    // Its own settings keep files on the disk: there is nothing to copy to.
    let out = support::run(
        support::librechat(home.path())
            .env("LIBRECHAT_DATA_DIR", &data)
            .args(["files", "to-bucket"]),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("fileStrategy: s3"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Keys the store refuses: a clear error, nothing claimed copied.
    let wrong = [("AWS_SECRET_ACCESS_KEY", "not-the-secret".to_owned())];
    let (code, said) = librechat_in(home.path(), &moto, &wrong, &["files", "to-bucket"]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("refused"), "{said}");
    assert!(moto.objects().await.is_empty());

    let (code, said) = librechat_in(home.path(), &moto, &[], &["files", "to-bucket"]);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains(&format!("copied {kept} file(s)")) && said.contains("; 0 already there"),
        "{said}"
    );
    let objects = moto.objects().await;
    assert_eq!(objects.len(), kept, "{objects:?}");
    for object in &objects {
        let key = object.strip_prefix("files/").unwrap();
        let on_disk = std::fs::read(data.join("files").join(key)).unwrap();
        assert_eq!(moto.object(object).await, on_disk, "{key}");
    }
    let (code, said) = librechat_in(home.path(), &moto, &[], &["files", "to-bucket"]);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains("copied 0 file(s) (0 bytes)")
            && said.contains(&format!("; {kept} already there")),
        "{said}"
    );

    // The local copies gone, a server on the bucket serves the same bytes.
    std::fs::remove_dir_all(data.join("files")).unwrap();
    let server = moto.builder(&[]).in_dir(home.clone()).start().await;
    let email = alice.user["email"].as_str().unwrap().to_owned();
    let alice = server.login(&email, PW).await;
    let user_id = alice.user["id"].as_str().unwrap();
    let download = format!(
        "/api/files/download/{user_id}/{}",
        doc["file_id"].as_str().unwrap()
    );
    let resp = server.get_as(&download, &alice.token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), text);
    let resp = server
        .get_as(avatar["url"].as_str().unwrap(), &alice.token)
        .await;
    assert_eq!(resp.status(), 200);
    assert!(image::load_from_memory(&resp.bytes().await.unwrap()).is_ok());
    server.stop().await;
}
