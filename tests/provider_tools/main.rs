//! Tool calling on every provider, against the fakes speaking each wire format: the tools
//! written as each format takes them, streamed calls (one, parallel, interleaved) read into
//! start and argument events, the history of calls and results (with Anthropic's signed
//! thinking and Gemini's thought signatures) written back as each provider requires — the
//! fakes refuse it otherwise, as the providers do — malformed and oversized call streams
//! refused with a clear error, and requests without tools sent exactly as before.

#[path = "../support/mod.rs"]
mod support;

mod anthropic;
mod gemini;
mod openai;
mod responses;

use futures_util::StreamExt;
use librechat::config::Env;
use librechat::providers::{
    self, Answer, ChatMessage, ChatRequest, Endpoint, Endpoints, Part, ProviderError, Role,
    StreamEvent, ToolCall, ToolDef, ToolResult,
};
use serde_json::{Map, Value, json};
use support::fake_openai::{FakeOpenAi, KEY};

/// The fake, and the endpoints that lead to it: `openAI`, `anthropic`, `google`, and the
/// custom endpoint `Local LLM` (OpenAI's format).
pub struct Setup {
    pub fake: FakeOpenAi,
    endpoints: Endpoints,
}

impl Setup {
    pub async fn start() -> Self {
        let fake = FakeOpenAi::start().await;
        let root = fake.anthropic_base();
        let env = Env::from_pairs([
            ("OPENAI_API_KEY", KEY),
            ("OPENAI_REVERSE_PROXY", fake.base.as_str()),
            ("ANTHROPIC_API_KEY", KEY),
            ("ANTHROPIC_REVERSE_PROXY", root.as_str()),
            ("GOOGLE_KEY", KEY),
            ("GOOGLE_REVERSE_PROXY", root.as_str()),
        ]);
        let yaml = json!({"custom": [{"name": "Local LLM", "apiKey": KEY, "baseURL": fake.base,
            "models": {"default": ["local-tools"]}}]});
        let endpoints = Endpoints::load(&env, Some(&yaml)).expect("endpoints");
        Setup { fake, endpoints }
    }

    pub fn endpoint(&self, name: &str) -> &Endpoint {
        self.endpoints.get(name).expect("a configured endpoint")
    }

    /// Streams `request` from endpoint `name`: every event up to the end, or the error.
    pub async fn events(
        &self,
        name: &str,
        request: ChatRequest,
    ) -> Result<Vec<StreamEvent>, ProviderError> {
        let http = providers::http_client();
        let guarded = librechat::net::Guarded::new(Default::default());
        let mut stream =
            providers::stream(&http, &guarded, self.endpoint(name), KEY, request).await?;
        let mut events = Vec::new();
        while let Some(e) = stream.next().await {
            events.push(e?);
        }
        Ok(events)
    }

    /// The last request body the fake received.
    pub fn last_request(&self) -> Value {
        self.fake.requests().last().cloned().expect("a request")
    }
}

/// The tools the tests offer: a weather lookup (with JSON Schema that Gemini does not take
/// as it is) and a clock without parameters.
pub fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef {
            name: "get_weather".into(),
            description: "The weather in a city.".into(),
            parameters: json!({
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city."},
                    "unit": {"$ref": "#/$defs/unit"},
                    "days": {"type": ["integer", "null"], "minimum": 1}
                },
                "required": ["city"],
                "additionalProperties": false,
                "$defs": {"unit": {"type": "string", "enum": ["c", "f"]}}
            }),
        },
        ToolDef {
            name: "clock".into(),
            description: "The time now.".into(),
            parameters: json!({"type": "object", "properties": {}}),
        },
    ]
}

/// A request for `model` with the [`tools`] and one user question.
pub fn ask(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![
            ChatMessage::text(Role::System, "Use the tools."),
            ChatMessage::text(Role::User, "Weather in Paris and Oslo?"),
        ],
        tools: tools(),
        ..ChatRequest::default()
    }
}

/// The events gathered into the answer's assistant message.
pub fn answer(events: &[StreamEvent]) -> Answer {
    let mut a = Answer::default();
    for e in events {
        a.push(e);
    }
    a
}

/// The tool-call events of a stream, in order (text, usage and the rest left out).
pub fn call_events(events: &[StreamEvent]) -> Vec<StreamEvent> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                StreamEvent::ToolCallStart { .. } | StreamEvent::ToolCallArgs { .. }
            )
        })
        .cloned()
        .collect()
}

/// The finish reason of a stream.
pub fn finish(events: &[StreamEvent]) -> Option<String> {
    events.iter().find_map(|e| match e {
        StreamEvent::Finished(r) => r.clone(),
        _ => None,
    })
}

/// A result for `call`: "<name> says <n>".
pub fn result(call: &ToolCall, n: usize) -> ToolResult {
    ToolResult {
        call_id: call.id.clone(),
        name: call.name.clone(),
        content: format!("{} says {n}", call.name),
        images: Vec::new(),
        is_error: false,
    }
}

/// `request` followed by the answer and a tool message with a result for each of its calls.
pub fn with_results(mut request: ChatRequest, answer: Answer) -> ChatRequest {
    let message = answer.into_message();
    let results: Vec<Part> = message
        .tool_calls()
        .enumerate()
        .map(|(n, c)| Part::ToolResult(result(c, n + 1)))
        .collect();
    request.messages.push(message);
    request.messages.push(ChatMessage {
        role: Role::Tool,
        content: results,
    });
    request
}

/// The text of a stream.
pub fn text(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// The error a stream ended with.
pub async fn refused(setup: &Setup, endpoint: &str, request: ChatRequest) -> String {
    match setup.events(endpoint, request).await {
        Err(ProviderError::Malformed(m)) => m,
        other => panic!("expected a malformed stream, got {other:?}"),
    }
}

/// Plain parameters for a request.
pub fn params(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}
