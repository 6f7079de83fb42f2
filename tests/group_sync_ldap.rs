//! Groups kept in step with LDAP group membership at each sign-in, against a real slapd (with
//! the memberof overlay): from the person's `memberOf` (`LDAP_GROUPS_ATTRIBUTE`) and from a
//! group search (`LDAP_GROUPS_SEARCH_BASE`); what was shared with a group ends at once when
//! the directory drops the person from it; administrators' groups are untouched; a search that
//! fails takes the directory's groups away without stopping the sign-in.

mod support;

use serde_json::{Value, json};
use support::TestServer;
use support::shared_prompts::{
    group_id, local_group_with, members, prompt, share_with_group, status_of, visible,
};
use support::slapd::{ADMIN_DN, ADMIN_PW, SUFFIX, Slapd};

const PEOPLE: &[(&str, &str, &str, &str)] = &[
    ("star", "star@example.org", "Star", "starpw"),
    ("alice", "alice@example.org", "Alice Example", "alicepw"),
    ("carol", "carol@example.org", "Carol Example", "carolpw"),
];

async fn directory() -> Option<Slapd> {
    let slapd = Slapd::start(false)?;
    slapd.add_people(PEOPLE).await;
    slapd
        .add_groups(&[
            ("engineering", &["alice", "carol"]),
            ("sales", &["alice"]),
            ("ops", &["carol"]),
        ])
        .await;
    Some(slapd)
}

async fn server(slapd: &Slapd, extra: &[(&str, &str)]) -> TestServer {
    let mut b = TestServer::builder()
        .env("LDAP_URL", &slapd.url)
        .env("LDAP_USER_SEARCH_BASE", &format!("ou=people,{SUFFIX}"))
        .env("LDAP_BIND_DN", ADMIN_DN)
        .env("LDAP_BIND_CREDENTIALS", ADMIN_PW)
        .env("LOGIN_MAX", "1000");
    for (k, v) in extra {
        b = b.env(k, v);
    }
    b.start().await
}

/// Logs in through the directory: `(token, user id)`.
async fn login(server: &TestServer, email: &str, pw: &str) -> (String, String) {
    let resp = server
        .post_json("/api/auth/login", json!({"email": email, "password": pw}))
        .await;
    assert_eq!(
        resp.status(),
        200,
        "{email}: {}",
        resp.text().await.unwrap()
    );
    let v: Value = resp.json().await.unwrap();
    (
        v["token"].as_str().unwrap().to_owned(),
        v["user"]["id"].as_str().unwrap().to_owned(),
    )
}

fn groups_base() -> String {
    format!("ou=groups,{SUFFIX}")
}

#[tokio::test]
async fn member_of_memberships_follow_the_directory_and_shared_access_ends_at_once() {
    let Some(slapd) = directory().await else {
        return;
    };
    let server = server(&slapd, &[("LDAP_GROUPS_ATTRIBUTE", "memberOf")]).await;
    // The first account, an administrator, shares the prompts.
    let (admin, _) = login(&server, "star@example.org", "starpw").await;
    let (alice, alice_id) = login(&server, "alice@example.org", "alicepw").await;

    // Made on first sight, named by their cn, known by their DN.
    let found = support::shared_prompts::find_groups(&server, &admin, "engineering").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["source"], "ldap");
    assert_eq!(
        found[0]["idOnTheSource"],
        format!("cn=engineering,ou=groups,{SUFFIX}")
    );
    let sales = members(&server, &admin, "sales", "ldap").await;
    assert_eq!(sales.unwrap(), ["alice@example.org"]);
    assert!(
        members(&server, &admin, "ops", "ldap").await.is_none(),
        "only the groups of people who signed in"
    );

    let eng = group_id(&server, &admin, "engineering", "ldap").await;
    let local = local_group_with(&server, "Readers", &alice_id).await;
    let via_ldap = prompt(&server, &admin, "Via the directory").await;
    let via_local = prompt(&server, &admin, "Via the local group").await;
    share_with_group(&server, &admin, &via_ldap, &eng).await;
    share_with_group(&server, &admin, &via_local, &local).await;
    assert_eq!(status_of(&server, &alice, &via_ldap).await, 200);

    // The directory drops alice from engineering. Kept in step at sign-in: until then her
    // membership stands; her next sign-in ends it, for the session she had too.
    slapd.set_members("engineering", &["carol"]).await;
    assert_eq!(status_of(&server, &alice, &via_ldap).await, 200);
    login(&server, "alice@example.org", "alicepw").await;
    assert_eq!(status_of(&server, &alice, &via_ldap).await, 404);
    assert_eq!(visible(&server, &alice).await, ["Via the local group"]);
    assert_eq!(status_of(&server, &alice, &via_local).await, 200);
    let left = members(&server, &admin, "engineering", "ldap").await;
    assert_eq!(left.unwrap(), Vec::<String>::new());
    let readers = members(&server, &admin, "Readers", "local").await;
    assert_eq!(readers.unwrap(), ["alice@example.org"]);
    assert_eq!(
        members(&server, &admin, "sales", "ldap").await.unwrap(),
        ["alice@example.org"]
    );
}

#[tokio::test]
async fn a_group_search_narrowed_by_a_pattern_and_a_failing_search_grants_nothing() {
    let Some(slapd) = directory().await else {
        return;
    };
    let base = groups_base();
    let search = [
        ("LDAP_GROUPS_SEARCH_BASE", base.as_str()),
        ("LDAP_GROUPS_INCLUDE", "^(engineering|ops)$"),
    ];
    let server = server(&slapd, &search).await;
    let (admin, _) = login(&server, "star@example.org", "starpw").await;
    login(&server, "carol@example.org", "carolpw").await;
    login(&server, "alice@example.org", "alicepw").await;
    let eng = members(&server, &admin, "engineering", "ldap").await;
    assert_eq!(eng.unwrap(), ["alice@example.org", "carol@example.org"]);
    let ops = members(&server, &admin, "ops", "ldap").await;
    assert_eq!(ops.unwrap(), ["carol@example.org"]);
    assert!(
        members(&server, &admin, "sales", "ldap").await.is_none(),
        "the pattern leaves sales out"
    );

    // The same data folder with a search base that does not exist: the sign-in goes on, and
    // carol is in none of the directory's groups.
    let dir = server.stop().await;
    let mut b = TestServer::builder()
        .in_dir(dir)
        .env("LDAP_URL", &slapd.url)
        .env("LDAP_USER_SEARCH_BASE", &format!("ou=people,{SUFFIX}"))
        .env("LDAP_BIND_DN", ADMIN_DN)
        .env("LDAP_BIND_CREDENTIALS", ADMIN_PW)
        .env("LOGIN_MAX", "1000");
    let nowhere = format!("ou=nowhere,{SUFFIX}");
    b = b.env("LDAP_GROUPS_SEARCH_BASE", &nowhere);
    let broken = b.start().await;
    let (admin, _) = login(&broken, "star@example.org", "starpw").await;
    login(&broken, "carol@example.org", "carolpw").await;
    let eng = members(&broken, &admin, "engineering", "ldap").await;
    assert_eq!(eng.unwrap(), ["alice@example.org"]);
    let ops = members(&broken, &admin, "ops", "ldap").await;
    assert_eq!(ops.unwrap(), Vec::<String>::new());
}
