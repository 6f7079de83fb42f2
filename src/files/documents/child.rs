//! Reading a document in a child process: this same executable, started as
//! `librechat read-document KIND` with the document on its standard input and its text on its
//! standard output.
//!
//! The child limits itself before it reads a byte (address space, CPU time, no files written,
//! no core dumps) and the server kills it at a deadline, so a PDF whose page tree loops, an
//! inflation bomb or a parser bug costs one refused upload, never the server's memory, a
//! worker thread or the process. The child gets no environment (no secrets) and no more
//! input than [`MAX_DOCUMENT_BYTES`]. At most [`READERS`] children run at once.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;

use super::{DocumentError, Kind, MAX_DOCUMENT_BYTES, extract};
use crate::files::text::MAX_TEXT_BYTES;

/// The hidden subcommand the child runs.
pub const COMMAND: &str = "read-document";

/// The child's address space: the executable, the document and what reading it takes.
const MEMORY: u64 = 1024 * 1024 * 1024;
/// The child's CPU time, in seconds.
const CPU_SECONDS: u64 = 20;
/// How long the server waits for a child, from its start.
const DEADLINE: Duration = Duration::from_secs(30);
/// Documents read at once; the others wait their turn (each child may use [`MEMORY`]).
pub const READERS: usize = 2;

static SLOTS: Semaphore = Semaphore::const_new(READERS);

/// The child's exit codes besides success.
const EXIT_UNREADABLE: u8 = 2;
const EXIT_NO_TEXT: u8 = 3;
const EXIT_TOO_LARGE: u8 = 4;

/// Reads the document at `path` in a child process: `reader` (`librechat` built elsewhere,
/// for tests) or, by default, this executable.
pub async fn read(kind: Kind, path: &Path, reader: Option<&Path>) -> Result<String, DocumentError> {
    if tokio::fs::metadata(path).await?.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge);
    }
    let _slot = SLOTS.acquire().await.map_err(std::io::Error::other)?;
    let input = std::fs::File::open(path)?;
    let program = reader.map_or_else(executable, Path::to_owned);
    let mut child = tokio::process::Command::new(program)
        .arg(COMMAND)
        .arg(kind.name())
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::from(input))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let finished = tokio::time::timeout(DEADLINE, async {
        let (mut text, mut message) = (Vec::new(), Vec::new());
        let mut stdout = (&mut stdout).take(MAX_TEXT_BYTES as u64 + 1);
        let mut stderr = (&mut stderr).take(4096);
        let (out, err) = tokio::join!(
            stdout.read_to_end(&mut text),
            stderr.read_to_end(&mut message),
        );
        out?;
        err?;
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((status, text, message))
    })
    .await;
    let Ok(finished) = finished else {
        let _ = child.kill().await;
        tracing::warn!(kind = kind.name(), "a document took too long to read");
        return Err(DocumentError::OverLimits(kind.label()));
    };
    let (status, text, message) = finished?;
    let message = String::from_utf8_lossy(&message).trim().to_owned();
    match status.code().and_then(|c| u8::try_from(c).ok()) {
        Some(0) => String::from_utf8(text).map_err(|_| DocumentError::unreadable(kind, "bad text")),
        Some(EXIT_UNREADABLE) => Err(DocumentError::unreadable(kind, message)),
        Some(EXIT_NO_TEXT) => Err(DocumentError::NoText),
        Some(EXIT_TOO_LARGE) => Err(DocumentError::TooLarge),
        // Killed at a limit (SIGKILL, SIGXCPU), or out of memory (an abort).
        _ => {
            tracing::warn!(kind = kind.name(), %status, %message, "a document's reader stopped");
            Err(DocumentError::OverLimits(kind.label()))
        }
    }
}

/// This executable, even after it was replaced on disk by an upgrade.
fn executable() -> std::path::PathBuf {
    let linux = Path::new("/proc/self/exe");
    if linux.exists() {
        return linux.to_owned();
    }
    std::env::current_exe().unwrap_or_else(|_| "librechat".into())
}

/// The child: limits itself, reads the document from standard input, writes its text.
pub fn run(kind: &str) -> ExitCode {
    let Some(kind) = Kind::parse(kind) else {
        eprintln!("unknown document kind {kind}");
        return ExitCode::from(EXIT_UNREADABLE);
    };
    if let Err(e) = limit_self() {
        eprintln!("setting the limits failed: {e}");
        return ExitCode::FAILURE;
    }
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin()
        .lock()
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)
    {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    match extract(kind, &bytes) {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            }
        }
        Err(DocumentError::Unreadable { reason, .. }) => {
            eprintln!("{reason}");
            ExitCode::from(EXIT_UNREADABLE)
        }
        Err(DocumentError::NoText) => ExitCode::from(EXIT_NO_TEXT),
        Err(DocumentError::TooLarge) => ExitCode::from(EXIT_TOO_LARGE),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(target_os = "linux")]
fn limit_self() -> std::io::Result<()> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let set = |resource, soft: u64, hard: u64| {
        setrlimit(
            resource,
            Rlimit {
                current: Some(soft),
                maximum: Some(hard),
            },
        )
    };
    set(Resource::As, MEMORY, MEMORY)?;
    set(Resource::Cpu, CPU_SECONDS, CPU_SECONDS + 1)?;
    set(Resource::Fsize, 0, 0)?;
    set(Resource::Core, 0, 0)?;
    Ok(())
}

/// Elsewhere the deadline is the only bound.
#[cfg(not(target_os = "linux"))]
fn limit_self() -> std::io::Result<()> {
    Ok(())
}
