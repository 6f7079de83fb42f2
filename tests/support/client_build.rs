//! LibreChat's own client build (a tarball of its `client/dist`, see
//! /work/shared/librechat-client/README.md), found and unpacked for a server's `CLIENT_DIR`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The client build: `LIBRECHAT_CLIENT_TARBALL`, else the tarball beside the project
/// (`../shared/librechat-client/`), else the one in /work/shared.
pub fn client_tarball() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LIBRECHAT_CLIENT_TARBALL") {
        return Some(PathBuf::from(p));
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/librechat-client");
    [beside, PathBuf::from("/work/shared/librechat-client")]
        .iter()
        .find_map(|dir| {
            let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(".tar.xz"))
                .collect();
            found.sort();
            found.pop()
        })
}

/// Why LibreChat's client cannot be driven in a browser here (no client build, no chromium or
/// npm packages), or `None`.
pub fn missing() -> Option<String> {
    match client_tarball().filter(|t| t.is_file()) {
        None => Some("LibreChat's client build (librechat-client-*.tar.xz) is not here".into()),
        Some(_) => super::node::missing_peer(super::node::Needs::Browser),
    }
}

/// Unpacks the tarball into `into`; returns the folder that holds `index.html`.
pub fn unpack(tarball: &Path, into: &Path) -> PathBuf {
    let out = Command::new("tar")
        .arg("-xJf")
        .arg(tarball)
        .arg("-C")
        .arg(into)
        .output()
        .expect("run tar");
    assert!(
        out.status.success(),
        "cannot unpack {}: {}",
        tarball.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    if into.join("index.html").is_file() {
        return into.to_path_buf();
    }
    std::fs::read_dir(into)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.join("index.html").is_file())
        .unwrap_or_else(|| panic!("{} holds no index.html", tarball.display()))
}
