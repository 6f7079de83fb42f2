//! `librechat prompts export|import`: a library moved from one data folder to another keeps
//! its groups, versions and production choice; bad files change nothing.

mod support;

use serde_json::{Value, json};
use support::{assert_clean_failure, librechat, run, run_with_input, text};

const PW: &str = "correct horse battery";

fn ok(dir: &std::path::Path, args: &[&str]) -> String {
    let out = run(librechat(dir).args(args));
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// A migrated data folder with alice in it.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["db", "migrate"]);
    let mut cmd = librechat(dir.path());
    cmd.args(["user", "create", "alice@example.org", "--password-stdin"]);
    assert!(
        run_with_input(&mut cmd, Some(&format!("{PW}\n")))
            .status
            .success()
    );
    dir
}

fn exported(dir: &std::path::Path) -> Value {
    serde_json::from_str(&ok(dir, &["prompts", "export", "-"])).unwrap()
}

#[test]
fn a_library_moves_between_servers_whole() {
    let first = folder();
    let file = first.path().join("in.json");
    let library = json!({"librechatPrompts": 1, "promptGroups": [
        {"name": "Review", "oneliner": "Code review", "category": "code", "command": "review",
         "production": 0, "prompts": [{"prompt": "v1", "type": "text"}, {"prompt": "v2", "type": "chat"}]},
        {"name": "Poem", "prompts": [{"prompt": "Write a poem", "type": "text"}]},
    ]});
    std::fs::write(&file, library.to_string()).unwrap();
    let out = ok(
        first.path(),
        &[
            "prompts",
            "import",
            "in.json",
            "--user",
            "alice@example.org",
        ],
    );
    assert!(out.contains("2 prompt group(s) imported"), "{out}");

    let out = exported(first.path());
    let groups = out["promptGroups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[1]["name"], "Review");
    assert_eq!(groups[1]["production"], 0, "v1 stays production");
    assert_eq!(
        groups[1]["prompts"][1],
        json!({"prompt": "v2", "type": "chat"})
    );

    // Into another server; importing twice leaves the second copy without the command.
    let second = folder();
    ok(first.path(), &["prompts", "export", "out.json"]);
    let moved = first.path().join("out.json");
    let target = second.path().join("out.json");
    std::fs::copy(&moved, &target).unwrap();
    ok(
        second.path(),
        &[
            "prompts",
            "import",
            "out.json",
            "--user",
            "alice@example.org",
        ],
    );
    assert_eq!(exported(second.path()), out);
    let again = ok(
        second.path(),
        &[
            "prompts",
            "import",
            "out.json",
            "--user",
            "alice@example.org",
        ],
    );
    assert!(
        again.contains("the command /review was in use already"),
        "{again}"
    );
    let commands: Vec<Value> = exported(second.path())["promptGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["command"].clone())
        .collect();
    assert_eq!(commands.iter().filter(|c| **c == "review").count(), 1);
}

#[test]
fn bad_files_change_nothing() {
    let dir = folder();
    let huge = "a".repeat(50_001);
    for (body, says) in [
        (
            json!({"librechatPrompts": 1, "promptGroups": [
            {"name": "Fine", "prompts": [{"prompt": "ok", "type": "text"}]},
            {"name": "Big", "prompts": [{"prompt": huge, "type": "text"}]}]}),
            "promptGroups[1] (Big)",
        ),
        (
            json!({"librechatPrompts": 1, "promptGroups": [
            {"name": "Cmd", "command": "Not Valid", "prompts": [{"prompt": "ok", "type": "text"}]}]}),
            "a command is",
        ),
        (
            json!({"librechatPrompts": 1, "promptGroups": [{"name": "Empty", "prompts": []}]}),
            "no prompts",
        ),
        (
            json!({"librechatPrompts": 9, "promptGroups": []}),
            "format 9",
        ),
        (json!([1, 2]), "not a prompts export"),
    ] {
        std::fs::write(dir.path().join("bad.json"), body.to_string()).unwrap();
        let out = run(librechat(dir.path()).args([
            "prompts",
            "import",
            "bad.json",
            "--user",
            "alice@example.org",
        ]));
        assert_clean_failure(&out, says);
    }
    let out = run(librechat(dir.path()).args([
        "prompts",
        "import",
        "bad.json",
        "--user",
        "nobody@example.org",
    ]));
    assert!(!out.status.success());
    assert_eq!(exported(dir.path())["promptGroups"], json!([]));
}
