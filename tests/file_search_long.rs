//! File search in a long document: a 200-page PDF made here, whose answer sits on one page
//! among pages of look-alike text, is found first by BM25 alone, with its page, through the
//! `file_search` tool the model calls.

mod support;

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use serde_json::json;
use support::TestServer;
use support::fake_openai::{FakeOpenAi, KEY};
use support::file_search::{chat_body, script, settle, tool_results, upload_for_chat};
use support::filler::Filler;

const PAGES: usize = 200;
const ANSWER_PAGE: usize = 137;
const ANSWER: &str = "The launch code for the observatory dome is VIOLET-4471.";
const QUESTION: &str = "What is the launch code for the observatory dome?";

/// The lines of page `n` (from 1): pseudo-random sentences, the answer among them on
/// [`ANSWER_PAGE`].
fn page_lines(n: usize) -> Vec<String> {
    let mut filler = Filler::new(n as u64);
    let mut lines: Vec<String> = (0..8).map(|_| format!("{}.", filler.words(12))).collect();
    if n == ANSWER_PAGE {
        lines.insert(4, ANSWER.to_owned());
    }
    lines
}

/// A PDF of [`PAGES`] pages of text in Helvetica.
fn long_pdf() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut kids: Vec<Object> = Vec::new();
    for n in 1..=PAGES {
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 10.into()]),
            Operation::new("TL", vec![14.into()]),
            Operation::new("Td", vec![50.into(), 780.into()]),
        ];
        for line in page_lines(n) {
            ops.push(Operation::new("Tj", vec![Object::string_literal(line)]));
            ops.push(Operation::new("T*", vec![]));
        }
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops }.encode().unwrap();
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => resources_id,
        });
        kids.push(page_id.into());
    }
    let pages = dictionary! {
        "Type" => "Pages",
        "Kids" => kids,
        "Count" => PAGES as i64,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    };
    doc.objects.insert(pages_id, Object::Dictionary(pages));
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[tokio::test]
async fn the_answer_on_one_page_of_two_hundred_comes_first() {
    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .start()
        .await;
    let alice = server
        .signed_in("alice@example.org", "correct horse battery")
        .await;
    let (status, file) =
        upload_for_chat(&server, &alice, "manual.pdf", "application/pdf", long_pdf()).await;
    assert_eq!(status, 200, "{file}");
    let file_id = file["file_id"].as_str().unwrap().to_owned();
    settle(&server).await;

    // One chunk per page: pages are never shared.
    let index = server.state.search.clone().unwrap();
    let (ids, q) = (vec![file_id.clone()], "telescope".to_owned());
    let hits = tokio::task::spawn_blocking(move || index.search_files(&ids, &q, 500).unwrap())
        .await
        .unwrap();
    assert!(hits.len() > 100, "{} chunks with a common word", hits.len());
    assert!(
        hits.iter()
            .all(|h| h.page.is_some_and(|p| p as usize <= PAGES))
    );

    script(&fake, QUESTION);
    let done = server
        .chat(
            &alice,
            "openAI",
            chat_body(QUESTION, None, &[&file_id], true),
        )
        .await;
    assert!(done.get("error").is_none(), "{done}");
    let found = tool_results(&fake).join("\n");
    let first = found.split("\n---\n").next().unwrap();
    assert!(
        first.starts_with(&format!(
            "File: manual.pdf\nAnchor: \\ue202turn0file0 (manual.pdf)\nPage: {ANSWER_PAGE}\n\
             Relevance: 1.0000\n"
        )),
        "{first}"
    );
    assert!(first.contains("VIOLET-4471"), "{first}");
    assert_eq!(
        found.matches("VIOLET-4471").count(),
        1,
        "one chunk holds it"
    );
    let _ = json!(null);
}
