//! The HTTP request a call to an operation makes, as LibreChat's `ActionRequest` builds it:
//! path arguments into the path (percent-encoded), query and header arguments where the
//! document puts them, the rest in a JSON (or form) body; arguments the document does not
//! place go to the query of a GET and the body of anything else.

use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::spec::{Location, Operation};

/// A request ready to send.
#[derive(Debug)]
pub(super) struct Prepared {
    pub method: Method,
    pub url: url::Url,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The content type and the bytes.
    pub body: Option<(String, Vec<u8>)>,
}

/// Headers a call may never set: the connection's own.
const FORBIDDEN_HEADERS: [&str; 6] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
];

/// An argument as text: strings as they are, other scalars as JSON writes them, lists and
/// objects as JSON.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// LibreChat's `createURL`: the server URL and the path, one `/` between.
fn join(server: &str, path: &str) -> String {
    format!(
        "{}/{}",
        server.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Builds the request for a call to `op` with `args` on the server `server`.
pub(super) fn prepare(
    server: &str,
    op: &Operation,
    args: &Map<String, Value>,
) -> Result<Prepared, String> {
    let method = match op.method.as_str() {
        "get" => Method::GET,
        "post" => Method::POST,
        "put" => Method::PUT,
        "delete" => Method::DELETE,
        "patch" => Method::PATCH,
        "head" => Method::HEAD,
        "options" => Method::OPTIONS,
        other => return Err(format!("Unsupported HTTP method: {other}")),
    };
    let reads_body = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let mut path = op.path.clone();
    let mut query: Vec<(String, String)> = Vec::new();
    let mut headers = Vec::new();
    let mut body = Map::new();
    for (key, value) in args {
        let place = op.locations.get(key).copied().unwrap_or(if reads_body {
            Location::Body
        } else {
            Location::Query
        });
        match place {
            Location::Path => {
                let pattern = format!("{{{key}}}");
                let encoded =
                    percent_encoding::utf8_percent_encode(&as_text(value), COMPONENT).to_string();
                path = path.replace(&pattern, &encoded);
            }
            Location::Query => match value {
                // OpenAPI's default for a list in the query: the key once per item.
                Value::Array(items) => {
                    query.extend(items.iter().map(|i| (key.clone(), as_text(i))));
                }
                Value::Null => {}
                other => query.push((key.clone(), as_text(other))),
            },
            Location::Header => {
                let name = HeaderName::try_from(key.as_str())
                    .map_err(|_| format!("{key:?} cannot be a header name"))?;
                if FORBIDDEN_HEADERS.contains(&name.as_str()) {
                    return Err(format!("the header {key:?} cannot be set"));
                }
                let value = HeaderValue::try_from(as_text(value))
                    .map_err(|_| format!("the value of the header {key:?} is not valid"))?;
                headers.push((name, value));
            }
            Location::Body => {
                body.insert(key.clone(), value.clone());
            }
        }
    }
    let server_url = url::Url::parse(server).map_err(|_| "the action's server URL is not a URL")?;
    let mut url = url::Url::parse(&join(server, &path))
        .map_err(|_| "the operation's path does not make a URL".to_owned())?;
    // A path (with what the model put in it) never leads off the action's server.
    if url.origin() != server_url.origin() {
        return Err("the request would leave the action's server".into());
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    let body = if !reads_body || (method == Method::DELETE && body.is_empty()) {
        None
    } else {
        let declared = op.content_type.as_deref().unwrap_or("application/json");
        if declared.starts_with("application/x-www-form-urlencoded") {
            let form = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(body.iter().map(|(k, v)| (k, as_text(v))))
                .finish();
            Some((declared.to_owned(), form.into_bytes()))
        } else {
            let json = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
            let kind = if declared.contains("json") {
                declared
            } else {
                "application/json"
            };
            Some((kind.to_owned(), json))
        }
    };
    Ok(Prepared {
        method,
        url,
        headers,
        body,
    })
}

/// What `encodeURIComponent` leaves as it is: letters, digits and `-_.!~*'()`.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn op(method: &str, path: &str, locations: &[(&str, Location)]) -> Operation {
        Operation {
            name: "op".into(),
            description: String::new(),
            parameters: json!({}),
            method: method.into(),
            path: path.into(),
            locations: locations
                .iter()
                .map(|(k, l)| (k.to_string(), *l))
                .collect::<HashMap<_, _>>(),
            content_type: None,
        }
    }

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn arguments_go_where_the_document_puts_them() {
        let o = op(
            "get",
            "/pets/{id}",
            &[("id", Location::Path), ("X-Trace", Location::Header)],
        );
        let p = prepare(
            "https://api.example.com/v1/",
            &o,
            &args(json!({"id": "a/b ?", "X-Trace": "t1", "tags": ["x", "y"], "limit": 5})),
        )
        .unwrap();
        assert_eq!(
            p.url.as_str(),
            "https://api.example.com/v1/pets/a%2Fb%20%3F?limit=5&tags=x&tags=y"
        );
        assert_eq!(p.headers[0].0, "x-trace");
        assert!(p.body.is_none());
        let post = op("post", "/pets", &[]);
        let p = prepare(
            "https://api.example.com",
            &post,
            &args(json!({"name": "Rex"})),
        )
        .unwrap();
        let (kind, bytes) = p.body.unwrap();
        assert_eq!(kind, "application/json");
        assert_eq!(bytes, br#"{"name":"Rex"}"#);
    }

    #[test]
    fn a_call_cannot_leave_the_server_or_set_connection_headers() {
        let o = op(
            "get",
            "/{x}",
            &[("x", Location::Path), ("Host", Location::Header)],
        );
        // Percent-encoding keeps `@`, `/` and `:` inside the path.
        let p = prepare(
            "https://api.example.com",
            &o,
            &args(json!({"x": "@evil.com:80/"})),
        )
        .unwrap();
        assert_eq!(p.url.host_str(), Some("api.example.com"));
        assert!(
            prepare(
                "https://api.example.com",
                &o,
                &args(json!({"Host": "evil"}))
            )
            .is_err()
        );
        let weird = op("get", "//evil.com/x", &[]);
        assert!(
            prepare("https://api.example.com", &weird, &Map::new())
                .is_ok_and(|p| p.url.host_str() == Some("api.example.com"))
        );
    }
}
