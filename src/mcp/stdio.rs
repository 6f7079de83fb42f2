//! A stdio MCP server: a child process that reads JSON-RPC messages from its stdin and writes
//! them to its stdout, one per line.
//!
//! The child gets only a minimal environment (`PATH`, `HOME`, `USER`, ... as the MCP SDKs give
//! theirs) and its configured `env`: never this server's secrets. It runs in a process group
//! of its own, so stopping it (the connection dropped, the server shutting down) stops what it
//! started too (`npx` and `uvx` start the real server as their own child). Its stderr goes to
//! our log, at most [`STDERR_BURST`] lines a minute, so a server that floods it floods nothing.
//! A line on stdout longer than [`super::MAX_MESSAGE_BYTES`] ends the connection; a line that
//! is not JSON-RPC is logged and skipped.

use std::collections::BTreeMap;
use std::process::Stdio as Piped;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};

/// The variables a child inherits from this server's environment, when set (the MCP SDKs'
/// default environment); everything else it gets is its configured `env`.
const INHERITED: [&str; 8] = [
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "TMPDIR",
];

/// Lines of a server's stderr logged per minute; past them, a count of the lines left out.
pub const STDERR_BURST: u32 = 120;

/// The longest line of stderr logged (longer ones are cut).
const STDERR_LINE: usize = 2_000;

/// Why a stdio server could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    #[error("could not start `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("writing to the server failed: {0}")]
    Write(#[from] std::io::Error),
    #[error("the message could not be written: {0}")]
    Encode(#[from] serde_json::Error),
}

impl super::rpc::SendError for StdioError {}

/// A running stdio server, as a transport.
pub struct StdioTransport {
    server: Arc<str>,
    stdin: Arc<tokio::sync::Mutex<ChildStdin>>,
    lines: FramedRead<ChildStdout, LinesCodec>,
    group: Group,
}

/// The child's process group, stopped when this is dropped (with the child itself, which
/// tokio reaps).
struct Group {
    child: Child,
}

impl Group {
    fn stop(&mut self) {
        if let Some(pid) = self
            .child
            .id()
            .and_then(|p| rustix::process::Pid::from_raw(p as i32))
        {
            // Everything in the group, the child first among them; gone already is fine.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = self.child.start_kill();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `command` with `args` and `env` for the server `server`.
pub fn spawn(
    server: &str,
    command: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
) -> Result<StdioTransport, StdioError> {
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(args)
        .env_clear()
        .stdin(Piped::piped())
        .stdout(Piped::piped())
        .stderr(Piped::piped())
        .kill_on_drop(true)
        .process_group(0);
    for name in INHERITED {
        if let Some(v) = std::env::var_os(name) {
            cmd.env(name, v);
        }
    }
    cmd.envs(env);
    let mut child = cmd.spawn().map_err(|source| StdioError::Spawn {
        command: command.to_owned(),
        source,
    })?;
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(StdioError::Spawn {
            command: command.to_owned(),
            source: std::io::Error::other("its pipes are missing"),
        });
    };
    let server: Arc<str> = server.into();
    tokio::spawn(log_stderr(server.clone(), stderr));
    Ok(StdioTransport {
        server,
        stdin: Arc::new(tokio::sync::Mutex::new(stdin)),
        lines: FramedRead::new(
            stdout,
            LinesCodec::new_with_max_length(super::MAX_MESSAGE_BYTES),
        ),
        group: Group { child },
    })
}

/// Copies the child's stderr to the log, line by line, within [`STDERR_BURST`] a minute;
/// always reading, so the child never blocks on a full pipe.
async fn log_stderr(server: Arc<str>, stderr: tokio::process::ChildStderr) {
    let mut lines = FramedRead::new(stderr, LinesCodec::new_with_max_length(64 * 1024));
    let mut window = Instant::now();
    let (mut logged, mut dropped) = (0u32, 0u64);
    while let Some(line) = lines.next().await {
        let line = match line {
            Ok(l) => l,
            // A line past the limit is skipped (the codec discards the rest of it).
            Err(LinesCodecError::MaxLineLengthExceeded) => continue,
            Err(LinesCodecError::Io(_)) => break,
        };
        if window.elapsed() >= Duration::from_secs(60) {
            if dropped > 0 {
                tracing::warn!(mcp.server = %server, dropped, "MCP server stderr: lines left out of the log");
            }
            (window, logged, dropped) = (Instant::now(), 0, 0);
        }
        if logged >= STDERR_BURST {
            dropped += 1;
            continue;
        }
        logged += 1;
        let line = line.trim_end();
        let line = &line[..line.floor_char_boundary(STDERR_LINE)];
        tracing::info!(mcp.server = %server, "stderr: {line}");
    }
}

impl super::rpc::Transport for StdioTransport {
    type Error = StdioError;

    fn send(
        &mut self,
        item: Value,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let stdin = self.stdin.clone();
        async move {
            let mut line = serde_json::to_vec(&item)?;
            line.push(b'\n');
            let mut stdin = stdin.lock().await;
            stdin.write_all(&line).await?;
            stdin.flush().await?;
            Ok(())
        }
    }

    async fn receive(&mut self) -> Option<Value> {
        loop {
            match self.lines.next().await? {
                Ok(line) if line.trim().is_empty() => continue,
                Ok(line) => match serde_json::from_str(&line) {
                    Ok(message) => return Some(message),
                    Err(e) => {
                        let start = &line[..line.floor_char_boundary(200)];
                        tracing::warn!(mcp.server = %self.server, error = %e, "MCP server wrote a line that is not JSON-RPC; skipped: {start}");
                    }
                },
                Err(LinesCodecError::MaxLineLengthExceeded) => {
                    tracing::warn!(mcp.server = %self.server, limit = super::MAX_MESSAGE_BYTES, "MCP server sent a message over the size limit; disconnected");
                    self.group.stop();
                    return None;
                }
                Err(LinesCodecError::Io(e)) => {
                    tracing::warn!(mcp.server = %self.server, error = %e, "reading from the MCP server failed");
                    return None;
                }
            }
        }
    }

    async fn close(&mut self) {
        self.group.stop();
    }
}
