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
    assert!(
        list.contains("Marketing\tlocal\t2 member(s)\tAds"),
        "{list}"
    );

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

#[test]
fn a_providers_groups_are_listed_with_their_source_and_a_shared_name_is_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["db", "migrate"]);
    new_user(dir.path(), "alice@example.org");
    ok(dir.path(), &["group", "create", "Eng"]);
    // Alice's groups at two providers, as her sign-ins make them.
    let conn = librechat::db::sql::Connection::open(dir.path().join("data/librechat.db")).unwrap();
    let uid: String = conn
        .query_row(
            "SELECT id FROM users WHERE email = 'alice@example.org'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    use librechat::db::groups::sync_memberships;
    sync_memberships(&conn, &uid, "openid", [("eng", "Eng")]).unwrap();
    sync_memberships(&conn, &uid, "ldap", [("cn=eng,dc=x", "Eng")]).unwrap();
    drop(conn);

    let list = ok(dir.path(), &["group", "list"]);
    for line in [
        "Eng\tlocal\t0 member(s)",
        "Eng\topenid\t1 member(s)",
        "Eng\tldap\t1 member(s)",
    ] {
        assert!(list.contains(line), "{list}");
    }
    assert_clean_failure(
        &cli(dir.path(), &["group", "members", "eng"]),
        "several groups are named eng",
    );
    let openid_id = list
        .lines()
        .find(|l| l.contains("\topenid\t"))
        .and_then(|l| l.split('\t').next())
        .unwrap();
    let out = ok(
        dir.path(),
        &["group", "remove", openid_id, "alice@example.org"],
    );
    assert!(
        out.contains("Eng is kept in step with openid at each sign-in"),
        "{out}"
    );
    assert!(out.contains("alice@example.org removed from Eng"), "{out}");
    assert_eq!(ok(dir.path(), &["group", "members", openid_id]), "");
}
