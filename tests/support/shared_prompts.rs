//! Prompt groups shared with groups of people, as the group sync tests need them: make one,
//! find a group in the people picker, share with it, and see what a person sees.
#![allow(dead_code)]

use serde_json::{Value, json};

use super::TestServer;

/// A prompt group made by `token`'s owner; its id.
pub async fn prompt(server: &TestServer, token: &str, name: &str) -> String {
    let body = json!({"prompt": {"prompt": "Say hi", "type": "text"}, "group": {"name": name}});
    let resp = server.send("POST", "/api/prompts", token, body).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    v["group"]["_id"].as_str().unwrap().to_owned()
}

/// The groups the people picker finds for `q` (as `token`'s owner sees them).
pub async fn find_groups(server: &TestServer, token: &str, q: &str) -> Vec<Value> {
    let path = format!("/api/permissions/search-principals?q={q}&types=group&limit=50");
    let v = server.get_json(&path, token).await;
    v["results"].as_array().unwrap().clone()
}

/// The id of the group named `name` from `source` the people picker finds.
pub async fn group_id(server: &TestServer, token: &str, name: &str, source: &str) -> String {
    let found = find_groups(server, token, name).await;
    let g = found
        .iter()
        .find(|g| g["name"] == name && g["source"] == source)
        .unwrap_or_else(|| panic!("no {source} group {name} in {found:?}"));
    g["id"].as_str().unwrap().to_owned()
}

/// Shares prompt group `pid` with group `gid` as viewers.
pub async fn share_with_group(server: &TestServer, token: &str, pid: &str, gid: &str) {
    let body = json!({"updated": [
        {"type": "group", "id": gid, "accessRoleId": "promptGroup_viewer"}]});
    let path = format!("/api/permissions/promptGroup/{pid}");
    let resp = server.send("PUT", &path, token, body).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

/// The status of reading prompt group `pid` as `token`'s owner.
pub async fn status_of(server: &TestServer, token: &str, pid: &str) -> u16 {
    let path = format!("/api/prompts/groups/{pid}");
    server.get_as(&path, token).await.status().as_u16()
}

/// The names of the prompt groups `token`'s owner sees in the slash picker's list.
pub async fn visible(server: &TestServer, token: &str) -> Vec<String> {
    let all = server.get_json("/api/prompts/all", token).await;
    let mut names: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// The members' emails of group `name` from `source`, from the admin's list (`None`: no
/// such group).
pub async fn members(
    server: &TestServer,
    admin: &str,
    name: &str,
    source: &str,
) -> Option<Vec<String>> {
    let all = server.get_json("/api/admin/groups", admin).await;
    let g = all["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name && g["source"] == source)?;
    Some(
        g["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_owned())
            .collect(),
    )
}

/// A local group (as `librechat group create` and `add` make it) with `user_id` in it.
pub async fn local_group_with(server: &TestServer, name: &str, user_id: &str) -> String {
    let (name, user_id) = (name.to_owned(), user_id.to_owned());
    server
        .state
        .db
        .write(move |c| {
            let g = librechat::db::groups::create(c, &name, "")?.expect("a new name");
            librechat::db::groups::add_member(c, &g.id, &user_id)?;
            Ok(g.id)
        })
        .await
        .unwrap()
}
