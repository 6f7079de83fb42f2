//! The tool loop: the model answers; when it calls tools, they run (concurrently, when it
//! called several), their results go back to it, and it is asked again — until it answers
//! without calling a tool, the run is stopped, or the recursion limit is reached.
//!
//! Everything the model streams goes to the client as it comes, as LibreChat's run steps
//! ([`Steps`], through the [`Host`]). Every model call is billed when it ends (LibreChat
//! records one transaction pair per call); the answer is saved every [`SAVE_EVERY`] while it
//! grows and after each round of tools, with that round's calls. A call to a tool that does
//! not exist, with arguments that are not JSON or do not fit the tool's schema, that fails,
//! panics or takes longer than [`Limits::tool_timeout`] gets its error back as its result,
//! for the model to act on; an output longer than [`Limits::max_output_bytes`] is cut, with a
//! note saying so.
//!
//! The recursion limit counts as LibreChat's agents (a LangGraph graph) count it: each model
//! call is a step and each round of tool calls is a step. A run of limit 50 makes at most 25
//! model calls; when the 25th calls tools, they run, and the run stops there with LibreChat's
//! error.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};

use super::round::Round;
use super::steps::{MAX_ANSWER_BYTES, Steps};
use super::tools::{Context, ToolSet};
use crate::providers::{
    Answer, ChatMessage, ChatRequest, EventStream, Part, ProviderError, Role, StreamEvent,
    ToolCall, Usage,
};

/// LibreChat's default `recursionLimit` (its agents code; its librechat.yaml comments say 25,
/// the code that runs says 50).
pub const DEFAULT_RECURSION_LIMIT: u32 = 50;

/// How long one tool call may run: enough for a search and the pages it reads, or a piece of
/// code, each of which has its own shorter timeouts; a call that takes longer is stuck, and
/// would hold the turn (and its person's one running answer per conversation).
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// The most of one call's output given back: about 16,000 tokens, a large share of a context
/// window, and far more than a tool made for a model returns (a page of search results is a
/// few KiB). Each later round sends it again, so it is worth keeping modest.
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024;

/// How often a growing answer is written to the database.
pub const SAVE_EVERY: Duration = Duration::from_millis(500);

/// At most this many pieces go into one delta frame...
const GATHER_PIECES: usize = 32;
/// ...and about this many bytes.
const GATHER_BYTES: usize = 4096;

/// A run's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Model calls and tool rounds together (see the module's doc).
    pub recursion_limit: u32,
    pub tool_timeout: Duration,
    pub max_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            recursion_limit: DEFAULT_RECURSION_LIMIT,
            tool_timeout: TOOL_TIMEOUT,
            max_output_bytes: MAX_OUTPUT_BYTES,
        }
    }
}

/// A finished call, to store (LibreChat's `toolCall`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub call_id: String,
    pub name: String,
    pub output: String,
    /// Its part's index in the answer's content.
    pub part_index: usize,
}

/// What the loop needs from the turn it runs in.
pub trait Host: Sync {
    /// Starts one model call.
    fn model(
        &self,
        request: ChatRequest,
    ) -> impl Future<Output = Result<EventStream, ProviderError>> + Send;

    /// Changes the answer's steps and sends the frames the change made, in one step.
    fn steps<R>(&self, change: impl FnOnce(&mut Steps) -> R) -> R;

    /// Saves the answer as it stands, unfinished.
    fn save(&self) -> impl Future<Output = ()> + Send;

    /// Saves the answer as it stands, unfinished, with a round's finished calls.
    fn save_calls(&self, calls: Vec<CallRecord>) -> impl Future<Output = ()> + Send;

    /// Whether the balance covers a call with a prompt of about this many tokens.
    fn afford(&self, prompt_tokens: u64) -> impl Future<Output = Result<(), ProviderError>> + Send;

    /// Records what one model call cost (`incomplete`: it was stopped or failed midway).
    fn bill(&self, usage: Usage, incomplete: bool) -> impl Future<Output = ()> + Send;

    /// Resolves when the run is to stop.
    fn aborted(&self) -> impl Future<Output = ()> + Send + 'static;

    /// The tokens of `text`, for a call whose provider reported none.
    fn count(&self, text: String) -> impl Future<Output = u64> + Send;

    /// Takes one step from a budget this run shares with others (the agents of one answer
    /// running side by side share its recursion limit): `false` when none is left, and the
    /// run stops at the limit as at its own.
    fn take_step(&self) -> bool {
        true
    }
}

/// One run of the loop.
pub struct Run {
    /// The first call: model, history (system prompt first), parameters. Its `tools` are
    /// set from [`Run::tools`].
    pub request: ChatRequest,
    pub tools: ToolSet,
    pub limits: Limits,
    /// For the tools: whom the calls are for.
    pub context: Context,
    /// The first call's prompt, counted.
    pub prompt_tokens: u64,
    /// The answer continues one already there (a first call stopped before it said anything
    /// costs nothing then).
    pub continuation: bool,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The model answered without calling a tool.
    Answered,
    Aborted,
    Failed(ProviderError),
    /// The recursion limit (this many steps) was reached.
    LimitReached(u32),
}

impl Ending {
    /// What LibreChat says when the limit is reached (LangGraph's words, in its error part).
    pub fn limit_message(limit: u32) -> String {
        format!(
            "An error occurred while processing the request: Recursion limit of {limit} reached \
             without hitting a stop condition. You can increase the limit by setting the \
             \"recursionLimit\" config key."
        )
    }
}

/// A run's end and what it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ending: Ending,
    /// The tokens the model generated, every call together (the answer's `tokenCount`).
    pub completion_tokens: u64,
    pub model_calls: u32,
    /// The steps taken (model calls and tool rounds, as the recursion limit counts them).
    pub steps: u32,
    /// The model transferred the conversation to another agent (a handoff tool).
    pub handoff: Option<HandedOff>,
}

/// A call to a handoff tool: the agent it transfers to, and the call's arguments (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandedOff {
    pub to: String,
    pub args: String,
}

/// Whether `name` is one of the run's handoff tools.
fn is_handoff(tools: &ToolSet, name: &str) -> bool {
    name.starts_with(super::handoff::PREFIX) && tools.get(name).is_some()
}

/// How one model call's stream ended.
enum Streamed {
    Done,
    Aborted,
    Failed(ProviderError),
}

/// When the growing answer was first changed since it was last saved.
#[derive(Default)]
pub(super) struct Saver {
    pub(super) since: Option<Instant>,
}

impl Saver {
    pub(super) fn touched(&mut self) {
        self.since.get_or_insert_with(Instant::now);
    }

    pub(super) fn deadline(&self) -> Option<tokio::time::Instant> {
        self.since
            .map(|t| tokio::time::Instant::from_std(t + SAVE_EVERY))
    }

    pub(super) async fn wait(deadline: Option<tokio::time::Instant>) {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    }
}

/// An answer that reached the bound: it ends there, what came is kept.
fn too_long() -> ProviderError {
    ProviderError::AnswerTooLong {
        mib: MAX_ANSWER_BYTES / (1024 * 1024),
    }
}

/// Appends to `into` the pieces of the same kind that have already arrived (a fast provider
/// sends many tokens in one read), so that they make one frame instead of one each; returns
/// the first event of another kind, if one came. Never waits.
fn gather(
    stream: &mut EventStream,
    into: &mut String,
    reasoning: bool,
) -> Option<Option<Result<StreamEvent, ProviderError>>> {
    for _ in 1..GATHER_PIECES {
        if into.len() >= GATHER_BYTES {
            break;
        }
        match stream.next().now_or_never()? {
            Some(Ok(StreamEvent::Text(t))) if !reasoning => into.push_str(&t),
            Some(Ok(StreamEvent::Reasoning(t))) if reasoning => into.push_str(&t),
            other => return Some(other),
        }
    }
    None
}

pub(super) type Aborted<'a> = Pin<&'a mut (dyn Future<Output = ()> + Send)>;

impl Run {
    /// Runs the loop to its end. Never fails: every ending is in the [`Outcome`].
    pub async fn run<H: Host>(self, host: &H) -> Outcome {
        self.run_keeping(host).await.0
    }

    /// [`Run::run`], giving back the history as it ended too: the first call's messages and
    /// every call and result after them, the last answer included (for the agent that
    /// continues it, in a run of several agents).
    pub async fn run_keeping<H: Host>(self, host: &H) -> (Outcome, Vec<ChatMessage>) {
        let Run {
            mut request,
            tools,
            limits,
            context,
            prompt_tokens,
            continuation,
        } = self;
        request.tools = tools.defs();
        let aborted = host.aborted();
        tokio::pin!(aborted);
        let mut aborted: Aborted<'_> = aborted;
        let mut saver = Saver::default();
        let mut out = Outcome {
            ending: Ending::Answered,
            completion_tokens: 0,
            model_calls: 0,
            steps: 0,
            handoff: None,
        };
        let mut steps = 0u32;
        macro_rules! done {
            () => {{
                out.steps = steps;
                return (out, request.messages);
            }};
        }
        // What the rounds added to the history, for an estimate of each call's prompt.
        let mut added_bytes = 0usize;
        loop {
            if steps >= limits.recursion_limit || !host.take_step() {
                out.ending = Ending::LimitReached(limits.recursion_limit);
                done!();
            }
            steps += 1;
            // A token for every four bytes added: an estimate for the balance check, and the
            // count billed when a provider reports none.
            let estimate = prompt_tokens + (added_bytes / 4) as u64;
            if let Err(e) = host.afford(estimate).await {
                out.ending = Ending::Failed(e);
                done!();
            }
            out.model_calls += 1;
            let first = out.model_calls == 1;
            let mut answer = Answer::default();
            let mut usage = None;
            // Each call's index in the stream → its part's index in the answer.
            let mut parts: Vec<usize> = Vec::new();
            let streamed = tokio::select! {
                started = host.model(request.clone()) => match started {
                    Ok(mut stream) => {
                        let mut call = Call { stream: &mut stream, answer: &mut answer, usage: &mut usage, parts: &mut parts };
                        call.stream(host, &mut saver, aborted.as_mut()).await
                    }
                    Err(e) => Streamed::Failed(e),
                },
                () = aborted.as_mut() => Streamed::Aborted,
            };
            let generated = !answer_is_empty(&answer);
            let completion = match usage.filter(|u: &Usage| u.completion_tokens > 0) {
                Some(u) => u.completion_tokens,
                None if generated => host.count(answer_text(&answer)).await,
                None => 0,
            };
            out.completion_tokens += completion;
            // A call stopped or failed midway is billed as incomplete; one that said nothing
            // and failed, or that was stopped before it said anything more of an answer
            // being continued, costs nothing (as before the loop).
            let incomplete = match &streamed {
                Streamed::Done => Some(false),
                Streamed::Aborted if !generated && first && continuation => None,
                Streamed::Aborted => Some(true),
                Streamed::Failed(_) if generated => Some(true),
                Streamed::Failed(_) => None,
            };
            if let Some(incomplete) = incomplete {
                let u = counted(usage, estimate, completion);
                host.bill(u, incomplete).await;
            }
            match streamed {
                Streamed::Done => {}
                Streamed::Aborted => {
                    out.ending = Ending::Aborted;
                    done!();
                }
                Streamed::Failed(e) => {
                    out.ending = Ending::Failed(e);
                    done!();
                }
            }
            if !answer.calls_tools() {
                if !answer_is_empty(&answer) {
                    request.messages.push(answer.into_message());
                }
                done!();
            }
            if steps >= limits.recursion_limit || !host.take_step() {
                out.ending = Ending::LimitReached(limits.recursion_limit);
                done!();
            }
            steps += 1;
            let calls: Vec<ToolCall> = answer.calls().cloned().collect();
            let message = answer.into_message();
            let round = Round {
                tools: &tools,
                limits: &limits,
                context: &context,
            };
            let Some((results, records)) = round
                .run(host, &calls, &parts, &mut saver, aborted.as_mut())
                .await
            else {
                out.ending = Ending::Aborted;
                done!();
            };
            added_bytes +=
                history_bytes(&message) + results.iter().map(|r| r.content.len()).sum::<usize>();
            request.messages.push(message);
            request.messages.push(ChatMessage {
                role: Role::Tool,
                content: results.into_iter().map(Part::ToolResult).collect(),
            });
            host.save_calls(records).await;
            saver.since = None;
            // A transfer to another agent ends this one's turn, with the transfer's result
            // in the history.
            if let Some(c) = calls.iter().find(|c| is_handoff(&tools, &c.name)) {
                out.handoff = Some(HandedOff {
                    to: c.name[super::handoff::PREFIX.len()..].to_owned(),
                    args: c.args.clone(),
                });
                done!();
            }
            if host.steps(|s| s.tool_room()) == 0 {
                out.ending = Ending::Failed(too_long());
                done!();
            }
        }
    }
}

/// One model call as it streams.
struct Call<'a> {
    stream: &'a mut EventStream,
    /// The call's message, for the history.
    answer: &'a mut Answer,
    usage: &'a mut Option<Usage>,
    /// Each tool call's index in the stream → its part's index in the answer.
    parts: &'a mut Vec<usize>,
}

impl Call<'_> {
    /// Streams the call into the steps.
    async fn stream<H: Host>(
        &mut self,
        host: &H,
        saver: &mut Saver,
        mut aborted: Aborted<'_>,
    ) -> Streamed {
        let Call {
            stream,
            answer,
            usage,
            parts,
        } = self;
        let mut held = None;
        loop {
            let event = match held.take() {
                Some(e) => e,
                None => tokio::select! {
                    e = stream.next() => e,
                    () = aborted.as_mut() => return Streamed::Aborted,
                    () = Saver::wait(saver.deadline()) => {
                        saver.since = None;
                        host.save().await;
                        continue;
                    }
                },
            };
            let full = match event {
                Some(Ok(StreamEvent::Text(mut t))) => {
                    held = gather(stream, &mut t, false);
                    let full = host.steps(|s| s.text(&t, false)).is_err();
                    answer.push(&StreamEvent::Text(t));
                    full
                }
                Some(Ok(StreamEvent::Reasoning(mut t))) => {
                    held = gather(stream, &mut t, true);
                    let full = host.steps(|s| s.text(&t, true)).is_err();
                    answer.push(&StreamEvent::Reasoning(t));
                    full
                }
                Some(Ok(StreamEvent::ToolCallStart {
                    index,
                    id,
                    name,
                    signature,
                })) => {
                    parts.push(host.steps(|s| s.call_start(&id, &name)));
                    answer.push(&StreamEvent::ToolCallStart {
                        index,
                        id,
                        name,
                        signature,
                    });
                    false
                }
                Some(Ok(StreamEvent::ToolCallArgs { index, delta })) => {
                    let full = match parts.get(index) {
                        Some(&at) => host.steps(|s| s.call_args(at, &delta)).is_err(),
                        None => false,
                    };
                    answer.push(&StreamEvent::ToolCallArgs { index, delta });
                    full
                }
                Some(Ok(StreamEvent::Usage(u))) => {
                    **usage = Some(u);
                    false
                }
                Some(Ok(e)) => {
                    answer.push(&e);
                    false
                }
                Some(Err(e)) => return Streamed::Failed(e),
                None => return Streamed::Done,
            };
            if full {
                return Streamed::Failed(too_long());
            }
            saver.touched();
            // Let the subscribers this frame woke run now. A woken task waits in this worker's
            // next-task slot, which other workers cannot take, until this one yields; with a
            // fast provider every read is ready at once, so without this the first piece of
            // an answer reached the client only after the whole burst (1.7 ms later).
            tokio::task::yield_now().await;
        }
    }
}

/// The provider's counts, ours where it gave none.
fn counted(usage: Option<Usage>, prompt: u64, completion: u64) -> Usage {
    let mut u = usage.unwrap_or_default();
    if u.prompt_tokens + u.cache_read_tokens + u.cache_write_tokens == 0 {
        u.prompt_tokens = prompt;
    }
    if u.completion_tokens == 0 {
        u.completion_tokens = completion;
    }
    u
}

/// Whether a call said nothing at all.
fn answer_is_empty(a: &Answer) -> bool {
    a.calls().next().is_none() && answer_text(a).is_empty()
}

/// Everything a call generated, as text to count: its words, reasoning and call arguments.
fn answer_text(a: &Answer) -> String {
    let mut out = String::new();
    for part in a.parts() {
        match part {
            Part::Text(t) | Part::Thinking { text: t, .. } => out.push_str(t),
            Part::ToolCall(c) => {
                out.push_str(&c.name);
                out.push_str(&c.args);
            }
            _ => {}
        }
    }
    out
}

/// The bytes a message adds to the history.
fn history_bytes(m: &ChatMessage) -> usize {
    m.content
        .iter()
        .map(|p| match p {
            Part::Text(t) | Part::Thinking { text: t, .. } => t.len(),
            Part::ToolCall(c) => c.name.len() + c.args.len(),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
