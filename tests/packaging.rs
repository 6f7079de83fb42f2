//! The installs: `--version`, completions and the man page, the systemd unit (checked by
//! `systemd-analyze`, and the readiness protocol it relies on), the Debian package (built with
//! dpkg-deb, inspected, its maintainer scripts run twice and then removed and purged under a
//! `DPKG_ROOT`), `install.sh` run twice and uninstalled under `--root`, and the Homebrew
//! formula (`ruby -c`). Tools missing here are skipped with a note, unless
//! `LIBRECHAT_REQUIRE_PEERS=1`.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{ServeProcess, librechat, run, text};

const PACKAGING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging");
const BINARY: &str = env!("CARGO_BIN_EXE_librechat");

/// Whether `tool` runs here; a note (or, with peers required, a failure) when it does not.
fn have(tool: &str, package: &str) -> bool {
    if Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
    {
        return true;
    }
    let required = std::env::var("LIBRECHAT_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    assert!(!required, "{tool} is required (apt install {package})");
    eprintln!("skipped: {tool} is not installed (apt install {package}, or run .ci/run)");
    false
}

fn sh(script: &Path) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg(script);
    cmd
}

#[test]
fn version_names_the_commit() {
    let out = run(librechat(Path::new(".")).arg("--version"));
    let line = text(&out.stdout);
    let rest = line
        .trim()
        .strip_prefix(concat!("librechat ", env!("CARGO_PKG_VERSION"), " ("))
        .unwrap_or_else(|| panic!("{line}"));
    let commit = rest.strip_suffix(')').unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{line}"
    );
}

#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _librechat"),
        ("zsh", "#compdef librechat"),
        ("fish", "complete -c librechat"),
    ] {
        let out = run(librechat(dir.path()).args(["completions", shell]));
        let script = text(&out.stdout);
        assert!(script.contains(marker), "{shell}");
        assert!(
            script.contains("serve") && script.contains("backup"),
            "{shell}: subcommands"
        );
    }
    if have("bash", "bash") {
        let path = dir.path().join("c.bash");
        std::fs::write(
            &path,
            run(librechat(dir.path()).args(["completions", "bash"])).stdout,
        )
        .unwrap();
        run(Command::new("bash").arg("-n").arg(&path));
    }
    let out = run(librechat(dir.path()).arg("manpage"));
    let man = text(&out.stdout);
    assert!(man.contains(".TH librechat 1"), "{}", &man[..200]);
    assert!(man.contains("serve") && man.contains("completions"));
    // An unknown shell is a usage error, not a crash.
    let out = librechat(dir.path())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("possible values"));
}

/// The unit with ExecStart pointing at the binary under test.
fn unit_copy(dir: &Path) -> PathBuf {
    let unit = std::fs::read_to_string(format!("{PACKAGING}/systemd/librechat.service")).unwrap();
    assert!(unit.contains("\nExecStart=/usr/bin/librechat serve "));
    let path = dir.join("librechat.service");
    std::fs::write(
        &path,
        unit.replace(
            "ExecStart=/usr/bin/librechat ",
            &format!("ExecStart={BINARY} "),
        ),
    )
    .unwrap();
    path
}

#[test]
fn systemd_unit_verifies_and_is_hardened() {
    if !have("systemd-analyze", "systemd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_copy(dir.path());
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify: {}",
        text(&out.stderr)
    );
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&unit)
        .output()
        .unwrap();
    let report = text(&out.stdout);
    let line = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("{report}{}", text(&out.stderr)));
    let score: f64 = line
        .split(": ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    println!("systemd-analyze security: {line}");
    assert!(score <= 2.0, "exposure {score} (lower is safer): {report}");
    for must in [
        "Type=notify",
        "StateDirectory=librechat",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=\n",
        "Restart=on-failure",
        "TimeoutStopSec=",
        "EnvironmentFile=-/etc/librechat/librechat.env",
    ] {
        let unit = std::fs::read_to_string(&unit).unwrap();
        assert!(unit.contains(must), "{must}");
    }
}

/// What systemd sees of `Type=notify`: READY=1 once the server answers, STOPPING=1 on SIGTERM,
/// then a clean exit.
#[test]
fn tells_systemd_when_ready_and_when_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    // A bound for a broken build, not a timing check.
    socket
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut cmd = librechat(dir.path());
    cmd.env("NOTIFY_SOCKET", &socket_path);
    let server = ServeProcess::start(cmd);
    let mut buf = [0u8; 512];
    let n = socket.recv(&mut buf).expect("READY=1 from the server");
    let ready = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        ready.starts_with("READY=1\nSTATUS=listening on http://"),
        "{ready}"
    );
    // Ready means ready: the health check answers.
    let (status, body) = support::http_get(&format!("{}/health", server.base));
    assert_eq!((status, body.as_str()), (200, "OK"));
    let (exit, log) = server.signal_and_wait("TERM");
    let n = socket.recv(&mut buf).expect("STOPPING=1 from the server");
    assert_eq!(&buf[..n], b"STOPPING=1");
    assert!(exit.success(), "{log}");
}

/// Stand-ins for the system tools the maintainer scripts call, recording each call in
/// `<dir>/calls`; `useradd` and `userdel` keep the user list in `<dir>/users`.
fn stub_tools(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let d = dir.display();
    let stubs = [
        (
            "getent",
            format!("echo \"getent $*\" >> {d}/calls\ngrep -qx \"$2\" {d}/users 2>/dev/null"),
        ),
        (
            "useradd",
            format!(
                "echo \"useradd $*\" >> {d}/calls\neval last=\\${{$#}}\necho \"$last\" >> {d}/users"
            ),
        ),
        (
            "userdel",
            format!(
                "echo \"userdel $*\" >> {d}/calls\ngrep -vx \"$1\" {d}/users > {d}/users.new || true\nmv {d}/users.new {d}/users"
            ),
        ),
        ("chown", format!("echo \"chown $*\" >> {d}/calls")),
        ("systemctl", format!("echo \"systemctl $*\" >> {d}/calls")),
    ];
    for (name, body) in stubs {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
}

#[test]
fn debian_package_builds_installs_upgrades_and_purges() {
    if !have("dpkg-deb", "dpkg") {
        return;
    }
    // The scripts' service handling is checked through the real deb-systemd-helper under
    // DPKG_ROOT, which it supports from init-system-helpers 1.63 (Debian 12).
    let helper = Command::new("sh")
        .args([
            "-c",
            "grep -q DPKG_ROOT \"$(command -v deb-systemd-helper)\"",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !helper {
        let required = std::env::var("LIBRECHAT_REQUIRE_PEERS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "deb-systemd-helper from init-system-helpers 1.63+ is required"
        );
        eprintln!("skipped: this deb-systemd-helper does not support DPKG_ROOT (before 1.63)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = run(sh(&Path::new(PACKAGING).join("deb/build.sh"))
        .arg(BINARY)
        .arg(dir.path().join("dist"))
        // The test binary is a large debug build: no compression, to keep this quick.
        .env("DEB_COMPRESSION", "none"));
    let deb = PathBuf::from(text(&out.stdout).trim());
    assert!(
        deb.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(concat!("librechat_", env!("CARGO_PKG_VERSION"), "_")),
        "{}",
        deb.display()
    );

    let info = text(&run(Command::new("dpkg-deb").arg("--info").arg(&deb)).stdout);
    for field in [
        "Package: librechat",
        concat!("Version: ", env!("CARGO_PKG_VERSION")),
        "Depends: libc6 (>= 2.",
        ", passwd",
        "postinst",
        "postrm",
        "conffiles",
    ] {
        assert!(info.contains(field), "{field} in {info}");
    }
    let contents = text(&run(Command::new("dpkg-deb").arg("--contents").arg(&deb)).stdout);
    for path in [
        "./usr/bin/librechat",
        "./lib/systemd/system/librechat.service",
        "./etc/librechat/librechat.yaml",
        "./etc/librechat/librechat.env",
        "./usr/share/bash-completion/completions/librechat",
        "./usr/share/zsh/vendor-completions/_librechat",
        "./usr/share/fish/vendor_completions.d/librechat.fish",
        "./usr/share/man/man1/librechat.1.gz",
    ] {
        assert!(contents.contains(path), "{path} in {contents}");
    }
    assert!(contents.contains("-rwxr-xr-x root/root"), "{contents}");
    let conffiles = text(
        &run(Command::new("dpkg-deb")
            .args(["--info"])
            .arg(&deb)
            .arg("conffiles"))
        .stdout,
    );
    assert_eq!(
        conffiles,
        "/etc/librechat/librechat.yaml\n/etc/librechat/librechat.env\n"
    );

    // The files unpacked under a root, then the maintainer scripts as dpkg runs them.
    let root = dir.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let control = dir.path().join("control");
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));
    let path = stub_tools(dir.path());
    let script = |name: &str, args: &[&str]| {
        let mut cmd = sh(&control.join(name));
        cmd.args(args)
            .env("DPKG_ROOT", &root)
            .env("PATH", &path)
            // As dpkg sets them; deb-systemd-helper refuses to run without.
            .env("DPKG_MAINTSCRIPT_PACKAGE", "librechat")
            .env("DPKG_MAINTSCRIPT_NAME", name);
        run(&mut cmd);
    };
    let version = env!("CARGO_PKG_VERSION");
    // The links `systemctl enable` would make, made by the real deb-systemd-helper under
    // DPKG_ROOT; and the mask postrm puts on a removed unit.
    let wants = root.join("etc/systemd/system/multi-user.target.wants/librechat.service");
    let mask = root.join("etc/systemd/system/librechat.service");
    let enabled = || wants.symlink_metadata().is_ok();
    let masked = || std::fs::read_link(&mask).is_ok_and(|to| to == Path::new("/dev/null"));

    script("postinst", &["configure", ""]);
    let data = root.join("var/lib/librechat");
    assert!(data.is_dir());
    assert!(enabled(), "a first install enables the service");
    std::fs::write(data.join("librechat.db"), "precious").unwrap();
    // An upgrade runs it again: the user is not made twice, the data stays.
    script("postinst", &["configure", version]);
    let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
    assert_eq!(calls.matches("useradd").count(), 1, "{calls}");
    assert!(
        calls.contains("--system") && calls.contains("/usr/sbin/nologin"),
        "{calls}"
    );
    assert!(calls.contains(&format!("chown librechat:librechat {}", data.display())));
    assert!(enabled());
    assert_eq!(
        std::fs::metadata(root.join("etc/librechat/librechat.env"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o640,
        "the settings file with keys is not world-readable"
    );
    // A settings file the administrator deleted (dpkg does not bring a conffile back) is no
    // obstacle to the next upgrade.
    std::fs::remove_file(root.join("etc/librechat/librechat.env")).unwrap();
    script("postinst", &["configure", version]);

    // Remove keeps the data and configuration, and masks the unit whose file dpkg deleted.
    let remove = || {
        script("prerm", &["remove"]);
        std::fs::remove_file(root.join("lib/systemd/system/librechat.service")).unwrap();
        script("postrm", &["remove"]);
    };
    remove();
    assert_eq!(
        std::fs::read_to_string(data.join("librechat.db")).unwrap(),
        "precious"
    );
    assert!(root.join("etc/librechat/librechat.yaml").exists());
    assert!(masked());
    // Installed again (dpkg passes the last configured version): unmasked and enabled again.
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    script("postinst", &["configure", version]);
    assert!(
        !masked() && enabled(),
        "a reinstall after remove enables it"
    );
    // A service the administrator disabled stays disabled through an upgrade.
    std::fs::remove_file(&wants).unwrap();
    script("postinst", &["configure", version]);
    assert!(!enabled(), "an upgrade keeps the administrator's disable");

    // Purge deletes the data, the configuration, the user and every trace of the unit.
    remove();
    script("postrm", &["purge"]);
    assert!(!data.exists() && !root.join("etc/librechat").exists());
    assert!(!masked() && !enabled());
    let state = root.join("var/lib/systemd/deb-systemd-helper-enabled");
    let left: Vec<_> = walk(&state);
    assert!(left.is_empty(), "deb-systemd-helper state left: {left:?}");

    // An upgrade from an earlier package, which enabled the unit with plain systemctl and left
    // the helper no record: the administrator's choice is read from the link itself.
    for was_enabled in [false, true] {
        run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
        if was_enabled {
            std::fs::create_dir_all(wants.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink("/lib/systemd/system/librechat.service", &wants).unwrap();
        }
        script("postinst", &["configure", "0.0.9"]);
        assert_eq!(
            enabled(),
            was_enabled,
            "upgraded with the unit enabled: {was_enabled}"
        );
        // Recorded now: disabling afterwards sticks through the next upgrade.
        let _ = std::fs::remove_file(&wants);
        script("postinst", &["configure", version]);
        assert!(!enabled());
        remove();
        script("postrm", &["purge"]);
    }

    let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
    assert!(calls.contains("userdel librechat"), "{calls}");
    // Under DPKG_ROOT the real systemd is never touched.
    assert!(!calls.contains("systemctl"), "{calls}");
}

/// Every file (not folder) under `dir`, if it exists.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

#[test]
fn install_script_twice_then_uninstall_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let install = |extra: &[&str]| {
        let mut cmd = sh(&Path::new(PACKAGING).join("install.sh"));
        cmd.arg("--root")
            .arg(&root)
            .arg("--binary")
            .arg(BINARY)
            .args(extra);
        text(&run(&mut cmd).stdout)
    };
    install(&[]);
    let bin = root.join("usr/local/bin/librechat");
    let yaml = root.join("etc/librechat/librechat.yaml");
    let unit = root.join("etc/systemd/system/librechat.service");
    assert!(bin.is_file() && yaml.is_file() && unit.is_file());
    let unit_text = std::fs::read_to_string(&unit).unwrap();
    assert!(unit_text.contains("\nExecStart=/usr/local/bin/librechat serve "));
    for f in [
        "usr/local/share/bash-completion/completions/librechat",
        "usr/local/share/zsh/site-functions/_librechat",
        "usr/local/share/fish/vendor_completions.d/librechat.fish",
        "usr/local/share/man/man1/librechat.1",
    ] {
        assert!(std::fs::metadata(root.join(f)).unwrap().len() > 100, "{f}");
    }
    // Edited configuration and data survive a second run (an upgrade).
    std::fs::write(&yaml, "version: 1.2.8\n# edited\n").unwrap();
    let data = root.join("var/lib/librechat");
    std::fs::write(data.join("librechat.db"), "precious").unwrap();
    install(&[]);
    assert!(std::fs::read_to_string(&yaml).unwrap().contains("# edited"));
    let out = install(&["--uninstall"]);
    assert!(out.contains("Kept"), "{out}");
    assert!(!bin.exists() && !unit.exists());
    assert_eq!(
        std::fs::read_to_string(data.join("librechat.db")).unwrap(),
        "precious"
    );
    assert!(yaml.exists());

    // A wrong option is refused with a clear message.
    let out = sh(&Path::new(PACKAGING).join("install.sh"))
        .arg("--frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown option --frobnicate"));
}

#[test]
fn homebrew_formula_is_valid_ruby_with_a_service() {
    let formula = std::fs::read_to_string(format!("{PACKAGING}/homebrew/librechat.rb")).unwrap();
    for must in [
        "class Librechat < Formula",
        "depends_on \"rust\" => :build",
        "std_cargo_args",
        "service do",
        "var/\"librechat\"",
        "generate_completions_from_executable(bin/\"librechat\", \"completions\")",
    ] {
        assert!(formula.contains(must), "{must}");
    }
    if !have("ruby", "ruby") {
        return;
    }
    // Pointed at a source tarball by update.sh, as at a release; then syntax-checked.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("librechat.rb");
    std::fs::write(&copy, &formula).unwrap();
    let tarball = dir.path().join("librechat-0.1.0.tar.gz");
    std::fs::write(&tarball, b"not really a tarball").unwrap();
    run(sh(&Path::new(PACKAGING).join("homebrew/update.sh"))
        .arg("https://example.org/librechat-0.1.0.tar.gz")
        .arg(&tarball)
        .arg(&copy));
    let updated = std::fs::read_to_string(&copy).unwrap();
    assert!(updated.contains("url \"https://example.org/librechat-0.1.0.tar.gz\""));
    assert!(!updated.contains("0000000000000000"), "sha256 set");
    let out = run(Command::new("ruby").arg("-c").arg(&copy));
    assert!(text(&out.stdout).contains("Syntax OK"));
}

/// `${NAME:?message}` and `${NAME:-default}` in a compose value, resolved from `vars` as
/// docker compose does.
fn compose_value(value: &str, vars: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("a closing brace");
        let inner = &rest[start + 2..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner.split(":?").next().unwrap(), None),
        };
        let found = vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        out.push_str(
            found
                .or(default)
                .unwrap_or_else(|| panic!("{name} is neither in .env nor defaulted")),
        );
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn compose_example_makes_its_secrets_and_its_settings_load() {
    let compose = Path::new(PACKAGING).join("compose");
    // make-env.sh writes the shared secrets once, private, and never replaces them.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(compose.join("make-env.sh"), dir.path().join("make-env.sh")).unwrap();
    let out = run(&mut sh(&dir.path().join("make-env.sh")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let env_file = dir.path().join(".env");
    let mode = std::fs::metadata(&env_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the secrets are private: {mode:o}");
    let vars: Vec<(String, String)> = std::fs::read_to_string(&env_file)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let hex_len = |name: &str| {
        let v = &vars.iter().find(|(k, _)| k == name).expect(name).1;
        assert!(v.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
        v.len()
    };
    assert_eq!(hex_len("CREDS_KEY"), 64);
    assert_eq!(hex_len("CREDS_IV"), 32);
    assert_eq!(hex_len("JWT_SECRET"), 64);
    let again = run(&mut sh(&dir.path().join("make-env.sh")));
    assert!(
        !again.status.success(),
        "a second run keeps the first secrets"
    );

    // Every replica has the same settings, and librechat accepts them as they are.
    let file: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(compose.join("compose.yaml")).unwrap())
            .expect("compose.yaml parses");
    let services = &file["services"];
    let env_of = |name: &str| services[name]["environment"].clone();
    assert_eq!(env_of("librechat-1"), env_of("librechat-2"));
    assert_eq!(env_of("librechat-1"), env_of("librechat-3"));
    let env = env_of("librechat-1");
    let env = env.as_object().expect("librechat-1 has an environment");
    assert!(env.contains_key("DATABASE_URL") && env.contains_key("USE_REDIS"));
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut cmd = librechat(dir.path());
    cmd.args(["config", "check"]);
    for (k, v) in env {
        let v = compose_value(v.as_str().expect("text values"), &vars);
        cmd.env(k, v);
    }
    cmd.env("LIBRECHAT_DATA_DIR", &data)
        .env("CONFIG_PATH", compose.join("librechat.yaml"));
    let out = run(&mut cmd);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let printed = text(&out.stdout);
    assert!(
        !printed.contains(
            &vars
                .iter()
                .find(|(k, _)| k == "POSTGRES_PASSWORD")
                .unwrap()
                .1
        ),
        "the database password is not shown"
    );

    // The load balancer's configuration is valid for HAProxy.
    if have("haproxy", "haproxy") {
        let haproxy = &services["haproxy"]["environment"];
        let mut cmd = Command::new("haproxy");
        cmd.args(["-c", "-q", "-f"])
            .arg(compose.join("haproxy.cfg"));
        for (k, v) in haproxy.as_object().unwrap() {
            cmd.env(k, v.as_str().unwrap());
        }
        // The replicas' names resolve inside compose only; here any address does.
        for i in 1..=3 {
            cmd.env(format!("REPLICA_{i}"), format!("127.0.0.1:{}", 3080 + i));
        }
        let out = run(&mut cmd);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}
