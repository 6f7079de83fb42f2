//! The OpenAPI document: served at `/api/openapi.json` and printed by `librechat openapi`;
//! every route is in it (no route is registered without `routes!`, which documents it), and
//! every operation in it exists on the real server (answers something other than the
//! "no route" fallback).

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{TestServer, librechat, run, text};

const ROUTES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/server/routes");

#[test]
fn no_route_is_registered_undocumented() {
    for entry in std::fs::read_dir(ROUTES).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        for (n, line) in source.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            assert!(
                !code.contains(".route(") && !code.contains("Router::new()")
                    || code.contains("OpenApiRouter::new()"),
                "{}:{}: a route registered without `routes!` would be missing from the OpenAPI document: {line}",
                path.display(),
                n + 1
            );
        }
    }
}

/// Every handler that reads a body (JSON, a form, an upload, raw bytes or text) says so in
/// its `#[utoipa::path]`.
#[test]
fn every_body_is_documented() {
    let mut handlers = 0;
    for path in rust_files(Path::new(ROUTES)) {
        let source = std::fs::read_to_string(&path).unwrap();
        for chunk in source.split("#[utoipa::path(").skip(1) {
            let (attr, rest) = chunk.split_once(")]\n").unwrap();
            // The parameters: up to the return type or the body.
            let end = [") ->", ") {"]
                .iter()
                .filter_map(|m| rest.find(m))
                .min()
                .unwrap();
            let signature = &rest[..end];
            let reads_body = [
                "JsonBody<",
                "Json<",
                "Form<",
                "Multipart",
                "Bytes",
                "Request",
                ": String,",
            ]
            .iter()
            .any(|b| signature.contains(b))
                // A sensitive change reads its body, except on a GET.
                || (signature.contains("RecentProof<") && !attr.starts_with("get,"));
            assert_eq!(
                reads_body,
                attr.contains("request_body"),
                "{}: {}",
                path.display(),
                rest.lines().next().unwrap()
            );
            handlers += 1;
        }
    }
    assert!(handlers > 80, "{handlers} handlers");
}

/// The structs that describe bodies have names no other shares, anywhere in the crate: the
/// document keeps one schema per name, and a clash would describe one body with another's.
#[test]
fn body_schemas_have_their_own_names() {
    let mut names = std::collections::HashMap::new();
    for path in rust_files(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))) {
        let source = std::fs::read_to_string(&path).unwrap();
        for chunk in source.split("ToSchema").skip(1) {
            // The attributes after the derive, up to the struct or enum they describe.
            let item = chunk.split(['{', ';']).next().unwrap();
            let declared = item
                .split_whitespace()
                .skip_while(|w| *w != "struct" && *w != "enum")
                .nth(1)
                .unwrap_or_else(|| panic!("{}: ToSchema on what? {item}", path.display()));
            let name = item
                .split("#[schema(as = ")
                .nth(1)
                .map_or(declared, |r| r.split(')').next().unwrap());
            if let Some(other) = names.insert(name.to_owned(), path.clone()) {
                panic!(
                    "schema {name} in {} and {}",
                    other.display(),
                    path.display()
                );
            }
        }
    }
    assert!(names.len() > 15, "{names:?}");
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn the_document_lists_every_route_and_each_exists() {
    let server = TestServer::start().await;
    let resp = server.get("/api/openapi.json").await;
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "librechat");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/convos", "get"),
        ("/api/convos", "delete"),
        ("/api/agents/chat/{endpoint}", "post"),
        ("/api/agents/chat/stream/{stream_id}", "get"),
        ("/api/convos/import", "post"),
        ("/oauth/saml/callback", "post"),
        ("/api/openapi.json", "get"),
        ("/health", "get"),
    ] {
        assert!(paths[path].get(method).is_some(), "{method} {path}");
    }
    // Request bodies come from the structs the handlers deserialize.
    let schemas = &doc["components"]["schemas"];
    let body = |path: &str, method: &str| {
        let content = &paths[path][method]["requestBody"]["content"];
        let schema = &content["application/json"]["schema"];
        match schema["$ref"].as_str() {
            Some(r) => schemas[r.trim_start_matches("#/components/schemas/")].clone(),
            None => schema.clone(),
        }
    };
    let login = body("/api/auth/login", "post");
    assert!(
        login["properties"]["email"].is_object() && login["properties"]["password"].is_object(),
        "{login}"
    );
    let tags = body("/api/tags/convo/{conversation_id}", "put");
    assert_eq!(tags["properties"]["tags"]["type"], "array", "{tags}");
    let banner = body("/api/admin/banner", "put");
    assert!(banner["properties"]["displayFrom"].is_object(), "{banner}");
    assert!(body("/api/presets", "post")["type"] == "object");
    assert!(
        paths["/oauth/saml/callback"]["post"]["requestBody"]["content"]
            ["application/x-www-form-urlencoded"]["schema"]
            .is_object()
    );
    assert!(
        paths["/api/convos/import"]["post"]["requestBody"]["content"]["multipart/form-data"]
            .is_object()
    );
    let mut ids = std::collections::HashSet::new();
    for item in paths.values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            assert!(
                op["summary"].is_string() || op["description"].is_string(),
                "{id} says what it does"
            );
        }
    }
    let mut operations = 0;
    for (path, item) in paths {
        // Path parameters are documented.
        for name in path
            .split('{')
            .skip(1)
            .map(|p| p.split('}').next().unwrap())
        {
            for op in item.as_object().unwrap().values() {
                let params = op["parameters"].as_array().unwrap();
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path"),
                    "{path}: {name}"
                );
            }
        }
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            operations += 1;
            let resp = server
                .client
                .request(
                    method.to_uppercase().parse().unwrap(),
                    server.url(&concrete),
                )
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap_or_default();
            assert!(
                !(status == 404 && body.contains("no route for")) && status != 405,
                "{method} {path} is documented but not served: {status} {body}"
            );
        }
    }
    assert!(operations > 80, "{operations} operations");
    server.stop().await;
}

#[test]
fn the_command_prints_the_same_document() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(librechat(dir.path()).arg("openapi"));
    let doc: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert!(doc["paths"]["/api/convos"]["get"].is_object());
}
