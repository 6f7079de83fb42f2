//! Sharing prompt groups with people, groups and everyone (`/api/permissions`), and the limits
//! on it: a viewer cannot edit or re-share, public sharing needs `SHARE_PUBLIC`, a principal
//! that does not exist is refused, and taking someone out of a group ends their access at once.

mod support;

use serde_json::{Value, json};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

/// alice (ADMIN), bob and carol (USER); USER may share prompts (not publicly).
async fn three(server: &TestServer) -> (Session, Session, Session) {
    let (alice, bob) = server.two_users(PW).await;
    let carol = server.signed_in("carol@example.org", PW).await;
    set_user(server, &alice, json!({"PROMPTS": {"SHARE": true}})).await;
    (alice, bob, carol)
}

async fn set_user(server: &TestServer, admin: &Session, permissions: Value) {
    let resp = server
        .send(
            "PATCH",
            "/api/admin/roles/USER/permissions",
            &admin.token,
            json!({ "permissions": permissions }),
        )
        .await;
    assert_eq!(resp.status(), 200);
}

/// A prompt group of `s`; its id.
async fn prompt(server: &TestServer, s: &Session, name: &str) -> String {
    let resp = server
        .send(
            "POST",
            "/api/prompts",
            &s.token,
            json!({"prompt": {"prompt": "Say hi", "type": "text"}, "group": {"name": name}}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    v["group"]["_id"].as_str().unwrap().to_owned()
}

async fn share(server: &TestServer, s: &Session, gid: &str, body: Value) -> reqwest::Response {
    server
        .send(
            "PUT",
            &format!("/api/permissions/promptGroup/{gid}"),
            &s.token,
            body,
        )
        .await
}

fn id(s: &Session) -> String {
    s.user["id"].as_str().unwrap().to_owned()
}

async fn status_of_group(server: &TestServer, s: &Session, gid: &str) -> u16 {
    server
        .get_as(&format!("/api/prompts/groups/{gid}"), &s.token)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_viewer_sees_but_cannot_edit_or_reshare_and_an_editor_can_edit() {
    let server = TestServer::start().await;
    let (_, bob, carol) = three(&server).await;
    let gid = prompt(&server, &bob, "Shared tips").await;
    let resp = share(
        &server,
        &bob,
        &gid,
        json!({"updated": [
        {"type": "user", "id": id(&carol), "accessRoleId": "promptGroup_viewer"}]}),
    )
    .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());

    assert_eq!(status_of_group(&server, &carol, &gid).await, 200);
    let all = server.get_json("/api/prompts/all", &carol.token).await;
    assert_eq!(all[0]["name"], "Shared tips");
    let shared = server
        .get_json(
            "/api/prompts/groups?pageSize=5&category=sys__shared__prompts__sys",
            &carol.token,
        )
        .await;
    assert_eq!(shared["promptGroups"].as_array().unwrap().len(), 1);
    let bits = server
        .get_json(
            &format!("/api/permissions/promptGroup/{gid}/effective"),
            &carol.token,
        )
        .await;
    assert_eq!(bits["permissionBits"], 1);

    let edit = server
        .send(
            "PATCH",
            &format!("/api/prompts/groups/{gid}"),
            &carol.token,
            json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(edit.status(), 403);
    let version = server
        .send(
            "POST",
            &format!("/api/prompts/groups/{gid}/prompts"),
            &carol.token,
            json!({"prompt": {"prompt": "changed", "type": "text"}}),
        )
        .await;
    assert_eq!(version.status(), 403);
    let reshare = share(
        &server,
        &carol,
        &gid,
        json!({"updated": [
        {"type": "user", "id": id(&carol), "accessRoleId": "promptGroup_owner"}]}),
    )
    .await;
    assert_eq!(
        reshare.status(),
        403,
        "a viewer cannot re-share, even to herself"
    );
    let entries = server
        .get_as(&format!("/api/permissions/promptGroup/{gid}"), &carol.token)
        .await;
    assert_eq!(entries.status(), 403);
    assert_eq!(
        server
            .get_json(&format!("/api/prompts/groups/{gid}"), &bob.token)
            .await["name"],
        "Shared tips",
        "nothing changed"
    );

    // Made an editor: she can change it, not delete it.
    share(
        &server,
        &bob,
        &gid,
        json!({"updated": [
        {"type": "user", "id": id(&carol), "accessRoleId": "promptGroup_editor"}]}),
    )
    .await;
    let edit = server
        .send(
            "PATCH",
            &format!("/api/prompts/groups/{gid}"),
            &carol.token,
            json!({"oneliner": "Better"}),
        )
        .await;
    assert_eq!(edit.status(), 200);
    let delete = server
        .send(
            "DELETE",
            &format!("/api/prompts/groups/{gid}"),
            &carol.token,
            json!({}),
        )
        .await;
    assert_eq!(delete.status(), 403);

    // The owner sees who has it, with names; removing her ends it.
    let entries = server
        .get_json(&format!("/api/permissions/promptGroup/{gid}"), &bob.token)
        .await;
    assert_eq!(entries["public"], false);
    let carols = entries["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id(&carol).as_str())
        .unwrap()
        .clone();
    assert_eq!(carols["accessRoleId"], "promptGroup_editor");
    assert_eq!(carols["email"], "carol@example.org");
    share(
        &server,
        &bob,
        &gid,
        json!({"removed": [{"type": "user", "id": id(&carol)}]}),
    )
    .await;
    assert_eq!(status_of_group(&server, &carol, &gid).await, 404);
}

#[tokio::test]
async fn a_group_shares_with_its_members_and_leaving_it_ends_access_at_once() {
    let server = TestServer::start().await;
    let (alice, bob, carol) = three(&server).await;
    let dave = server.signed_in("dave@example.org", PW).await;
    let (carol_id, dave_id) = (id(&carol), id(&dave));
    let team = server
        .state
        .db
        .write(move |c| {
            let g = librechat::db::groups::create(c, "Team", "")?.unwrap();
            librechat::db::groups::add_member(c, &g.id, &carol_id)?;
            librechat::db::groups::add_member(c, &g.id, &dave_id)?;
            Ok(g.id)
        })
        .await
        .unwrap();
    let gid = prompt(&server, &bob, "Team prompt").await;
    let resp = share(
        &server,
        &bob,
        &gid,
        json!({"updated": [
        {"type": "group", "id": team, "accessRoleId": "promptGroup_viewer"}]}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(status_of_group(&server, &carol, &gid).await, 200);
    assert_eq!(status_of_group(&server, &dave, &gid).await, 200);

    // The admin screen lists it; others may not.
    let listed = server.get_json("/api/admin/groups", &alice.token).await;
    assert_eq!(listed["groups"][0]["name"], "Team");
    assert_eq!(
        listed["groups"][0]["members"],
        json!(["carol@example.org", "dave@example.org"])
    );
    assert_eq!(
        server
            .get_as("/api/admin/groups", &bob.token)
            .await
            .status(),
        403
    );

    // Dave leaves the group: his next request no longer finds it; carol still does.
    let (t, d) = (team.clone(), id(&dave));
    server
        .state
        .db
        .write(move |c| librechat::db::groups::remove_member(c, &t, &d))
        .await
        .unwrap();
    assert_eq!(status_of_group(&server, &dave, &gid).await, 404);
    assert_eq!(
        server.get_json("/api/prompts/all", &dave.token).await,
        json!([])
    );
    assert_eq!(status_of_group(&server, &carol, &gid).await, 200);

    // The group goes: so does carol's access, and its entry.
    let t = team.clone();
    server
        .state
        .db
        .write(move |c| librechat::db::groups::delete(c, &t))
        .await
        .unwrap();
    assert_eq!(status_of_group(&server, &carol, &gid).await, 404);
    let entries = server
        .get_json(&format!("/api/permissions/promptGroup/{gid}"), &bob.token)
        .await;
    assert_eq!(
        entries["principals"].as_array().unwrap().len(),
        1,
        "only bob, its owner"
    );
}

#[tokio::test]
async fn public_sharing_needs_share_public() {
    let server = TestServer::start().await;
    let (alice, bob, carol) = three(&server).await;
    let gid = prompt(&server, &bob, "For all").await;
    let public = json!({"public": true, "publicAccessRoleId": "promptGroup_viewer"});
    let resp = share(&server, &bob, &gid, public.clone()).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["message"],
        "You do not have permission to share promptGroup resources publicly"
    );
    // Through `updated` too.
    let resp = share(
        &server,
        &bob,
        &gid,
        json!({"updated": [
        {"type": "public", "accessRoleId": "promptGroup_viewer"}]}),
    )
    .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(status_of_group(&server, &carol, &gid).await, 404);

    set_user(&server, &alice, json!({"PROMPTS": {"SHARE_PUBLIC": true}})).await;
    let resp = share(&server, &bob, &gid, public).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["results"]["public"], true);
    let all = server.get_json("/api/prompts/all", &carol.token).await;
    assert_eq!(all[0]["isPublic"], true);
    let entries = server
        .get_json(&format!("/api/permissions/promptGroup/{gid}"), &bob.token)
        .await;
    assert_eq!(entries["public"], true);
    assert_eq!(entries["publicAccessRoleId"], "promptGroup_viewer");
    // And back.
    share(&server, &bob, &gid, json!({"public": false})).await;
    assert_eq!(status_of_group(&server, &carol, &gid).await, 404);
}

#[tokio::test]
async fn sharing_with_someone_who_does_not_exist_changes_nothing() {
    let server = TestServer::start().await;
    let (alice, bob, carol) = three(&server).await;
    let gid = prompt(&server, &bob, "Careful").await;
    for body in [
        json!({"updated": [{"type": "user", "id": id(&carol), "accessRoleId": "promptGroup_viewer"},
                           {"type": "user", "id": "ffffffffffffffffffffffff", "accessRoleId": "promptGroup_viewer"}]}),
        json!({"updated": [{"type": "group", "id": "ffffffffffffffffffffffff", "accessRoleId": "promptGroup_viewer"}]}),
        json!({"updated": [{"type": "role", "id": "NOPE", "accessRoleId": "promptGroup_viewer"}]}),
        json!({"updated": [{"type": "user", "id": id(&carol), "accessRoleId": "agent_owner"}]}),
        json!({"updated": [{"type": "alien", "id": id(&carol), "accessRoleId": "promptGroup_viewer"}]}),
    ] {
        let resp = share(&server, &bob, &gid, body.clone()).await;
        assert_eq!(resp.status(), 400, "{body}");
    }
    assert_eq!(
        status_of_group(&server, &carol, &gid).await,
        404,
        "not even the valid one"
    );
    assert_eq!(server.count("acl_entries").await, 1);
    // A role is a principal: every USER then sees it.
    let resp = share(
        &server,
        &bob,
        &gid,
        json!({"updated": [
        {"type": "role", "id": "USER", "accessRoleId": "promptGroup_viewer"}]}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(status_of_group(&server, &carol, &gid).await, 200);
    // Without the role's SHARE, even an owner cannot share.
    set_user(&server, &alice, json!({"PROMPTS": {"SHARE": false}})).await;
    let resp = share(
        &server,
        &bob,
        &gid,
        json!({"removed": [{"type": "role", "id": "USER"}]}),
    )
    .await;
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn the_people_picker_finds_users_and_groups_for_roles_allowed_to() {
    let server = TestServer::start().await;
    let (alice, bob, _carol) = three(&server).await;
    server
        .state
        .db
        .write(|c| librechat::db::groups::create(c, "Carpenters", "wood"))
        .await
        .unwrap();
    // USER may not look people up by default (LibreChat's defaults).
    let resp = server
        .get_as("/api/permissions/search-principals?q=car", &bob.token)
        .await;
    assert_eq!(resp.status(), 403);
    let found = server
        .get_json(
            "/api/permissions/search-principals?q=car&limit=5",
            &alice.token,
        )
        .await;
    let kinds: Vec<(&str, &str)> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["type"].as_str().unwrap(), r["name"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("group", "Carpenters")), "{kinds:?}");
    assert!(
        found["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["email"] == "carol@example.org")
    );
    let only_groups = server
        .get_json(
            "/api/permissions/search-principals?q=car&types=group",
            &alice.token,
        )
        .await;
    assert_eq!(only_groups["count"], 1);
    assert_eq!(only_groups["results"][0]["memberCount"], 0);
    for bad in ["", "c", &"x".repeat(201)] {
        let resp = server
            .get_as(
                &format!("/api/permissions/search-principals?q={bad}"),
                &alice.token,
            )
            .await;
        assert_eq!(resp.status(), 400, "{bad}");
    }
    // The roles an administrator can share with (LibreChat's prompt page lists them).
    let listed = server
        .get_json("/api/admin/roles?limit=200", &alice.token)
        .await;
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["roles"][0]["name"], "ADMIN");
    assert_eq!(
        server.get_as("/api/admin/roles", &bob.token).await.status(),
        403
    );
    let roles = server
        .get_json("/api/permissions/promptGroup/roles", &bob.token)
        .await;
    assert_eq!(roles.as_array().unwrap().len(), 3);
    assert_eq!(roles[2]["permBits"], 15);
    let resp = server
        .get_as("/api/permissions/nope/roles", &bob.token)
        .await;
    assert_eq!(resp.status(), 400);
}
