//! The Node scripts of tests/e2e: the browser suites (Playwright driving Debian's chromium)
//! and the contract test (librechat-data-provider's schemas). They need node, the npm packages
//! (`npm ci` in tests/e2e) and, for a browser, chromium; a suite skips with a note where one
//! is missing, unless LIBRECHAT_REQUIRE_PEERS is set (as `.ci/run` does, after installing them).

use std::path::{Path, PathBuf};
use std::process::Command;

/// tests/e2e, where the scripts and their node_modules are.
pub fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

/// What a script needs besides node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// chromium and playwright-core.
    Browser,
    /// librechat-data-provider.
    Library,
}

/// Why a script cannot run here, or `None` when everything it needs is installed.
pub fn missing_peer(needs: Needs) -> Option<String> {
    let e2e = e2e_dir();
    let package = match needs {
        Needs::Browser => {
            let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
            if !Path::new(&chromium).exists() {
                return Some(format!(
                    "{chromium} is not installed (apt install chromium)"
                ));
            }
            "playwright-core"
        }
        Needs::Library => "librechat-data-provider",
    };
    if !e2e.join("node_modules").join(package).is_dir() {
        return Some(format!(
            "tests/e2e/node_modules/{package} is missing (npm ci in tests/e2e)"
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    None
}

/// Whether `suite` can run: with `why` (something missing) it cannot, which is a note, or a
/// failure when LIBRECHAT_REQUIRE_PEERS says everything must be there.
pub fn ready(suite: &str, why: Option<String>) -> bool {
    let Some(why) = why else {
        return true;
    };
    assert!(
        std::env::var_os("LIBRECHAT_REQUIRE_PEERS").is_none(),
        "{suite} cannot run: {why}"
    );
    eprintln!("skipping {suite}: {why}");
    false
}

/// A browser suite's failure, told so that a CI summary (which keeps the end of the output)
/// shows what failed: the server's last log lines first, then the suite's own report.
pub fn failure(what: &str, out: &str, server_log: &str) -> String {
    const LINES: usize = 200;
    let lines: Vec<&str> = server_log.lines().collect();
    let tail = lines[lines.len().saturating_sub(LINES)..].join("\n");
    format!(
        "{what}\n--- the server's last {} log lines ---\n{tail}\n--- the suite's output ---\n{out}",
        LINES.min(lines.len())
    )
}

/// Runs `node script` in tests/e2e with `env` (BASE_URL, ...), off the async threads. Its
/// output is printed; `Err` holds it with the errors when the script fails.
pub async fn node_suite(script: &str, env: &[(&str, &str)]) -> Result<(), String> {
    let script = script.to_owned();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .current_dir(e2e_dir())
            .envs(env)
            .output()
            .expect("run node")
    })
    .await
    .expect("the node script's thread");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{stdout}\n{stderr}"))
    }
}
