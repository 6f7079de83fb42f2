//! The web app in a real browser: starts the real binary, a fake OpenAI provider and a small
//! web API for an agent's action (`support::fake_api`), then runs `tests/e2e/app.test.mjs`
//! (Playwright driving Debian's chromium) against them. Skipped with a note when chromium or
//! the npm packages are missing, unless LIBRECHAT_REQUIRE_PEERS is set (as `.ci/run` does,
//! after installing them). Screenshots land in tests/e2e/artifacts/.

mod support;

use support::fake_api::{CLIENT_ID, CLIENT_SECRET, FakeApi};
use support::fake_openai::{FakeOpenAi, KEY};
use support::fake_search::{FakeSearch, FakeWeb, Private, SERPER_KEY};
use support::fake_tools::ToolScript;
use support::node::{self, Needs};
use support::npm_mirror::NpmMirror;
use support::oidc::OidcProvider;
use support::ssp::SimpleSamlPhp;
use support::{ServeProcess, librechat};

/// The API key the browser gives the action (tests/e2e/actions.mjs).
const ACTION_KEY: &str = "sk-e2e-action-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_in_a_real_browser() {
    if !node::ready("the browser tests", node::missing_peer(Needs::Browser)) {
        return;
    }
    let fake = FakeOpenAi::start().await;
    // A model that calls the calculator, then answers with its output (tests/e2e/agents.mjs).
    fake.script(
        "calc-model",
        ToolScript::calls([("calculator", serde_json::json!({"input": "6*7"}))]),
    );
    // The memory agent's model: it keeps a memory when asked to in a message with
    // REMEMBER_MARKER (tests/e2e/memories.mjs), and does nothing for any other.
    fake.script(
        "memo",
        ToolScript::calls([(
            "set_memory",
            serde_json::json!({"key": "tea", "value": "The user likes oolong tea."}),
        )])
        .when("(marker 4343)"),
    );
    // A web API for an agent's action, and a model that calls its `getPet` (as the model is
    // offered it: the domain 127.0.0.1 with `_` for `.`) with the id 7 (tests/e2e/actions.mjs).
    let api = FakeApi::start("http://example.com/").await;
    fake.script(
        "action-model",
        ToolScript::calls([("getPet_action_127_0_0_1", serde_json::json!({"id": "7"}))]),
    );
    // An OAuth action on the same API: a model that calls its `getMe`, which needs the token
    // the person gets by signing in (tests/e2e/actions.mjs).
    fake.script(
        "oauth-model",
        ToolScript::calls([("getMe_action_127_0_0_1", serde_json::json!({}))]),
    );
    // Web search through a fake Serper whose results link to a fake web; a model that
    // searches, then answers with the results (their anchors, and the query's anchor that
    // names no source), and one that holds its answer after the search (tests/e2e/citations.mjs).
    let private = Private::start().await;
    let web = FakeWeb::start(&private).await;
    let search = FakeSearch::start(&web).await;
    let searching = || {
        ToolScript::calls([(
            "web_search",
            serde_json::json!({"query": "spring tides \\ue202turn0search7"}),
        )])
    };
    fake.script("search-model", searching());
    fake.script("search-held", searching().hold());
    // The same beside it, with call ids of its own (tests/e2e/citations.mjs's side by side).
    fake.script("search-model-2", searching().ids("xyz"));
    // A model that searches the files, when it is offered file search.
    fake.script(
        "file-model",
        ToolScript::calls([(
            "file_search",
            serde_json::json!({"query": "when does the harbour gate close"}),
        )])
        .when("\"file_search\""),
    );
    // A model that asks the MCP time server for the time, when it is offered the server's
    // tool (tests/e2e/mcp.mjs).
    fake.script(
        "mcp-model",
        ToolScript::calls([(
            "get_current_time_mcp_time",
            serde_json::json!({"timezone": "UTC"}),
        )])
        .when("get_current_time_mcp_time"),
    );
    // npm's reference MCP server over streamable HTTP, added in the browser through the MCP
    // menu's form (its name there: `everything`), and a model that calls its `echo`; the
    // OAuth-protected MCP server (tests/mcp/oauth_server.py) as `guarded`, signed in to from
    // the menu, and a model that calls its `whoami` (tests/e2e/mcp.mjs).
    let everything = support::mcp::Everything::start("streamableHttp").await;
    let guarded = support::mcp::OAuthServer::start().await;
    fake.script(
        "mcp-echo",
        ToolScript::calls([(
            "echo_mcp_everything",
            serde_json::json!({"message": "added in the browser"}),
        )])
        .when("echo_mcp_everything"),
    );
    fake.script(
        "mcp-oauth",
        ToolScript::calls([("whoami_mcp_guarded", serde_json::json!({}))])
            .when("whoami_mcp_guarded"),
    );
    // A model that calls the OAuth server's `patient`, which reports progress and waits to be
    // released (tests/e2e/mcp.mjs).
    fake.script(
        "mcp-progress",
        ToolScript::calls([("patient_mcp_guarded", serde_json::json!({}))])
            .when("patient_mcp_guarded"),
    );
    // An OpenID provider, for the "Continue with OpenID" button.
    let idp = OidcProvider::start(&[serde_json::json!({
        "sub": "erin", "email": "erin@example.org", "email_verified": true, "name": "Erin OpenID"
    })])
    .expect("the browser tests sign in with OpenID too");
    // The artifact previews' libraries, from the packages npm installed for these tests
    // (tests/e2e/artifact-previews.mjs).
    let npm = NpmMirror::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Terms of service that everyone must accept, as in LibreChat's example configuration;
    // no parameters panel (which only a signed-in user's `/api/config` says); small upload
    // limits, images allowed by type, and an endpoint
    // without uploads (tests/e2e/attachments.mjs); memories with a memory agent
    // (tests/e2e/memories.mjs); PyPI's MCP time server over stdio, twice: for everyone, and
    // with a value each person sets, and the OAuth-protected server, the two local MCP servers'
    // addresses allowed (tests/e2e/mcp.mjs).
    let python = support::mcp::python();
    std::fs::write(
        dir.path().join("librechat.yaml"),
        format!(
            "version: 1.2.1\ninterface:\n  parameters: false\n  termsOfService:\n    modalAcceptance: true\n    modalTitle: Terms of Service\n    modalContent: |\n      # Terms\n      Be **kind**.\n\
         endpoints:\n  custom:\n    - name: NoFiles\n      apiKey: unused\n      baseURL: https://example.invalid/v1\n      models:\n        default: [no-files-model]\n\
         fileConfig:\n  endpoints:\n    default:\n      fileLimit: 3\n      fileSizeLimit: 1\n      supportedMimeTypes: ['^text/.*$', '^image/(png|jpeg|gif|webp)$']\n    NoFiles:\n      disabled: true\n\
         memory:\n  personalize: true\n  agent:\n    enabled: true\n    provider: openAI\n    model: memo\n\
         actions:\n  allowedAddresses: ['127.0.0.1:{}']\n\
         webSearch:\n  searchProvider: serper\n  allowedAddresses: ['{}']\n\
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
    cmd.env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env(
            "OPENAI_MODELS",
            "gpt-4o,gated,server-error,calc-model,action-model,oauth-model,search-model,search-model-2,search-held,file-model,mcp-model,mcp-echo,mcp-oauth,mcp-progress",
        )
        .env("ALLOW_SHARED_LINKS_PUBLIC", "true")
        .env("SERPER_API_KEY", SERPER_KEY)
        .env("SERPER_API_URL", &search.base)
        .env("ARTIFACT_LIBRARIES_URL", &npm.base)
        .env("OPENID_CLIENT_ID", "librechat")
        .env("OPENID_CLIENT_SECRET", "client-secret")
        .env("OPENID_ISSUER", &idp.issuer)
        .env("OPENID_SESSION_SECRET", "session-secret")
        .env("OPENID_USE_PKCE", "true")
        .env("ALLOW_SOCIAL_LOGIN", "true")
        .env("LOGIN_MAX", "100")
        // More accounts than LibreChat's default five per hour are made in one run.
        .env("REGISTER_MAX", "100")
        // Longer than any run, so the sign-in stays recent proof throughout (the app's prompt
        // for a password would otherwise appear, or not, with the machine's speed).
        .env("REAUTH_WINDOW", "1440")
        .env("JWT_SECRET", "e2e-jwt-secret-0123456789abcdef0123456789")
        .env(
            "JWT_REFRESH_SECRET",
            "e2e-refresh-secret-0123456789abcdef012345",
        );
    // Its own address, where the action's OAuth provider sends the person back.
    let port = ServeProcess::free_port();
    cmd.env("DOMAIN_SERVER", format!("http://127.0.0.1:{port}"));
    let server = tokio::task::spawn_blocking(move || ServeProcess::start_on(cmd, port))
        .await
        .unwrap();
    let base = format!("{}/", server.base.trim_end_matches('/'));
    let everything_url = format!("http://{}/mcp", everything.host_port());
    let guarded_url = format!("http://127.0.0.1:{}", guarded.port);
    let env = [
        ("BASE_URL", base.as_str()),
        ("ACTION_API", api.base.as_str()),
        ("ACTION_KEY", ACTION_KEY),
        ("ACTION_CLIENT_ID", CLIENT_ID),
        ("ACTION_CLIENT_SECRET", CLIENT_SECRET),
        ("SEARCH_WEB", web.base.as_str()),
        ("MCP_EVERYTHING_URL", everything_url.as_str()),
        ("MCP_GUARDED_URL", guarded_url.as_str()),
    ];
    run_script("app.test.mjs", &env, &server).await;
    // The action added in the browser called the API with the key given there, also after
    // an edit that left the key's box empty (tests/e2e/actions.mjs).
    let calls = api.seen_at("/v1/pets/7");
    assert!(calls.len() >= 2, "the API was called {} times", calls.len());
    assert!(
        calls
            .iter()
            .all(|c| c.headers.get("x-api-key").map(String::as_str) == Some(ACTION_KEY)),
        "a call to the action's API went without its key"
    );
    // The question asked of two models at once went to the provider twice, once for each
    // column (COMPARE_QUESTION in tests/e2e/compare.mjs).
    let asked_twice = fake.times_asked("Compare the tides at Saint-Malo and Granville");
    assert_eq!(
        asked_twice, 2,
        "the side-by-side question went to the provider {asked_twice} time(s)"
    );
    // The question asked with web search on went to the provider with the search's results
    // (CITE_QUESTION in tests/e2e/citations.mjs), and the private service was never reached.
    assert!(
        fake.requests().iter().any(|r| r["model"] == "search-model"
            && r["messages"].as_array().is_some_and(|m| m
                .iter()
                .any(|m| m["role"] == "tool" && text_of(m).contains("Tides explained")))),
        "the search's results never reached the model"
    );
    assert_eq!(private.hits(), 0, "the private service was reached");
    // The previews loaded what the artifacts needed from the mirror: the libraries for React
    // and the ones the component imported, and Mermaid for the diagram.
    let served = npm.served();
    for lib in [
        "@babel/standalone@",
        "lucide-react@",
        "recharts@",
        "mermaid@",
    ] {
        assert!(
            served.iter().any(|p| p.starts_with(lib)),
            "{lib} was never loaded: {served:?}"
        );
    }
    // The question asked with the MCP time server chosen in the composer (MCP_QUESTION in
    // tests/e2e/mcp.mjs) offered the model the server's tool, and the server's answer went back.
    assert!(
        fake.requests().iter().any(|r| r["model"] == "mcp-model"
            && r["messages"].as_array().is_some_and(|m| m
                .iter()
                .any(|m| m["role"] == "tool" && text_of(m).contains("\"timezone\": \"UTC\"")))),
        "the MCP time server's answer never reached the model"
    );
    // The server added in the browser answered its tool's call, and the answer went back to
    // the model; so did the OAuth server's, called with the token of the sign-in in the
    // browser (one code exchanged).
    let tool_result = |model: &str, text: &str| {
        fake.requests().iter().any(|r| {
            r["model"] == model
                && r["messages"].as_array().is_some_and(|m| {
                    m.iter()
                        .any(|m| m["role"] == "tool" && text_of(m).contains(text))
                })
        })
    };
    assert!(
        tool_result("mcp-echo", "Echo: added in the browser"),
        "the added MCP server's answer never reached the model"
    );
    assert!(
        tool_result("mcp-oauth", "alice ("),
        "the OAuth MCP server's answer never reached the model"
    );
    // Two sign-ins to the OAuth server, one code exchanged each: from the menu, and from the
    // link a plain chat showed another person.
    let record = guarded.record().await;
    assert_eq!(record["codes"], 2, "{record}");
    // The OAuth action called the API with the token the person's sign-in got, never before.
    assert_eq!(
        api.me_calls(),
        [true],
        "the OAuth action must call the API once, with the person's token"
    );
    // The Markdown file attached in the browser reached the model with its message
    // (DOC_MARKER in tests/e2e/attachments.mjs).
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.to_string().contains("(marker 5307)")),
        "no request to the provider carried the attached document"
    );
    // The memory kept in settings went with the next message, in the system prompt
    // (MEMORY_MARKER in tests/e2e/memories.mjs); the memory agent's own requests list it too,
    // so they do not count.
    assert!(
        fake.requests().iter().any(|r| r["model"] != "memo"
            && r["messages"][0]["role"] == "system"
            && r["messages"][0]["content"]
                .as_str()
                .is_some_and(|s| s.contains("(marker 4242)"))),
        "no request to the provider carried the memory in its system prompt"
    );
    // The shared prompt the viewer used with `/tides` reached the model filled: their name,
    // their date in LibreChat's `YYYY-MM-DD (Weekday)` and the values given in the variables
    // dialog (FILLED_MARKER in tests/e2e/prompts.mjs), no `{{` left.
    let filled = fake
        .requests()
        .iter()
        .find_map(|r| {
            let text = text_of(r["messages"].as_array()?.last()?);
            // Not the memory agent's request, which quotes the chat (and may come first).
            (text.contains("(marker 6160)") && !text.starts_with("# Current Chat:")).then_some(text)
        })
        .expect("no request to the provider carried the prompt used with /tides");
    let expected = regex::Regex::new(
        r"^For Cy Viewer on \d{4}-\d{2}-\d{2} \((Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\): explain the tides at Brest in a playful tone \(marker 6160\)\.$",
    )
    .unwrap();
    assert!(
        expected.is_match(&filled),
        "the prompt reached the model as {filled:?}"
    );
    // The agent built in the browser ran with its instructions (filled for the admin) and the
    // calculator, whose output went back to the model (tests/e2e/agents.mjs).
    let agent_runs: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| {
            r["model"] == "calc-model"
                && r["messages"][0]["content"].as_str().is_some_and(|s| {
                    s.starts_with("Use the calculator for any arithmetic, Ada Admin.")
                })
        })
        .collect();
    assert!(
        agent_runs.iter().any(|r| r["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["function"]["name"] == "calculator"))),
        "no request to the provider offered the agent's calculator"
    );
    assert!(
        agent_runs.iter().any(|r| r["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["role"] == "tool" && text_of(m) == "42"))),
        "the calculator's output did not go back to the model"
    );
    // The document uploaded to the agent's Files in the builder went with its instructions
    // (CONTEXT_MARKER in tests/e2e/agentfiles.mjs).
    assert!(
        agent_runs
            .iter()
            .any(|r| r["messages"][0]["role"] == "system"
                && text_of(&r["messages"][0]).contains("(marker 7117)")),
        "no request to the provider carried the agent's document in its system prompt"
    );
}

/// A chat message's text: its content, a string or text parts.
fn text_of(message: &serde_json::Value) -> String {
    match &message["content"] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// Runs `script` (in tests/e2e) with `env` (`BASE_URL` at least); fails with its output and
/// the server's log.
async fn run_script(script: &str, env: &[(&str, &str)], server: &ServeProcess) {
    if let Err(out) = node::node_suite(script, env).await {
        panic!(
            "{}",
            node::failure(
                "the browser tests failed",
                &out,
                &server.stderr.lock().unwrap()
            )
        );
    }
}

/// SAML's HTTP-POST binding across sites in a real browser: the server as `localhost`, the IdP
/// (SimpleSAMLphp) as `127.0.0.1`. The cross-site POST carries no SameSite=Lax cookie; the
/// sign-in must still finish, bound to the browser, through the GET that follows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saml_across_sites_in_a_real_browser() {
    if !node::ready("the browser tests", node::missing_peer(Needs::Browser)) {
        return;
    }
    let Some(idp) = SimpleSamlPhp::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sp = "urn:librechat:e2e-sp";
    let mut cmd = librechat(dir.path());
    cmd.env("ALLOW_SOCIAL_LOGIN", "true")
        .env("SAML_ENTRY_POINT", &idp.sso_url)
        .env("SAML_ISSUER", sp)
        .env("SAML_IDP_ISSUER", &idp.entity_id)
        .env("SAML_CERT", &idp.cert_path)
        .env("SAML_SESSION_SECRET", "kept for .env compatibility")
        .env("LOGIN_MAX", "100");
    let server = tokio::task::spawn_blocking(move || ServeProcess::start(cmd))
        .await
        .unwrap();
    let base = format!(
        "{}/",
        server
            .base
            .trim_end_matches('/')
            .replace("127.0.0.1", "localhost")
    );
    idp.register_sp(sp, &format!("{base}oauth/saml/callback"));
    run_script("saml.test.mjs", &[("BASE_URL", &base)], &server).await;
}
