//! `librechat mcp list|test NAME` and `librechat doctor` with MCP servers: a real one over
//! stdio (PyPI's `mcp-server-time`), one whose command does not exist, one that takes each
//! person's values and one that takes each chat turn's.

mod support;

use std::path::Path;

use support::{librechat, run, text};

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let py = support::mcp::python();
    std::fs::write(
        dir.path().join("librechat.yaml"),
        format!(
            "version: 1.3.17\nmcpServers:\n  time:\n    command: {py}\n    args: ['-m', 'mcp_server_time']\n  broken:\n    command: /nonexistent/mcp-server\n    args: []\n  personal:\n    type: streamable-http\n    url: https://mcp.example.org/mcp?token=s3cret\n    headers:\n      X-User: '{{{{LIBRECHAT_USER_ID}}}}'\n  turn:\n    type: streamable-http\n    url: https://mcp.example.org/mcp\n    headers:\n      X-Conversation: '{{{{LIBRECHAT_BODY_CONVERSATIONID}}}}'\n"
        ),
    )
    .unwrap();
    // Under LIBRECHAT_TEST_DATABASE=postgres, the commands below use a database of their own.
    support::profile_database(dir.path());
    run(librechat(dir.path()).args(["db", "migrate"]));
    dir
}

fn mcp(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = librechat(dir).arg("mcp").args(args).output().unwrap();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn list_and_test_report_each_server() {
    let dir = folder();
    let (code, out, _) = mcp(dir.path(), &["list"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("time\tstdio\t") && out.contains("-m mcp_server_time\tstartup"),
        "{out}"
    );
    // A URL is shown without its query (it may carry a credential).
    assert!(
        out.contains("personal\tstreamable-http\thttps://mcp.example.org/mcp\t"),
        "{out}"
    );
    assert!(!out.contains("s3cret"), "{out}");
    assert!(out.contains("one connection per person"), "{out}");
    assert!(
        out.contains("turn\tstreamable-http\thttps://mcp.example.org/mcp\tstartup, one connection per chat turn"),
        "{out}"
    );

    let (code, out, _) = mcp(dir.path(), &["test", "time"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with("time: connected over stdio in ") && out.contains("; 2 tools"),
        "{out}"
    );
    assert!(out.contains("  get_current_time_mcp_time\n"), "{out}");

    let (code, _, err) = mcp(dir.path(), &["test", "broken"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(
            "MCP server `broken` could not be reached: could not start `/nonexistent/mcp-server`"
        ),
        "{err}"
    );
    let (code, _, err) = mcp(dir.path(), &["test", "nobody"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no MCP server named \"nobody\""), "{err}");
}

#[test]
fn doctor_connects_to_each_server_it_can() {
    let dir = folder();
    let out = librechat(dir.path()).arg("doctor").output().unwrap();
    let report = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the broken server fails it: {report}"
    );
    let has = |s: &str| report.lines().any(|l| l.contains(s));
    assert!(
        has("MCP server time (stdio): 2 tools, connected in "),
        "{report}"
    );
    assert!(has("MCP server `broken` could not be reached"), "{report}");
    assert!(
        has("MCP server personal: one connection per person"),
        "{report}"
    );
    assert!(
        has("MCP server turn: one connection per chat turn"),
        "{report}"
    );
}
