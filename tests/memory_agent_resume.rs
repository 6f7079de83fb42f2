//! The memory agent's `attachment` events and a client that comes back: one that reloads
//! mid-answer (LibreChat's `?resume=true`) gets the `sync` frame and then each attachment sent
//! so far, once; the final frame, the saved answer and `GET /api/messages` hold them as
//! LibreChat stores them (`attachments` on the answer).

mod support;

use serde_json::json;
use support::events::{Events, Frame};
use support::fake_openai::FakeOpenAi;
use support::memory_agent::{GREEN_TEA, INLINE, boot, saved, start_remembering, yaml};

const PW: &str = "correct horse battery";

fn attachments(frames: &[Frame]) -> Vec<&Frame> {
    frames
        .iter()
        .filter(|f| f.data["event"] == "attachment")
        .collect()
}

#[tokio::test]
async fn a_client_that_resumes_mid_answer_gets_the_memory_attachments_sent_before() {
    let fake = FakeOpenAi::start().await;
    let server = boot(&fake, &yaml("", INLINE)).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    // The answer waits while the memory agent does its work beside it.
    let id = start_remembering(&fake, &server, &alice, GREEN_TEA).await;

    // A first tab sees the attachment live, then goes away (a reload).
    let mut first = Events::open(&server, &alice, &id, "", None).await;
    let live = loop {
        let f = first.next().await.expect("the stream ended early");
        assert_ne!(f.data["final"], true, "the answer ended early");
        if f.data["event"] == "attachment" {
            break f.data["data"].clone();
        }
    };
    drop(first);
    assert_eq!(live["type"], "memory");
    assert_eq!(live["memory"]["key"], "likes");
    assert_eq!(live["memory"]["type"], "update");

    // The reloaded page resumes: the state so far, then what the memory agent did, once.
    let mut tab = Events::open(&server, &alice, &id, "?resume=true", None).await;
    let sync = tab.next().await.unwrap();
    assert_eq!(sync.data["sync"], true);
    assert_eq!(
        sync.data["resumeState"]["aggregatedContent"][0]["text"],
        "part one"
    );
    let again = tab.next().await.unwrap();
    assert_eq!(again.data, json!({"event": "attachment", "data": live}));
    assert!(again.id.is_none(), "the summary's frames have no id");
    fake.release();
    let rest = tab.until_final().await;
    assert!(attachments(&rest).is_empty(), "sent twice: {rest:?}");
    let last = &rest.last().unwrap().data;
    assert!(last.get("error").is_none(), "{last}");
    let response = &last["responseMessage"];
    assert_eq!(response["text"], "part one part two");
    assert_eq!(response["attachments"], json!([live]));

    // Saved with the answer, as LibreChat saves them, and so listed with the messages.
    let message_id = response["messageId"].as_str().unwrap();
    let saved = saved(&server, &alice, &id, message_id).await;
    assert_eq!(saved["attachments"], json!([live]));
    assert_eq!(saved["attachments"][0]["messageId"], message_id);
    assert_eq!(saved["attachments"][0]["conversationId"], id.as_str());
    assert_eq!(saved["unfinished"], false);

    // Once it ended, a late resume gets the summary, the attachment and the end.
    let late = Events::open(&server, &alice, &id, "?resume=true", None)
        .await
        .until_final()
        .await;
    let kinds: Vec<String> = late
        .iter()
        .map(|f| {
            let d = &f.data;
            if d["sync"] == true {
                "sync".into()
            } else if d["final"] == true {
                "final".into()
            } else {
                d["event"].as_str().unwrap_or("?").to_owned()
            }
        })
        .collect();
    assert_eq!(kinds, ["sync", "attachment", "final"]);

    // Nobody else can resume it.
    let bob = server.signed_in("bob@example.org", PW).await;
    let resp = server
        .get_as(
            &format!("/api/agents/chat/stream/{id}?resume=true"),
            &bob.token,
        )
        .await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn a_client_that_reconnects_with_its_last_frame_gets_no_attachment_twice() {
    let fake = FakeOpenAi::start().await;
    let server = boot(&fake, &yaml("", INLINE)).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let name = ("name", "Alice.", "Remember my name is Alice");
    let id = start_remembering(&fake, &server, &alice, name).await;
    let mut first = Events::open(&server, &alice, &id, "", None).await;
    let seen = loop {
        let f = first.next().await.expect("the stream ended early");
        if f.data["event"] == "attachment" {
            break f;
        }
    };
    drop(first);
    // `Last-Event-ID`: only what came after it.
    let mut again = Events::open(&server, &alice, &id, "", seen.id).await;
    fake.release();
    let rest = again.until_final().await;
    assert!(attachments(&rest).is_empty(), "{rest:?}");
    assert_eq!(
        rest.last().unwrap().data["responseMessage"]["attachments"][0],
        seen.data["data"]
    );
}
