//! Web search with the services LibreChat's administrators set up instead of the built-in
//! parts (fakes speaking their documented JSON): Firecrawl reads the result pages, Jina or
//! Cohere ranks their passages. Each is called at its configured address with the server's
//! key; a page on a private address is never handed to Firecrawl; a service that refuses,
//! breaks or hangs leaves the answer whole (the page keeps its snippet, the built-in reranker
//! ranks).

mod support;

use serde_json::json;
use support::fake_search::{ANSWER, PATHS, PRIVATE_LINKS};
use support::fake_services::{
    BROKEN_KEY, COHERE_KEY, FIRECRAWL_KEY, FIRECRAWL_MARK, FakeServices, JINA_KEY, SLOW_KEY,
};
use support::web_search::{PW, SCRAPER_TIMEOUT_MS, ask, attachments, output, server, web};

#[tokio::test]
async fn firecrawl_reads_the_pages_and_jina_ranks_the_passages() {
    let w = web().await;
    let services = FakeServices::start().await;
    let jina_url = format!("{}/v1/rerank", services.base);
    let env = [
        ("SEARXNG_INSTANCE_URL", w.search.base.as_str()),
        ("FIRECRAWL_API_KEY", FIRECRAWL_KEY),
        ("FIRECRAWL_API_URL", services.base.as_str()),
        ("JINA_API_KEY", JINA_KEY),
        ("JINA_API_URL", jina_url.as_str()),
    ];
    // No scraper or reranker named: those whose keys are set, as LibreChat chooses.
    let server = server(&w, &env, "").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let frames = ask(
        &w,
        &server,
        &alice,
        json!({"query": "when are spring tides"}),
    )
    .await;
    let out = output(&frames);

    // Firecrawl (v2, the default) was asked for each of the five pages, with the key, in
    // Markdown; the article's passage is Firecrawl's reading, first.
    let scrapes = services.got("/v2/scrape");
    assert_eq!(scrapes.len(), PATHS.len(), "{scrapes:?}");
    for s in &scrapes {
        assert_eq!(s.token, FIRECRAWL_KEY);
        assert_eq!(s.body["formats"], json!(["markdown"]));
        assert_eq!(s.body["timeout"], SCRAPER_TIMEOUT_MS, "scraperTimeout");
    }
    let asked: Vec<&str> = scrapes
        .iter()
        .map(|s| s.body["url"].as_str().unwrap())
        .collect();
    assert!(asked.contains(&format!("{}/article", w.web.base).as_str()));
    assert!(out.contains(FIRECRAWL_MARK), "{out}");
    // The pages Firecrawl would not read (402) keep their snippets; nothing failed.
    assert!(out.contains("Snippet of /moved"), "{out}");

    // Jina ranked the article's passages, with its model and the query.
    let reranks = services.got("/v1/rerank");
    assert_eq!(reranks.len(), 1, "only the page with passages: {reranks:?}");
    let r = &reranks[0];
    assert_eq!(r.token, JINA_KEY);
    assert_eq!(r.body["model"], "jina-reranker-v2-base-multilingual");
    assert_eq!(r.body["query"], "when are spring tides");
    let documents = r.body["documents"].as_array().unwrap();
    assert!(
        documents
            .iter()
            .any(|d| d.as_str().unwrap().contains(FIRECRAWL_MARK))
    );
    assert_eq!(r.body["top_n"], documents.len().min(3));
    let found = attachments(&frames);
    let best = found[0]["web_search"]["organic"][0]["highlights"][0].clone();
    assert!(
        best["text"].as_str().unwrap().contains(ANSWER),
        "Jina's best first: {best}"
    );
    assert!(
        best["score"].as_f64().unwrap() > 0.5,
        "Jina's score: {best}"
    );
}

#[tokio::test]
async fn firecrawl_is_never_asked_for_a_private_address() {
    let w = web().await;
    let services = FakeServices::start().await;
    let yaml = format!(
        "  scraperProvider: firecrawl\n  firecrawlApiUrl: {}\n  firecrawlVersion: v1\n  \
         firecrawlOptions:\n    onlyMainContent: true\n    formats: [markdown, links]\n  \
         rerankerType: none\n",
        services.base
    );
    let env = [
        ("SEARXNG_INSTANCE_URL", w.search.base.as_str()),
        ("FIRECRAWL_API_KEY", FIRECRAWL_KEY),
    ];
    // The lines continue the `webSearch` section the shared server writes.
    let server = server(&w, &env, &yaml).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let out = output(
        &ask(
            &w,
            &server,
            &alice,
            json!({"query": "spring tides private"}),
        )
        .await,
    );
    // The results' links are all private: none reached Firecrawl, each keeps its snippet.
    assert!(services.got("/v").is_empty(), "{:?}", services.got("/v"));
    for link in PRIVATE_LINKS {
        assert!(out.contains(link), "{link}: {out}");
    }

    // A public page: v1's route, with the options as written.
    ask(&w, &server, &alice, json!({"query": "spring tides"})).await;
    let scrapes = services.got("/v1/scrape");
    assert_eq!(scrapes.len(), PATHS.len());
    assert_eq!(scrapes[0].body["onlyMainContent"], true);
    assert_eq!(scrapes[0].body["formats"], json!(["markdown", "links"]));
}

#[tokio::test]
async fn a_service_that_refuses_breaks_or_hangs_leaves_the_answer_whole() {
    for (firecrawl_key, cohere_key) in [
        (FIRECRAWL_KEY, "cohere-wrong"),
        (FIRECRAWL_KEY, BROKEN_KEY),
        (FIRECRAWL_KEY, SLOW_KEY),
        ("fc-wrong", COHERE_KEY),
        (BROKEN_KEY, COHERE_KEY),
        (SLOW_KEY, COHERE_KEY),
    ] {
        let w = web().await;
        let services = FakeServices::start().await;
        let cohere_url = format!("{}/v2/rerank", services.base);
        let env = [
            ("SEARXNG_INSTANCE_URL", w.search.base.as_str()),
            ("FIRECRAWL_API_KEY", firecrawl_key),
            ("FIRECRAWL_API_URL", services.base.as_str()),
            ("COHERE_API_KEY", cohere_key),
            ("COHERE_API_URL", cohere_url.as_str()),
            ("WEB_SEARCH_TIMEOUT_MS", "2000"),
        ];
        let server = server(&w, &env, "").await;
        let alice = server.signed_in("alice@example.org", PW).await;
        let frames = ask(&w, &server, &alice, json!({"query": "spring tides"})).await;
        let out = output(&frames);
        // Every source is there with its anchor and snippet whatever the services did.
        for (i, path) in PATHS.iter().enumerate() {
            assert!(
                out.contains(&format!("\\ue202turn0search{i} Page {path}")),
                "{firecrawl_key}/{cohere_key}, {path}: {out}"
            );
        }
        if firecrawl_key == FIRECRAWL_KEY {
            // Firecrawl read the article; Cohere refused, broke or hung, and ours ranked it.
            assert!(out.contains(FIRECRAWL_MARK), "{out}");
            assert_eq!(services.got("/v2/rerank").len(), 1);
            let best = &attachments(&frames)[0]["web_search"]["organic"][0]["highlights"][0];
            assert!(best["text"].as_str().unwrap().contains(ANSWER), "{best}");
        } else {
            assert!(!out.contains(FIRECRAWL_MARK), "{out}");
            assert!(!services.got("/v2/scrape").is_empty());
        }
    }
}

#[tokio::test]
async fn a_person_may_bring_their_own_firecrawl_and_jina_keys() {
    let w = web().await;
    let services = FakeServices::start().await;
    let jina_url = format!("{}/v1/rerank", services.base);
    let env = [
        ("SEARXNG_INSTANCE_URL", w.search.base.as_str()),
        ("FIRECRAWL_API_KEY", "user_provided"),
        ("FIRECRAWL_API_URL", services.base.as_str()),
        ("JINA_API_KEY", "user_provided"),
        ("JINA_API_URL", jina_url.as_str()),
    ];
    let server = server(&w, &env, "").await;
    let (alice, bob) = server.two_users(PW).await;
    let auth = server
        .get_json("/api/agents/tools/web_search/auth", &alice.token)
        .await;
    assert_eq!(
        auth,
        json!({"authenticated": true, "authTypes": [["providers", "system_defined"],
               ["scrapers", "user_provided"], ["rerankers", "user_provided"]]})
    );
    let install = json!({"pluginKey": "web_search", "action": "install",
                         "auth": {"FIRECRAWL_API_KEY": FIRECRAWL_KEY, "JINA_API_KEY": JINA_KEY}});
    let status = server
        .send("POST", "/api/user/plugins", &alice.token, install)
        .await
        .status();
    assert_eq!(status, 200);

    // Alice's keys: Firecrawl reads and Jina ranks, with her keys.
    let out = output(
        &ask(
            &w,
            &server,
            &alice,
            json!({"query": "when are spring tides"}),
        )
        .await,
    );
    assert!(out.contains(FIRECRAWL_MARK), "{out}");
    let scrapes = services.got("/v2/scrape");
    assert_eq!(scrapes.len(), PATHS.len());
    assert!(scrapes.iter().all(|g| g.token == FIRECRAWL_KEY));
    let reranks = services.got("/v1/rerank");
    assert_eq!(reranks.len(), 1);
    assert_eq!(reranks[0].token, JINA_KEY);

    // Bob gave none: the built-in parts read and rank for him, and neither service is called.
    let before = services.got("/v").len();
    let out = output(&ask(&w, &server, &bob, json!({"query": "when are spring tides"})).await);
    assert!(
        out.contains(ANSWER) && !out.contains(FIRECRAWL_MARK),
        "{out}"
    );
    assert_eq!(services.got("/v").len(), before);
}
