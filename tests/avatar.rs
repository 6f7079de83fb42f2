//! The avatar (`POST /api/files/images/avatar`) as LibreChat's Settings → Account sends it: a
//! picture made square, 150 × 150, without metadata, stored once, shown by `/api/user` and
//! served to its owner only; a new one replaces the old, bytes and record; account deletion
//! takes it along; bad pictures are refused with nothing stored; a social sign-in keeps it.

mod support;

use serde_json::{Value, json};
use support::fake_social::{FakeSocial, SECRET};
use support::{Session, TestServer, declared_png, png};

const PW: &str = "correct horse battery";

/// What a test sends: the file part (or none) and `manual`.
struct Pick<'a> {
    name: &'a str,
    mime: &'a str,
    bytes: Option<Vec<u8>>,
    manual: &'a str,
}

impl<'a> Pick<'a> {
    /// As LibreChat's client sends it: a PNG named avatar.png, `manual` "true".
    fn png(bytes: Vec<u8>) -> Self {
        Pick {
            name: "avatar.png",
            mime: "image/png",
            bytes: Some(bytes),
            manual: "true",
        }
    }
}

async fn send(server: &TestServer, token: &str, p: Pick<'_>) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    if let Some(bytes) = p.bytes {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(p.name.to_owned())
            .mime_str(p.mime)
            .unwrap();
        form = form.part("file", part);
    }
    form = form.text("manual", p.manual.to_owned());
    server
        .post_form(token, "/api/files/images/avatar", form)
        .await
}

/// GET `path` with the refresh cookie alone, as a browser's `<img>` asks.
async fn get_by_cookie(server: &TestServer, path: &str, s: &Session) -> reqwest::Response {
    server
        .client
        .get(server.url(path))
        .header("cookie", format!("refreshToken={}", s.refresh))
        .send()
        .await
        .unwrap()
}

async fn avatar_of(server: &TestServer, s: &Session) -> Value {
    server.get_json("/api/user", &s.token).await["avatar"].clone()
}

/// A JPEG of 200 × 100 pixels, red on the left, green on the right, whose EXIF says "turn 90°
/// clockwise to view" and carries a stand-in for a location.
fn turned_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(200, 100, |x, _| {
        if x < 100 {
            image::Rgb([230, 20, 20])
        } else {
            image::Rgb([20, 230, 20])
        }
    });
    let mut plain = std::io::Cursor::new(Vec::new());
    img.write_to(&mut plain, image::ImageFormat::Jpeg).unwrap();
    let plain = plain.into_inner();
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&[0, 1]);
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation = 6
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    tiff.extend_from_slice(b"GPS-48.3904N-4.4861W");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

#[tokio::test]
async fn an_avatar_is_made_square_and_shown_to_its_owner_only() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    let (status, body) = send(&server, &alice.token, Pick::png(png(400, 200))).await;
    assert_eq!(status, 200, "{body}");
    // LibreChat's answer: the URL alone.
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let url = body["url"].as_str().unwrap();
    let user_id = alice.user["id"].as_str().unwrap();
    let prefix = format!("/images/{user_id}/");
    let name = url
        .strip_prefix(&prefix)
        .and_then(|n| n.strip_suffix(".png?manual=true"))
        .unwrap_or_else(|| panic!("{url}"));
    assert!(uuid::Uuid::parse_str(name).is_ok(), "{url}");
    assert_eq!(avatar_of(&server, &alice).await, url);
    assert_eq!(server.stored_files(), 1);
    assert_eq!(server.count("files").await, 1);
    // Not one of the files a message can carry.
    assert_eq!(server.get_json("/api/files", &alice.token).await, json!([]));

    // The owner, by the bearer token or the cookie a browser sends with <img>.
    let resp = server.get_as(url, &alice.token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    let picture = image::load_from_memory(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!((picture.width(), picture.height()), (150, 150));
    assert_eq!(get_by_cookie(&server, url, &alice).await.status(), 200);
    // Anyone else reads nothing there.
    assert_eq!(server.get_as(url, &bob.token).await.status(), 404);
    assert_eq!(get_by_cookie(&server, url, &bob).await.status(), 404);
    assert_eq!(server.get(url).await.status(), 401);

    // A photo is turned upright by its EXIF before the square is cut, and loses its metadata.
    let (status, body) = send(
        &server,
        &alice.token,
        Pick {
            name: "photo.jpg",
            mime: "image/jpeg",
            ..Pick::png(turned_jpeg())
        },
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let bytes = server
        .get_as(body["url"].as_str().unwrap(), &alice.token)
        .await
        .bytes()
        .await
        .unwrap();
    let found = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!found(b"Exif") && !found(b"GPS-48"), "metadata was kept");
    let picture = image::load_from_memory(&bytes).unwrap().into_rgb8();
    assert_eq!(picture.dimensions(), (150, 150));
    // Upright, the red half is on top (unturned, it would be on the left).
    let [r, g, _] = picture.get_pixel(140, 10).0;
    assert!(r > 150 && g < 100, "the top right is {r},{g}: not turned");
    let [r, g, _] = picture.get_pixel(10, 140).0;
    assert!(g > 150 && r < 100, "the bottom left is {r},{g}: not turned");
}

#[tokio::test]
async fn a_new_avatar_replaces_the_old_one_and_the_upload_limiter_counts_it() {
    let server = TestServer::builder()
        .env("FILE_UPLOAD_USER_MAX", "2")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (_, first) = send(&server, &s.token, Pick::png(png(64, 64))).await;
    let first = first["url"].as_str().unwrap().to_owned();
    let (status, second) = send(&server, &s.token, Pick::png(png(80, 120))).await;
    assert_eq!(status, 200, "{second}");
    let second = second["url"].as_str().unwrap();
    assert_ne!(first, second);
    assert_eq!(avatar_of(&server, &s).await, second);
    // The first is gone, bytes and record.
    assert_eq!(server.get_as(&first, &s.token).await.status(), 404);
    assert_eq!(server.get_as(second, &s.token).await.status(), 200);
    assert_eq!(server.stored_files(), 1);
    assert_eq!(server.count("files").await, 1);
    // The third upload in the window, as for any upload.
    let (status, body) = send(&server, &s.token, Pick::png(png(10, 10))).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(avatar_of(&server, &s).await, second);
}

#[tokio::test]
async fn deleting_the_account_removes_its_avatar() {
    let server = TestServer::builder()
        .env("ALLOW_ACCOUNT_DELETION", "true")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    assert_eq!(send(&server, &s.token, Pick::png(png(50, 50))).await.0, 200);
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

#[tokio::test]
async fn bad_pictures_are_refused_and_the_avatar_stays() {
    // avatarSizeLimit: 20 KB.
    let server = TestServer::builder()
        .yaml("version: 1.3.17\nfileConfig:\n  avatarSizeLimit: 0.02\n")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (_, before) = send(&server, &s.token, Pick::png(png(60, 60))).await;
    let before = before["url"].clone();
    let mut over = png(1, 1);
    over.resize(21 * 1024, 0);
    let mut cut = png(200, 200);
    cut.truncate(cut.len() / 2);
    let cases: Vec<(&str, Pick, u16)> = vec![
        ("0 bytes", Pick::png(Vec::new()), 400),
        ("over avatarSizeLimit", Pick::png(over), 413),
        ("a pixel bomb", Pick::png(declared_png(50_000, 50_000)), 413),
        (
            "text that says it is a PNG",
            Pick::png(b"not a picture".to_vec()),
            415,
        ),
        (
            "text as text",
            Pick {
                name: "a.txt",
                mime: "text/plain",
                ..Pick::png(b"hello".to_vec())
            },
            415,
        ),
        (
            "a PNG that says it is a JPEG",
            Pick {
                mime: "image/jpeg",
                ..Pick::png(png(10, 10))
            },
            415,
        ),
        (
            "SVG",
            Pick::png(b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec()),
            415,
        ),
        ("a broken PNG", Pick::png(cut), 415),
        (
            "no file",
            Pick {
                bytes: None,
                ..Pick::png(Vec::new())
            },
            400,
        ),
    ];
    for (what, pick, expected) in cases {
        let (status, body) = send(&server, &s.token, pick).await;
        assert_eq!(status, expected, "{what}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {body}"
        );
    }
    // Not multipart at all.
    let resp = server
        .send(
            "POST",
            "/api/files/images/avatar",
            &s.token,
            json!({"file": "x"}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    // Nothing new was kept, and the avatar is the one before.
    assert_eq!(server.count("files").await, 1);
    assert_eq!(server.stored_files(), 1);
    assert_eq!(
        server.partial_uploads(),
        0,
        "no partial upload is left behind"
    );
    assert_eq!(avatar_of(&server, &s).await, before);
    // Signed out, nothing at all.
    let anonymous = server
        .client
        .post(server.url("/api/files/images/avatar"))
        .multipart(reqwest::multipart::Form::new().text("manual", "true"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_social_sign_in_keeps_an_avatar_the_person_chose() {
    use support::sso::{get, location, no_redirects, outcome, session, sign_in_cookie};
    let fake = FakeSocial::start().await;
    let server = TestServer::builder()
        .env("ALLOW_SOCIAL_LOGIN", "true")
        .env("ALLOW_SOCIAL_REGISTRATION", "true")
        .env("GOOGLE_OAUTH_BASE_URL", &fake.base)
        .env("GOOGLE_CLIENT_ID", "google-client")
        .env("GOOGLE_CLIENT_SECRET", SECRET)
        .start()
        .await;
    // Signs in with Google as alice: `{token, user}`.
    let google = || async {
        let start = no_redirects()
            .get(server.url("/oauth/google"))
            .send()
            .await
            .unwrap();
        let cookie = sign_in_cookie(&start);
        let resp = no_redirects()
            .get(format!("{}&login=alice", location(&start)))
            .send()
            .await
            .unwrap();
        let refresh = outcome(&get(&location(&resp), Some(&cookie)).await).unwrap();
        session(&server, &refresh).await
    };
    let first = google().await;
    assert_eq!(first["user"]["avatar"], "https://example.org/a.png");
    let token = first["token"].as_str().unwrap();
    // Not chosen by hand (`manual` other than "true"): the provider's picture comes back.
    let (status, body) = send(
        &server,
        token,
        Pick {
            manual: "false",
            ..Pick::png(png(30, 30))
        },
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["url"].as_str().unwrap().ends_with("?manual=false"));
    assert_eq!(
        google().await["user"]["avatar"],
        "https://example.org/a.png"
    );
    // Chosen by hand: it stays.
    let (_, chosen) = send(&server, token, Pick::png(png(30, 30))).await;
    assert_eq!(google().await["user"]["avatar"], chosen["url"]);
}
