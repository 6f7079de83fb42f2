//! The configuration of an MCP server a person adds, checked as LibreChat checks it
//! (`MCPServerUserInputSchema`) and turned into what is stored (`ServerConfigsDB.add`).
//!
//! Only servers reached over the network (streamable HTTP, SSE, a websocket): never a command.
//! Fields the administrator manages (`startup`, `timeout`, `customUserVars`, ...) and unknown
//! ones are dropped. A URL may not hold `${VAR}` (it would read the server's environment), and
//! headers lose `${VAR}` and `{{LIBRECHAT_USER_*}}`-like placeholders, which would send the
//! server's secrets or the data of whoever uses the server to its author.

use serde_json::{Map, Value, json};

/// The field and the reason of one refusal, as a zod issue (`{code, message, path}`).
pub fn issue(path: &str, message: &str) -> Value {
    json!({"code": "custom", "message": message, "path": [path]})
}

/// What a checked configuration holds.
pub struct Checked {
    /// The configuration to store.
    pub config: Value,
    /// It sets `obo` (LibreChat's on-behalf-of token exchange), which needs `CONFIGURE_OBO`.
    pub obo: bool,
}

/// Placeholders that would fill a header with a secret of the server or of the person using
/// it (LibreChat's `DANGEROUS_CREDENTIAL_PATTERNS`).
const DANGEROUS: [&str; 4] = [
    "{{LIBRECHAT_OPENID_",
    "{{LIBRECHAT_USER_",
    "{{LIBRECHAT_GRAPH_",
    "{{LIBRECHAT_BODY_",
];

/// `config` checked, with LibreChat's transforms applied; or the issues found.
pub fn check(config: Option<&Value>) -> Result<Checked, Vec<Value>> {
    let Some(Value::Object(c)) = config else {
        return Err(vec![issue("config", "Expected object")]);
    };
    let mut issues = Vec::new();
    let mut out = Map::new();
    let url = c.get("url").and_then(Value::as_str).unwrap_or_default();
    let kind = match c.get("type") {
        None | Some(Value::Null) if is_scheme(url, &["ws", "wss"]) => "websocket",
        None | Some(Value::Null) => "sse",
        Some(Value::String(t)) if matches!(t.as_str(), "websocket" | "sse" | "http") => t.as_str(),
        Some(Value::String(t)) if t == "streamable-http" => "streamable-http",
        _ => {
            return Err(vec![issue(
                "type",
                "Only websocket, sse and streamable-http servers may be added",
            )]);
        }
    };
    out.insert("type".into(), json!(kind));
    match c.get("url") {
        Some(Value::String(u)) if has_env(u) => issues.push(issue(
            "url",
            "Environment variable references are not allowed in URLs",
        )),
        Some(Value::String(u)) if url::Url::parse(u).is_err() => {
            issues.push(issue("url", "Invalid url"))
        }
        Some(Value::String(u)) if kind == "websocket" && !is_scheme(u, &["ws", "wss"]) => {
            issues.push(issue("url", "WebSocket URL must use ws:// or wss://"))
        }
        Some(Value::String(u)) if kind != "websocket" && !is_scheme(u, &["http", "https"]) => {
            issues.push(issue(
                "url",
                if kind == "sse" {
                    "SSE URL must use http:// or https://"
                } else {
                    "Streamable HTTP URL must use http:// or https://"
                },
            ))
        }
        Some(Value::String(u)) => {
            out.insert("url".into(), json!(u));
        }
        _ => issues.push(issue("url", "Required")),
    }
    if kind != "websocket" && c.get("proxy").is_some_and(|p| !p.is_null()) {
        issues.push(issue("proxy", "Expected never, received string"));
    }
    match c.get("title") {
        None | Some(Value::Null) => {}
        Some(Value::String(t))
            if !t.is_empty() && t.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == ' ') =>
        {
            out.insert("title".into(), json!(t));
        }
        Some(_) => issues.push(issue(
            "title",
            "Title can only contain letters, numbers, and spaces",
        )),
    }
    for key in ["description", "iconPath"] {
        match c.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                out.insert(key.into(), json!(s));
            }
            Some(_) => issues.push(issue(key, "Expected string")),
        }
    }
    let mut headers = Map::new();
    match c.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) if kind != "websocket" => {
            for (k, v) in h {
                let Some(v) = v.as_str() else {
                    issues.push(issue("headers", "Expected string"));
                    continue;
                };
                headers.insert(k.clone(), json!(sanitize(v)));
            }
        }
        Some(Value::Object(_)) => {}
        Some(_) => issues.push(issue("headers", "Expected object")),
    }
    let mut vars = Map::new();
    match c.get("apiKey") {
        None | Some(Value::Null) => {}
        Some(Value::Object(a)) => match api_key(a, &mut headers, &mut vars) {
            Ok(kept) => {
                out.insert("apiKey".into(), kept);
            }
            Err(why) => issues.push(issue("apiKey", why)),
        },
        Some(_) => issues.push(issue("apiKey", "Expected object")),
    }
    match c.get("oauth") {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => match oauth(o) {
            Ok(kept) => {
                out.insert("oauth".into(), kept);
            }
            Err(i) => issues.push(i),
        },
        Some(_) => issues.push(issue("oauth", "Expected object")),
    }
    let obo = match c.get("obo") {
        None | Some(Value::Null) => false,
        Some(Value::Object(o)) if o.get("scopes").is_some_and(Value::is_string) => {
            out.insert("obo".into(), json!({"scopes": o["scopes"]}));
            true
        }
        Some(_) => {
            issues.push(issue("obo", "Expected {scopes: string}"));
            false
        }
    };
    if !headers.is_empty() {
        out.insert("headers".into(), Value::Object(headers));
    }
    if !vars.is_empty() {
        out.insert("customUserVars".into(), Value::Object(vars));
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    Ok(Checked {
        config: Value::Object(out),
        obo,
    })
}

fn is_scheme(u: &str, schemes: &[&str]) -> bool {
    let lower = u.to_ascii_lowercase();
    schemes.iter().any(|s| lower.starts_with(&format!("{s}:")))
}

/// Whether `s` holds a `${...}` reference (LibreChat's `envVarPattern`).
fn has_env(s: &str) -> bool {
    s.find("${").is_some_and(|at| s[at + 2..].contains('}'))
}

/// A header's value without the placeholders that could leak secrets.
fn sanitize(v: &str) -> String {
    let mut out = v.to_owned();
    loop {
        let start = DANGEROUS
            .iter()
            .filter_map(|p| out.find(p).map(|at| (at, "}}")))
            .chain(out.find("${").map(|at| (at, "}")))
            .min_by_key(|(at, _)| *at);
        let Some((at, end)) = start else {
            return out;
        };
        match out[at..].find(end) {
            Some(len) => out.replace_range(at..at + len + end.len(), ""),
            None => return out,
        }
    }
}

/// `apiKey` read; a key each person gives (`source: user`) becomes their variable
/// `MCP_API_KEY` sent in a header, as LibreChat transforms it. Returns the block to store.
fn api_key(
    a: &Map<String, Value>,
    headers: &mut Map<String, Value>,
    vars: &mut Map<String, Value>,
) -> Result<Value, &'static str> {
    let source = a.get("source").and_then(Value::as_str);
    let kind = a.get("authorization_type").and_then(Value::as_str);
    let (Some(source @ ("admin" | "user")), Some(kind @ ("basic" | "bearer" | "custom"))) =
        (source, kind)
    else {
        return Err("source must be admin or user; authorization_type basic, bearer or custom");
    };
    let custom = a.get("custom_header").and_then(Value::as_str);
    let mut kept = json!({"source": source, "authorization_type": kind});
    if let Some(h) = custom {
        kept["custom_header"] = json!(h);
    }
    if source == "admin" {
        if let Some(k) = a.get("key").and_then(Value::as_str) {
            kept["key"] = json!(k);
        }
        return Ok(kept);
    }
    let header = match kind {
        "custom" => custom.unwrap_or("X-Api-Key"),
        _ => "Authorization",
    };
    let value = match kind {
        "basic" => "Basic {{MCP_API_KEY}}",
        "bearer" => "Bearer {{MCP_API_KEY}}",
        _ => "{{MCP_API_KEY}}",
    };
    headers.insert(header.to_owned(), json!(value));
    vars.insert(
        "MCP_API_KEY".into(),
        json!({"title": "API Key", "description": "Your API key for this MCP server"}),
    );
    Ok(kept)
}

/// The OAuth fields a person may set (LibreChat's `UserOAuthOptionsSchema`): no audience, no
/// `${VAR}` and no `audience`/`resource` parameter in its URLs.
fn oauth(o: &Map<String, Value>) -> Result<Value, Value> {
    const URLS: [&str; 4] = [
        "authorization_url",
        "token_url",
        "redirect_uri",
        "revocation_endpoint",
    ];
    for forbidden in ["audience", "forward_audience_on_refresh"] {
        if o.contains_key(forbidden) {
            return Err(issue(
                "oauth",
                &format!("oauth.{forbidden} is not allowed for user-managed servers"),
            ));
        }
    }
    for k in URLS {
        let Some(v) = o.get(k) else { continue };
        let Some(u) = v.as_str() else {
            return Err(issue("oauth", &format!("oauth.{k} must be a URL")));
        };
        if has_env(u) {
            return Err(issue(
                "oauth",
                "Environment variable references are not allowed in URLs",
            ));
        }
        let Ok(parsed) = url::Url::parse(u) else {
            return Err(issue("oauth", &format!("oauth.{k} must be a URL")));
        };
        if parsed
            .query_pairs()
            .any(|(p, _)| p == "audience" || p == "resource")
        {
            return Err(issue(
                "oauth",
                &format!("oauth.{k} may not carry audience or resource parameters"),
            ));
        }
    }
    Ok(Value::Object(o.clone()))
}

/// A server name from its title (LibreChat's `generateServerNameFromTitle`): lowercase
/// letters, digits and single hyphens; `mcp-server` when nothing is left.
pub fn slug(title: &str) -> String {
    let lower = title.to_lowercase();
    let kept: String = lower
        .trim()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c.is_whitespace() || *c == '-')
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .collect();
    let mut out = String::new();
    for c in kept.chars() {
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        "mcp-server".into()
    } else {
        out.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_network_servers_with_plain_urls_pass() {
        let ok = check(Some(
            &json!({"type": "http", "url": "https://a.example/mcp",
            "title": "My Tools", "startup": false, "timeout": 5, "command": "sh",
            "headers": {"X": "k ${JWT_SECRET} {{LIBRECHAT_USER_EMAIL}}{{MINE}}"}}),
        ))
        .unwrap();
        assert_eq!(
            ok.config,
            json!({"type": "http", "url": "https://a.example/mcp", "title": "My Tools",
                   "headers": {"X": "k  {{MINE}}"}})
        );
        for bad in [
            json!({"type": "stdio", "command": "sh", "args": []}),
            json!({"command": "sh"}),
            json!({"type": "http", "url": "https://a.example/?k=${JWT_SECRET}"}),
            json!({"type": "websocket", "url": "https://a.example/"}),
            json!({"type": "sse", "url": "file:///etc/passwd"}),
            json!({"url": "https://a.example/", "title": "no-dashes!"}),
            json!({"url": "https://a.example/", "oauth": {"audience": "x"}}),
        ] {
            assert!(check(Some(&bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_personal_api_key_becomes_a_variable() {
        let ok = check(Some(&json!({"url": "https://a.example/sse",
            "apiKey": {"source": "user", "authorization_type": "bearer", "key": "k"}})))
        .unwrap();
        assert_eq!(
            ok.config["headers"]["Authorization"],
            "Bearer {{MCP_API_KEY}}"
        );
        assert_eq!(
            ok.config["customUserVars"]["MCP_API_KEY"]["title"],
            "API Key"
        );
        assert!(ok.config["apiKey"].get("key").is_none());
    }

    #[test]
    fn names_come_from_titles_as_librechat_makes_them() {
        assert_eq!(slug("  My  Cool -- Server! "), "my-cool-server");
        assert_eq!(slug("!!!"), "mcp-server");
    }
}
