//! PDF, Word, Excel and OpenDocument uploads over HTTP: read as text (in a child process of
//! the server) and given to the model; broken and hostile documents refused with nothing
//! stored, and the server unharmed.

mod support;

use std::io::Write;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const ODT: &str = "application/vnd.oasis.opendocument.text";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/documents/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

async fn upload(
    server: &TestServer,
    s: &Session,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    server.upload(s, "/api/files", name, mime, bytes).await
}

/// A ZIP with these entries, deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[tokio::test]
async fn documents_are_read_and_their_text_reaches_the_model() {
    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let mut ids = Vec::new();
    // The browser's types, and a Word file the browser could not name (read by its extension).
    for (name, mime, ty) in [
        ("report.pdf", "application/pdf", "application/pdf"),
        ("report.docx", "application/octet-stream", DOCX),
        ("report.xlsx", XLSX, XLSX),
        ("report.odt", ODT, ODT),
    ] {
        let (status, file) = upload(&server, &s, name, mime, fixture(name)).await;
        assert_eq!(status, 200, "{name}: {file}");
        assert_eq!(file["type"], ty, "{name}");
        assert_eq!(file["source"], "text", "{name}");
        assert!(file.get("text").is_none(), "the text stays on the server");
        ids.push(json!({"file_id": file["file_id"]}));
    }
    assert_eq!(server.stored_files(), 4, "each document is kept as sent");

    let done = server
        .chat(
            &s,
            "openAI",
            json!({"text": "Summarise these.", "model": "gpt-4o", "files": ids}),
        )
        .await;
    assert!(done.get("error").is_none(), "{done}");
    let sent = fake.last_chat()["messages"].to_string();
    for part in [
        "Résumé: café, naïve, Zürich",
        "Bold and italic",
        "\\\"pear, plum\\\",10,0.5",
        "Quarterly report",
        "Summarise these.",
    ] {
        assert!(sent.contains(part), "{part} in {sent}");
    }
    for name in ["report.pdf", "report.docx", "report.xlsx", "report.odt"] {
        assert!(sent.contains(name), "{name} named for the model");
    }
}

#[tokio::test]
async fn broken_and_hostile_documents_are_refused_with_nothing_stored() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;

    // A decompression bomb: 65 MiB of XML in a few hundred KB.
    let mut xml = b"<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>".to_vec();
    xml.resize(xml.len() + 65 * 1024 * 1024, b' ');
    xml.extend_from_slice(b"</w:t></w:r></w:p></w:body></w:document>");
    let bomb = zip_of(&[("word/document.xml", &xml)]);
    drop(xml);
    let (status, body) = upload(&server, &s, "bomb.docx", DOCX, bomb).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("inflates to over 64 MB"),
        "{body}"
    );

    // A PDF that is not one.
    let mut garbage = b"%PDF-1.7\n".to_vec();
    garbage.extend((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let (status, body) = upload(&server, &s, "broken.pdf", "application/pdf", garbage).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("this PDF could not be read"),
        "{body}"
    );

    // A workbook without a workbook, and a document without text.
    let (status, _) = upload(&server, &s, "a.xlsx", XLSX, zip_of(&[("x.txt", b"x")])).await;
    assert_eq!(status, 422);
    let empty = zip_of(&[(
        "word/document.xml",
        b"<w:document><w:body><w:p/></w:body></w:document>",
    )]);
    let (status, body) = upload(&server, &s, "empty.docx", DOCX, empty).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (422, Some("No text found in document"))
    );

    // Types that lie: a ZIP called a PDF, a PDF called a Word file, an unnamed ZIP.
    let zip = zip_of(&[("word/document.xml", b"<w:t>x</w:t>")]);
    let (status, _) = upload(&server, &s, "a.pdf", "application/pdf", zip.clone()).await;
    assert_eq!(status, 415);
    let (status, _) = upload(&server, &s, "a.docx", DOCX, fixture("report.pdf")).await;
    assert_eq!(status, 415);
    let (status, _) = upload(&server, &s, "a.zip", "application/octet-stream", zip).await;
    assert_eq!(status, 415);

    // Over the size a document may have (32 MB), refused before it is read.
    let mut big = fixture("report.pdf");
    big.resize(33 * 1024 * 1024, b'\n');
    let (status, body) = upload(&server, &s, "big.pdf", "application/pdf", big).await;
    assert_eq!(status, 413, "{body}");

    assert_eq!(server.stored_files(), 0);
    assert_eq!(server.count("files").await, 0);
    // And the server reads the next document as if nothing happened.
    let (status, _) = upload(&server, &s, "report.docx", DOCX, fixture("report.docx")).await;
    assert_eq!(status, 200);
}

/// The child the server starts, run by hand: the document on standard input, its text on
/// standard output, a reason on standard error and a non-zero exit when it cannot be read.
#[test]
fn the_reader_child_speaks_through_its_pipes_and_exit_code() {
    let run = |kind: &str, input: Vec<u8>| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_librechat"))
            .args(["read-document", kind])
            .env_clear()
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&input).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run("docx", fixture("report.docx"));
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("Quarterly report\n")
    );
    let out = run("pdf", b"%PDF-1.4 nothing".to_vec());
    assert_eq!(out.status.code(), Some(2));
    assert!(!out.stderr.is_empty());
    let out = run("exe", Vec::new());
    assert_eq!(out.status.code(), Some(2));
}
