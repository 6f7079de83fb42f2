//! Where to sign in to an MCP server, as the MCP specification's authorization describes it:
//! the server's protected resource metadata (RFC 9728; the URL its 401's `WWW-Authenticate`
//! names in `resource_metadata`, else the well-known one), its authorization server's
//! metadata (RFC 8414, with OpenID Connect discovery as the fallback), and a client
//! registered there for us (RFC 7591) when librechat.yaml names none. What the server's
//! `oauth` block sets wins over what is discovered.
//!
//! Every request goes through the guarded client, over HTTPS unless the administrator listed
//! the address, with its answer read to a bound and within a time limit.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::net::Guarded;

/// The most read of a metadata document or a registration answer.
const METADATA_LIMIT: usize = 256 * 1024;

/// The endpoints and client a sign-in uses.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub authorization: String,
    pub token: String,
    pub registration: Option<String>,
    /// The scopes to ask for (space-separated), if any.
    pub scope: Option<String>,
    /// The protected resource's identifier (RFC 8707's `resource`), when it published one.
    pub resource: Option<String>,
    /// The authorization server takes a client secret in a Basic header only.
    pub basic_only: bool,
    /// Where tokens are revoked (RFC 7009), when the server says or the `oauth` block names it.
    pub revocation: Option<String>,
}

/// The configured `oauth` fields that matter here.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Configured {
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
    pub redirect_uri: Option<String>,
    pub token_exchange_method: Option<String>,
    pub revocation_endpoint: Option<String>,
}

impl Configured {
    pub fn from(oauth: Option<&Value>) -> Self {
        oauth
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }
}

/// `req` with the server's `oauth_headers`.
pub fn with_headers(
    mut req: reqwest::RequestBuilder,
    headers: &[(String, String)],
) -> reqwest::RequestBuilder {
    for (name, value) in headers {
        req = req.header(name.as_str(), value.as_str());
    }
    req
}

/// A GET or POST through the guarded client with `headers`, its JSON answer read to
/// [`METADATA_LIMIT`].
async fn fetch(
    guarded: &Guarded,
    url: &str,
    body: Option<&Value>,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<Value, String> {
    let parsed = url::Url::parse(url).map_err(|_| format!("{url} is not a URL"))?;
    let shown = crate::mcp::transport::shown(&parsed);
    if parsed.scheme() != "https" && !guarded.listed(&parsed) {
        return Err(format!("{shown} is not HTTPS"));
    }
    let http = guarded.client_for(&parsed).map_err(|b| b.to_string())?;
    let req = match body {
        Some(b) => http.post(parsed.clone()).json(b),
        None => http.get(parsed.clone()),
    }
    .header("accept", "application/json");
    let req = with_headers(req, headers);
    let resp = tokio::time::timeout(timeout, req.send())
        .await
        .map_err(|_| format!("{shown} did not answer in time"))?
        .map_err(|e| match crate::net::Blocked::find(&e) {
            Some(b) => b.to_string(),
            None => format!("{shown} could not be reached"),
        })?;
    if !resp.status().is_success() {
        return Err(format!("{shown} answered {}", resp.status()));
    }
    crate::net::json_bounded(resp, METADATA_LIMIT, timeout)
        .await
        .ok_or_else(|| format!("{shown} did not answer JSON"))
}

/// What a server's answer to a bare POST says of signing in.
#[derive(Default)]
struct Challenge {
    /// The `resource_metadata` URL its `WWW-Authenticate` names.
    resource_metadata: Option<String>,
    /// It answered 401 with a `Bearer` challenge.
    bearer: bool,
}

/// The server's answer to a bare POST (a `ping`), as a sign-in challenge.
async fn challenge(
    guarded: &Guarded,
    server_url: &url::Url,
    headers: &[(String, String)],
    timeout: Duration,
) -> Challenge {
    let Ok(http) = guarded.client_for(server_url) else {
        return Challenge::default();
    };
    let req = http
        .post(server_url.clone())
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 0, "method": "ping"}));
    let sent = tokio::time::timeout(timeout, with_headers(req, headers).send()).await;
    let Ok(Ok(resp)) = sent else {
        return Challenge::default();
    };
    let Some(header) = resp
        .headers()
        .get("www-authenticate")
        .and_then(|h| h.to_str().ok())
    else {
        return Challenge::default();
    };
    let resource_metadata = header.find("resource_metadata=").map(|at| {
        let rest = header[at + "resource_metadata=".len()..].trim_start_matches('"');
        let end = rest.find(['"', ',', ' ']).unwrap_or(rest.len());
        rest[..end].to_owned()
    });
    Challenge {
        resource_metadata,
        bearer: resp.status() == reqwest::StatusCode::UNAUTHORIZED
            && header
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("bearer"),
    }
}

/// Whether the server at `server_url` wants each person's sign-in, for a server whose
/// configuration says nothing of OAuth (LibreChat's detection): its protected resource
/// metadata names an authorization server, or it answers 401 with a `Bearer` challenge.
/// `headers`: its `oauth_headers`.
pub async fn wants_sign_in(
    guarded: &Guarded,
    server_url: &str,
    headers: &[(String, String)],
    timeout: Duration,
) -> bool {
    let Ok(server) = url::Url::parse(server_url) else {
        return false;
    };
    let c = challenge(guarded, &server, headers, timeout).await;
    let mut candidates: Vec<String> = c.resource_metadata.into_iter().collect();
    candidates.push(well_known(&server, "/.well-known/oauth-protected-resource"));
    for url in candidates {
        if let Ok(meta) = fetch(guarded, &url, None, headers, timeout).await
            && meta["authorization_servers"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        {
            return true;
        }
    }
    c.bearer
}

/// `base`'s origin with `well_known` and then `base`'s path (RFC 8414 and 9728's insertion).
fn well_known(base: &url::Url, well_known: &str) -> String {
    let path = base.path().trim_end_matches('/');
    format!("{}{well_known}{path}", base.origin().ascii_serialization())
}

/// The endpoints to sign in to the server at `server_url` with (`configured` first), asked
/// with its `oauth_headers`.
pub async fn discover(
    guarded: &Guarded,
    server_url: &str,
    configured: &Configured,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<Endpoints, String> {
    if let (Some(a), Some(t)) = (&configured.authorization_url, &configured.token_url) {
        return Ok(Endpoints {
            authorization: a.clone(),
            token: t.clone(),
            scope: configured.scope.clone(),
            revocation: configured.revocation_endpoint.clone(),
            ..Endpoints::default()
        });
    }
    let server = url::Url::parse(server_url).map_err(|_| "the server URL is not a URL")?;
    // RFC 9728: the protected resource's metadata names its authorization server.
    let mut candidates = Vec::new();
    if let Some(named) = challenge(guarded, &server, headers, timeout)
        .await
        .resource_metadata
    {
        candidates.push(named);
    }
    candidates.push(well_known(&server, "/.well-known/oauth-protected-resource"));
    candidates.push(format!(
        "{}/.well-known/oauth-protected-resource",
        server.origin().ascii_serialization()
    ));
    let mut resource_meta = None;
    for c in candidates {
        if let Ok(v) = fetch(guarded, &c, None, headers, timeout).await {
            resource_meta = Some(v);
            break;
        }
    }
    let issuer = resource_meta
        .as_ref()
        .and_then(|m| m["authorization_servers"][0].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| server.origin().ascii_serialization());
    let issuer = url::Url::parse(&issuer).map_err(|_| "the authorization server is not a URL")?;
    // RFC 8414, then OpenID Connect discovery (with and after the issuer's path).
    let origin = issuer.origin().ascii_serialization();
    let mut tries = vec![
        well_known(&issuer, "/.well-known/oauth-authorization-server"),
        well_known(&issuer, "/.well-known/openid-configuration"),
    ];
    if !issuer.path().trim_end_matches('/').is_empty() {
        tries.push(format!(
            "{}/.well-known/openid-configuration",
            issuer.as_str().trim_end_matches('/')
        ));
    }
    let mut meta = None;
    for t in tries {
        if let Ok(v) = fetch(guarded, &t, None, headers, timeout).await {
            meta = Some(v);
            break;
        }
    }
    let text = |v: &Option<Value>, k: &str| {
        v.as_ref()
            .and_then(|m| m[k].as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    // Without metadata, the 2025-03-26 specification's default paths on the issuer.
    let authorization = configured
        .authorization_url
        .clone()
        .or_else(|| text(&meta, "authorization_endpoint"))
        .unwrap_or_else(|| format!("{origin}/authorize"));
    let token = configured
        .token_url
        .clone()
        .or_else(|| text(&meta, "token_endpoint"))
        .unwrap_or_else(|| format!("{origin}/token"));
    let registration = text(&meta, "registration_endpoint")
        .or_else(|| meta.is_none().then(|| format!("{origin}/register")));
    let scope = configured.scope.clone().or_else(|| {
        let scopes = resource_meta.as_ref()?["scopes_supported"].as_array()?;
        let joined: Vec<&str> = scopes.iter().filter_map(Value::as_str).collect();
        (!joined.is_empty()).then(|| joined.join(" "))
    });
    let methods = meta
        .as_ref()
        .and_then(|m| {
            m["token_endpoint_auth_methods_supported"]
                .as_array()
                .cloned()
        })
        .unwrap_or_default();
    let basic_only = !methods.is_empty()
        && methods.iter().any(|m| m == "client_secret_basic")
        && !methods.iter().any(|m| m == "client_secret_post");
    Ok(Endpoints {
        authorization,
        token,
        registration,
        scope,
        resource: text(&resource_meta, "resource"),
        basic_only,
        revocation: configured
            .revocation_endpoint
            .clone()
            .or_else(|| text(&meta, "revocation_endpoint")),
    })
}

/// A client registered for us at `endpoint` (RFC 7591): its id, its secret when it got one,
/// and whether the secret goes in a Basic header. Asked with the server's `oauth_headers`.
pub async fn register(
    guarded: &Guarded,
    endpoint: &str,
    redirect_uri: &str,
    scope: Option<&str>,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<(String, Option<String>, bool), String> {
    let mut body = json!({
        "client_name": "LibreChat",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_post",
    });
    if let Some(s) = scope {
        body["scope"] = json!(s);
    }
    let answer = fetch(guarded, endpoint, Some(&body), headers, timeout).await?;
    let id = answer["client_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or("the registration gave no client id")?;
    let secret = answer["client_secret"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let basic = answer["token_endpoint_auth_method"] == "client_secret_basic";
    Ok((id.to_owned(), secret, basic))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_documents_go_before_the_path() {
        let u = url::Url::parse("https://a.example/tenant/mcp").unwrap();
        assert_eq!(
            well_known(&u, "/.well-known/oauth-protected-resource"),
            "https://a.example/.well-known/oauth-protected-resource/tenant/mcp"
        );
        let root = url::Url::parse("https://a.example/").unwrap();
        assert_eq!(
            well_known(&root, "/.well-known/oauth-authorization-server"),
            "https://a.example/.well-known/oauth-authorization-server"
        );
    }
}
