//! File citations over HTTP (LibreChat's `FILE_CITATIONS` and `processFileCitations`): with
//! the permission, the file search tool is described with LibreChat's citation instructions,
//! its passages carry anchors, and the answer gets LibreChat's `file_search` attachment, on
//! the stream and saved, within the agents endpoint's citation limits; without it, none of
//! these. A cited file downloads for whoever may use it, and nobody else's is ever cited or
//! downloadable.

mod support;

use serde_json::{Value, json};
use support::agents::{create, ids, share_with};
use support::fake_openai::{FakeOpenAi, KEY};
use support::file_search::{add_to_agent, add_to_chat, chat_body, script, settle, tool_results};
use support::{Session, TestServer, stream};

const PW: &str = "correct horse battery";
const RECIPE: &str = "Grandmother's secret: the quince jelly sets with lemon peel.";
const TIDES: &str = "High water at Brest: 06:12 and 18:31. Spring tides at Brest are high.";

async fn server(fake: &FakeOpenAi, yaml: &str) -> TestServer {
    TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .yaml(&format!("version: 1.3.17\n{yaml}"))
        .start()
        .await
}

/// Sends `body` to `endpoint` and follows its stream: every frame.
async fn ask(server: &TestServer, s: &Session, endpoint: &str, body: Value) -> Vec<Value> {
    let id = server.start_chat(s, endpoint, body).await;
    let frames = stream::frames(server, s, &id, "").await;
    let last = frames.last().unwrap();
    assert!(last.get("error").is_none(), "{last}");
    frames
}

/// Has the model search `files` for `query`, asked in a plain chat with file search on: every
/// frame.
async fn search_in_chat(
    server: &TestServer,
    fake: &FakeOpenAi,
    s: &Session,
    query: &str,
    files: &[&str],
) -> Vec<Value> {
    script(fake, query);
    ask(server, s, "openAI", chat_body("How?", None, files, true)).await
}

fn attachments(frames: &[Value]) -> Vec<Value> {
    frames
        .iter()
        .filter(|f| f["event"] == "attachment")
        .map(|f| f["data"].clone())
        .collect()
}

/// The file_search tool's description, as the model was offered it last.
fn description(fake: &FakeOpenAi) -> String {
    let asked = fake.last_chat();
    asked["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["function"]["name"] == "file_search")
        .and_then(|t| t["function"]["description"].as_str())
        .expect("file_search offered")
        .to_owned()
}

/// The answer as saved (`GET /api/messages/{conversation}`).
async fn saved(server: &TestServer, s: &Session, frames: &[Value]) -> Value {
    let response = &frames.last().unwrap()["responseMessage"];
    let convo = response["conversationId"].as_str().unwrap();
    let all = server
        .get_json(&format!("/api/messages/{convo}"), &s.token)
        .await;
    all.as_array()
        .unwrap()
        .iter()
        .find(|m| m["messageId"] == response["messageId"])
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_cited_passage_reaches_the_client_as_librechat_s_attachment_and_is_saved() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, "").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    // Asked about at once, before the indexer has caught up: the search waits for it.
    let file_id = add_to_chat(&server, &alice, "recipes.txt", RECIPE).await;
    let frames = search_in_chat(&server, &fake, &alice, "quince jelly", &[&file_id]).await;

    // The model is told how to cite, in LibreChat's words, and reads each passage's anchor.
    let about = description(&fake);
    assert!(
        about.contains("**CITE FILE SEARCH RESULTS:**")
            && about.contains("\"The document.pdf states that... \\ue202turn0file0\"  \n")
            && about.ends_with("NEVER use markdown links or footnotes.**"),
        "{about}"
    );
    let found = tool_results(&fake).join("\n");
    assert!(
        found.starts_with(
            "File: recipes.txt\nAnchor: \\ue202turn0file0 (recipes.txt)\nRelevance: 1.0000\n"
        ),
        "{found}"
    );

    // The client gets LibreChat's attachment, exactly, and the saved answer keeps it.
    let found = attachments(&frames);
    assert_eq!(found.len(), 1, "{found:?}");
    let a = &found[0];
    let response = &frames.last().unwrap()["responseMessage"];
    let name = a["name"].as_str().unwrap();
    let nanoid = name
        .strip_prefix("file_search_file_search_results_")
        .unwrap();
    assert_eq!(nanoid.len(), 21, "{name}");
    let content = a["file_search"]["sources"][0]["content"].as_str().unwrap();
    assert!(content.contains(RECIPE), "{content}");
    let call = response["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "tool_call")
        .expect("the call");
    assert_eq!(
        *a,
        json!({
            "type": "file_search",
            "file_search": {"sources": [{
                "type": "file",
                "fileId": file_id,
                "content": content,
                "fileName": "recipes.txt",
                "relevance": 1.0,
                "pages": [],
                "pageRelevance": {},
                "metadata": {
                    "storageType": "local",
                    "fileType": "text/plain",
                    "fileBytes": RECIPE.len(),
                },
            }]},
            "toolCallId": call["tool_call"]["id"],
            "messageId": response["messageId"],
            "conversationId": response["conversationId"],
            "name": name,
        })
    );
    assert_eq!(response["attachments"], json!([a]));
    assert_eq!(
        saved(&server, &alice, &frames).await["attachments"],
        json!([a])
    );

    // The cited file downloads as LibreChat's client asks for it (the reader's id in the
    // path), whole.
    let me = alice.user["id"].as_str().unwrap();
    let resp = server
        .get_as(&format!("/api/files/download/{me}/{file_id}"), &alice.token)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), RECIPE);
}

/// Three files: `a.txt` of three pages that each speak of spring tides, `b.txt` and `c.txt`
/// of one each (c hardly). Uploaded by `s` for file search; their ids.
async fn three_files(server: &TestServer, s: &Session) -> Vec<String> {
    let a = "Spring tides at Brest are the highest spring tides.\u{c}\
             Spring tides follow the full moon; spring tides follow the new moon.\u{c}\
             Neap tides are small; spring tides are large.";
    let b = "Spring tides at Dover come a day after the new moon.";
    let c = "The harbour opens at dawn whatever the tides. Boats, nets, gulls, ropes and oars.";
    let mut out = Vec::new();
    for (name, text) in [("a.txt", a), ("b.txt", b), ("c.txt", c)] {
        out.push(add_to_chat(server, s, name, text).await);
    }
    settle(server).await;
    out
}

fn sources(frames: &[Value]) -> Vec<Value> {
    let found = attachments(frames);
    assert_eq!(found.len(), 1, "{found:?}");
    found[0]["file_search"]["sources"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn citations_keep_within_the_agents_endpoint_s_limits() {
    let fake = FakeOpenAi::start().await;
    // At most one passage of each file, two in all; none left out for relevance.
    let server = server(
        &fake,
        "endpoints:\n  agents:\n    maxCitations: 2\n    maxCitationsPerFile: 1\n    \
         minRelevanceScore: 0\n",
    )
    .await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let ids = three_files(&server, &alice).await;
    let names: Vec<&str> = ids.iter().map(String::as_str).collect();
    let frames = search_in_chat(&server, &fake, &alice, "spring tides", &names).await;
    // The model read every passage (all five), the client got two, of two files, best first.
    let found = tool_results(&fake).join("\n");
    assert_eq!(found.matches("\nContent: ").count(), 5, "{found}");
    let cited = sources(&frames);
    assert_eq!(cited.len(), 2, "{cited:?}");
    assert_ne!(cited[0]["fileId"], cited[1]["fileId"]);
    assert_eq!(cited[0]["relevance"], 1.0);
    assert!(cited[0]["relevance"].as_f64() >= cited[1]["relevance"].as_f64());
    // A page's passage names its page.
    let of_a: Vec<&Value> = cited.iter().filter(|s| s["fileName"] == "a.txt").collect();
    assert_eq!(of_a.len(), 1, "{cited:?}");
    let page = of_a[0]["pages"][0].as_u64().expect("a page");
    assert_eq!(
        of_a[0]["pageRelevance"],
        json!({ page.to_string(): of_a[0]["relevance"] })
    );

    // `minRelevanceScore: 1` keeps the best passage alone.
    let strict = self::server(&fake, "endpoints:\n  agents:\n    minRelevanceScore: 1\n").await;
    let bob = strict.signed_in("bob@example.org", PW).await;
    let ids = three_files(&strict, &bob).await;
    let names: Vec<&str> = ids.iter().map(String::as_str).collect();
    let frames = search_in_chat(&strict, &fake, &bob, "spring tides", &names).await;
    let cited = sources(&frames);
    assert_eq!(cited.len(), 1, "{cited:?}");
    assert_eq!(cited[0]["relevance"], 1.0);
    // Only the cited file's passages carry an anchor.
    let found = tool_results(&fake).join("\n");
    let anchored = found.matches("Anchor: \\ue202turn0file0 (").count();
    assert_eq!(anchored, found.matches("Anchor: ").count(), "{found}");
    assert!((1..5).contains(&anchored), "{found}");
}

#[tokio::test]
async fn without_file_citations_the_search_neither_cites_nor_attaches() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, "interface:\n  fileCitations: false\n").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let file_id = add_to_chat(&server, &alice, "recipes.txt", RECIPE).await;
    settle(&server).await;
    let frames = search_in_chat(&server, &fake, &alice, "quince jelly", &[&file_id]).await;
    let found = tool_results(&fake).join("\n");
    assert!(
        found.starts_with("File: recipes.txt\nRelevance: 1.0000\n"),
        "{found}"
    );
    assert!(!found.contains("\\ue202"), "{found}");
    assert!(!description(&fake).contains("CITE"));
    assert!(attachments(&frames).is_empty());
    let answer = saved(&server, &alice, &frames).await;
    assert!(
        answer["attachments"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{answer}"
    );
}

#[tokio::test]
async fn only_files_the_person_may_see_are_cited_and_downloaded() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, "").await;
    let (alice, bob) = server.two_users(PW).await;
    let carol = server.signed_in("carol@example.org", PW).await;
    let (agent, object_id) = ids(&create(&server, &alice, json!({"tools": ["file_search"]})).await);
    let agents_file = add_to_agent(&server, &alice, &agent, "tides.md", TIDES).await;
    let alices = add_to_chat(&server, &alice, "recipes.txt", RECIPE).await;
    share_with(&server, &alice, &object_id, &bob, "agent_viewer").await;
    settle(&server).await;

    // Bob, through Alice's agent, is cited the agent's file, never her chat's, and may open it.
    script(&fake, "spring tides Brest quince jelly");
    let body = json!({"text": "When?", "endpoint": "agents", "agent_id": agent});
    let frames = ask(&server, &bob, "agents", body).await;
    let cited: Vec<Value> = sources(&frames)
        .iter()
        .map(|s| s["fileId"].clone())
        .collect();
    assert_eq!(cited, [json!(agents_file)]);
    let path = |s: &Session, f: &str| {
        format!("/api/files/download/{}/{f}", s.user["id"].as_str().unwrap())
    };
    let resp = server.get_as(&path(&bob, &agents_file), &bob.token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), TIDES);

    // Bob's own chat file is cited for him; Alice's chat file is his by no path, nor is
    // anything of hers Carol's, who may not use the agent.
    let his = add_to_chat(&server, &bob, "notes.txt", "Quince jelly needs patience.").await;
    settle(&server).await;
    let frames = search_in_chat(&server, &fake, &bob, "quince jelly", &[&his]).await;
    let cited: Vec<Value> = sources(&frames)
        .iter()
        .map(|s| s["fileId"].clone())
        .collect();
    assert_eq!(cited, [json!(his)]);
    for (who, f) in [(&bob, &alices), (&carol, &alices), (&carol, &agents_file)] {
        for owner in [&alice, who] {
            let resp = server.get_as(&path(owner, f), &who.token).await;
            assert_eq!(resp.status(), 404, "{} {f}", who.user["email"]);
        }
    }
    assert!(!tool_results(&fake).join("\n").contains("lemon peel"));
}
