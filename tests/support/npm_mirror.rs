//! A mirror of the npm CDN (jsDelivr's `/npm/<package>@<version>/<file>` layout) serving the
//! packages installed in tests/e2e/node_modules, for the bundled app's artifact previews
//! (`ARTIFACT_LIBRARIES_URL`). Like the CDN it answers any origin (`Access-Control-Allow-Origin:
//! *`, which the previews' integrity-checked loads need from their opaque origin), and only for
//! the version that is installed. It keeps the paths it served.

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

#[derive(Clone)]
struct Shared {
    root: Arc<PathBuf>,
    served: Arc<Mutex<Vec<String>>>,
}

pub struct NpmMirror {
    /// What `ARTIFACT_LIBRARIES_URL` is set to: `http://127.0.0.1:<port>/npm`.
    pub base: String,
    served: Arc<Mutex<Vec<String>>>,
}

impl NpmMirror {
    pub async fn start() -> Self {
        let shared = Shared {
            root: Arc::new(super::node::e2e_dir().join("node_modules")),
            served: Arc::default(),
        };
        let served = shared.served.clone();
        let app = Router::new()
            .route("/npm/{*path}", get(file))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        NpmMirror {
            base: format!("http://127.0.0.1:{port}/npm"),
            served,
        }
    }

    /// The `<package>@<version>/<file>` paths served so far, in order.
    pub fn served(&self) -> Vec<String> {
        self.served.lock().unwrap().clone()
    }
}

/// `<package>@<version>` and the file's path inside it; a scoped package is `@scope/name`.
fn split(path: &str) -> Option<(&str, &str, &str)> {
    let at = if path.starts_with('@') {
        path.find('/')? + 1
    } else {
        0
    };
    let slash = at + path[at..].find('/')?;
    let (package, version) = path[..slash].rsplit_once('@')?;
    Some((package, version, &path[slash + 1..]))
}

/// The installed version of `package`.
fn installed(root: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(root.join(package).join("package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["version"].as_str().map(str::to_owned)
}

async fn file(State(s): State<Shared>, UrlPath(path): UrlPath<String>) -> Response {
    let Some((package, version, inner)) = split(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let inside = Path::new(inner)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if !inside || installed(&s.root, package).as_deref() != Some(version) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(bytes) = std::fs::read(s.root.join(package).join(inner)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    s.served.lock().unwrap().push(path.clone());
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        bytes,
    )
        .into_response()
}
