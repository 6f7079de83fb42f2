//! `librechat doctor` against real peers: the fake OpenAI (key accepted, key refused), a real
//! SMTP server (aiosmtpd) and a closed port, real slapd (service account accepted, refused),
//! fakes of an embeddings endpoint and of SearXNG (answering, failing, absent), and data
//! folders that are healthy, open to everyone, corrupt or from a newer version.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use support::fake_embeddings::FakeEmbeddings;
use support::fake_openai::{FakeOpenAi, KEY};
use support::fake_search::{FakeSearch, FakeWeb, Private};
use support::slapd::{ADMIN_DN, ADMIN_PW, SUFFIX, Slapd};
use support::smtp::SmtpSink;
use support::{librechat, run, text};

/// A data folder with a migrated database, as after a first start.
fn data_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    run(librechat(dir.path()).args(["db", "migrate"]));
    dir
}

fn doctor(dir: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = librechat(dir);
    cmd.arg("doctor");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out: Output = cmd.output().unwrap();
    (out.status.code(), text(&out.stdout))
}

fn line<'a>(report: &'a str, starts: &str, has: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.starts_with(starts) && l.contains(has))
        .unwrap_or_else(|| panic!("no `{starts} ... {has}` in:\n{report}"))
}

#[tokio::test]
async fn a_healthy_install_passes() {
    let fake = FakeOpenAi::start().await;
    let dir = data_folder();
    let mut env = vec![
        ("OPENAI_API_KEY", KEY.to_owned()),
        ("OPENAI_REVERSE_PROXY", fake.base.clone()),
    ];
    let sink = SmtpSink::start();
    if let Some(sink) = &sink {
        env.extend([
            ("EMAIL_HOST", "127.0.0.1".to_owned()),
            ("EMAIL_PORT", sink.port.to_string()),
            ("EMAIL_FROM", "chat@example.org".to_owned()),
        ]);
    }
    let (code, report) = tokio::task::spawn_blocking({
        let path = dir.path().to_owned();
        move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            doctor(&path, &env)
        }
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{report}");
    line(&report, "ok", "data folder");
    line(&report, "ok", "is writable");
    line(&report, "ok", "GB free");
    line(&report, "ok", "database schema");
    line(&report, "ok", "integrity check passed");
    line(&report, "ok", "endpoint openAI: reachable, key accepted");
    line(&report, "ok", "clock agrees");
    if sink.is_some() {
        line(&report, "ok", "mail server 127.0.0.1");
    }
    assert!(!report.contains("FAIL"), "{report}");
}

#[test]
fn sections_not_supported_yet_are_noted() {
    let dir = data_folder();
    std::fs::write(
        dir.path().join("librechat.yaml"),
        "version: 1.3.17\nfileStrategy: firebase\nwebSearch: {}\ninterface:\n  runCode: true\n",
    )
    .unwrap();
    let (_, report) = doctor(dir.path(), &[]);
    line(
        &report,
        "note",
        "`fileStrategy: firebase` is not supported (only `local` and `s3`)",
    );
    // Web search and MCP servers are read (tests/web_search.rs, tests/mcp_cli.rs).
    assert!(!report.contains("`webSearch`"), "{report}");
    line(&report, "note", "`interface.runCode` has no effect");

    // S3 without its settings is broken, and says which one is missing.
    std::fs::write(
        dir.path().join("librechat.yaml"),
        "version: 1.3.17\nfileStrategy: s3\n",
    )
    .unwrap();
    let (code, report) = doctor(dir.path(), &[("AWS_REGION", "us-east-1")]);
    assert_eq!(code, Some(1), "{report}");
    line(
        &report,
        "FAIL",
        "`fileStrategy: s3`, but AWS_BUCKET_NAME is not set",
    );
}

#[tokio::test]
async fn what_is_broken_is_named_with_a_fix() {
    let fake = FakeOpenAi::start().await;
    let dir = data_folder();
    let data = dir.path().join("data");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let base = fake.base.clone();
    let (code, report) = tokio::task::spawn_blocking({
        let path = dir.path().to_owned();
        move || {
            doctor(
                &path,
                &[
                    ("OPENAI_API_KEY", "sk-wrong"),
                    ("OPENAI_REVERSE_PROXY", &base),
                    ("EMAIL_HOST", "127.0.0.1"),
                    ("EMAIL_PORT", &closed_port),
                    ("EMAIL_FROM", "chat@example.org"),
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{report}");
    line(
        &report,
        "FAIL",
        "endpoint openAI: the provider refused the key (401)",
    );
    line(&report, "FAIL", "mail server 127.0.0.1");
    line(
        &report,
        "warn",
        "open to every user of this machine (mode 755)",
    );
    assert!(report.contains("fix: chmod 750"), "{report}");
    assert!(
        report.contains("fix: check the endpoint's API key"),
        "{report}"
    );
    assert!(
        !report.contains("sk-wrong"),
        "keys are never printed: {report}"
    );

    // An endpoint nobody answers for.
    let (code, report) = doctor(
        dir.path(),
        &[
            ("OPENAI_API_KEY", "sk-any"),
            ("OPENAI_REVERSE_PROXY", "http://127.0.0.1:9/v1"),
        ],
    );
    assert_eq!(code, Some(1));
    line(&report, "FAIL", "endpoint openAI: unreachable");
}

#[test]
fn a_damaged_or_newer_database_and_bad_settings_fail() {
    let dir = data_folder();
    let db = dir.path().join("data/librechat.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA user_version = 999")
        .unwrap();
    let (code, report) = doctor(dir.path(), &[]);
    assert_eq!(code, Some(1), "{report}");
    line(&report, "FAIL", "database schema 999 is newer");
    line(&report, "warn", "no AI endpoint is configured");

    std::fs::write(&db, vec![b'x'; 8192]).unwrap();
    let (code, report) = doctor(dir.path(), &[]);
    assert_eq!(code, Some(1), "{report}");
    line(&report, "FAIL", "database");

    let (code, report) = doctor(dir.path(), &[("METRICS_ADDR", "everywhere")]);
    assert_eq!(code, Some(1));
    line(&report, "FAIL", "configuration: METRICS_ADDR");

    // Nothing there yet: a note, not a failure.
    let fresh = tempfile::tempdir().unwrap();
    let (code, report) = doctor(fresh.path(), &[]);
    assert_eq!(code, Some(0), "{report}");
    line(&report, "note", "does not exist yet");
}

#[tokio::test]
async fn ldap_service_account_is_checked() {
    let Some(slapd) = Slapd::start(false) else {
        return;
    };
    slapd.add_people(&[]).await;
    let dir = data_folder();
    let base = format!("ou=people,{SUFFIX}");
    for (pw, ok) in [(ADMIN_PW, true), ("wrong", false)] {
        let (url, base, pw) = (slapd.url.clone(), base.clone(), pw.to_owned());
        let path = dir.path().to_owned();
        let (code, report) = tokio::task::spawn_blocking(move || {
            doctor(
                &path,
                &[
                    ("LDAP_URL", &url),
                    ("LDAP_USER_SEARCH_BASE", &base),
                    ("LDAP_BIND_DN", ADMIN_DN),
                    ("LDAP_BIND_CREDENTIALS", &pw),
                ],
            )
        })
        .await
        .unwrap();
        if ok {
            line(&report, "ok", "LDAP ldap://127.0.0.1");
        } else {
            assert_eq!(code, Some(1), "{report}");
            line(
                &report,
                "FAIL",
                "service account (LDAP_BIND_DN) was refused",
            );
        }
    }
}

#[tokio::test]
async fn file_and_web_search_services_are_checked() {
    let embeddings = FakeEmbeddings::start().await;
    let private = Private::start().await;
    let web = FakeWeb::start(&private).await;
    let search = FakeSearch::start(&web).await;
    let dir = data_folder();
    let run = |env: Vec<(&'static str, String)>| {
        let path = dir.path().to_owned();
        tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            doctor(&path, &env)
        })
    };
    let mut env = embeddings.env();
    env.push(("SEARXNG_INSTANCE_URL", search.base.clone()));
    env.push(("JINA_API_KEY", "jina-key".into()));
    let (code, report) = run(env).await.unwrap();
    assert_eq!(code, Some(0), "{report}");
    line(
        &report,
        "ok",
        "embeddings: openai text-embedding-3-small answers",
    );
    line(&report, "ok", "web search: SearXNG at http://127.0.0.1");
    line(
        &report,
        "note",
        "the built-in scraper reads the pages; Jina ranks",
    );
    assert!(
        !report.contains("jina-key"),
        "keys are never printed: {report}"
    );

    // The endpoint fails and SearXNG is not there: both fail, with what to check.
    embeddings.fail_after(Some(0));
    let mut env = embeddings.env();
    env.push(("SEARXNG_INSTANCE_URL", "http://127.0.0.1:9".into()));
    let (code, report) = run(env).await.unwrap();
    assert_eq!(code, Some(1), "{report}");
    line(
        &report,
        "FAIL",
        "embeddings: openai text-embedding-3-small: 500",
    );
    line(&report, "FAIL", "web search: SearXNG at http://127.0.0.1:9");

    // Serper is named, never asked (each query is billed).
    let env = vec![("SERPER_API_KEY", "serper-key".to_owned())];
    let (_, report) = run(env).await.unwrap();
    line(&report, "note", "web search: Serper (not asked");
}
