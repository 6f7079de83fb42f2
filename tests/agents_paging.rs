//! The marketplace's list paged to its end: every agent the caller can see exactly once, in
//! the list's order, with the caller's access on each, whether they see nearly all agents
//! (the list walks the agents in order) or few (it starts from their grants), with many
//! agents changed at the same moment (ties in the sort key, broken by `_id`).

mod support;

use std::collections::HashSet;

use serde_json::Value;
use support::agents::{PW, server, user_id};
use support::{Session, TestServer};

/// Agents written straight to the database, with only nine distinct change times among them.
const AGENTS: usize = 700;

/// One agent as the test expects it in a viewer's list.
#[derive(Debug, Clone)]
struct Expected {
    object_id: String,
    updated_at: String,
    category: &'static str,
    public: bool,
    editable: bool,
}

/// Alice's agents, given to a group of Bob's (VIEW), every 50th to everyone, every 11th to Bob
/// as editor as well, and every 37th to Carol as editor. The agents for Bob and for Carol, in
/// the list's order.
async fn catalogue(
    server: &TestServer,
    alice: &Session,
    bob: &Session,
    carol: &Session,
) -> (Vec<Expected>, Vec<Expected>) {
    let (alice_id, bob_id, carol_id) = (user_id(alice), user_id(bob), user_id(carol));
    let mut bobs = Vec::new();
    let mut carols = Vec::new();
    let mut rows = Vec::new();
    for i in 0..AGENTS {
        // Ids out of step with the change times, so a tie is broken by the id alone.
        let object_id = format!("{:024x}", (i * 7919) % 100_003);
        let updated_at = format!("2026-01-0{}T10:00:00.000Z", 1 + i % 9);
        let category = if i % 3 == 0 { "finance" } else { "general" };
        let public = i % 50 == 0;
        let agent = |editable| Expected {
            object_id: object_id.clone(),
            updated_at: updated_at.clone(),
            category,
            public,
            editable,
        };
        bobs.push(agent(i % 11 == 0));
        if public || i % 37 == 0 {
            carols.push(agent(i % 37 == 0));
        }
        rows.push((i, object_id, updated_at, category));
    }
    server
        .state
        .db
        .write(move |c| {
            let now = "2026-01-01T00:00:00.000Z";
            c.execute(
                "INSERT INTO groups (id, name, created_at, updated_at) VALUES ('g-all', 'Catalogue', ?1, ?1)",
                [now],
            )?;
            c.execute(
                "INSERT INTO group_members (group_id, user_id, added_at) VALUES ('g-all', ?1, ?2)",
                [&bob_id, now],
            )?;
            let mut entry = 0;
            let mut grant = |agent: &str, kind: &str, who: &str, bits: i64| {
                entry += 1;
                c.execute(
                    "INSERT INTO acl_entries (id, resource_type, resource_id, principal_type, principal_id, role_id, perm_bits, granted_at) VALUES (?1, 'agent', ?2, ?3, ?4, 'agent_viewer', ?5, ?6)",
                    rusqlite::params![format!("e{entry}"), agent, kind, who, bits, now],
                )
            };
            for (i, object_id, updated_at, category) in &rows {
                c.execute(
                    "INSERT INTO agents (object_id, id, name, provider, model, category, author, version_count, created_at, updated_at) VALUES (?1, ?2, ?3, 'openAI', 'gpt-4o', ?4, ?5, 1, ?6, ?6)",
                    rusqlite::params![object_id, format!("agent_{i:021}"), format!("Agent {i}"), category, alice_id, updated_at],
                )?;
                grant(object_id, "user", &alice_id, 15)?;
                grant(object_id, "group", "g-all", 1)?;
                if i % 50 == 0 {
                    grant(object_id, "public", "", 1)?;
                }
                if i % 11 == 0 {
                    grant(object_id, "user", &bob_id, 3)?;
                }
                if i % 37 == 0 {
                    grant(object_id, "user", &carol_id, 3)?;
                }
            }
            Ok(())
        })
        .await
        .unwrap();
    let order = |a: &Expected, b: &Expected| {
        b.updated_at
            .cmp(&a.updated_at)
            .then_with(|| a.object_id.cmp(&b.object_id))
    };
    bobs.sort_by(order);
    carols.sort_by(order);
    (bobs, carols)
}

/// Every page of `query` with pages of `limit`, followed by their cursors.
async fn every_page(server: &TestServer, s: &Session, query: &str, limit: usize) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = server
            .get_json(
                &format!("/api/agents?{query}&limit={limit}&cursor={cursor}"),
                &s.token,
            )
            .await;
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= limit, "{page}");
        all.extend(data.iter().cloned());
        if page["has_more"] != true {
            assert_eq!(page["after"], Value::Null);
            return all;
        }
        assert_eq!(
            data.len(),
            limit,
            "a page short of its size says there is more"
        );
        cursor = page["after"].as_str().unwrap().to_owned();
    }
}

/// The listed agents are `want`, in order, once each, with the caller's access on each.
fn assert_listed(got: &[Value], want: &[Expected], what: &str) {
    let ids: Vec<&str> = got.iter().map(|a| a["_id"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{what}: an agent listed twice");
    let want_ids: Vec<&str> = want.iter().map(|a| a.object_id.as_str()).collect();
    assert_eq!(ids, want_ids, "{what}: missing, extra or out of order");
    for (a, w) in got.iter().zip(want) {
        assert_eq!(a["updatedAt"], w.updated_at.as_str(), "{what}");
        assert_eq!(a["isPublic"] == true, w.public, "{what}: {a}");
        assert_eq!(a["isEditable"] == true, w.editable, "{what}: {a}");
    }
}

#[tokio::test]
async fn paging_to_the_end_lists_each_visible_agent_once_in_order_despite_ties() {
    let server = server(None).await;
    let (alice, bob) = server.two_users(PW).await;
    let carol = server.signed_in("carol@example.org", PW).await;
    let (bobs, carols) = catalogue(&server, &alice, &bob, &carol).await;
    assert_eq!(bobs.len(), AGENTS);

    // Bob sees them all: pages of several sizes, cut inside runs of ties.
    for limit in [7, 50, 1000] {
        let got = every_page(&server, &bob, "requiredPermission=1", limit).await;
        assert_listed(&got, &bobs, &format!("Bob, pages of {limit}"));
    }
    let finance: Vec<Expected> = bobs
        .iter()
        .filter(|a| a.category == "finance")
        .cloned()
        .collect();
    let got = every_page(&server, &bob, "category=finance", 9).await;
    assert_listed(&got, &finance, "Bob, finance");
    // Only those he may edit.
    let editable: Vec<Expected> = bobs.iter().filter(|a| a.editable).cloned().collect();
    let got = every_page(&server, &bob, "requiredPermission=2", 5).await;
    assert_listed(&got, &editable, "Bob, editable");

    // Carol sees few (one in twenty): the list starts from her grants.
    for limit in [3, 20] {
        let got = every_page(&server, &carol, "requiredPermission=1", limit).await;
        assert_listed(&got, &carols, &format!("Carol, pages of {limit}"));
    }
    // Alice owns them all.
    let got = every_page(&server, &alice, "requiredPermission=15", 64).await;
    assert_eq!(got.len(), AGENTS);
    server.stop().await;
}
