//! An answer is generated in a task of its own, after the request has been answered: that
//! task runs in an `answer` span naming the person and the conversation, inside the request's
//! span, so what it logs leads back to both.

mod support;

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::TestServer;
use support::fake_openai::{FakeOpenAi, KEY};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// An `answer` span as it was created, and whether a task ran in it.
#[derive(Debug, Clone, Default)]
struct Seen {
    id: u64,
    fields: Vec<(String, String)>,
    parent: Option<&'static str>,
    entered: bool,
}

/// Records every `answer` span.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Seen>>>);

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "answer" {
            return;
        }
        let mut seen = Seen {
            id: id.into_u64(),
            parent: ctx.span(id).and_then(|s| s.parent()).map(|p| p.name()),
            ..Seen::default()
        };
        attrs.record(&mut Fields(&mut seen.fields));
        self.0.lock().unwrap().push(seen);
    }

    fn on_enter(&self, id: &Id, _: Context<'_, S>) {
        for seen in self.0.lock().unwrap().iter_mut() {
            if seen.id == id.into_u64() {
                seen.entered = true;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answers_task_runs_in_a_span_naming_the_user_and_the_conversation() {
    let recorder = Recorder::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(recorder.clone()))
        .expect("the only subscriber of this test binary");
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
    let user_id = alice.user["id"].as_str().unwrap().to_owned();
    let resp = server
        .send(
            "POST",
            "/api/agents/chat/openAI",
            &alice.token,
            json!({"text": "hello", "model": "gpt-4o"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let started: Value = resp.json().await.unwrap();
    let conversation_id = started["conversationId"].as_str().unwrap().to_owned();

    let wanted = vec![
        ("user.id".to_owned(), user_id),
        ("conversation.id".to_owned(), conversation_id),
    ];
    // A bound for a broken build, not a timing assertion: it ends as soon as the task ran.
    let deadline = Instant::now() + Duration::from_secs(60);
    let seen = loop {
        let found = recorder
            .0
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.entered && s.fields == wanted)
            .cloned();
        if let Some(seen) = found {
            break seen;
        }
        assert!(
            Instant::now() < deadline,
            "no task ran in an answer span with {wanted:?}: {:?}",
            recorder.0.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(seen.parent, Some("request"));
}
