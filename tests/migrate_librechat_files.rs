//! `librechat migrate-from-librechat DIR --uploads … --images …`: LibreChat's files come over
//! with their bytes, as its client then sees them over HTTP: listed, downloaded whole, images
//! shown where messages point, the account's picture shown; cloud files listed for later,
//! hostile paths refused; a dry run and a second run copy nothing; the sweeper keeps them.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bson::{Bson, DateTime, Document, doc, oid::ObjectId};
use serde_json::Value;
use support::TestServer;
use support::librechat_dump::migration::{migrate_printing, write_bson};

const USER: &str = "65a1b2c3d4e5f60718293a4b";
const EMAIL: &str = "tide@example.org";
const PASSWORD: &str = "harbour-lights-42";
const CONVO: &str = "c0c0c0c0-0000-4000-8000-000000000001";
const DOC: &str = "f1000000-0000-4000-8000-000000000001";
const PHOTO: &str = "f2000000-0000-4000-8000-000000000002";
const CLOUD: &str = "f3000000-0000-4000-8000-000000000003";
const HOSTILE: &str = "f4000000-0000-4000-8000-000000000004";
const GONE: &str = "f5000000-0000-4000-8000-000000000005";
const LONELY: &str = "f6000000-0000-4000-8000-000000000006";
const TEXT_ONLY: &str = "f7000000-0000-4000-8000-000000000007";
const LINKED: &str = "f8000000-0000-4000-8000-000000000008";
const SVG: &str = "f9000000-0000-4000-8000-000000000009";
const AVATAR: &str = "avatar-1700000000000.png";

fn at(ms: i64) -> Bson {
    Bson::DateTime(DateTime::from_millis(ms))
}

/// A file document of LibreChat's schema (an old upload: no `messageId`).
fn file(id: &str, source: &str, filepath: &str, mime: &str, name: &str) -> Document {
    doc! {
        "_id": ObjectId::new(), "user": ObjectId::parse_str(USER).unwrap(), "file_id": id,
        "filename": name, "filepath": filepath, "type": mime, "bytes": 1, "source": source,
        "context": "message_attachment", "usage": 1, "object": "file",
        "conversationId": CONVO, "createdAt": at(1_704_067_200_000),
        "updatedAt": at(1_704_067_200_000), "__v": 0,
    }
}

/// What LibreChat leaves on disk and in its database: a dump, `uploads/`, `images/`.
struct LibreChat {
    dump: PathBuf,
    uploads: PathBuf,
    images: PathBuf,
    doc_bytes: Vec<u8>,
    photo: Vec<u8>,
    avatar: Vec<u8>,
}

fn librechat_deployment(root: &Path) -> LibreChat {
    let dump = root.join("dump/LibreChat");
    let uploads = root.join("LibreChat/uploads");
    let images = root.join("LibreChat/client/public/images");
    for d in [&dump, &uploads.join(USER), &images.join(USER)] {
        std::fs::create_dir_all(d).unwrap();
    }
    // Big enough to need several reads when streamed.
    let doc_bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let photo = support::png(3, 2);
    let avatar = support::png(4, 4);
    std::fs::write(uploads.join(format!("{USER}/{DOC}__tides.bin")), &doc_bytes).unwrap();
    std::fs::write(
        uploads.join(format!("{USER}/{LONELY}__lonely.txt")),
        b"alone",
    )
    .unwrap();
    std::fs::write(images.join(format!("{USER}/{PHOTO}__harbour.png")), &photo).unwrap();
    std::fs::write(images.join(format!("{USER}/{AVATAR}")), &avatar).unwrap();
    std::fs::write(
        images.join(format!("{USER}/{SVG}__logo.svg")),
        "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    )
    .unwrap();
    // A link out of the uploads folder.
    std::fs::write(root.join("outside-secret"), b"secret").unwrap();
    std::os::unix::fs::symlink(
        root.join("outside-secret"),
        uploads.join(format!("{USER}/{LINKED}__x.txt")),
    )
    .unwrap();

    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    write_bson(
        &dump.join("users.bson"),
        &[doc! {
            "_id": ObjectId::parse_str(USER).unwrap(), "name": "Tide", "username": "tide",
            "email": EMAIL, "emailVerified": true, "password": hash, "provider": "local",
            "role": "USER", "avatar": format!("/images/{USER}/{AVATAR}?manual=true"),
            "createdAt": at(1_704_067_200_000), "updatedAt": at(1_704_067_200_000),
        }],
    );
    write_bson(
        &dump.join("conversations.bson"),
        &[doc! {
            "_id": ObjectId::new(), "conversationId": CONVO, "user": USER,
            "title": "Harbour", "endpoint": "openAI", "model": "gpt-4o",
            "createdAt": at(1_704_067_200_000), "updatedAt": at(1_704_067_300_000),
        }],
    );
    let photo_path = format!("/images/{USER}/{PHOTO}__harbour.png");
    write_bson(
        &dump.join("messages.bson"),
        &[
            doc! {
                "_id": ObjectId::new(), "messageId": "m1", "conversationId": CONVO, "user": USER,
                "parentMessageId": "00000000-0000-0000-0000-000000000000",
                "isCreatedByUser": true, "sender": "User", "text": "What do these say?",
                // LibreChat's older entries: no name, size or source.
                "files": [
                    {"file_id": PHOTO, "filepath": &photo_path, "type": "image/png",
                     "width": 3, "height": 2},
                    {"file_id": DOC, "filepath": format!("/uploads/{USER}/{DOC}__tides.bin"),
                     "type": "application/octet-stream", "filename": "tides.bin"},
                ],
                "createdAt": at(1_704_067_210_000), "updatedAt": at(1_704_067_210_000),
            },
            doc! {
                "_id": ObjectId::new(), "messageId": "m2", "conversationId": CONVO, "user": USER,
                "parentMessageId": "m1", "isCreatedByUser": false, "sender": "GPT-4o",
                "text": "",
                "content": [
                    {"type": "text", "text": "Here it is again:"},
                    {"type": "image_file",
                     "image_file": {"file_id": PHOTO, "filepath": &photo_path, "width": 3, "height": 2}},
                ],
                "createdAt": at(1_704_067_220_000), "updatedAt": at(1_704_067_220_000),
            },
        ],
    );
    let mut text_only = file(
        TEXT_ONLY,
        "text",
        "/app/uploads/temp/5b1f",
        "application/pdf",
        "almanac.pdf",
    );
    text_only.insert("text", "Spring tide at 06:12");
    write_bson(
        &dump.join("files.bson"),
        &[
            file(
                DOC,
                "local",
                &format!("/uploads/{USER}/{DOC}__tides.bin"),
                "application/octet-stream",
                "tides.bin",
            ),
            file(PHOTO, "local", &photo_path, "image/png", "harbour.png"),
            file(
                CLOUD,
                "s3",
                "https://bucket.s3.amazonaws.com/uploads/x.pdf",
                "application/pdf",
                "x.pdf",
            ),
            file(HOSTILE, "local", "../../etc/passwd", "text/plain", "passwd"),
            file(
                GONE,
                "local",
                &format!("/uploads/{USER}/{GONE}__gone.pdf"),
                "application/pdf",
                "gone.pdf",
            ),
            file(
                LONELY,
                "local",
                &format!("/uploads/{USER}/{LONELY}__lonely.txt"),
                "text/plain",
                "lonely.txt",
            ),
            text_only,
            file(
                SVG,
                "local",
                &format!("/images/{USER}/{SVG}__logo.svg"),
                "image/svg+xml",
                "logo.svg",
            ),
            file(
                LINKED,
                "local",
                &format!("/uploads/{USER}/{LINKED}__x.txt"),
                "text/plain",
                "x.txt",
            ),
        ],
    );
    LibreChat {
        dump: root.join("dump"),
        uploads,
        images,
        doc_bytes,
        photo,
        avatar,
    }
}

/// The bytes stored in the data folder (`files/<shard>/<name>`, partial uploads not counted).
fn blobs(data: &Path) -> usize {
    std::fs::read_dir(data.join("files")).map_or(0, |shards| {
        shards
            .flatten()
            .filter(|s| s.file_name() != "tmp")
            .map(|s| std::fs::read_dir(s.path()).map_or(0, |f| f.count()))
            .sum()
    })
}

/// Runs the migration of `lc` (its dump, uploads and images) into `dir/data`; what it
/// printed and its report.
fn migrate(dir: &Path, lc: &LibreChat, extra: &[&str]) -> (String, Value) {
    let (uploads, images) = (lc.uploads.to_str().unwrap(), lc.images.to_str().unwrap());
    let args = [
        &["--uploads", uploads, "--images", images, "--no-reindex"],
        extra,
    ]
    .concat();
    migrate_printing(dir, &lc.dump, &args)
}

#[tokio::test]
async fn files_come_over_with_their_bytes_and_stay() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    std::fs::write(dir.path().join("librechat.yaml"), "version: 1.2.8\n").unwrap();
    let lc = librechat_deployment(dir.path());
    let data = dir.path().join("data");

    // A dry run says what would come over and copies nothing.
    let (stdout, dry) = migrate(dir.path(), &lc, &["--dry-run"]);
    assert_eq!(blobs(&data), 0, "a dry run copies no bytes: {stdout}");
    assert_eq!(dry["collections"]["files"]["imported"], 5, "{stdout}");

    let (stdout, report) = migrate(dir.path(), &lc, &[]);
    let files = &report["collections"]["files"];
    assert_eq!(files["read"], 9, "{stdout}");
    // The document, the picture, the lonely upload, the text-only file and the SVG; and the
    // account's picture.
    assert_eq!(files["imported"], 5, "{stdout}");
    assert_eq!(blobs(&data), 6, "{stdout}");
    let reasons = &files["skippedByReason"];
    assert_eq!(reasons["unsafe_path"], 2, "{stdout}");
    assert_eq!(reasons["bytes_not_found"], 1, "{stdout}");
    assert_eq!(reasons["remote_storage"], 1, "{stdout}");
    let said = files["reasons"].to_string();
    assert!(said.contains("../../etc/passwd"), "{said}");
    assert!(said.contains("leads out of --uploads"), "{said}");
    assert_eq!(report["remoteFilesCount"], 1);
    assert_eq!(report["remoteFiles"][0]["file_id"], CLOUD);
    assert_eq!(report["remoteFiles"][0]["source"], "s3");
    assert_eq!(report["collections"]["avatars"]["imported"], 1, "{stdout}");
    assert!(stdout.contains("cloud storage"), "{stdout}");

    // Again: nothing new, no bytes copied.
    let (stdout, again) = migrate(dir.path(), &lc, &[]);
    assert_eq!(again["collections"]["files"]["imported"], 0, "{stdout}");
    assert_eq!(
        again["collections"]["files"]["alreadyPresent"], 5,
        "{stdout}"
    );
    assert!(again["collections"].get("avatars").is_none(), "{stdout}");
    assert_eq!(blobs(&data), 6, "a second run copies nothing: {stdout}");

    let server = TestServer::builder().in_dir(dir.clone()).start().await;
    let s = server.login(EMAIL, PASSWORD).await;

    // Listed as LibreChat's client lists them.
    let listed = server.get_json("/api/files", &s.token).await;
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file_id"].as_str().unwrap())
        .collect();
    for id in [DOC, PHOTO, LONELY, TEXT_ONLY, SVG] {
        assert!(ids.contains(&id), "{id} not listed: {listed}");
    }
    assert_eq!(ids.len(), 5, "{listed}");
    // An SVG could carry script: it is a download, never shown inline.
    let svg = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file_id"] == SVG)
        .unwrap();
    assert_eq!(
        svg["filepath"],
        format!("/api/files/download/{USER}/{SVG}"),
        "{svg}"
    );

    // Downloads give the original bytes.
    let resp = server
        .get_as(&format!("/api/files/download/{USER}/{DOC}"), &s.token)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.bytes().await.unwrap().as_ref(),
        lc.doc_bytes.as_slice()
    );
    let resp = server
        .get_as(&format!("/api/files/download/{USER}/{TEXT_ONLY}"), &s.token)
        .await;
    assert_eq!(resp.text().await.unwrap(), "Spring tide at 06:12");

    // The messages point at the files' places here, and those load.
    let messages = server
        .get_json(&format!("/api/messages/{CONVO}"), &s.token)
        .await;
    let first = &messages[0]["files"];
    let photo_path = first[0]["filepath"].as_str().unwrap().to_owned();
    assert_eq!(
        photo_path,
        format!("/images/{USER}/{PHOTO}.png"),
        "{messages}"
    );
    assert_eq!(first[0]["filename"], "harbour.png", "filled in: {messages}");
    assert_eq!(first[0]["source"], "local", "{messages}");
    assert_eq!(
        first[1]["filepath"],
        format!("/api/files/download/{USER}/{DOC}"),
        "{messages}"
    );
    let part = &messages[1]["content"][1]["image_file"];
    assert_eq!(part["filepath"], photo_path.as_str(), "{messages}");
    let resp = server.get_as(&photo_path, &s.token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), lc.photo.as_slice());

    // The account's picture.
    let me = server.get_json("/api/user", &s.token).await;
    let avatar = me["avatar"].as_str().unwrap().to_owned();
    assert!(
        avatar.starts_with(&format!("/images/{USER}/")) && avatar.ends_with(".png?manual=true"),
        "{avatar}"
    );
    let resp = server
        .get_as(avatar.split('?').next().unwrap(), &s.token)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), lc.avatar.as_slice());

    // The files carried by messages are attached to them; the sweeper keeps every one.
    let attached: Option<String> = server
        .state
        .db
        .read(|c| {
            c.query_row(
                "SELECT message_id FROM files WHERE file_id = ?1",
                [DOC],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(attached.as_deref(), Some("m1"));
    let swept = librechat::files::sweep::sweep(&server.state.db, &server.state.files)
        .await
        .unwrap();
    assert_eq!((swept.unattached, swept.avatars), (0, 0), "{swept:?}");
    let listed = server.get_json("/api/files", &s.token).await;
    assert_eq!(listed.as_array().unwrap().len(), 5, "{listed}");
    let me = server.get_json("/api/user", &s.token).await;
    assert_eq!(me["avatar"], avatar.as_str());
    assert_eq!(blobs(&data), 6);
    server.stop().await;
}
