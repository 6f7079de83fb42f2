//! Import uploads that attack the server: values serde_json cannot hold (found by fuzzing the
//! API), and uploads that stall to hold the import slots.

mod support;

use serde_json::{Value, json};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";

async fn upload(server: &TestServer, s: &Session, bytes: Vec<u8>) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("conversations.json");
    let form = reqwest::multipart::Form::new().part("file", part);
    server.post_form(&s.token, "/api/convos/import", form).await
}

/// A small, valid LibreChat export of one conversation, as JSON text.
fn good(title: &str) -> String {
    json!({"conversationId": "c", "title": title, "endpoint": "openAI", "messages": [
        {"messageId": "a", "parentMessageId": ROOT, "text": "hello", "isCreatedByUser": true},
        {"messageId": "b", "parentMessageId": "a", "text": "hi there", "sender": "GPT-4o"}]})
    .to_string()
}

/// A conversation whose text holds `raw` (written into the file as it is, unescaped by us).
fn bad(raw: &[u8]) -> Vec<u8> {
    let mut out = br#"{"conversationId": "d", "title": "Bad", "messages": [
        {"messageId": "x", "parentMessageId": "00000000-0000-0000-0000-000000000000", "text": "#
        .to_vec();
    out.extend_from_slice(raw);
    out.extend_from_slice(b"}]}");
    out
}

#[tokio::test]
async fn values_json_cannot_hold_are_a_400_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let cases: [(&str, &[u8]); 6] = [
        ("invalid UTF-8 in a string", b"\"a\xff\xfeb\""),
        ("a lone leading surrogate", br#""a\ud800b""#),
        ("a lone trailing surrogate", br#""a\udc00b""#),
        ("a number too large for f64", b"1e999999"),
        ("a huge integer", &[b'9'; 400]),
        ("invalid UTF-8 in a key", b"\"ok\", \"\xc3\x28\": 1"),
    ];
    for (name, raw) in cases {
        // The bad value comes after a valid conversation, and alone.
        let mut after = format!("[{},", good("Before the bad one")).into_bytes();
        after.extend(bad(raw));
        after.push(b']');
        for file in [after, bad(raw)] {
            let (status, body) = upload(&server, &s, file).await;
            assert_eq!(status, 400, "{name}: {body}");
            let message = body["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("not complete, valid JSON"),
                "{name}: {body}"
            );
            assert!(message.contains("line"), "{name}: says where: {body}");
        }
    }
    assert_eq!(server.count("conversations").await, 0);
    assert_eq!(server.count("messages").await, 0);

    // What serde_json can hold still imports: escapes, pairs, big and small numbers.
    let fine = bad(
        br#""caf\u00e9 \ud83d\ude00 \u2028", "n": 1e308, "m": -1e-400, "k": 18446744073709551616"#,
    );
    let (status, body) = upload(&server, &s, fine).await;
    assert_eq!(status, 201, "{body}");
}

/// Starts an upload of a large file on a connection of its own and sends only its beginning,
/// as a slow or hostile client would; the connection stays open while the stream is held.
async fn stalled_upload(server: &TestServer, token: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let addr = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/convos/import HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 50000000\r\n\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.json\"\r\n\
         Content-Type: application/json\r\n\r\n[{{\"title\": \"slow\", \"messages\": ["
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

/// The uploads being received right now (their temporary files).
fn uploads_on_disk(server: &TestServer) -> usize {
    std::fs::read_dir(server.data_dir().join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn stalled_uploads_do_not_block_other_imports() {
    let server = TestServer::start().await;
    let (mallory, alice) = server.two_users(PW).await;
    // Two uploads that never finish: before, each held one of the two import turns while it
    // was received, and every other import in the server waited behind them.
    let _held = [
        stalled_upload(&server, &mallory.token).await,
        stalled_upload(&server, &mallory.token).await,
    ];
    // Both are being received once their temporary files exist.
    while uploads_on_disk(&server) < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // A hang detector, not a measurement: on the old code this upload waited forever.
    let watchdog = std::time::Duration::from_secs(120);
    let (status, body) = tokio::time::timeout(
        watchdog,
        upload(
            &server,
            &alice,
            format!("[{}]", good("Alice's")).into_bytes(),
        ),
    )
    .await
    .expect("an import waited behind two stalled uploads");
    assert_eq!(status, 201, "{body}");
    // One account cannot hold more than two uploads (and their temporary files) at once.
    let (status, body) = upload(&server, &mallory, good("Third").into_bytes()).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(uploads_on_disk(&server), 2);
}
