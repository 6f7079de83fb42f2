//! The loop with a scripted model and test tools: rounds, concurrency, errors given back to
//! the model, timeouts, output bounds, panics, abort and the recursion limit.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use tokio::sync::{Barrier, Notify, watch};

use super::*;
use crate::agents::round::bound;
use crate::agents::tools::calculator::Calculator;
use crate::agents::tools::{Tool, ToolError, ToolFuture};
use crate::providers::ToolResult;
use crate::providers::{TOOL_CALLS_FINISH, ToolDef};
use serde_json::Value;
use std::sync::Arc;

/// A turn in memory: the model answers from a script, saves and bills are counted.
struct TestHost {
    steps: Mutex<Steps>,
    script: Mutex<VecDeque<Vec<StreamEvent>>>,
    /// When the script runs out: call `calculator` again (a model that never stops).
    always_call: bool,
    requests: Mutex<Vec<ChatRequest>>,
    bills: Mutex<Vec<(Usage, bool)>>,
    saves: AtomicUsize,
    calls: Mutex<Vec<CallRecord>>,
    abort: watch::Sender<bool>,
}

impl TestHost {
    fn new(script: Vec<Vec<StreamEvent>>) -> Self {
        TestHost {
            steps: Mutex::new(Steps::new("r1")),
            script: Mutex::new(script.into()),
            always_call: false,
            requests: Mutex::default(),
            bills: Mutex::default(),
            saves: AtomicUsize::new(0),
            calls: Mutex::default(),
            abort: watch::channel(false).0,
        }
    }

    fn parts(&self) -> Value {
        serde_json::to_value(self.steps.lock().unwrap().parts()).unwrap()
    }

    /// The results the n-th model call was sent (its last message's).
    fn results_sent(&self, n: usize) -> Vec<ToolResult> {
        let requests = self.requests.lock().unwrap();
        let last = requests[n].messages.last().unwrap();
        assert_eq!(last.role, Role::Tool);
        last.content
            .iter()
            .map(|p| match p {
                Part::ToolResult(r) => r.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    }
}

impl Host for TestHost {
    fn model(
        &self,
        request: ChatRequest,
    ) -> impl Future<Output = Result<EventStream, ProviderError>> + Send {
        self.requests.lock().unwrap().push(request);
        let next = self.script.lock().unwrap().pop_front();
        let events = match next {
            Some(e) => e,
            None if self.always_call => calls(&[("calculator", r#"{"input":"1+1"}"#)]),
            None => answer("done"),
        };
        let stream: EventStream = Box::pin(futures_util::stream::iter(events.into_iter().map(Ok)));
        async move { Ok(stream) }
    }

    fn steps<R>(&self, change: impl FnOnce(&mut Steps) -> R) -> R {
        let mut s = self.steps.lock().unwrap();
        let r = change(&mut s);
        s.drain().for_each(drop);
        r
    }

    fn save(&self) -> impl Future<Output = ()> + Send {
        self.saves.fetch_add(1, Ordering::SeqCst);
        async {}
    }

    fn save_calls(&self, calls: Vec<CallRecord>) -> impl Future<Output = ()> + Send {
        self.calls.lock().unwrap().extend(calls);
        async {}
    }

    async fn afford(&self, _: u64) -> Result<(), ProviderError> {
        Ok(())
    }

    fn bill(&self, usage: Usage, incomplete: bool) -> impl Future<Output = ()> + Send {
        self.bills.lock().unwrap().push((usage, incomplete));
        async {}
    }

    fn aborted(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.abort.subscribe();
        async move {
            let _ = rx.wait_for(|a| *a).await;
        }
    }

    async fn count(&self, text: String) -> u64 {
        text.len() as u64
    }
}

fn usage() -> StreamEvent {
    StreamEvent::Usage(Usage {
        prompt_tokens: 10,
        completion_tokens: 3,
        ..Usage::default()
    })
}

/// A model call that calls these tools.
fn calls(list: &[(&str, &str)]) -> Vec<StreamEvent> {
    let mut out = Vec::new();
    for (i, (name, args)) in list.iter().enumerate() {
        out.push(StreamEvent::ToolCallStart {
            index: i,
            id: format!("call_{i}"),
            name: (*name).into(),
            signature: None,
        });
        let (a, b) = args.split_at(args.len() / 2);
        for piece in [a, b] {
            out.push(StreamEvent::ToolCallArgs {
                index: i,
                delta: piece.into(),
            });
        }
    }
    out.push(StreamEvent::Finished(Some(TOOL_CALLS_FINISH.into())));
    out.push(usage());
    out
}

/// A model call that answers.
fn answer(text: &str) -> Vec<StreamEvent> {
    vec![
        StreamEvent::Text(text.into()),
        StreamEvent::Finished(Some("stop".into())),
        usage(),
    ]
}

/// A test tool: a name, and what a call does.
struct TestTool {
    def: ToolDef,
    run: Box<dyn Fn() -> ToolFuture<'static> + Send + Sync>,
}

impl Tool for TestTool {
    fn def(&self) -> &ToolDef {
        &self.def
    }
    fn call<'a>(&'a self, _args: Value, _cx: &'a Context) -> ToolFuture<'a> {
        (self.run)()
    }
}

fn tool(
    name: &str,
    run: impl Fn() -> ToolFuture<'static> + Send + Sync + 'static,
) -> Arc<dyn Tool> {
    Arc::new(TestTool {
        def: ToolDef {
            name: name.into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": {}}),
        },
        run: Box::new(run),
    })
}

fn run_with(tools: Vec<Arc<dyn Tool>>, limits: Limits) -> Run {
    Run {
        request: ChatRequest {
            model: "m".into(),
            messages: vec![ChatMessage::text(Role::User, "q")],
            ..ChatRequest::default()
        },
        tools: ToolSet::new(tools),
        limits,
        context: Context::default(),
        prompt_tokens: 7,
        continuation: false,
    }
}

fn calculator() -> Arc<dyn Tool> {
    Arc::new(Calculator::new())
}

#[tokio::test]
async fn a_call_and_its_result_make_two_rounds() {
    let host = TestHost::new(vec![
        calls(&[("calculator", r#"{"input": "6*7"}"#)]),
        answer("It is 42."),
    ]);
    let out = run_with(vec![calculator()], Limits::default())
        .run(&host)
        .await;
    assert_eq!(out.ending, Ending::Answered);
    assert_eq!(out.model_calls, 2);
    assert_eq!(out.completion_tokens, 6);
    let sent = host.results_sent(1);
    assert_eq!(sent[0].content, "42");
    assert_eq!(sent[0].call_id, "call_0");
    assert!(!sent[0].is_error);
    // Both calls offered the tool; the second carried the call and its result.
    let requests = host.requests.lock().unwrap();
    assert!(requests.iter().all(|r| r.tools[0].name == "calculator"));
    assert_eq!(requests[1].messages.len(), 3);
    drop(requests);
    assert_eq!(
        host.parts(),
        json!([
            {"type": "tool_call", "tool_call": {"id": "call_0", "name": "calculator",
                "args": "{\"input\": \"6*7\"}", "output": "42", "progress": 1, "type": "tool_call"}},
            {"type": "text", "text": "It is 42."},
        ])
    );
    assert_eq!(
        *host.calls.lock().unwrap(),
        [CallRecord {
            call_id: "call_0".into(),
            name: "calculator".into(),
            output: "42".into(),
            part_index: 0
        }]
    );
    let bills = host.bills.lock().unwrap();
    assert_eq!(bills.len(), 2, "each model call is billed");
    assert!(
        bills
            .iter()
            .all(|(u, incomplete)| u.prompt_tokens == 10 && !incomplete)
    );
}

#[tokio::test]
async fn calls_run_concurrently() {
    // Each call waits for the other to start: only concurrent calls both finish.
    let barrier = Arc::new(Barrier::new(2));
    let together = tool("together", move || {
        let b = barrier.clone();
        Box::pin(async move {
            b.wait().await;
            Ok("met".to_owned())
        })
    });
    let host = TestHost::new(vec![calls(&[("together", "{}"), ("together", "{}")])]);
    let run = run_with(vec![together], Limits::default()).run(&host);
    let out = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the calls ran one after the other");
    assert_eq!(out.ending, Ending::Answered);
    let sent = host.results_sent(1);
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|r| r.content == "met"));
    assert_eq!(sent[0].call_id, "call_0");
    assert_eq!(sent[1].call_id, "call_1");
}

#[tokio::test]
async fn bad_calls_go_back_to_the_model_as_errors() {
    let fails = tool("fails", || {
        Box::pin(async { Err(ToolError("no luck".into())) })
    });
    let panics = tool("panics", || panic!("a tool's bug"));
    let host = TestHost::new(vec![calls(&[
        ("nope", "{}"),
        ("calculator", r#"{"input": "1+"#),
        ("calculator", r#"{"expr": "1"}"#),
        ("fails", ""),
        ("panics", "{}"),
    ])]);
    let out = run_with(vec![calculator(), fails, panics], Limits::default())
        .run(&host)
        .await;
    assert_eq!(out.ending, Ending::Answered);
    let sent = host.results_sent(1);
    assert!(sent.iter().all(|r| r.is_error), "{sent:?}");
    let texts: Vec<&str> = sent.iter().map(|r| r.content.as_str()).collect();
    assert_eq!(
        texts[0],
        "Error: there is no tool named \"nope\". The tools you can call are: calculator, fails, panics."
    );
    assert!(
        texts[1].starts_with("Error: the arguments are not valid JSON ("),
        "{}",
        texts[1]
    );
    assert_eq!(
        texts[2],
        "Error: the arguments do not fit the tool's parameters: arguments is missing the required property \"input\"."
    );
    assert_eq!(texts[3], "Error: no luck");
    assert_eq!(texts[4], "Error: the tool failed unexpectedly.");
    let parts = host.parts();
    assert_eq!(parts[1]["tool_call"]["inputValidationError"], true);
    assert_eq!(parts[2]["tool_call"]["inputValidationError"], true);
    assert!(parts[0]["tool_call"].get("inputValidationError").is_none());
    assert_eq!(parts[3]["tool_call"]["output"], "Error: no luck");
}

#[tokio::test]
async fn a_slow_tool_is_stopped_at_its_timeout() {
    let hangs = tool("hangs", || Box::pin(std::future::pending()));
    let host = TestHost::new(vec![calls(&[
        ("hangs", "{}"),
        ("calculator", r#"{"input":"2"}"#),
    ])]);
    let limits = Limits {
        tool_timeout: Duration::from_millis(50),
        ..Limits::default()
    };
    let out = run_with(vec![hangs, calculator()], limits).run(&host).await;
    assert_eq!(out.ending, Ending::Answered);
    let sent = host.results_sent(1);
    assert_eq!(
        sent[0].content,
        "Error: the tool did not finish within 50 ms and was stopped."
    );
    assert_eq!(sent[1].content, "2", "the other call is not held up");
}

#[tokio::test]
async fn a_large_output_is_cut_with_a_note() {
    let big = tool("big", || Box::pin(async { Ok("é".repeat(10_000)) }));
    let host = TestHost::new(vec![calls(&[("big", "{}")])]);
    let limits = Limits {
        max_output_bytes: 1000,
        ..Limits::default()
    };
    run_with(vec![big], limits).run(&host).await;
    let sent = host.results_sent(1);
    let output = &sent[0].content;
    assert!(output.len() <= 1000, "{}", output.len());
    assert!(output.starts_with("éé"));
    assert!(
        output.ends_with(
            "[The output was cut here: the tool returned 20000 bytes, the first 880 are shown.]"
        ),
        "{output}"
    );
    assert_eq!(host.parts()[0]["tool_call"]["output"], json!(output));
}

#[tokio::test]
async fn abort_stops_a_running_tool_at_once() {
    let started = Arc::new(Notify::new());
    let dropped = Arc::new(AtomicUsize::new(0));
    struct OnDrop(Arc<AtomicUsize>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let hangs = {
        let (started, dropped) = (started.clone(), dropped.clone());
        tool("hangs", move || {
            let (started, guard) = (started.clone(), OnDrop(dropped.clone()));
            Box::pin(async move {
                let _guard = guard;
                started.notify_one();
                std::future::pending::<()>().await;
                Ok(String::new())
            })
        })
    };
    let host = Arc::new(TestHost::new(vec![calls(&[("hangs", "{}")])]));
    let running = {
        let host = host.clone();
        tokio::spawn(async move { run_with(vec![hangs], Limits::default()).run(&*host).await })
    };
    started.notified().await;
    host.abort.send(true).unwrap();
    let out = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the run stopped")
        .unwrap();
    assert_eq!(out.ending, Ending::Aborted);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the tool's future was dropped"
    );
    assert_eq!(
        host.bills.lock().unwrap().len(),
        1,
        "the model call was billed"
    );
    let parts = host.parts();
    assert!(parts[0]["tool_call"].get("output").is_none());
    assert_eq!(
        host.requests.lock().unwrap().len(),
        1,
        "the model was not asked again"
    );
}

#[tokio::test]
async fn a_model_that_never_stops_calling_stops_at_the_limit() {
    let mut host = TestHost::new(Vec::new());
    host.always_call = true;
    let limits = Limits {
        recursion_limit: 5,
        ..Limits::default()
    };
    let out = run_with(vec![calculator()], limits).run(&host).await;
    // Calls at steps 1, 3, 5; tools at 2, 4; the third call's tools would be step 6.
    assert_eq!(out.ending, Ending::LimitReached(5));
    assert_eq!(out.model_calls, 3);
    assert_eq!(host.bills.lock().unwrap().len(), 3);
    assert_eq!(host.calls.lock().unwrap().len(), 2);
    let limits = Limits {
        recursion_limit: 4,
        ..Limits::default()
    };
    let host = TestHost {
        always_call: true,
        ..TestHost::new(Vec::new())
    };
    let out = run_with(vec![calculator()], limits).run(&host).await;
    assert_eq!((out.ending, out.model_calls), (Ending::LimitReached(4), 2));
    assert_eq!(
        host.calls.lock().unwrap().len(),
        2,
        "the second round's tools ran"
    );
    assert!(Ending::limit_message(4).contains("Recursion limit of 4 reached"));
}

#[tokio::test]
async fn without_tools_it_is_one_call() {
    let host = TestHost::new(vec![answer("Hello")]);
    let out = run_with(Vec::new(), Limits::default()).run(&host).await;
    assert_eq!(out.ending, Ending::Answered);
    assert_eq!(out.model_calls, 1);
    assert!(host.requests.lock().unwrap()[0].tools.is_empty());
    assert_eq!(host.parts(), json!([{"type": "text", "text": "Hello"}]));
}

#[test]
fn outputs_within_the_bound_are_kept_as_they_are() {
    assert_eq!(bound("short".into(), 10), "short");
    let cut = bound("x".repeat(50), 40);
    assert!(
        cut.len() > 40,
        "a room smaller than the note keeps the note: {cut}"
    );
    assert!(cut.starts_with("[The output") || cut.starts_with('\n'));
}
