//! The `librechat` binary as an operator uses it: help, config check, db commands, serve, signals
//! and the clear one-line errors for bad input.

mod support;

use std::os::unix::fs::PermissionsExt;

use support::{ServeProcess, assert_clean_failure, http_get, librechat, run, text};

#[test]
fn version_and_help_with_examples() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(librechat(dir.path()).arg("--version"));
    assert!(out.status.success());
    // The commit it was built from follows (see tests/packaging.rs).
    assert!(
        text(&out.stdout).starts_with(&format!("librechat {} (", env!("CARGO_PKG_VERSION"))),
        "{}",
        text(&out.stdout)
    );
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["config", "--help"],
        vec!["db", "--help"],
        vec!["config", "check", "--help"],
        vec!["db", "migrate", "--help"],
        vec!["db", "check", "--help"],
        vec!["db", "backup", "--help"],
    ] {
        let out = run(librechat(dir.path()).args(&args));
        assert!(out.status.success(), "{args:?}");
        assert!(
            text(&out.stdout).contains("Example"),
            "{args:?} has no example"
        );
    }
}

#[test]
fn config_check_prints_settings_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("librechat.yaml"),
        "version: 1.2.8\nendpoints:\n  custom:\n    - name: groq\n      apiKey: '${GROQ_API_KEY}'\n      baseURL: https://api.groq.com/openai/v1\n",
    )
    .unwrap();
    let out = run(librechat(dir.path())
        .args(["config", "check"])
        .env("JWT_SECRET", "super-secret-jwt-for-the-config-check")
        .env("GROQ_API_KEY", "gsk_live_key")
        // Single sign-on: the settings show, their secrets do not.
        .env("LDAP_URL", "ldap://127.0.0.1:389")
        .env("LDAP_USER_SEARCH_BASE", "ou=people,dc=example,dc=org")
        .env("LDAP_BIND_CREDENTIALS", "ldap-service-pw")
        .env("OPENID_CLIENT_ID", "librechat")
        .env("OPENID_CLIENT_SECRET", "oidc-client-secret")
        .env("OPENID_ISSUER", "https://idp.example.org")
        .env("OPENID_SESSION_SECRET", "oidc-session-secret")
        .env("GITHUB_CLIENT_ID", "gh-id")
        .env("GITHUB_CLIENT_SECRET", "gh-client-secret"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("port: 3080"));
    assert!(stdout.contains("********"));
    assert!(stdout.contains("endpoints: (set; not printed"), "{stdout}");
    assert!(
        stdout.contains("search_filter: mail={{username}}")
            && stdout.contains("issuer: https://idp.example.org")
            && stdout.contains("/login/oauth/authorize"),
        "{stdout}"
    );
    for leak in [
        "super-secret-jwt-for-the-config-check",
        "gsk_live_key",
        "ldap-service-pw",
        "oidc-client-secret",
        "oidc-session-secret",
        "gh-client-secret",
    ] {
        assert!(
            !stdout.contains(leak) && !text(&out.stderr).contains(leak),
            "{leak} leaked"
        );
    }
    assert!(
        !dir.path().join("data").exists(),
        "config check must not write anything"
    );
}

#[test]
fn odd_but_valid_configuration_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("librechat.yaml"),
        "interface:\n  newToggle: true\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "APP_TITLE=Team#1\nALLOW_REGISTRATION: false\n",
    )
    .unwrap();
    let out = run(librechat(dir.path()).args(["config", "check"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("no `version`"), "{err}");
    assert!(err.contains("unknown key `interface.newToggle`"), "{err}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("app_title: Team\n"),
        "read like Node's dotenv: {stdout}"
    );
    assert!(stdout.contains("allow_registration: false"), "{stdout}");
}

#[test]
fn librechats_example_yaml_loads_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/librechat.example.yaml"
    );
    let out = run(librechat(dir.path()).args(["config", "check", "--config", example]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(!err.contains("unknown key"), "{err}");
    // What it sets for features not built here is named, not silently taken; actions are read.
    assert!(!err.contains("`actions`"), "{err}");
    assert!(!err.contains("`interface.fileCitations`"), "built: {err}");
    assert!(!err.contains("`interface.multiConvo`"), "built: {err}");
    assert!(!err.contains("`interface.fileSearch`"), "built: {err}");
    assert!(
        !err.contains("`interface.agents`") && !err.contains("`endpoints.agents`"),
        "agents are built: {err}"
    );
    assert!(
        !err.contains("`interface.prompts`"),
        "prompts are built: {err}"
    );
}

/// A librechat.yaml setting many features that do not exist here yet.
const UNSUPPORTED_YAML: &str = "version: 1.3.17
interface:
  bookmarks: true
  agents: false
endpoints:
  agents:
    disableBuilder: true
mcpServers:
  time:
    command: uvx
webSearch:
  serperApiKey: '${SERPER_API_KEY}'
memory:
  disabled: false
  agent:
    id: agent_memory
speech:
  tts: {}
ocr:
  strategy: mistral_ocr
actions:
  allowedDomains: [example.org]
fileConfig:
  serverFileSizeLimit: 100
  ocr:
    supportedMimeTypes: ['^image/png$']
rateLimits:
  stt:
    ipMax: 10
";

/// Each part of the file above that has no effect, as the notes name it.
const UNSUPPORTED_NAMED: [&str; 4] = [
    "`speech.tts` (text to speech on the server) is not supported yet",
    "`ocr` (text recognition in uploads) is not supported yet",
    "`fileConfig.ocr` (text recognition in uploads) is not supported yet",
    "`rateLimits.stt`",
];

#[test]
fn sections_not_supported_yet_are_named_by_config_check_and_at_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("librechat.yaml"), UNSUPPORTED_YAML).unwrap();
    let out = run(librechat(dir.path()).args(["config", "check"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for named in UNSUPPORTED_NAMED {
        assert!(
            err.contains(&format!("note: librechat.yaml: {named}")),
            "{named}: {err}"
        );
    }
    assert!(
        !err.contains("`interface.bookmarks`"),
        "bookmarks work: {err}"
    );
    assert!(!err.contains("SERPER"), "{err}");
    // MCP servers are read (a server with no `args` is LibreChat's error, not ours).
    assert!(!err.contains("mcpServers"), "{err}");
    // The memory agent is read; without `enabled: true` it does not run, and that is said.
    assert!(
        err.contains("warning: librechat.yaml: `memory.agent` has no `enabled: true`"),
        "{err}"
    );
    assert!(!err.contains("`memory.agent` (the memory agent"), "{err}");
    assert!(!err.contains("`actions`"), "actions are read: {err}");

    let server = ServeProcess::start(librechat(dir.path()));
    let (exit, log) = server.signal_and_wait("TERM");
    assert!(exit.success(), "{log}");
    for named in UNSUPPORTED_NAMED {
        assert_eq!(
            log.matches(named).count(),
            1,
            "{named} once at start: {log}"
        );
    }
}

#[test]
fn config_errors_name_the_key_and_exit_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("librechat.yaml");

    std::fs::write(
        &yaml,
        "version: 1.2.8\nbalance:\n  enabled: true\n  startBalance: lots\n",
    )
    .unwrap();
    let out = run(librechat(dir.path()).args(["config", "check"]));
    assert_clean_failure(&out, "librechat.yaml:4");
    assert_clean_failure(&out, "balance.startBalance");

    std::fs::write(&yaml, "version: 1.2.8\ninterface: {\n").unwrap();
    assert_clean_failure(
        &run(librechat(dir.path()).args(["config", "check"])),
        "librechat.yaml:2",
    );

    std::fs::write(&yaml, "version: 1.2.8\n").unwrap();
    for (key, value) in [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("ALLOW_REGISTRATION", "maybe"),
        ("DOMAIN_CLIENT", "not a url"),
        ("CREDS_KEY", "short"),
        ("TRUST_PROXY", "lots"),
        ("CONSOLE_JSON", "maybe"),
        ("HTTP_HEADERS_TIMEOUT_MS", "soon"),
    ] {
        let out = run(librechat(dir.path())
            .args(["config", "check"])
            .env(key, value));
        assert_clean_failure(&out, key);
    }
    // The same checks stop `serve` before it listens.
    let out = run(librechat(dir.path()).args(["serve"]).env("PORT", "eighty"));
    assert_clean_failure(&out, "PORT");

    let out = run(librechat(dir.path()).args(["config", "check", "--config", "missing.yaml"]));
    assert_clean_failure(&out, "missing.yaml");
}

#[test]
fn weak_secrets_in_the_environment_stop_the_server_before_it_listens() {
    let dir = tempfile::tempdir().unwrap();
    // LibreChat's published examples (its .env.example and docs), a short key, and one key
    // used for both token kinds.
    let examples = [
        (
            "JWT_SECRET",
            "16f8c0ef4a5d391b26034086c628469d3f9f497f08163ab9b40137092f2909ef",
        ),
        (
            "JWT_REFRESH_SECRET",
            "eaa5191f2914e30b9387fd84e254e4ba6fc51b4654968a9b0803b456a54b8418",
        ),
        (
            "CREDS_KEY",
            "f34be427ebb29de8d88c107a71546019685ed8b241d8f2ed00c3df97ad2566f0",
        ),
        ("CREDS_IV", "e2341419ec3dd3d19b13a1a87fafcbfb"),
    ];
    let shared = "one-key-for-both-0123456789abcdefghij";
    // (the environment, the variable named, why)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = examples
        .iter()
        .map(|&(k, v)| (vec![(k, v)], k, "example LibreChat publishes"))
        .chain([
            (
                vec![("JWT_SECRET", "changeme")],
                "JWT_SECRET",
                "at least 32",
            ),
            (
                vec![("JWT_SECRET", shared), ("JWT_REFRESH_SECRET", shared)],
                "JWT_REFRESH_SECRET",
                "different from JWT_SECRET",
            ),
        ])
        .collect();
    for (env, name, why) in cases {
        for args in [vec!["serve", "--port", "0"], vec!["config", "check"]] {
            let mut cmd = librechat(dir.path());
            cmd.args(&args).envs(env.iter().copied());
            let out = run(&mut cmd);
            assert_clean_failure(&out, name);
            let err = text(&out.stderr);
            assert!(err.contains(why), "{args:?}: {err}");
            for (_, value) in &env {
                assert!(!err.contains(value), "the value is not printed: {err}");
            }
        }
    }
    // Nothing was started or generated on the way.
    assert!(!dir.path().join("data").join("librechat.db").exists());
}

#[test]
fn layers_dotenv_below_environment_below_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "APP_TITLE=From Dotenv\nSTART_BALANCE=700\nLIBRECHAT_DATA_DIR=dotenv-data\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("librechat.yaml"),
        "version: 1.2.8\nbalance:\n  startBalance: 500\n",
    )
    .unwrap();
    let show = |cmd: &mut std::process::Command| text(&run(cmd).stdout);

    let out = show(librechat(dir.path()).args(["config", "check"]));
    assert!(out.contains("app_title: From Dotenv"), "{out}");
    assert!(
        out.contains("start_balance: 700"),
        ".env beats librechat.yaml: {out}"
    );
    assert!(out.contains("data_dir: dotenv-data"), "{out}");

    let out = show(
        librechat(dir.path())
            .args(["config", "check"])
            .env("APP_TITLE", "From Env"),
    );
    assert!(
        out.contains("app_title: From Env"),
        "environment beats .env: {out}"
    );

    let out = show(librechat(dir.path()).args(["config", "check", "--data-dir", "flag-data"]));
    assert!(
        out.contains("data_dir: flag-data"),
        "flags beat everything: {out}"
    );
}

#[test]
fn db_migrate_then_check() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(librechat(dir.path()).args(["db", "check"]));
    assert_clean_failure(&out, "no database");

    let out = run(librechat(dir.path()).args(["db", "migrate"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let applied = format!("{} migration(s) applied", librechat::db::SCHEMA_VERSION);
    assert!(
        text(&out.stdout).contains(&applied),
        "{}",
        text(&out.stdout)
    );
    let out = run(librechat(dir.path()).args(["db", "migrate"]));
    assert!(
        text(&out.stdout).contains("0 migration(s) applied"),
        "idempotent"
    );

    let out = run(librechat(dir.path()).args(["db", "check"]));
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("integrity: ok"));
}

#[test]
fn a_newer_database_stops_the_server_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("data/librechat.db")).unwrap();
    conn.execute_batch("PRAGMA user_version = 42").unwrap();
    drop(conn);
    let out = run(librechat(dir.path()).args(["serve", "--port", "0"]));
    assert_clean_failure(&out, "newer than this librechat");
}

#[test]
fn an_unusable_data_folder_or_busy_port_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the folder should be.
    std::fs::write(dir.path().join("blocker"), "x").unwrap();
    let out =
        run(librechat(dir.path()).args(["serve", "--port", "0", "--data-dir", "blocker/data"]));
    assert_clean_failure(&out, "blocker/data");

    // A read-only folder, as an unprivileged user would meet it (root ignores permission bits,
    // so when the tests run as root the binary runs as `nobody` through setpriv).
    let ro = dir.path().join("readonly");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = run(&mut unprivileged(
        dir.path(),
        &["serve", "--port", "0", "--data-dir", "readonly/data"],
    ));
    assert_clean_failure(&out, "readonly/data");
    // A data folder that exists but cannot be written.
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(ro.join("data")).unwrap();
    std::fs::set_permissions(ro.join("data"), std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = run(&mut unprivileged(
        dir.path(),
        &["serve", "--port", "0", "--data-dir", "readonly/data"],
    ));
    assert_clean_failure(&out, "Permission denied");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = run(librechat(dir.path()).args(["serve", "--host", "127.0.0.1", "--port", &port]));
    assert_clean_failure(&out, "cannot listen on 127.0.0.1");
}

/// `librechat ARGS` run as an unprivileged user when the tests run as root (from a copy of the
/// binary that user can execute), else as ourselves.
fn unprivileged(dir: &std::path::Path, args: &[&str]) -> std::process::Command {
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| text(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !is_root {
        let mut cmd = librechat(dir);
        cmd.args(args);
        return cmd;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = dir.join("librechat-bin");
    if !copy.exists() {
        std::fs::copy(env!("CARGO_BIN_EXE_librechat"), &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut cmd = std::process::Command::new("setpriv");
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&copy)
        .args(args);
    cmd
}

#[test]
fn one_data_folder_serves_one_server_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(librechat(dir.path()));
    let second = run(librechat(dir.path()).args(["serve", "--host", "127.0.0.1", "--port", "0"]));
    assert_clean_failure(&second, "in use by another running librechat");
    let migrate = run(librechat(dir.path()).args(["db", "migrate"]));
    assert_clean_failure(&migrate, "in use by another running librechat");
    // Reading commands still work while it runs.
    assert!(
        run(librechat(dir.path()).args(["db", "check"]))
            .status
            .success()
    );
    let (exit, _) = server.signal_and_wait("TERM");
    assert!(exit.success());
    // Released on exit.
    assert!(
        run(librechat(dir.path()).args(["db", "migrate"]))
            .status
            .success()
    );
}

#[test]
fn serve_from_nothing_then_stop_cleanly_on_sigterm_and_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(librechat(dir.path()));
    assert_eq!(
        http_get(&format!("{}/health", server.base)),
        (200, "OK".into())
    );
    let (status, page) = http_get(&format!("{}/", server.base));
    assert_eq!(status, 200);
    assert!(page.contains("<title>LibreChat</title>"));
    let data = dir.path().join("data");
    for entry in ["librechat.db", "search", "files", "secrets.env"] {
        assert!(data.join(entry).exists(), "{entry} missing");
    }
    let secrets = std::fs::read_to_string(data.join("secrets.env")).unwrap();

    let (exit, log) = server.signal_and_wait("TERM");
    assert!(exit.success(), "exit {exit:?}\n{log}");
    assert!(log.contains("shutdown complete"), "{log}");
    for line in secrets.lines().filter(|l| !l.starts_with('#')) {
        let value = line.split_once('=').unwrap().1;
        assert!(
            value.len() >= 32 && !log.contains(value),
            "a secret was logged: {line}"
        );
    }
    // The WAL was folded into the database on the way out.
    let wal = data.join("librechat.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);

    // Second start: same secrets; Ctrl-C stops it just as cleanly.
    let server = ServeProcess::start(librechat(dir.path()));
    assert_eq!(http_get(&format!("{}/health", server.base)).0, 200);
    // Ready: its database answers (a load balancer's check).
    let (status, body) = http_get(&format!("{}/ready", server.base));
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"database":"ok","status":"ready"}"#)
    );
    let (exit, log) = server.signal_and_wait("INT");
    assert!(exit.success(), "{log}");
    assert_eq!(
        std::fs::read_to_string(data.join("secrets.env")).unwrap(),
        secrets
    );
    let out = run(librechat(dir.path()).args(["db", "check"]));
    assert!(out.status.success() && text(&out.stdout).contains("integrity: ok"));
}

#[test]
fn backup_while_the_server_runs_and_writes() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(librechat(dir.path()));
    let db_path = dir.path().join("data/librechat.db");

    // Another connection keeps writing while the backup runs, as a busy server would.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let writer = {
        let stop = stop.clone();
        let db_path = db_path.clone();
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(&db_path).unwrap();
            conn.busy_timeout(std::time::Duration::from_secs(10))
                .unwrap();
            let mut n = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || n < 100 {
                conn.execute(
                    "INSERT INTO meta (key, value, updated_at) VALUES (?1, ?2, 'now')",
                    (format!("row-{n}"), "x".repeat(500)),
                )
                .unwrap();
                n += 1;
                if n == 50 {
                    started_tx.send(()).unwrap();
                }
            }
            n
        })
    };
    // The first 50 rows are committed before the backup starts; more keep coming during it.
    started_rx.recv().unwrap();
    let out = run(librechat(dir.path()).args(["db", "backup", "backup.db"]));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("integrity ok"));

    let backup = dir.path().join("backup.db");
    let check = run(librechat(dir.path()).args(["db", "check", "--data-dir", "restore"]));
    assert!(!check.status.success(), "no database in restore/ yet");
    std::fs::create_dir(dir.path().join("restore")).unwrap();
    std::fs::copy(&backup, dir.path().join("restore/librechat.db")).unwrap();
    let check = run(librechat(dir.path()).args(["db", "check", "--data-dir", "restore"]));
    assert!(check.status.success(), "{}", text(&check.stdout));
    assert!(text(&check.stdout).contains("integrity: ok"));

    // A consistent snapshot: some prefix of the writes, no torn row, and the installation id.
    let conn = rusqlite::Connection::open(&backup).unwrap();
    let rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM meta WHERE key LIKE 'row-%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        rows >= 50,
        "rows committed before the backup started are in it ({rows})"
    );
    assert!(rows <= written);
    let max_row: Option<i64> = conn
        .query_row(
            "SELECT max(CAST(substr(key, 5) AS INTEGER)) FROM meta WHERE key LIKE 'row-%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        max_row.map(|m| m + 1).unwrap_or(0),
        rows,
        "rows form a prefix"
    );
    let id: String = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'instance_id'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(id.len(), 24);

    // Refuses to overwrite an existing file.
    let again = run(librechat(dir.path()).args(["db", "backup", "backup.db"]));
    assert_clean_failure(&again, "already exists");
    drop(server);
}

#[test]
fn banner_set_show_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(librechat(dir.path()).args(["banner", "show"]));
    assert_clean_failure(&out, "no database");
    assert!(
        run(librechat(dir.path()).args(["db", "migrate"]))
            .status
            .success()
    );

    let out = run(librechat(dir.path()).args(["banner", "show"]));
    assert!(text(&out.stdout).contains("no banner"));
    let out = run(librechat(dir.path()).args([
        "banner",
        "set",
        "Maintenance tonight",
        "--public",
        "--to",
        "2999-01-01T00:00:00Z",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(librechat(dir.path()).args(["banner", "show"]));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("Maintenance tonight") && shown.contains("2999-01-01T00:00:00.000Z"),
        "{shown}"
    );
    assert!(shown.contains("public"), "{shown}");

    let out = run(librechat(dir.path()).args(["banner", "set", "x", "--from", "soon"]));
    assert_clean_failure(&out, "displayFrom must be an ISO 8601 date");
    let out = run(librechat(dir.path()).args(["banner", "set", "  "]));
    assert_clean_failure(&out, "message must be 1 to 2,000 characters");

    let out = run(librechat(dir.path()).args(["banner", "delete"]));
    assert!(text(&out.stdout).contains("banner removed"));
    let out = run(librechat(dir.path()).args(["banner", "show"]));
    assert!(text(&out.stdout).contains("no banner"));
}

#[test]
fn env_file_names_the_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.env");
    std::fs::write(&file, "APP_TITLE=From The Env File\n").unwrap();
    let out = run(librechat(dir.path())
        .args(["config", "check", "--env-file"])
        .arg(&file));
    assert!(text(&out.stdout).contains("From The Env File"));
    let out = librechat(dir.path())
        .args(["config", "check", "--env-file", "/no/such.env"])
        .output()
        .unwrap();
    assert_clean_failure(&out, "--env-file /no/such.env: no such file");
}
