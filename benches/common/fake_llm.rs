//! A local OpenAI-compatible provider for the chat benchmarks: `fast-500` streams 500 tokens
//! as fast as it can; `hold` streams 5 tokens, waits until released, then finishes; `calc-N`
//! calls the calculator until the request carries N results, then answers in a few tokens
//! (`calc-N-hold`: and that answer waits until released, as `hold` does). `/held` tells how
//! many answers are waiting.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

pub const TOKENS: usize = 500;

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let v = json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000,
        "model": "bench", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    format!("data: {v}\n\n")
}

fn tokens(from: usize, to: usize) -> String {
    (from..to)
        .map(|i| chunk(json!({"content": format!("t{i} ")}), None))
        .collect()
}

fn end() -> String {
    chunk(json!({}), Some("stop")) + "data: [DONE]\n\n"
}

/// A calculator call, in the chunks OpenAI streams one in.
fn calculator_call(n: usize) -> String {
    let call = |v: Value| chunk(json!({"tool_calls": [v]}), None);
    chunk(json!({"role": "assistant", "content": null}), None)
        + &call(
            json!({"index": 0, "id": format!("call_{n}"), "type": "function",
            "function": {"name": "calculator", "arguments": ""}}),
        )
        + &call(json!({"index": 0, "function": {"arguments": "{\"input\":"}}))
        + &call(json!({"index": 0, "function": {"arguments": "\"1 + 1\"}"}}))
        + &chunk(json!({}), Some("tool_calls"))
        + "data: [DONE]\n\n"
}

/// The provider's state: the gate held answers wait at, and how many wait.
#[derive(Clone)]
pub struct Gate {
    permits: Arc<Semaphore>,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            permits: Arc::new(Semaphore::new(0)),
            waiting: Default::default(),
        }
    }
}

async fn completions(State(gate): State<Gate>, Json(body): Json<Value>) -> Response {
    let sse = |body: Body| {
        Response::builder()
            .header("content-type", "text/event-stream")
            .body(body)
            .unwrap()
    };
    let model = body["model"].as_str().unwrap_or("");
    if let Some(rounds) = model.strip_prefix("calc-") {
        let (rounds, hold) = match rounds.strip_suffix("-hold") {
            Some(r) => (r, true),
            None => (rounds, false),
        };
        let rounds: usize = rounds.parse().unwrap_or(0);
        let results = body["messages"]
            .as_array()
            .map_or(0, |m| m.iter().filter(|m| m["role"] == "tool").count());
        if results < rounds {
            return sse(Body::from(calculator_call(results)));
        }
        if !hold {
            return sse(Body::from(
                chunk(json!({"role": "assistant", "content": ""}), None) + &tokens(0, 5) + &end(),
            ));
        }
    }
    if model == "hold" || model.ends_with("-hold") {
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
        tokio::spawn(async move {
            let head = chunk(json!({"role": "assistant", "content": ""}), None) + &tokens(0, 5);
            if tx.send(Bytes::from(head)).await.is_err() {
                return;
            }
            use std::sync::atomic::Ordering;
            gate.waiting.fetch_add(1, Ordering::SeqCst);
            if let Ok(p) = gate.permits.acquire().await {
                p.forget();
            }
            gate.waiting.fetch_sub(1, Ordering::SeqCst);
            let _ = tx.send(Bytes::from(tokens(5, 10) + &end())).await;
        });
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
        });
        return sse(Body::from_stream(stream));
    }
    let all =
        chunk(json!({"role": "assistant", "content": ""}), None) + &tokens(0, TOKENS) + &end();
    sse(Body::from(all))
}

async fn release(State(gate): State<Gate>, body: String) -> &'static str {
    gate.permits.add_permits(body.trim().parse().unwrap_or(1));
    "ok"
}

async fn held(State(gate): State<Gate>) -> String {
    gate.waiting
        .load(std::sync::atomic::Ordering::SeqCst)
        .to_string()
}

/// Runs the provider in this process until it is killed, printing its base URL first. The
/// benchmark runs it as a separate process, so that it does not share a runtime (or the
/// measurements' noise) with the client.
pub fn serve_forever() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .route("/release", post(release))
            .route("/held", axum::routing::get(held))
            .with_state(Gate::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("http://{}/v1", listener.local_addr().unwrap());
        axum::serve(listener, app).await.unwrap();
    });
}

/// The provider as a child process.
pub struct Fake {
    pub base: String,
    child: std::process::Child,
}

impl Fake {
    /// Starts this benchmark's own executable as the provider (`BENCH_FAKE_PROVIDER=1`).
    pub fn spawn() -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .env("BENCH_FAKE_PROVIDER", "1")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Fake {
            base: line.trim().to_owned(),
            child,
        }
    }

    /// How many answers wait to be released.
    pub async fn held(&self, http: &reqwest::Client) -> usize {
        let url = self.base.trim_end_matches("/v1").to_owned() + "/held";
        let n = http.get(url).send().await.unwrap().text().await.unwrap();
        n.trim().parse().unwrap()
    }

    /// Lets `n` held answers finish.
    pub async fn release(&self, http: &reqwest::Client, n: usize) {
        let url = self.base.trim_end_matches("/v1").to_owned() + "/release";
        http.post(url).body(n.to_string()).send().await.unwrap();
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
