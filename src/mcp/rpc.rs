//! JSON-RPC 2.0 with an MCP server, over any of its transports: requests matched to their
//! answers by id, each within a time limit that the server's progress can extend; the
//! server's own requests answered (`ping`; anything else "method not found", since this
//! client offers no capabilities); its progress notifications passed to whoever waits.
//!
//! Written here rather than taken from the rmcp crate: a client needs five messages of the
//! protocol (initialize, tools/list, tools/call, progress, ping), and rmcp's typed model of
//! all of it cost about 1 MB of the binary, whose budget is 30 MB.
//!
//! One task per connection owns the transport: it reads the server's messages and starts each
//! of our sends (a send future owns what it needs, so a long streamable HTTP request does not
//! hold up the next one). When the transport ends, every request still waiting fails at once;
//! when a send fails, the session counts as closed, and its owner connects again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

/// Why a transport could not send.
pub trait SendError: std::fmt::Display + Send + 'static {
    /// The server refused our credentials (HTTP 401): a fresh token or a sign-in may help,
    /// and the server did not act on the message.
    fn unauthorized(&self) -> bool {
        false
    }
}

impl SendError for String {}

/// A way to exchange JSON-RPC messages with a server (stdio, SSE, streamable HTTP, websocket).
pub trait Transport: Send + 'static {
    type Error: SendError;

    /// Sends one message (an object, or a batch). The future owns what it needs, so several
    /// sends can be under way at once.
    fn send(
        &mut self,
        message: Value,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static;

    /// The server's next message; `None` once the connection has ended. Cancel-safe: nothing
    /// is lost when the future is dropped before it is ready.
    fn receive(&mut self) -> impl Future<Output = Option<Value>> + Send;

    /// Ends the connection from our side.
    fn close(&mut self) -> impl Future<Output = ()> + Send;
}

/// Progress of a running request, as the server reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub progress: f64,
    pub total: Option<f64>,
    pub message: Option<String>,
}

/// Why a request got no result.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The server answered with a JSON-RPC error.
    Rpc { code: i64, message: String },
    /// The request could not be sent (the transport's reason).
    Send(String),
    /// The server refused our credentials; it did not act on the request.
    Unauthorized,
    /// No answer within the time limit (the request was cancelled with the server).
    Timeout,
    /// The connection ended before the answer came.
    Closed,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Rpc { message, .. } => f.write_str(message),
            Failure::Send(why) => write!(f, "sending failed: {why}"),
            Failure::Unauthorized => f.write_str("the server refused the credentials (HTTP 401)"),
            Failure::Timeout => f.write_str("no answer in time"),
            Failure::Closed => f.write_str("the connection ended"),
        }
    }
}

/// How long a request may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Without an answer or progress for this long, the request fails.
    pub quiet: Duration,
    /// However much progress comes, the request fails after this long.
    pub total: Duration,
    /// Whether to ask the server for progress (`_meta.progressToken`).
    pub progress: bool,
}

impl Limits {
    /// At most `timeout`, without progress.
    pub fn plain(timeout: Duration) -> Limits {
        Limits {
            quiet: timeout,
            total: timeout,
            progress: false,
        }
    }
}

type Answer = Result<Value, Failure>;

/// What the connection's task is asked to do.
enum Command {
    /// Send `message`; when it cannot be sent, fail the request `request` (if one), and tell
    /// `sent` either way (if someone waits for it).
    Send {
        message: Value,
        request: Option<u64>,
        sent: Option<oneshot::Sender<Result<(), Failure>>>,
    },
    /// End the connection; say so on the channel when it has.
    Close(oneshot::Sender<()>),
}

/// What the caller side and the connection's task share.
#[derive(Default)]
struct Shared {
    pending: Mutex<HashMap<u64, oneshot::Sender<Answer>>>,
    progress: Mutex<HashMap<u64, mpsc::UnboundedSender<Progress>>>,
    closed: AtomicBool,
}

impl Shared {
    fn answer(&self, id: u64, answer: Answer) {
        let waiting = lock(&self.pending).remove(&id);
        if let Some(w) = waiting {
            let _ = w.send(answer);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One JSON-RPC conversation with a server. Dropping it ends the connection.
pub struct Session {
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    next_id: AtomicU64,
}

impl Session {
    /// Starts the connection's task over `transport`; `server` names it in the log.
    pub fn start<T: Transport>(transport: T, server: &str) -> Session {
        let (commands, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::default());
        tokio::spawn(drive(transport, rx, shared.clone(), server.to_owned()));
        Session {
            commands,
            shared,
            next_id: AtomicU64::new(0),
        }
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire) || self.commands.is_closed()
    }

    /// Sends the notification `method` and waits until it is sent (so what follows reaches
    /// the server after it).
    pub async fn notify(&self, method: &str, params: Option<Value>) -> Result<(), Failure> {
        let mut message = json!({"jsonrpc": "2.0", "method": method});
        if let Some(p) = params {
            message["params"] = p;
        }
        let (tx, rx) = oneshot::channel();
        self.command(Command::Send {
            message,
            request: None,
            sent: Some(tx),
        })?;
        rx.await.unwrap_or(Err(Failure::Closed))
    }

    /// Sends the request `method` with `params` and waits for its result within `limits`;
    /// each progress notification of it goes to `progress`. A request that times out, or
    /// whose caller stops waiting, is cancelled with the server.
    pub async fn request(
        &self,
        method: &str,
        mut params: Value,
        limits: Limits,
        progress: Option<mpsc::UnboundedSender<Progress>>,
    ) -> Result<Value, Failure> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, mut answer) = oneshot::channel();
        lock(&self.shared.pending).insert(id, tx);
        let mut guard = Waiting {
            session: self,
            id,
            done: false,
        };
        let (ptx, mut updates) = mpsc::unbounded_channel();
        if limits.progress && params.is_object() {
            params["_meta"] = json!({"progressToken": id});
            lock(&self.shared.progress).insert(id, ptx);
        }
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.command(Command::Send {
            message,
            request: Some(id),
            sent: None,
        })?;
        let start = tokio::time::Instant::now();
        let hard = start + limits.total;
        let deadline = tokio::time::sleep_until((start + limits.quiet).min(hard));
        tokio::pin!(deadline);
        let result = loop {
            tokio::select! {
                a = &mut answer => break a.unwrap_or(Err(Failure::Closed)),
                Some(p) = updates.recv() => {
                    let next = (tokio::time::Instant::now() + limits.quiet).min(hard);
                    deadline.as_mut().reset(next);
                    if let Some(sink) = &progress {
                        let _ = sink.send(p);
                    }
                }
                () = &mut deadline => break Err(Failure::Timeout),
            }
        };
        // Progress the server sent before its answer is passed on before the answer.
        if let Some(sink) = &progress {
            while let Ok(p) = updates.try_recv() {
                let _ = sink.send(p);
            }
        }
        guard.done = !matches!(result, Err(Failure::Timeout));
        result
    }

    fn command(&self, c: Command) -> Result<(), Failure> {
        self.commands.send(c).map_err(|_| Failure::Closed)
    }

    /// Ends the connection, and waits until the transport is closed.
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Close(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// A request in flight: when it ends without an answer (timed out, or its caller gone), it is
/// forgotten here and cancelled with the server.
struct Waiting<'a> {
    session: &'a Session,
    id: u64,
    done: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let shared = &self.session.shared;
        lock(&shared.progress).remove(&self.id);
        lock(&shared.pending).remove(&self.id);
        if !self.done {
            let _ = self.session.commands.send(Command::Send {
                message: json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                    "params": {"requestId": self.id, "reason": "The request timed out or was abandoned"}}),
                request: None,
                sent: None,
            });
        }
    }
}

/// The connection's task: reads the server's messages, starts our sends, and when either
/// side ends, fails every request still waiting and closes the transport.
async fn drive<T: Transport>(
    mut transport: T,
    mut commands: mpsc::UnboundedReceiver<Command>,
    shared: Arc<Shared>,
    server: String,
) {
    let mut closed_by = None;
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Send { message, request, sent }) => {
                    let sending = transport.send(message);
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let r = sending.await.map_err(|e| match e.unauthorized() {
                            true => Failure::Unauthorized,
                            false => Failure::Send(e.to_string()),
                        });
                        if r.is_err() {
                            // Marked before anyone hears of it, so that whoever retries gets
                            // a new connection, not this one.
                            shared.closed.store(true, Ordering::Release);
                        }
                        if let (Err(why), Some(id)) = (&r, request) {
                            shared.answer(id, Err(why.clone()));
                        }
                        if let Some(s) = sent {
                            let _ = s.send(r);
                        }
                    });
                }
                Some(Command::Close(done)) => {
                    closed_by = Some(done);
                    break;
                }
                None => break,
            },
            message = transport.receive() => match message {
                Some(Value::Array(batch)) => {
                    for m in batch {
                        dispatch(m, &shared, &mut transport, &server);
                    }
                }
                Some(m) => dispatch(m, &shared, &mut transport, &server),
                None => break,
            },
        }
    }
    shared.closed.store(true, Ordering::Release);
    let waiting: Vec<_> = lock(&shared.pending).drain().collect();
    for (_, w) in waiting {
        let _ = w.send(Err(Failure::Closed));
    }
    lock(&shared.progress).clear();
    transport.close().await;
    if let Some(done) = closed_by {
        let _ = done.send(());
    }
}

/// Handles one message from the server.
fn dispatch<T: Transport>(message: Value, shared: &Shared, transport: &mut T, server: &str) {
    let id = message.get("id").filter(|id| !id.is_null()).cloned();
    match (message.get("method").and_then(Value::as_str), id) {
        (Some(method), Some(id)) => {
            // This client offers no capabilities (roots, sampling, elicitation): only ping.
            let answer = match method {
                "ping" => json!({"jsonrpc": "2.0", "id": id, "result": {}}),
                _ => json!({"jsonrpc": "2.0", "id": id,
                    "error": {"code": -32601, "message": format!("Method not found: {method}")}}),
            };
            let sending = transport.send(answer);
            tokio::spawn(async move {
                let _ = sending.await;
            });
        }
        (Some("notifications/progress"), None) => {
            let params = &message["params"];
            let Some(token) = params["progressToken"].as_u64() else {
                return;
            };
            let sink = lock(&shared.progress).get(&token).cloned();
            if let (Some(sink), Some(progress)) = (sink, params["progress"].as_f64()) {
                let _ = sink.send(Progress {
                    progress,
                    total: params["total"].as_f64(),
                    message: params["message"].as_str().map(str::to_owned),
                });
            }
        }
        (Some(method), None) => {
            tracing::debug!(mcp.server = %server, method, "MCP server notification");
        }
        (None, Some(id)) => {
            let Some(id) = id.as_u64() else {
                tracing::warn!(mcp.server = %server, "MCP server answered an id this client never sent");
                return;
            };
            let answer = match (message.get("result"), message.get("error")) {
                (_, Some(e)) => Err(Failure::Rpc {
                    code: e["code"].as_i64().unwrap_or(-32603),
                    message: e["message"].as_str().unwrap_or("(no message)").to_owned(),
                }),
                (Some(r), None) => Ok(r.clone()),
                (None, None) => Err(Failure::Rpc {
                    code: -32600,
                    message: "an answer with neither result nor error".into(),
                }),
            };
            shared.answer(id, answer);
        }
        (None, None) => {
            tracing::warn!(mcp.server = %server, "MCP server sent a message that is neither a request, a notification nor an answer; skipped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ends of an in-memory connection: the session's transport, and the server's side.
    struct Memory {
        out: mpsc::UnboundedSender<Value>,
        inbox: mpsc::UnboundedReceiver<Value>,
    }

    struct Server {
        inbox: mpsc::UnboundedReceiver<Value>,
        out: mpsc::UnboundedSender<Value>,
    }

    impl Transport for Memory {
        type Error = String;

        fn send(
            &mut self,
            message: Value,
        ) -> impl Future<Output = Result<(), String>> + Send + 'static {
            let r = self.out.send(message).map_err(|_| "gone".to_owned());
            async move { r }
        }

        async fn receive(&mut self) -> Option<Value> {
            self.inbox.recv().await
        }

        async fn close(&mut self) {
            self.inbox.close();
        }
    }

    fn pair() -> (Session, Server) {
        let (to_server, server_inbox) = mpsc::unbounded_channel();
        let (to_client, client_inbox) = mpsc::unbounded_channel();
        let memory = Memory {
            out: to_server,
            inbox: client_inbox,
        };
        let server = Server {
            inbox: server_inbox,
            out: to_client,
        };
        (Session::start(memory, "test"), server)
    }

    impl Server {
        async fn next(&mut self) -> Value {
            self.inbox.recv().await.expect("a message from the client")
        }

        fn send(&self, v: Value) {
            self.out.send(v).expect("the client listens");
        }
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn answers_find_their_requests_and_the_servers_requests_are_answered() {
        let (session, mut server) = pair();
        let server = tokio::spawn(async move {
            let (a, b) = (server.next().await, server.next().await);
            // Asked for by the server before it answers, in the other order.
            server.send(json!({"jsonrpc": "2.0", "id": "p1", "method": "ping"}));
            server.send(json!({"jsonrpc": "2.0", "id": 7, "method": "sampling/createMessage"}));
            let pong = server.next().await;
            let refused = server.next().await;
            for m in [&b, &a] {
                let method = m["method"].as_str().unwrap();
                server.send(json!({"jsonrpc": "2.0", "id": m["id"], "result": {"was": method}}));
            }
            (pong, refused)
        });
        let limits = Limits::plain(MINUTE);
        let (one, two) = tokio::join!(
            session.request("one", json!({}), limits, None),
            session.request("two", json!({}), limits, None)
        );
        assert_eq!(one.unwrap()["was"], "one");
        assert_eq!(two.unwrap()["was"], "two");
        let (pong, refused) = server.await.unwrap();
        assert_eq!(pong, json!({"jsonrpc": "2.0", "id": "p1", "result": {}}));
        assert_eq!(refused["id"], 7);
        assert_eq!(refused["error"]["code"], -32601);
    }

    #[tokio::test]
    async fn an_error_answer_and_a_closed_connection_fail_the_request() {
        let (session, mut server) = pair();
        let limits = Limits::plain(MINUTE);
        let asked = session.request("x", json!({}), limits, None);
        let answer = async {
            let m = server.next().await;
            server.send(json!({"jsonrpc": "2.0", "id": m["id"],
                "error": {"code": -32000, "message": "no such thing"}}));
            server
        };
        let (r, mut server) = tokio::join!(asked, answer);
        assert_eq!(
            r,
            Err(Failure::Rpc {
                code: -32000,
                message: "no such thing".into()
            })
        );
        let asked = session.request("y", json!({}), limits, None);
        let hang_up = async {
            server.next().await;
            drop(server);
        };
        let (r, ()) = tokio::join!(asked, hang_up);
        assert_eq!(r, Err(Failure::Closed));
        assert!(session.is_closed());
        assert_eq!(
            session.request("z", json!({}), limits, None).await,
            Err(Failure::Closed)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn progress_keeps_a_request_alive_within_its_total_limit() {
        let (session, mut server) = pair();
        let limits = Limits {
            quiet: Duration::from_secs(10),
            total: Duration::from_secs(40),
            progress: true,
        };
        // Progress every 8 s, the answer after 30 s: past the quiet limit, within the total.
        let slow = async {
            let m = server.next().await;
            let token = m["params"]["_meta"]["progressToken"].clone();
            for i in 1..=3 {
                tokio::time::sleep(Duration::from_secs(8)).await;
                server.send(json!({"jsonrpc": "2.0", "method": "notifications/progress",
                    "params": {"progressToken": token, "progress": i, "total": 4}}));
            }
            tokio::time::sleep(Duration::from_secs(6)).await;
            server.send(json!({"jsonrpc": "2.0", "id": m["id"], "result": {"done": true}}));
            server
        };
        let (tx, mut seen) = mpsc::unbounded_channel();
        let (r, mut server) = tokio::join!(
            session.request("tools/call", json!({"name": "t"}), limits, Some(tx)),
            slow
        );
        assert_eq!(r.unwrap()["done"], true);
        let mut reported = Vec::new();
        while let Ok(p) = seen.try_recv() {
            reported.push((p.progress, p.total));
        }
        assert_eq!(
            reported,
            [(1.0, Some(4.0)), (2.0, Some(4.0)), (3.0, Some(4.0))]
        );

        // Progress forever: cut at the total limit, and cancelled with the server.
        let endless = async {
            let m = server.next().await;
            let token = m["params"]["_meta"]["progressToken"].clone();
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let _ = server
                    .out
                    .send(json!({"jsonrpc": "2.0", "method": "notifications/progress",
                    "params": {"progressToken": token, "progress": 1}}));
                if let Ok(cancel) = server.inbox.try_recv() {
                    return (m, cancel);
                }
            }
        };
        let timed = async {
            let started = tokio::time::Instant::now();
            let r = session
                .request("tools/call", json!({"name": "t"}), limits, None)
                .await;
            (r, started.elapsed())
        };
        let ((r, took), (asked, cancel)) = tokio::join!(timed, endless);
        assert_eq!(r, Err(Failure::Timeout));
        assert_eq!(took.as_secs(), 40);
        assert_eq!(cancel["method"], "notifications/cancelled");
        assert_eq!(cancel["params"]["requestId"], asked["id"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_request_times_out_at_its_quiet_limit() {
        let (session, mut server) = pair();
        let started = tokio::time::Instant::now();
        let r = session
            .request("x", json!({}), Limits::plain(Duration::from_secs(3)), None)
            .await;
        assert_eq!(r, Err(Failure::Timeout));
        assert_eq!(started.elapsed().as_secs(), 3);
        server.next().await; // the request
        assert_eq!(server.next().await["method"], "notifications/cancelled");
    }
}
