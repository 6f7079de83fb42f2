//! LibreChat's own web client in a real browser: unpacks the client build (a tarball of
//! LibreChat's `client/dist`, see /work/shared/librechat-client/README.md) into a temporary
//! folder, starts the real binary with `CLIENT_DIR` pointing at it and a fake OpenAI
//! provider, then runs `tests/e2e/librechat.test.mjs` (Playwright driving Debian's chromium).
//! The script records every `/api` call the page makes and fails on any 4xx/5xx that
//! LibreChat's own server would not answer. Skipped with a note when the tarball, chromium or
//! the npm packages are missing, unless LIBRECHAT_REQUIRE_PEERS is set (as `.ci/run` does).
//! After it, the files it attached must have reached the model. Screenshots land in
//! tests/e2e/artifacts/librechat/.

mod support;

use serde_json::json;
use support::client_build::{self, client_tarball, unpack};
use support::fake_api::{CLIENT_ID, CLIENT_SECRET, FakeApi};
use support::fake_openai::{FakeOpenAi, KEY};
use support::fake_search::{FakeSearch, FakeWeb, Private};
use support::fake_tools::ToolScript;
use support::node;
use support::{ServeProcess, librechat};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librechat_s_own_client_in_a_real_browser() {
    if !node::ready("LibreChat's client in the browser", client_build::missing()) {
        return;
    }
    let tarball = client_tarball().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let into = dir.path().join("client");
    std::fs::create_dir(&into).unwrap();
    let client = unpack(&tarball, &into);
    let fake = FakeOpenAi::start().await;
    // The agent's model calls the calculator (tests/e2e/librechat-agents.mjs: MODEL, CALCULATION).
    fake.script(
        "tide-calc",
        ToolScript::calls([("calculator", json!({"input": "12 * 3.5"}))]),
    );
    // The router agent hands the conversation to the specialist (tests/e2e/librechat-handoffs.mjs).
    fake.script(
        "tide-route",
        ToolScript::calls([("lc_transfer_to_*", json!({}))]),
    );
    // An agent with an OAuth action on a small real API calls its `getMe`
    // (tests/e2e/librechat-actions.mjs).
    let api = FakeApi::start("http://example.com/").await;
    fake.script(
        "tide-oauth",
        ToolScript::calls([("getMe_action_*", json!({}))]),
    );
    // Web search and file search answer with sources LibreChat's client cites
    // (tests/e2e/librechat-citations.mjs): `tide-web` searches the fake SearXNG, whose results
    // are pages of the fake web; `tide-files` searches the files uploaded for file search.
    let private = Private::start().await;
    let web = FakeWeb::start(&private).await;
    let search = FakeSearch::start(&web).await;
    fake.script(
        "tide-web",
        ToolScript::calls([("web_search", json!({"query": "when are spring tides"}))]),
    );
    fake.script(
        "tide-files",
        ToolScript::calls([("file_search", json!({"query": "spring tides Brest"}))]),
    );
    // The MCP time server (PyPI's `mcp-server-time` over stdio) chosen in LibreChat's composer:
    // `tide-mcp` calls its tool once it is offered; the same server again as `clock`, with a
    // value each person sets (tests/e2e/librechat-mcp.mjs).
    fake.script(
        "tide-mcp",
        ToolScript::calls([("get_current_time_mcp_time", json!({"timezone": "UTC"}))])
            .when("get_current_time_mcp_time"),
    );
    // npm's reference MCP server over streamable HTTP, added in LibreChat's "Add MCP Server"
    // dialog (named `everything` there), and a model that calls its `echo`; the OAuth-protected
    // MCP server (tests/mcp/oauth_server.py) as `guarded`, connected from LibreChat's MCP
    // Settings panel, and a model that calls its `whoami` (tests/e2e/librechat-mcp.mjs).
    let everything = support::mcp::Everything::start("streamableHttp").await;
    let guarded = support::mcp::OAuthServer::start().await;
    fake.script(
        "tide-echo",
        ToolScript::calls([(
            "echo_mcp_everything",
            json!({"message": "added in LibreChat"}),
        )])
        .when("echo_mcp_everything"),
    );
    fake.script(
        "tide-whoami",
        ToolScript::calls([("whoami_mcp_guarded", json!({}))]).when("whoami_mcp_guarded"),
    );
    let python = support::mcp::python();
    // Memories personalise answers (tests/e2e/librechat-memories.mjs); the agent is found in
    // the marketplace (tests/e2e/librechat-agents.mjs).
    std::fs::write(
        dir.path().join("librechat.yaml"),
        format!(
            "version: 1.3.17\nmemory:\n  personalize: true\ninterface:\n  marketplace:\n    use: true\n\
             actions:\n  allowedAddresses: ['127.0.0.1:{}']\n\
             webSearch:\n  allowedAddresses: ['{}']\n  scraperTimeout: 3000\n\
             mcpSettings:\n  allowedAddresses: ['{}', '127.0.0.1:{}']\n\
             mcpServers:\n  guarded:\n    type: streamable-http\n    url: http://127.0.0.1:{}/mcp\n    requiresOAuth: true\n  time:\n    command: {python}\n    args: ['-m', 'mcp_server_time', '--local-timezone', 'UTC']\n  clock:\n    title: Clock\n    command: {python}\n    args: ['-m', 'mcp_server_time', '--local-timezone', 'UTC']\n    env:\n      CLOCK_KEY: '{{{{CLOCK_KEY}}}}'\n    customUserVars:\n      CLOCK_KEY:\n        title: Clock key\n        description: Any value will do\n",
            api.port,
            web.host_port(),
            everything.host_port(),
            guarded.port,
            guarded.port
        ),
    )
    .unwrap();
    let mut cmd = librechat(dir.path());
    cmd.env("CLIENT_DIR", &client)
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env(
            "OPENAI_MODELS",
            "gpt-4o,tide-calc,tide-route,tide-oauth,tide-web,tide-files,tide-mcp,tide-echo,tide-whoami",
        )
        .env("SEARXNG_INSTANCE_URL", &search.base)
        // LibreChat's client shows web sources' favicons from Google (answered by the
        // browser test itself, offline).
        .env("ALLOWED_IMAGE_HOSTS", "www.google.com")
        .env("ALLOW_SHARED_LINKS_PUBLIC", "true")
        // A debug build gzips the client's 21 MB slowly on every fresh browser context; the
        // compression layer has its own tests.
        .env("DISABLE_COMPRESSION", "true")
        .env("LOGIN_MAX", "100")
        .env("REGISTER_MAX", "100")
        // LibreChat's client sends no proof to start 2FA enrolment: the sign-in must stay
        // recent however slowly the steps before it run.
        .env("REAUTH_WINDOW", "1440")
        .env("JWT_SECRET", "lc-e2e-jwt-secret-0123456789abcdef01234567")
        .env(
            "JWT_REFRESH_SECRET",
            "lc-e2e-refresh-secret-0123456789abcdef0123",
        );
    // Its own address, where the action's OAuth provider sends the person back.
    let port = ServeProcess::free_port();
    cmd.env("DOMAIN_SERVER", format!("http://127.0.0.1:{port}"));
    let server = tokio::task::spawn_blocking(move || ServeProcess::start_on(cmd, port))
        .await
        .unwrap();
    let base = format!("{}/", server.base.trim_end_matches('/'));
    let everything_url = format!("http://{}/mcp", everything.host_port());
    let outcome = node::node_suite(
        "librechat.test.mjs",
        &[
            ("BASE_URL", &base),
            ("MCP_EVERYTHING_URL", &everything_url),
            ("ACTION_API", &api.base),
            ("ACTION_CLIENT_ID", CLIENT_ID),
            ("ACTION_CLIENT_SECRET", CLIENT_SECRET),
        ],
    )
    .await;
    // The server's log beside the screenshots, to compare a failed run with a good one.
    let artifacts =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/artifacts/librechat");
    let _ = std::fs::create_dir_all(&artifacts);
    let _ = std::fs::write(
        artifacts.join("server.log"),
        &*server.stderr.lock().unwrap(),
    );
    if let Err(out) = outcome {
        panic!(
            "{}",
            node::failure(
                "LibreChat's client failed in the browser",
                &out,
                &server.stderr.lock().unwrap()
            )
        );
    }
    // The question asked of two models at once went to the provider twice, once for each
    // column (COMPARE_QUESTION in tests/e2e/librechat-compare.mjs).
    let asked_twice = fake.times_asked("Compare the tides at Brest and Dover");
    assert_eq!(
        asked_twice, 2,
        "the side-by-side question went to the provider {asked_twice} time(s)"
    );
    // The files attached in the browser reached the model with their message: the document's
    // text (DOC_MARKER in tests/e2e/librechat-files.mjs), the PDF's text (PDF_MARKER) and the
    // image, in OpenAI's format.
    let carried = fake.requests().into_iter().find_map(|r| {
        let question = r["messages"].as_array()?.last()?.clone();
        let parts = question["content"].as_array()?.clone();
        let text = parts.iter().find(|p| p["type"] == "text")?["text"].as_str()?;
        text.contains("(marker 7413)").then_some(parts)
    });
    let parts = carried.expect("no request to the provider carried the attached document");
    assert!(
        parts.iter().any(|p| p["text"]
            .as_str()
            .is_some_and(|t| t.contains("(marker 8291)") && t.contains("almanac.pdf"))),
        "the PDF's text did not go with the document: {parts:?}"
    );
    assert!(
        parts.iter().any(|p| p["type"] == "image_url"
            && p["image_url"]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("data:image/png;base64,"))),
        "the image did not go with the document: {parts:?}"
    );
    // The memory kept in LibreChat's Memories panel went with the next message, in the system
    // prompt (MEMORY_MARKER in tests/e2e/librechat-memories.mjs).
    assert!(
        fake.requests()
            .iter()
            .any(|r| r["messages"][0]["role"] == "system"
                && r["messages"][0]["content"]
                    .as_str()
                    .is_some_and(|s| s.contains("(marker 5151)"))),
        "no request to the provider carried the memory in its system prompt"
    );
    // The prompt with variables, used through LibreChat's slash command and variables dialog,
    // reached the model filled: the person's name, the date as LibreChat's client writes it
    // and the values given (VARIABLES_MARKER in tests/e2e/librechat-prompts.mjs).
    let filled = fake
        .requests()
        .iter()
        .find_map(|r| {
            let question = r["messages"].as_array()?.last()?;
            let text = match &question["content"] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(parts) => parts
                    .iter()
                    .filter_map(|p| p["text"].as_str())
                    .collect::<String>(),
                _ => return None,
            };
            text.contains("(marker 3131)").then_some(text)
        })
        .expect("no request to the provider carried the prompt with variables");
    let expected = regex::Regex::new(
        r"^For Ada Lovelace on \d{4}-\d{2}-\d{2} \((Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\): plan a visit to Lisbon in a busy way \(marker 3131\)\.$",
    )
    .unwrap();
    assert!(
        expected.is_match(&filled),
        "the prompt reached the model as {filled:?}"
    );
    // The message sent with the composer's Artifacts toggle on came with the artifact
    // instructions in the system prompt (TOGGLE_MARKER in tests/e2e/librechat-artifact.mjs).
    let toggled = fake
        .requests()
        .into_iter()
        .find(|r| {
            r["messages"]
                .as_array()
                .and_then(|m| m.last())
                .is_some_and(|m| m["content"].to_string().contains("(marker 9191)"))
        })
        .expect("no request to the provider carried the message sent with the toggle on");
    assert!(
        toggled["messages"][0]["content"]
            .as_str()
            .is_some_and(|s| s.contains(":::artifact{identifier=")),
        "the artifact instructions did not reach the model: {}",
        toggled["messages"][0]
    );
    // The agent built in LibreChat's Agent Builder ran as built, for its author and for the
    // account it was shared with, and for its author again once it had a File Context
    // document: its instructions as the system prompt (AGENT.instructions in
    // tests/e2e/librechat-agents.mjs), the calculator offered, and its result sent back.
    let agent_turns: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r["model"] == "tide-calc" && r.get("tools").is_some())
        .collect();
    let results: Vec<_> = agent_turns
        .iter()
        .filter(|r| {
            r["messages"]
                .as_array()
                .and_then(|m| m.last())
                .is_some_and(|m| m["role"] == "tool")
        })
        .collect();
    assert_eq!(
        (agent_turns.len(), results.len()),
        (6, 3),
        "three chats with the agent, each a call and its result: {agent_turns:?}"
    );
    // The last chat, after the text file added under the builder's "File Context", gave the
    // model the file's text after the instructions (CONTEXT_MARKER there); the first ones did
    // not have it.
    let with_file = |r: &serde_json::Value| {
        r["messages"][0]["content"]
            .as_str()
            .is_some_and(|s| s.contains("(marker 2727)"))
    };
    assert_eq!(
        agent_turns.iter().map(with_file).collect::<Vec<_>>(),
        [false, false, false, false, true, true],
        "the File Context document went to the model with the wrong turns"
    );
    for r in &agent_turns {
        assert!(
            r["messages"][0]["role"] == "system"
                && r["messages"][0]["content"]
                    .as_str()
                    .is_some_and(|s| s.contains("(marker 6262)")),
            "the agent's instructions did not lead its request: {}",
            r["messages"][0]
        );
        assert_eq!(
            r["tools"][0]["function"]["name"], "calculator",
            "{}",
            r["tools"]
        );
    }
    for r in results {
        let last = r["messages"].as_array().unwrap().last().unwrap();
        assert_eq!(last["content"], "42", "the calculator's result: {last}");
    }
    // The router built in the browser was offered its handoff to the specialist, and the
    // specialist then ran with its own instructions, not the router's (the markers of
    // ROUTER and SPECIALIST in tests/e2e/librechat-handoffs.mjs).
    let system = |r: &serde_json::Value| r["messages"][0]["content"].as_str().map(str::to_owned);
    let routed = fake
        .requests()
        .into_iter()
        .find(|r| r["model"] == "tide-route")
        .expect("the router's model was never asked");
    assert!(
        system(&routed).is_some_and(|s| s.contains("(marker 4949)")),
        "the router's instructions did not lead its request: {}",
        routed["messages"][0]
    );
    assert!(
        routed["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["function"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("lc_transfer_to_agent_")))),
        "the router was not offered its handoff: {}",
        routed["tools"]
    );
    // The file search run from LibreChat's composer offered the tool with LibreChat's
    // citation instructions (file citations are on for every role by default), and its result
    // carried the anchor the client turned into the citation
    // (tests/e2e/librechat-citations.mjs).
    let searched = fake
        .requests()
        .into_iter()
        .find(|r| {
            r["model"] == "tide-files"
                && r["messages"]
                    .as_array()
                    .and_then(|m| m.last())
                    .is_some_and(|m| m["role"] == "tool")
        })
        .expect("the file search's result never reached the model");
    let offered = searched["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["function"]["name"] == "file_search")
        .expect("file_search offered");
    assert!(
        offered["function"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("**CITE FILE SEARCH RESULTS:**")),
        "{offered}"
    );
    let result = searched["messages"].as_array().unwrap().last().unwrap();
    assert!(
        result["content"]
            .as_str()
            .is_some_and(|c| c.contains("Anchor: \\ue202turn0file0 (brest-tides.md)")
                && c.contains("(marker 6464)")),
        "{result}"
    );
    // The question sent with the MCP time server chosen in LibreChat's composer (MCP_QUESTION
    // in tests/e2e/librechat-mcp.mjs) offered the server's tool, and its answer went back.
    let timed = fake
        .requests()
        .into_iter()
        .find(|r| {
            r["model"] == "tide-mcp"
                && r["messages"]
                    .as_array()
                    .and_then(|m| m.last())
                    .is_some_and(|m| m["role"] == "tool")
        })
        .expect("the MCP time server's answer never reached the model");
    assert!(
        timed["tools"].as_array().is_some_and(|t| t
            .iter()
            .any(|t| t["function"]["name"] == "get_current_time_mcp_time")),
        "{}",
        timed["tools"]
    );
    let result = timed["messages"].as_array().unwrap().last().unwrap();
    assert!(
        result["content"]
            .as_str()
            .is_some_and(|c| c.contains("\"timezone\": \"UTC\"")),
        "{result}"
    );
    // The server added in LibreChat's dialog answered its tool's call, and so did the OAuth
    // server, with the token of the one sign-in in the browser; both answers reached the model.
    for (model, text) in [
        ("tide-echo", "Echo: added in LibreChat"),
        ("tide-whoami", "alice ("),
    ] {
        assert!(
            fake.requests().iter().any(|r| r["model"] == model
                && r["messages"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"
                        && m["content"].as_str().is_some_and(|c| c.contains(text))))),
            "the answer of {model}'s MCP tool never reached the model"
        );
    }
    let record = guarded.record().await;
    assert_eq!(record["codes"], 1, "{record}");
    // The OAuth action added in LibreChat's Tool Library called the API once, with the token
    // the person's sign-in in the browser got.
    assert_eq!(
        api.me_calls(),
        [true],
        "the OAuth action must call the API once, with the person's token"
    );
    let specialist = fake
        .requests()
        .into_iter()
        .find(|r| system(r).is_some_and(|s| s.contains("(marker 4848)")))
        .expect("the specialist never ran");
    assert_eq!(specialist["model"], "gpt-4o");
    assert!(
        !system(&specialist).unwrap().contains("(marker 4949)"),
        "the specialist ran with the router's instructions"
    );
}
