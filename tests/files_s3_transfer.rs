//! Moving bytes to and from S3-compatible storage (`fileStrategy: s3`) against moto: downloads
//! redirected to short-lived presigned URLs only after the owner check, and large uploads sent
//! in parts, with a failed one aborted so that nothing stays in the bucket.

mod support;

use librechat::config::Env;
use librechat::config::file_store::FileStore;
use librechat::files::Storage;
use serde_json::{Value, json};
use support::TestServer;
use support::moto::{BUCKET, Moto};

const PW: &str = "correct horse battery";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn downloads_redirect_to_short_lived_signed_urls_after_the_owner_check() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let server = moto.server(&[("S3_URL_EXPIRY_SECONDS", "90")]).await;
    let (alice, bob) = server.two_users(PW).await;
    let text = "Low tide at 12:31 in Brest.\n".repeat(100);
    let (status, doc) = server
        .upload(
            &alice,
            "/api/files",
            "tides é.txt",
            "text/plain",
            text.clone().into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{doc}");
    let user_id = alice.user["id"].as_str().unwrap();
    let file_id = doc["file_id"].as_str().unwrap();
    let url_route = format!("/api/files/download-url/{user_id}/{file_id}");
    let download = format!("/api/files/download/{user_id}/{file_id}");

    // Someone else gets neither a URL nor a redirect.
    assert_eq!(server.get_as(&url_route, &bob.token).await.status(), 404);
    let direct = format!("{download}?direct=true");
    let as_bob = no_redirects()
        .get(server.url(&direct))
        .bearer_auth(&bob.token)
        .send()
        .await
        .unwrap();
    assert_eq!(as_bob.status(), 404);

    // The owner gets a URL of the object, signed, good for S3_URL_EXPIRY_SECONDS.
    let resp = server.get_as(&url_route, &alice.token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["filename"], "tides é.txt");
    assert_eq!(body["type"], "text/plain");
    assert_eq!(body["metadata"]["file_id"], file_id);
    let url = url::Url::parse(body["url"].as_str().unwrap()).unwrap();
    let prefix = format!("{}/{BUCKET}/files/", moto.endpoint);
    assert!(url.as_str().starts_with(&prefix), "{url}");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(param("X-Amz-Expires"), Some("90"), "{url}");
    assert_eq!(param("X-Amz-SignedHeaders"), Some("host"), "{url}");
    assert_eq!(param("X-Amz-Signature").map(str::len), Some(64), "{url}");
    assert!(!url.as_str().contains(&moto.secret), "never the secret");

    // `?direct=true` redirects there; without it the bytes still come through the server.
    let redirect = no_redirects()
        .get(server.url(&direct))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 302);
    assert_eq!(redirect.headers()["cache-control"], "no-store");
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(url.as_str().split('?').next().unwrap()));
    let streamed = server.get_as(&download, &alice.token).await;
    assert_eq!(streamed.status(), 200);
    assert_eq!(streamed.text().await.unwrap(), text);

    // Fetched straight from the store, with no keys, the URL gives the bytes as a download.
    moto.check_signatures(false).await;
    let fetched = no_redirects().get(&location).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(
        fetched.headers()["content-disposition"],
        "attachment; filename*=UTF-8''tides%20%C3%A9.txt"
    );
    assert_eq!(fetched.headers()["content-type"], "text/plain");
    assert_eq!(fetched.text().await.unwrap(), text);
    moto.check_signatures(true).await;
}

#[tokio::test]
async fn on_the_local_disk_there_is_no_url_and_downloads_stream() {
    let server = TestServer::start().await;
    let (alice, _) = server.two_users(PW).await;
    let (status, doc) = server
        .upload(
            &alice,
            "/api/files",
            "a.txt",
            "text/plain",
            b"hello".to_vec(),
        )
        .await;
    assert_eq!(status, 200, "{doc}");
    let user_id = alice.user["id"].as_str().unwrap();
    let file_id = doc["file_id"].as_str().unwrap();
    let resp = server
        .get_as(
            &format!("/api/files/download-url/{user_id}/{file_id}"),
            &alice.token,
        )
        .await;
    // As LibreChat answers for a storage without URLs; its client then streams.
    assert_eq!(resp.status(), 501);
    let resp = no_redirects()
        .get(server.url(&format!(
            "/api/files/download/{user_id}/{file_id}?direct=true"
        )))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "hello");
}

/// The storage of `moto`'s bucket sending uploads over `threshold` bytes in parts of
/// `part_size`, with its spool in `dir`.
fn storage(moto: &Moto, threshold: u64, part_size: u64, dir: &std::path::Path) -> Storage {
    let env = Env::from_pairs(moto.env());
    let FileStore::S3(mut settings) = FileStore::load(&env, Some(&json!("s3"))).unwrap() else {
        panic!("s3")
    };
    settings.multipart_threshold = threshold;
    settings.part_size = part_size;
    Storage::new(&FileStore::S3(settings), dir.to_owned()).unwrap()
}

/// `len` bytes that differ from one part to the next.
fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i / 1000 % 251) as u8).collect()
}

async fn put(store: &Storage, data: &[u8]) -> std::io::Result<String> {
    let mut incoming = store.incoming(u64::MAX).await?;
    for chunk in data.chunks(64 * 1024) {
        incoming.write(chunk).await.unwrap();
    }
    store.keep(incoming.finish().await?).await
}

#[tokio::test]
async fn large_uploads_go_in_parts_and_a_failed_one_leaves_nothing() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    const MIB: usize = 1 << 20;

    // Over the threshold: three parts of at most 5 MiB (S3's smallest but the last).
    let store = storage(&moto, MIB as u64, 5 * MIB as u64, dir.path());
    let data = bytes(11 * MIB + 7);
    let key = put(&store, &data).await.unwrap();
    let name = format!("files/{key}");
    assert_eq!(moto.object(&name).await, data);
    let head = moto.signed_get(&format!("/{BUCKET}/{name}")).await;
    let etag = head.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.ends_with("-3\""), "a multipart object's ETag: {etag}");
    assert_eq!(moto.multipart_uploads().await, 0);
    // Under it: one PUT.
    let small = put(&store, b"small").await.unwrap();
    let head = moto.signed_get(&format!("/{BUCKET}/files/{small}")).await;
    assert!(!head.headers()["etag"].to_str().unwrap().contains('-'));

    // Parts of 1 MiB are refused when the upload completes (EntityTooSmall): the upload is
    // aborted, so no part stays behind, and no object is made.
    let store = storage(&moto, MIB as u64, MIB as u64, dir.path());
    let e = put(&store, &bytes(3 * MIB)).await.unwrap_err();
    assert!(librechat::files::storage::is_store_failure(&e), "{e}");
    assert!(e.to_string().contains("EntityTooSmall"), "{e}");
    assert_eq!(moto.multipart_uploads().await, 0, "aborted");
    assert_eq!(moto.objects().await.len(), 2);
    let spool = std::fs::read_dir(dir.path().join("tmp")).unwrap().count();
    assert_eq!(spool, 0, "the spooled upload is removed");
}
