//! Why a chat turn cannot start. The HTTP layer maps each to its status (and, for some,
//! LibreChat's error `type`) in one place; the messages here are what the person is shown.

use crate::chat::input::Invalid;
use crate::db::DbError;

/// Why a turn was refused, before anything was generated.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The body, or a value in it, is not acceptable (400).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No endpoint of that name (400).
    #[error("the endpoint {0:?} is not configured here")]
    EndpointNotConfigured(String),
    /// `MESSAGE_IP_MAX` / `MESSAGE_USER_MAX` reached (429).
    #[error("Too many messages. Please wait a moment before sending another.")]
    TooManyMessages { retry_after_secs: u64 },
    /// No model asked for, and the endpoint lists none (400).
    #[error("model is required")]
    ModelRequired,
    /// A model the endpoint does not offer (400; counted as a violation).
    #[error("the model {model:?} is not offered by {endpoint}")]
    ModelNotOffered { model: String, endpoint: String },
    /// The endpoint takes the person's key, and they have not set one (400 `no_user_key`).
    #[error("Set your API key for {0} first.")]
    NoUserKey(String),
    /// Their key has expired (400 `expired_user_key`).
    #[error("Your API key for {0} has expired; set a new one.")]
    ExpiredUserKey(String),
    /// The endpoint takes the person's base URL, and they have not set one (400 `no_base_url`).
    #[error("Set the base URL for {0} with your key first.")]
    NoBaseUrl(String),
    /// The base URL they set is not an http(s) URL (400).
    #[error("{0}")]
    BadBaseUrl(String),
    /// The base URL they set names an address outbound calls may not reach (400).
    #[error("The base URL you set for {endpoint} cannot be used: {reason}")]
    BlockedBaseUrl { endpoint: String, reason: String },
    /// An id in the body is too long or has control characters (400).
    #[error("{0} is not a valid id")]
    InvalidId(&'static str),
    /// `isContinued` without the answer to continue (400).
    #[error("responseMessageId names the answer to continue")]
    NoContinueId,
    /// Nothing to answer (400).
    #[error("text is required")]
    TextRequired,
    /// Moderation flagged the text, in these categories (400 `moderation`; a violation).
    #[error("The message was flagged by moderation ({}).", .0.join(", "))]
    Flagged(Vec<String>),
    /// An answer is already being generated in the conversation (409).
    #[error("An answer is already being generated in this conversation.")]
    Busy,
    /// `CONCURRENT_MESSAGE_MAX` answers already running (429; a violation).
    #[error(
        "Only {0} message(s) at a time. Please allow any other responses to complete before sending another message."
    )]
    TooMany(usize),
    /// A chat on the agents endpoint names no agent (400).
    #[error("agent_id is required")]
    AgentRequired,
    /// The agent does not exist, or the person may not use it (404, as LibreChat answers).
    #[error("Agent not found")]
    AgentNotFound,
    /// The conversation belongs to someone else (404).
    #[error("Conversation not found")]
    ConversationNotFound,
    /// Regenerating, and the question to answer again is not in the conversation (400).
    #[error(
        "overrideParentMessageId (or parentMessageId) must name the user message to answer again"
    )]
    NoRegenerateTarget,
    /// Continuing, and the answer is not an answer to the question (400).
    #[error("responseMessageId must name an answer to parentMessageId")]
    NoContinueTarget,
    /// The message id is in use in another conversation (409).
    #[error("messageId is already used")]
    IdTaken,
    /// The message would be its own ancestor (400).
    #[error("the message would be its own ancestor")]
    Cycle,
    /// The message's files cannot go with it (404 for another account's or a deleted file,
    /// 403 when the endpoint takes none, 400/413/415 past its limits).
    #[error(transparent)]
    Files(#[from] crate::chat::attachments::FilesRefused),
    /// The store failed (500), or a row vanished mid-way (404).
    #[error(transparent)]
    Db(#[from] DbError),
    /// Anything else unexpected (500); the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}
