//! A server's URL, headers, arguments and environment with their placeholders filled for one
//! person: `{{LIBRECHAT_USER_ID}}` and the other fields of their account LibreChat offers, and
//! `{{NAME}}` for each of the server's `customUserVars` they set. `${VAR}`s were filled when
//! librechat.yaml loaded. A placeholder with no value stays as written.

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

/// `config`'s values with `values` filled in.
pub fn resolve(config: &ServerConfig, values: &Values) -> Resolved {
    let map =
        |m: &BTreeMap<String, String>| m.iter().map(|(k, v)| (k.clone(), values.fill(v))).collect();
    match &config.transport {
        Transport::Stdio { args, env, .. } => Resolved {
            args: args.iter().map(|a| values.fill(a)).collect(),
            env: map(env),
            ..Resolved::default()
        },
        Transport::Http { url, headers } | Transport::Sse { url, headers } => Resolved {
            url: Some(values.fill(url)),
            headers: map(headers),
            ..Resolved::default()
        },
        Transport::WebSocket { url } => Resolved {
            url: Some(values.fill(url)),
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
}
