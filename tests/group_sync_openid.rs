//! Groups kept in step with an OpenID claim (`OPENID_GROUPS_CLAIM`), against a real provider
//! (oidc-provider-mock puts a user's claims into the ID token and the userinfo as given):
//! groups made on first sight, memberships set to the claim at each sign-in, what was shared
//! with a group gone at once when the provider drops it, administrators' groups untouched, and
//! hostile claims bounded without stopping the sign-in.

mod support;

use serde_json::{Value, json};
use support::TestServer;
use support::oidc::{OidcProvider, to_provider_and_back};
use support::shared_prompts::{
    group_id, local_group_with, members, prompt, share_with_group, status_of, visible,
};
use support::sso::{Landing, get, landing, session};

const PW: &str = "correct horse battery";

async fn server(idp: &OidcProvider, env: &[(&str, &str)]) -> TestServer {
    let mut b = TestServer::builder()
        .env("OPENID_CLIENT_ID", "librechat")
        .env("OPENID_CLIENT_SECRET", "client-secret")
        .env("OPENID_ISSUER", &idp.issuer)
        .env("OPENID_SESSION_SECRET", "session-secret")
        .env("ALLOW_SOCIAL_LOGIN", "true")
        .env("LOGIN_MAX", "1000");
    for (k, v) in env {
        b = b.env(k, v);
    }
    b.start().await
}

/// Signs in as `sub` through the provider: the session's `{token, user}`.
async fn sign_in(server: &TestServer, sub: &str) -> Value {
    let (back, cookie) = to_provider_and_back(server, sub).await;
    match landing(&get(&back, Some(&cookie)).await) {
        Landing::SignedIn(refresh) => session(server, &refresh).await,
        other => panic!("the sign-in must go on whatever the groups claim says: {other:?}"),
    }
}

fn dana(groups: Value) -> Value {
    json!({"sub": "dana", "email": "dana@example.org", "email_verified": true,
           "name": "Dana", "groups": groups})
}

/// `(source, name)` of every group `user_id` is in, sorted.
async fn memberships(server: &TestServer, user_id: &str) -> Vec<(String, String)> {
    let id = user_id.to_owned();
    server
        .state
        .db
        .read(move |c| {
            let mut stmt = c.prepare(
                "SELECT g.source, g.name FROM group_members m JOIN groups g ON g.id = m.group_id
                 WHERE m.user_id = ?1 ORDER BY 1, 2",
            )?;
            let rows = stmt.query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()
        })
        .await
        .unwrap()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(s, n)| (s.to_string(), n.to_string()))
        .collect()
}

#[tokio::test]
async fn memberships_follow_the_claim_and_shared_access_ends_when_the_provider_drops_a_group() {
    let Some(idp) = OidcProvider::start(&[dana(json!(["engineering", "/org/sales"]))]) else {
        return;
    };
    let server = server(&idp, &[("OPENID_GROUPS_CLAIM", "groups")]).await;
    // The first account, an administrator, shares the prompts.
    let admin = server.signed_in("admin@example.org", PW).await;

    // First sign-in: the provider's groups are made, with dana in them.
    let first = sign_in(&server, "dana").await;
    let dana_id = first["user"]["id"].as_str().unwrap().to_owned();
    let token = first["token"].as_str().unwrap().to_owned();
    let eng = group_id(&server, &admin.token, "engineering", "openid").await;
    let sales = members(&server, &admin.token, "/org/sales", "openid").await;
    assert_eq!(sales.unwrap(), ["dana@example.org"]);
    let found = support::shared_prompts::find_groups(&server, &admin.token, "engineering").await;
    assert_eq!(found[0]["idOnTheSource"], "engineering");
    // An administrator's group dana is in, named like a provider's group.
    let local = local_group_with(&server, "Engineering", &dana_id).await;

    let via_sync = prompt(&server, &admin.token, "Via the provider").await;
    let via_local = prompt(&server, &admin.token, "Via the local group").await;
    share_with_group(&server, &admin.token, &via_sync, &eng).await;
    share_with_group(&server, &admin.token, &via_local, &local).await;
    assert_eq!(status_of(&server, &token, &via_sync).await, 200);
    assert_eq!(
        visible(&server, &token).await,
        ["Via the local group", "Via the provider"]
    );

    // The provider drops engineering: the next sign-in takes dana out of it, and the access
    // it gave ends at once, for the session she already had too.
    idp.set_claims("dana", dana(json!(["/org/sales"]))).await;
    sign_in(&server, "dana").await;
    assert_eq!(status_of(&server, &token, &via_sync).await, 404);
    assert_eq!(visible(&server, &token).await, ["Via the local group"]);
    assert_eq!(status_of(&server, &token, &via_local).await, 200);
    assert_eq!(
        memberships(&server, &dana_id).await,
        pairs(&[("local", "Engineering"), ("openid", "/org/sales")])
    );
    // The group stays, with what was shared with it, for its next member.
    let left = members(&server, &admin.token, "engineering", "openid").await;
    assert_eq!(left.unwrap(), Vec::<String>::new());

    // Back in the group: the same group again, not a new one.
    let groups_before = server.count("groups").await;
    idp.set_claims("dana", dana(json!(["engineering", "/org/sales"])))
        .await;
    sign_in(&server, "dana").await;
    assert_eq!(status_of(&server, &token, &via_sync).await, 200);
    assert_eq!(server.count("groups").await, groups_before);

    // No claim at all: in none of the provider's groups; the administrator's group stays.
    idp.set_claims(
        "dana",
        json!({"email": "dana@example.org", "email_verified": true}),
    )
    .await;
    sign_in(&server, "dana").await;
    assert_eq!(
        memberships(&server, &dana_id).await,
        pairs(&[("local", "Engineering")])
    );
    assert_eq!(status_of(&server, &token, &via_sync).await, 404);
}

#[tokio::test]
async fn a_nested_claim_narrowed_by_a_pattern_and_hostile_claims_bounded() {
    let claims = |groups: Value| {
        json!({"email": "eve@example.org", "email_verified": true,
               "realm_access": {"groups": groups}})
    };
    let long = format!("lc-{}", "x".repeat(20_000));
    let Some(idp) = OidcProvider::start(&[json!({"sub": "eve"})]) else {
        return;
    };
    idp.set_claims(
        "eve",
        claims(json!([
            "lc-eng", "other", 42, {"lc-x": 1}, null, ["lc-nested"], long,
            "lc-bell\u{7}", "lc-sales", "lc-eng"
        ])),
    )
    .await;
    let server = server(
        &idp,
        &[
            ("OPENID_GROUPS_CLAIM", "realm_access.groups"),
            ("OPENID_GROUPS_INCLUDE", "^lc-"),
        ],
    )
    .await;
    // Values that are not names, too long or hold control characters are left out; so are
    // names the pattern does not match.
    let eve = sign_in(&server, "eve").await;
    let eve_id = eve["user"]["id"].as_str().unwrap().to_owned();
    let want = pairs(&[("openid", "lc-eng"), ("openid", "lc-sales")]);
    assert_eq!(memberships(&server, &eve_id).await, want);
    assert_eq!(server.count("groups").await, 2);

    // A huge list is refused whole: no group made, and eve in none (a list that cannot be
    // taken grants nothing).
    let huge: Vec<String> = (0..5_000).map(|i| format!("lc-g{i}")).collect();
    idp.set_claims("eve", claims(json!(huge))).await;
    sign_in(&server, "eve").await;
    assert!(memberships(&server, &eve_id).await.is_empty());
    assert_eq!(server.count("groups").await, 2);

    // 200 is the most taken.
    idp.set_claims("eve", claims(json!(huge[..200]))).await;
    sign_in(&server, "eve").await;
    assert_eq!(memberships(&server, &eve_id).await.len(), 200);

    // Not a list: none. One name: that group.
    idp.set_claims("eve", claims(json!({"lc-eng": true}))).await;
    sign_in(&server, "eve").await;
    assert!(memberships(&server, &eve_id).await.is_empty());
    idp.set_claims("eve", claims(json!("lc-eng"))).await;
    sign_in(&server, "eve").await;
    let want = pairs(&[("openid", "lc-eng")]);
    assert_eq!(memberships(&server, &eve_id).await, want);
}
