//! `librechat group ...` against a data folder: groups made, filled, emptied and deleted by an
//! administrator, with clear refusals.

mod support;

use support::{assert_clean_failure, librechat, run, run_with_input, text};

const PW: &str = "correct horse battery";

fn cli(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    run(librechat(dir).args(args))
}

fn ok(dir: &std::path::Path, args: &[&str]) -> String {
    let out = cli(dir, args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

fn new_user(dir: &std::path::Path, email: &str) {
    let mut cmd = librechat(dir);
    cmd.args(["user", "create", email, "--password-stdin"]);
    let out = run_with_input(&mut cmd, Some(&format!("{PW}\n")));
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn groups_are_made_filled_emptied_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["db", "migrate"]);
    new_user(dir.path(), "alice@example.org");
    new_user(dir.path(), "bob@example.org");

    assert!(
        ok(
            dir.path(),
            &["group", "create", "Marketing", "--description", "Ads"]
        )
        .contains("created")
    );
    let again = cli(dir.path(), &["group", "create", "marketing"]);
    assert_clean_failure(&again, "exists already");

    let out = ok(
        dir.path(),
        &[
            "group",
            "add",
            "Marketing",
            "alice@example.org",
            "BOB@example.org",
        ],
    );
    assert!(
        out.contains("alice@example.org added to Marketing"),
        "{out}"
    );
    assert!(out.contains("bob@example.org added to Marketing"), "{out}");
    assert_eq!(
        ok(dir.path(), &["group", "members", "marketing"]),
        "alice@example.org\nbob@example.org\n"
    );
    let list = ok(dir.path(), &["group", "list"]);
    assert!(list.contains("Marketing\tlocal\t2 member(s)\tAds"), "{list}");

    // One unknown address: nothing changes.
    let out = cli(
        dir.path(),
        &[
            "group",
            "remove",
            "Marketing",
            "bob@example.org",
            "nobody@example.org",
        ],
    );
    assert_clean_failure(&out, "no account with the email nobody@example.org");
    assert_eq!(
        ok(dir.path(), &["group", "members", "Marketing"])
            .lines()
            .count(),
        2
    );

    let out = ok(
        dir.path(),
        &["group", "remove", "Marketing", "bob@example.org"],
    );
    assert!(
        out.contains("bob@example.org removed from Marketing"),
        "{out}"
    );
    assert_eq!(
        ok(dir.path(), &["group", "members", "Marketing"]),
        "alice@example.org\n"
    );

    assert_clean_failure(
        &cli(dir.path(), &["group", "add", "Sales", "alice@example.org"]),
        "no group named Sales",
    );
    assert!(ok(dir.path(), &["group", "delete", "Marketing"]).contains("deleted"));
    assert_eq!(ok(dir.path(), &["group", "list"]), "no groups\n");
}
