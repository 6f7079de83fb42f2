//! The `web_search` tool with no paid service: a search provider (fakes of SearXNG and
//! Serper), the built-in scraper reading the result pages through the guarded client (hostile
//! pages included), the built-in BM25 reranker; the model gets the sources with LibreChat's
//! citation anchors, the client LibreChat's `web_search` attachment, also saved with the answer;
//! `WEB_SEARCH.USE` decides who may use it, and `GET /api/agents/tools/web_search/auth`
//! answers as LibreChat does.

mod support;

use serde_json::{Value, json};
use support::fake_search::{ANSWER, HEAVY_PATHS, PATHS, SERPER_KEY};
use support::fake_tools::ToolScript;
use support::web_search::{PW, ask, attachments, offered, output, server, web};
use support::{Session, stream};

#[tokio::test]
async fn searxng_results_reach_the_model_with_anchors_and_the_client_with_sources() {
    let w = web().await;
    let server = server(&w, &[("SEARXNG_INSTANCE_URL", &w.search.base)], "").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let frames = ask(
        &w,
        &server,
        &alice,
        json!({"query": "when are spring tides"}),
    )
    .await;
    let out = output(&frames);
    assert_eq!(offered(&w.fake), ["web_search"]);
    // The model is told how to cite, beside its instructions.
    let asked = w.fake.last_chat();
    let system = asked["messages"][0]["content"].as_str().unwrap_or_default();
    assert!(
        asked["messages"][0]["role"] == "system"
            && system.contains("# `web_search`")
            && system.contains("\\ue202turn0search0")
            && system.contains("**CITATION FORMAT - UNICODE ESCAPE SEQUENCES ONLY:**")
            && system.contains("# `web_search` Runtime Context\nConversation Date & Time: 20"),
        "{asked}"
    );

    // The model reads each source with the anchor LibreChat's client resolves, and the
    // passage of the article that answers, without the page's chrome.
    let article = format!("{}/article", w.web.base);
    assert!(out.contains("\\ue202turn0search0 Page /article"), "{out}");
    assert!(out.contains(&format!("URL: {article}")), "{out}");
    assert!(out.contains(ANSWER), "{out}");
    for chrome in ["Tides navigation", "script text", "Footer text"] {
        assert!(!out.contains(chrome), "{chrome}: {out}");
    }
    // Redirects to private addresses were not followed; the endless page did not stop the
    // answer.
    assert_eq!(w.private.hits(), 0);
    assert!(!out.contains("private secret"), "{out}");
    for (i, path) in PATHS.iter().enumerate() {
        assert!(
            out.contains(&format!("\\ue202turn0search{i} Page {path}")),
            "{path}: {out}"
        );
    }

    // The client got LibreChat's attachment, and the saved answer keeps it.
    let found = attachments(&frames);
    assert_eq!(found.len(), 1, "{found:?}");
    let a = &found[0];
    let last = frames.last().unwrap();
    let response = &last["responseMessage"];
    assert_eq!(a["type"], "web_search");
    assert_eq!(a["messageId"], response["messageId"]);
    assert_eq!(a["conversationId"], response["conversationId"]);
    let call_id = a["toolCallId"].as_str().unwrap();
    assert!(
        a["name"]
            .as_str()
            .unwrap()
            .starts_with(&format!("web_search_{call_id}_"))
    );
    let data = &a["web_search"];
    assert_eq!(data["turn"], 0);
    let organic = data["organic"].as_array().unwrap();
    assert_eq!(organic.len(), PATHS.len());
    assert_eq!(organic[0]["link"], article.as_str());
    assert_eq!(organic[0]["snippet"], "Snippet of /article");
    assert_eq!(organic[0]["processed"], true);
    let best = organic[0]["highlights"][0]["text"].as_str().unwrap();
    assert!(best.contains(ANSWER), "the best passage first: {best}");
    // A redirect on the same site is followed; those to private addresses are not; the
    // endless page is read up to its bound.
    let read: Vec<bool> = organic.iter().map(|o| o["processed"] == true).collect();
    assert_eq!(read, [true, true, false, false, true]);
    assert!(
        organic[1]["highlights"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Neap tides")
    );
    assert_eq!(response["attachments"], json!([a]));
    let convo = response["conversationId"].as_str().unwrap();
    let saved = server
        .get_json(&format!("/api/messages/{convo}"), &alice.token)
        .await;
    let answer = saved
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["messageId"] == response["messageId"])
        .unwrap();
    assert_eq!(answer["attachments"], json!([a]));

    // Shared, the answer keeps its sources (so its citations resolve there too), without the
    // ids of the owner's conversation.
    let created = server
        .send(
            "POST",
            &format!("/api/share/{convo}"),
            &alice.token,
            json!({}),
        )
        .await;
    assert_eq!(created.status(), 200);
    let share: Value = created.json().await.unwrap();
    let shared = server
        .get_json(
            &format!("/api/share/{}", share["shareId"].as_str().unwrap()),
            &alice.token,
        )
        .await;
    let shown = shared["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["isCreatedByUser"] == false)
        .unwrap();
    assert_eq!(
        shown["attachments"],
        json!([{"type": "web_search", "web_search": data}])
    );
}

#[tokio::test]
async fn stalled_huge_and_binary_pages_are_bounded_and_do_not_stop_the_answer() {
    let w = web().await;
    let server = server(&w, &[("SEARXNG_INSTANCE_URL", &w.search.base)], "").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let frames = ask(&w, &server, &alice, json!({"query": "heavy spring tides"})).await;
    let out = output(&frames);
    assert!(out.contains(ANSWER), "{out}");
    assert!(
        out.contains("huge tides page"),
        "its first 2 MB are read: {out}"
    );
    // Bounded: the passages of a 50 MB page are a few KB.
    assert!(out.len() < 32 * 1024, "{}", out.len());
    let organic = attachments(&frames)[0]["web_search"]["organic"].clone();
    let read: Vec<bool> = organic
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["processed"] == true)
        .collect();
    // /article, /stall, /huge, /binary, /lying: the page that stalls is read as far as it
    // came before the scraper's time ran out.
    assert_eq!(read, [true, true, true, false, false], "{HEAVY_PATHS:?}");
    assert!(out.contains("stalled tides"), "{out}");
}

#[tokio::test]
async fn serper_is_called_with_the_servers_key_and_its_refusal_reaches_the_model() {
    let w = web().await;
    let env = [
        ("SERPER_API_KEY", SERPER_KEY),
        ("SERPER_API_URL", w.search.base.as_str()),
    ];
    let server = server(&w, &env, "").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let frames = ask(
        &w,
        &server,
        &alice,
        json!({"query": "spring tides", "news": true, "images": true}),
    )
    .await;
    let out = output(&frames);
    assert!(out.contains("Direct answer: Twice a month"), "{out}");
    assert!(out.contains("\\ue202turn0search0 Tides explained"), "{out}");
    assert!(out.contains(ANSWER), "{out}");
    assert!(
        out.contains("\\ue202turn0news0 Tide tables published (Coast Daily, 1 day ago)"),
        "{out}"
    );
    assert!(out.contains("\\ue202turn0image0 Tide chart"), "{out}");
    let data = &attachments(&frames)[0]["web_search"];
    assert_eq!(data["answerBox"]["answer"], "Twice a month");
    assert_eq!(data["knowledgeGraph"]["title"], "Tide");
    assert_eq!(data["topStories"][0]["source"], "Coast Daily");
    assert_eq!(
        data["images"][0]["imageUrl"],
        "https://img.example/chart.png"
    );

    // A key Serper refuses: the model hears it, and nothing is attached.
    let env = [
        ("SERPER_API_KEY", "wrong-key"),
        ("SERPER_API_URL", w.search.base.as_str()),
    ];
    let server = self::server(&w, &env, "").await;
    let bob = server.signed_in("bob@example.org", PW).await;
    let frames = ask(&w, &server, &bob, json!({"query": "spring tides"})).await;
    let out = output(&frames);
    assert!(
        out.contains(
            "Serper answered HTTP 403 (the server's key for it is refused): Unauthorized."
        ),
        "{out}"
    );
    assert!(attachments(&frames).is_empty());
}

#[tokio::test]
async fn a_provider_that_fails_or_never_answers_is_a_clear_tool_error() {
    let w = web().await;
    let env = [
        ("SEARXNG_INSTANCE_URL", w.search.base.as_str()),
        ("WEB_SEARCH_TIMEOUT_MS", "300"),
    ];
    let server = server(&w, &env, "").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let out = output(&ask(&w, &server, &alice, json!({"query": "boom"})).await);
    assert!(
        out.contains("the search failed: SearXNG answered HTTP 500"),
        "{out}"
    );
    let out = output(&ask(&w, &server, &alice, json!({"query": "hang"})).await);
    assert!(
        out.contains("the search failed: SearXNG did not answer within 0.3 seconds"),
        "{out}"
    );
    // No provider at all: the toggle offers nothing, as for a tool this server does not have.
    let server = self::server(&w, &[], "").await;
    let bob = server.signed_in("bob@example.org", PW).await;
    let frames = ask(&w, &server, &bob, json!({"query": "tides"})).await;
    assert!(frames.last().unwrap().get("error").is_none());
    assert!(!offered(&w.fake).contains(&"web_search".to_owned()));
    assert!(attachments(&frames).is_empty());
}

#[tokio::test]
async fn without_web_search_use_the_tool_is_not_offered() {
    let w = web().await;
    let env = [("SEARXNG_INSTANCE_URL", w.search.base.as_str())];
    let server = server(&w, &env, "interface:\n  webSearch: false\n").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let frames = ask(&w, &server, &alice, json!({"query": "tides"})).await;
    let last = frames.last().unwrap();
    assert!(last.get("error").is_none(), "{last}");
    assert!(!offered(&w.fake).contains(&"web_search".to_owned()));
    assert!(attachments(&frames).is_empty());
}

#[tokio::test]
async fn the_auth_route_answers_as_librechat_does() {
    let w = web().await;
    let server = server(&w, &[], "").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let auth = server
        .get_json("/api/agents/tools/web_search/auth", &alice.token)
        .await;
    assert_eq!(
        auth,
        json!({"authenticated": false, "authTypes": [["providers", "user_provided"],
               ["scrapers", "system_defined"], ["rerankers", "system_defined"]]})
    );
    // No provider: the startup configuration says nothing of web search.
    let config = server.get_json("/api/config", &alice.token).await;
    assert!(config.get("webSearch").is_none(), "{config}");
    let env = [("SEARXNG_INSTANCE_URL", w.search.base.as_str())];
    let server = self::server(&w, &env, "").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let auth = server
        .get_json("/api/agents/tools/web_search/auth", &alice.token)
        .await;
    assert_eq!(
        auth,
        json!({"authenticated": true, "authTypes": [["providers", "system_defined"],
               ["scrapers", "system_defined"], ["rerankers", "system_defined"]]})
    );
    // LibreChat's `webSearch` in the startup configuration: the provider the server has.
    let config = server.get_json("/api/config", &alice.token).await;
    assert_eq!(config["webSearch"], json!({"searchProvider": "searxng"}));
    // The agents endpoint offers the capability, so LibreChat's client shows the toggle.
    let e = server.get_json("/api/endpoints", &alice.token).await;
    let caps = e["agents"]["capabilities"].as_array().unwrap();
    assert!(caps.contains(&json!("web_search")), "{caps:?}");
}

#[tokio::test]
async fn an_agent_whose_tools_include_web_search_searches_and_cites() {
    let w = web().await;
    let env = [("SEARXNG_INSTANCE_URL", w.search.base.as_str())];
    let server = server(&w, &env, "").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let agent = support::agents::create(
        &server,
        &alice,
        json!({"name": "Researcher", "model": "searcher", "tools": ["web_search"]}),
    )
    .await;
    let (agent_id, _) = support::agents::ids(&agent);
    w.fake.script(
        "searcher",
        ToolScript::calls([
            ("web_search", json!({"query": "spring tides"})),
            ("web_search", json!({"query": "neap tides"})),
        ]),
    );
    let body = json!({"text": "Tides?", "endpoint": "agents", "agent_id": agent_id});
    let id = server.start_chat(&alice, "agents", body).await;
    let frames = stream::frames(&server, &alice, &id, "").await;
    assert!(frames.last().unwrap().get("error").is_none());
    // Two searches in one answer: numbered 0 and 1, in the attachments and the anchors.
    let found = attachments(&frames);
    let mut turns: Vec<i64> = found
        .iter()
        .map(|a| a["web_search"]["turn"].as_i64().unwrap())
        .collect();
    turns.sort();
    assert_eq!(turns, [0, 1]);
    let parts = frames.last().unwrap()["responseMessage"]["content"]
        .as_array()
        .unwrap()
        .clone();
    let outputs: Vec<&str> = parts
        .iter()
        .filter(|p| p["type"] == "tool_call")
        .map(|p| p["tool_call"]["output"].as_str().unwrap())
        .collect();
    assert_eq!(outputs.len(), 2);
    assert!(outputs.iter().any(|o| o.contains("\\ue202turn1search0")));
    assert!(outputs.iter().any(|o| o.contains("\\ue202turn0search0")));
    assert_eq!(
        frames.last().unwrap()["responseMessage"]["attachments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_person_may_bring_their_own_key_and_nobody_else_uses_it() {
    let w = web().await;
    let env = [
        ("SERPER_API_KEY", "user_provided"),
        ("SERPER_API_URL", w.search.base.as_str()),
    ];
    let server = server(&w, &env, "").await;
    let (alice, bob) = server.two_users(PW).await;
    let auth = |s: &Session| {
        let token = s.token.clone();
        let server = &server;
        async move {
            server
                .get_json("/api/agents/tools/web_search/auth", &token)
                .await
        }
    };
    assert_eq!(auth(&alice).await["authenticated"], false);
    let install =
        |vars: Value| json!({"pluginKey": "web_search", "action": "install", "auth": vars});
    let status = |body: Value, s: &Session| {
        let token = s.token.clone();
        let server = &server;
        async move {
            server
                .send("POST", "/api/user/plugins", &token, body)
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        status(install(json!({"NOT_A_VAR": "x"})), &alice).await,
        400
    );
    assert_eq!(
        status(install(json!({"SERPER_API_KEY": SERPER_KEY})), &alice).await,
        200
    );
    assert_eq!(
        auth(&alice).await,
        json!({"authenticated": true, "authTypes": [["providers", "user_provided"],
               ["scrapers", "system_defined"], ["rerankers", "system_defined"]]})
    );
    let out = output(&ask(&w, &server, &alice, json!({"query": "spring tides"})).await);
    assert!(out.contains("\\ue202turn0search0 Tides explained"), "{out}");

    // Bob has none: the tool is not offered him. His own SearXNG on a private address is
    // refused.
    assert_eq!(auth(&bob).await["authenticated"], false);
    ask(&w, &server, &bob, json!({"query": "spring tides"})).await;
    assert!(!offered(&w.fake).contains(&"web_search".to_owned()));
    let local = json!({"SEARXNG_INSTANCE_URL": w.search.base});
    assert_eq!(status(install(local), &bob).await, 200);
    let out = output(&ask(&w, &server, &bob, json!({"query": "spring tides"})).await);
    assert!(
        out.contains("the person's SearXNG address is refused"),
        "{out}"
    );
}
