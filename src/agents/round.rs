//! One round of tool calls: each call checked (the tool exists, its arguments are JSON and
//! fit its schema), run concurrently with the others within its timeout, its panic or error
//! made its result, its output bounded, and each reported as it ends.

use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::run::{Aborted, CallRecord, Host, Limits, Saver};
use super::steps::floor_boundary;
use super::tools::{Context, SignIn, ToolProgress, ToolSet, schema};
use crate::providers::{ToolCall, ToolResult};

/// How a call went.
struct Invoked {
    output: String,
    is_error: bool,
    /// Refused before it ran (its arguments).
    invalid_input: bool,
}

impl Invoked {
    fn error(message: String, invalid_input: bool) -> Self {
        Invoked {
            output: format!("Error: {message}"),
            is_error: true,
            invalid_input,
        }
    }
}

/// One round of tool calls.
pub(super) struct Round<'a> {
    pub tools: &'a ToolSet,
    pub limits: &'a Limits,
    pub context: &'a Context,
}

impl Round<'_> {
    /// Runs `calls` concurrently, reporting each as it ends. `None` when the run was
    /// aborted meanwhile (the calls still running are dropped where they wait).
    pub async fn run<H: Host>(
        &self,
        host: &H,
        calls: &[ToolCall],
        parts: &[usize],
        saver: &mut Saver,
        mut aborted: Aborted<'_>,
    ) -> Option<(Vec<ToolResult>, Vec<CallRecord>)> {
        // Sign-in links the calls ask to show (an action's OAuth), while they wait; and how
        // far they got (an MCP server's progress), shown and not kept.
        let (sign_in, mut sign_ins) = tokio::sync::mpsc::unbounded_channel::<SignIn>();
        let (progress, mut reports) = tokio::sync::mpsc::unbounded_channel::<ToolProgress>();
        let mut pending: FuturesUnordered<_> = calls
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let notify = (sign_in.clone(), progress.clone());
                self.invoke(c, notify).map(move |r| (i, r))
            })
            .collect();
        let mut results: Vec<Option<ToolResult>> = vec![None; calls.len()];
        let mut records = Vec::with_capacity(calls.len());
        loop {
            let (i, invoked) = tokio::select! {
                next = pending.next() => match next {
                    Some(done) => done,
                    None => break,
                },
                () = aborted.as_mut() => return None,
                Some(ask) = sign_ins.recv() => {
                    show_sign_in(host, calls, parts, ask);
                    continue;
                }
                Some(report) = reports.recv() => {
                    show_progress(host, calls, parts, report);
                    continue;
                }
                () = Saver::wait(saver.deadline()) => {
                    saver.since = None;
                    host.save().await;
                    continue;
                }
            };
            // What the call asked to show before it ended is shown before its end.
            while let Ok(ask) = sign_ins.try_recv() {
                show_sign_in(host, calls, parts, ask);
            }
            while let Ok(report) = reports.try_recv() {
                show_progress(host, calls, parts, report);
            }
            let call = &calls[i];
            let at = parts.get(i).copied();
            let max = self.limits.max_output_bytes;
            let output = host.steps(|s| {
                let output = bound(invoked.output, s.tool_room().min(max));
                if let Some(at) = at {
                    s.call_done(at, output.clone(), invoked.invalid_input);
                }
                output
            });
            if let Some(at) = at {
                records.push(CallRecord {
                    call_id: call.id.clone(),
                    name: call.name.clone(),
                    output: output.clone(),
                    part_index: at,
                });
            }
            results[i] = Some(ToolResult {
                call_id: call.id.clone(),
                name: call.name.clone(),
                content: output,
                images: Vec::new(),
                is_error: invoked.is_error,
            });
            saver.touched();
        }
        Some((results.into_iter().flatten().collect(), records))
    }

    /// One call: checked, run within the timeout, its panic or error made a result.
    async fn invoke(
        &self,
        call: &ToolCall,
        (sign_in, progress): (UnboundedSender<SignIn>, UnboundedSender<ToolProgress>),
    ) -> Invoked {
        let Some(tool) = self.tools.get(&call.name) else {
            let known: Vec<&str> = self.tools.names().collect();
            return Invoked::error(
                format!(
                    "there is no tool named \"{}\". The tools you can call are: {}.",
                    call.name,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
                false,
            );
        };
        // A call without arguments may come with none at all.
        let text = if call.args.trim().is_empty() {
            "{}"
        } else {
            call.args.as_str()
        };
        let args: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                return Invoked::error(
                    format!(
                        "the arguments are not valid JSON ({e}). Call the tool again with a JSON \
                         object that fits its parameters."
                    ),
                    true,
                );
            }
        };
        if let Err(e) = schema::check(&tool.def().parameters, &args) {
            return Invoked::error(
                format!("the arguments do not fit the tool's parameters: {e}."),
                true,
            );
        }
        let context = Context {
            call_id: call.id.clone(),
            sign_in: Some(sign_in),
            progress: Some(progress),
            ..self.context.clone()
        };
        let limit = tool.timeout().unwrap_or(self.limits.tool_timeout);
        // A panic while making the future, or while it runs, is the call's error.
        let started =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tool.call(args, &context)));
        let Ok(future) = started else {
            return panicked(&call.name);
        };
        let run = std::panic::AssertUnwindSafe(future).catch_unwind();
        match tokio::time::timeout(limit, run).await {
            Err(_) => Invoked::error(
                format!(
                    "the tool did not finish within {} and was stopped.",
                    seconds(limit)
                ),
                false,
            ),
            Ok(Err(_)) => panicked(&call.name),
            Ok(Ok(Err(e))) => Invoked::error(e.0, false),
            Ok(Ok(Ok(output))) => Invoked {
                output,
                is_error: false,
                invalid_input: false,
            },
        }
    }
}

/// Shows (or takes away) a call's sign-in link.
fn show_sign_in<H: Host>(host: &H, calls: &[ToolCall], parts: &[usize], ask: SignIn) {
    let at = calls
        .iter()
        .position(|c| c.id == ask.call_id)
        .and_then(|i| parts.get(i).copied());
    if let Some(at) = at {
        host.steps(|s| s.call_sign_in(at, ask.url.as_deref(), ask.expires_at));
    }
}

/// Shows how far a running call got.
fn show_progress<H: Host>(host: &H, calls: &[ToolCall], parts: &[usize], report: ToolProgress) {
    let at = calls
        .iter()
        .position(|c| c.id == report.call_id)
        .and_then(|i| parts.get(i).copied());
    if let Some(at) = at {
        host.steps(|s| s.call_progress(at, &report));
    }
}

fn panicked(name: &str) -> Invoked {
    tracing::error!(tool = name, "a tool failed unexpectedly");
    Invoked::error("the tool failed unexpectedly.".into(), false)
}

fn seconds(d: Duration) -> String {
    match d.as_secs() {
        0 => format!("{} ms", d.as_millis()),
        1 => "1 second".into(),
        n => format!("{n} seconds"),
    }
}

/// `output` within `room` bytes: cut at a character, with a note saying so.
pub(super) fn bound(output: String, room: usize) -> String {
    if output.len() <= room {
        return output;
    }
    let total = output.len();
    let note_room = 120.min(room);
    let keep = floor_boundary(&output, room - note_room);
    let mut out = output;
    out.truncate(keep);
    out.push_str(&format!(
        "\n\n[The output was cut here: the tool returned {total} bytes, the first {keep} are shown.]"
    ));
    out
}
