//! A server's URL, headers, arguments and environment with their placeholders filled for one
//! person: `{{LIBRECHAT_USER_ID}}` and the other fields of their account LibreChat offers,
//! `{{NAME}}` for each of the server's `customUserVars` they set, and in a chat turn
//! `{{LIBRECHAT_BODY_CONVERSATIONID}}`, `..._PARENTMESSAGEID}}` and `..._MESSAGEID}}` (a
//! server using one is request-scoped: see [`request_scoped`]). `${VAR}`s were filled when
//! librechat.yaml loaded. A placeholder with no value stays as written, except the chat
//! request's, which become '' outside a turn (LibreChat's final pass).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use super::config::{ServerConfig, Transport};

/// The values for one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub url: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// The values placeholders are filled with: `LIBRECHAT_USER_ID`, ..., and the person's own
/// variables, by name.
#[derive(Debug, Clone, Default)]
pub struct Values(pub Vec<(String, String)>);

impl Values {
    /// The account fields LibreChat fills (`{{LIBRECHAT_USER_<FIELD>}}`).
    pub fn for_user(user: &crate::db::users::User) -> Self {
        let mut v = Vec::new();
        let mut add = |k: &str, val: &str| v.push((format!("LIBRECHAT_USER_{k}"), val.to_owned()));
        add("ID", &user.id);
        add("EMAIL", &user.email);
        add("USERNAME", &user.username);
        add("NAME", &user.name);
        add("ROLE", &user.role);
        add("PROVIDER", &user.provider);
        Values(v)
    }

    /// The chat request's values (`{{LIBRECHAT_BODY_*}}`) of `turn`; '' for one it lacks.
    pub fn for_turn(turn: &Turn) -> Self {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        Values(vec![
            (BODY[0].to_owned(), v(&turn.conversation_id)),
            (BODY[1].to_owned(), v(&turn.parent_message_id)),
            (BODY[2].to_owned(), v(&turn.message_id)),
        ])
    }

    /// These and `more` (the person's variables for the server).
    pub fn with(mut self, more: impl IntoIterator<Item = (String, String)>) -> Self {
        self.0.extend(more);
        self
    }

    /// `s` with each `{{NAME}}` that has a value filled in.
    pub fn fill(&self, s: &str) -> String {
        if !s.contains("{{") {
            return s.to_owned();
        }
        let mut out = s.to_owned();
        for (name, value) in &self.0 {
            let mark = format!("{{{{{name}}}}}");
            if out.contains(&mark) {
                out = out.replace(&mark, value);
            }
        }
        out
    }
}

/// The chat request's placeholders LibreChat fills (`ALLOWED_BODY_FIELDS`, `env.ts`).
const BODY: [&str; 3] = [
    "LIBRECHAT_BODY_CONVERSATIONID",
    "LIBRECHAT_BODY_PARENTMESSAGEID",
    "LIBRECHAT_BODY_MESSAGEID",
];

/// A chat turn, as LibreChat's request body names it: the conversation, the person's
/// message and the message it answers (for the first, LibreChat's all-zero id).
#[derive(Debug, Clone, Default)]
pub struct Turn {
    pub conversation_id: Option<String>,
    pub parent_message_id: Option<String>,
    pub message_id: Option<String>,
}

/// Whether `config` uses the chat request's values (`{{LIBRECHAT_BODY_*}}`) in its URL,
/// headers, arguments or environment: then it is connected afresh for each chat turn, never
/// kept (LibreChat's `requiresEphemeralUserConnection`). A server a person added never is:
/// its only placeholders are its own variables.
pub fn request_scoped(config: &ServerConfig) -> bool {
    if config.db_id.is_some() {
        return false;
    }
    let uses = |s: &String| BODY.iter().any(|b| s.contains(&format!("{{{{{b}}}}}")));
    match &config.transport {
        Transport::Stdio { args, env, .. } => args.iter().any(uses) || env.values().any(uses),
        Transport::Http { url, headers } | Transport::Sse { url, headers } => {
            uses(url) || headers.values().any(uses)
        }
        Transport::WebSocket { url } => uses(url),
    }
}

/// What [`UserVars::values`] gives back, when it is ready.
pub type VarsFuture<'a> = Pin<Box<dyn Future<Output = Vec<(String, String)>> + Send + 'a>>;

/// Where a person's values of a server's `customUserVars` are kept.
pub trait UserVars: Send + Sync {
    /// The person's values for `server`, by variable (none when they set none, or they
    /// cannot be read).
    fn values<'a>(&'a self, user_id: &'a str, server: &'a str) -> VarsFuture<'a>;
}

/// No one has values (the command line, tests).
pub struct NoVars;

impl UserVars for NoVars {
    fn values<'a>(&'a self, _: &'a str, _: &'a str) -> VarsFuture<'a> {
        Box::pin(std::future::ready(Vec::new()))
    }
}

/// `config`'s values with `values` filled in. The chat request's placeholders left (outside
/// a turn) become '', never sent as written.
pub fn resolve(config: &ServerConfig, values: &Values) -> Resolved {
    let unset = Values::for_turn(&Turn::default());
    let fill = |s: &str| unset.fill(&values.fill(s));
    let map = |m: &BTreeMap<String, String>| m.iter().map(|(k, v)| (k.clone(), fill(v))).collect();
    match &config.transport {
        Transport::Stdio { args, env, .. } => Resolved {
            args: args.iter().map(|a| fill(a)).collect(),
            env: map(env),
            ..Resolved::default()
        },
        Transport::Http { url, headers } | Transport::Sse { url, headers } => Resolved {
            url: Some(fill(url)),
            headers: map(headers),
            ..Resolved::default()
        },
        Transport::WebSocket { url } => Resolved {
            url: Some(fill(url)),
            ..Resolved::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_with_values_are_filled_others_kept() {
        let v = Values(vec![
            ("LIBRECHAT_USER_ID".into(), "u1".into()),
            ("TOKEN".into(), "t".into()),
        ]);
        assert_eq!(
            v.fill("Bearer {{TOKEN}} for {{LIBRECHAT_USER_ID}}"),
            "Bearer t for u1"
        );
        assert_eq!(v.fill("{{MISSING}} {{TOKEN"), "{{MISSING}} {{TOKEN");
    }

    #[test]
    fn the_chat_requests_values_fill_in_a_turn_and_are_empty_outside_one() {
        let (c, _) = crate::mcp::config::McpConfig::load(
            Some(&serde_json::json!({"t": {"type": "http",
                "url": "https://x.example/mcp?c={{LIBRECHAT_BODY_CONVERSATIONID}}",
                "headers": {"X-Message": "{{LIBRECHAT_BODY_MESSAGEID}}", "X-Other": "{{OTHER}}"}}})),
            None,
        );
        let s = &c.servers[0];
        assert!(request_scoped(s));
        let turn = Turn {
            conversation_id: Some("c1".into()),
            parent_message_id: None,
            message_id: Some("m1".into()),
        };
        let r = resolve(s, &Values::for_turn(&turn));
        assert_eq!(r.url.as_deref(), Some("https://x.example/mcp?c=c1"));
        assert_eq!(r.headers["X-Message"], "m1");
        assert_eq!(r.headers["X-Other"], "{{OTHER}}");
        let outside = resolve(s, &Values::default());
        assert_eq!(outside.url.as_deref(), Some("https://x.example/mcp?c="));
    }
}
