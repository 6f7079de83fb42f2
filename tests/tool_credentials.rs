//! Tool credentials per person: `POST /api/user/plugins` stores a tool's credential encrypted
//! (never answered, never in the database file as written), `GET /api/agents/tools` lists the
//! tools, `GET /api/agents/tools/:toolId/auth` says whether one is set up for the caller, and
//! the `wolfram` tool calls Wolfram|Alpha's LLM API (a fake of it) with the key of the person
//! it runs for, the server's own first; a person without one gets a clear error back to the
//! model; nobody's calls use another's key.

mod support;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::fake_tools::ToolScript;
use support::fake_wolfram::FakeWolfram;
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const ALICE_KEY: &str = "ALICE-7Q2XKV-SECRET";
const SERVER_KEY: &str = "SERVER-4TW9PH-SECRET";

async fn server(fake: &FakeOpenAi, wolfram: &FakeWolfram, server_key: Option<&str>) -> TestServer {
    let mut b = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "asks-wolfram,gpt-4o")
        .env("WOLFRAM_API_URL", &wolfram.url);
    if let Some(k) = server_key {
        b = b.env("WOLFRAM_APP_ID", k);
    }
    b.start().await
}

async fn plugins(server: &TestServer, s: &Session, body: Value) -> u16 {
    server
        .send("POST", "/api/user/plugins", &s.token, body)
        .await
        .status()
        .as_u16()
}

async fn auth_status(server: &TestServer, s: &Session, tool: &str) -> (u16, Value) {
    let resp = server
        .get_as(&format!("/api/agents/tools/{tool}/auth"), &s.token)
        .await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Asks `asks-wolfram` (which calls the tool once) with the conversation's tools naming
/// `wolfram`; the output of the call, as saved.
async fn ask(server: &TestServer, s: &Session) -> String {
    let last = server
        .chat(
            s,
            "openAI",
            json!({"text": "France population?", "model": "asks-wolfram", "tools": ["wolfram"]}),
        )
        .await;
    assert!(last.get("error").is_none(), "{last}");
    let parts = last["responseMessage"]["content"]
        .as_array()
        .unwrap()
        .clone();
    let call = parts
        .iter()
        .find(|p| p["type"] == "tool_call")
        .expect("a tool call");
    assert_eq!(call["tool_call"]["name"], "wolfram");
    call["tool_call"]["output"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_credential_is_stored_encrypted_and_never_answered() {
    let fake = FakeOpenAi::start().await;
    let wolfram = FakeWolfram::start(&[ALICE_KEY]).await;
    let server = server(&fake, &wolfram, None).await;
    let (alice, bob) = server.two_users(PW).await;

    // The tools, as LibreChat's tool dialog lists them: Wolfram asks for its App ID.
    let tools = server.get_json("/api/agents/tools", &alice.token).await;
    let tools = tools.as_array().unwrap();
    let w = tools.iter().find(|t| t["pluginKey"] == "wolfram").unwrap();
    assert_eq!(w["name"], "Wolfram");
    assert_eq!(w["authConfig"][0]["authField"], "WOLFRAM_APP_ID");
    assert_eq!(w["authConfig"][0]["label"], "Wolfram App ID");
    assert!(w.get("authenticated").is_none(), "no server key: {w}");
    assert!(tools.iter().any(|t| t["pluginKey"] == "calculator"));
    // Every picture is one the page may load (its Content-Security-Policy keeps images to this
    // server): LibreChat's client's own, or none.
    for t in tools {
        assert!(
            t.get("icon")
                .is_none_or(|i| i.as_str().is_some_and(|i| i.starts_with("assets/"))),
            "{t}"
        );
    }
    assert_eq!(
        auth_status(&server, &alice, "wolfram").await,
        (
            200,
            json!({"authenticated": false, "message": "user_provided"})
        )
    );

    let install = json!({"pluginKey": "wolfram", "action": "install",
                         "auth": {"WOLFRAM_APP_ID": ALICE_KEY}});
    assert_eq!(plugins(&server, &alice, install).await, 200);
    assert_eq!(
        auth_status(&server, &alice, "wolfram").await,
        (
            200,
            json!({"authenticated": true, "message": "user_provided"})
        )
    );
    // Alice's key is hers: Bob has none.
    assert_eq!(
        auth_status(&server, &bob, "wolfram").await,
        (
            200,
            json!({"authenticated": false, "message": "user_provided"})
        )
    );
    let me = server.get_json("/api/user", &alice.token).await;
    assert_eq!(me["plugins"], json!(["wolfram"]));
    assert!(!me.to_string().contains(ALICE_KEY));
    let listed = server.get_json("/api/agents/tools", &alice.token).await;
    assert!(!listed.to_string().contains(ALICE_KEY));

    // At rest: encrypted, in the table and in every byte of the database files.
    let id = alice.user["id"].as_str().unwrap().to_owned();
    let stored: Vec<(String, String, String)> = server
        .state
        .db
        .read(move |c| {
            let mut st = c.prepare(
                "SELECT plugin_key, auth_field, value FROM plugin_auth WHERE user_id = ?1",
            )?;
            let rows = st.query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, "wolfram");
    assert_eq!(stored[0].1, "WOLFRAM_APP_ID");
    assert!(stored[0].2.starts_with("v3:"), "{}", stored[0].2);
    assert!(!stored[0].2.contains(ALICE_KEY));
    // SQLite's file read byte by byte, or PostgreSQL's dump.
    let bytes = support::raw_database(&server);
    assert!(
        support::contains(&bytes, "WOLFRAM_APP_ID"),
        "the row is there"
    );
    assert!(
        !support::contains(&bytes, ALICE_KEY),
        "the key is not, in clear"
    );
    server.stop().await;
}

#[tokio::test]
async fn install_and_uninstall_check_what_they_are_given() {
    let fake = FakeOpenAi::start().await;
    let wolfram = FakeWolfram::start(&[ALICE_KEY]).await;
    let server = server(&fake, &wolfram, None).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    for (body, why) in [
        (json!({"action": "install"}), "no pluginKey"),
        (
            json!({"pluginKey": "wolfram", "action": "explode"}),
            "an unknown action",
        ),
        (
            json!({"pluginKey": "wolfram", "action": "install", "auth": "x"}),
            "auth not an object",
        ),
        (
            json!({"pluginKey": "wolfram", "action": "install", "auth": {"OPENAI_API_KEY": "x"}}),
            "a variable the tool does not take",
        ),
        (
            json!({"pluginKey": "wolfram", "action": "install", "auth": {"WOLFRAM_APP_ID": 5}}),
            "a value that is not a string",
        ),
        (
            json!({"pluginKey": "wolfram", "action": "install", "auth": {"WOLFRAM_APP_ID": "  "}}),
            "an empty value",
        ),
        (
            json!({"pluginKey": "wolfram", "action": "install",
                   "auth": {"WOLFRAM_APP_ID": "x".repeat(20_000)}}),
            "a value too long",
        ),
        (
            json!({"pluginKey": "no_such_tool", "action": "install", "auth": {"KEY": "x"}}),
            "credentials for a tool this server does not have",
        ),
    ] {
        let resp = server
            .send("POST", "/api/user/plugins", &alice.token, body)
            .await;
        assert_eq!(resp.status(), 400, "{why}");
        let v: Value = resp.json().await.unwrap();
        assert!(v["message"].is_string(), "{why}: {v}");
    }
    assert_eq!(server.count("plugin_auth").await, 0);
    let resp = server
        .client
        .post(server.url("/api/user/plugins"))
        .json(&json!({"pluginKey": "wolfram", "action": "install"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // Installed without credentials (LibreChat's client does this for a tool the server
    // sets up): listed, nothing stored.
    let install = json!({"pluginKey": "calculator", "action": "install", "auth": null});
    assert_eq!(plugins(&server, &alice, install).await, 200);
    let install = json!({"pluginKey": "wolfram", "action": "install",
                         "auth": {"WOLFRAM_APP_ID": ALICE_KEY}});
    assert_eq!(plugins(&server, &alice, install).await, 200);
    let me = server.get_json("/api/user", &alice.token).await;
    assert_eq!(me["plugins"], json!(["calculator", "wolfram"]));

    // Taken off an agent (`isEntityTool`, no variables named): the key stays, as in
    // LibreChat; the person's list is not the agent's.
    let off =
        json!({"pluginKey": "wolfram", "action": "uninstall", "auth": null, "isEntityTool": true});
    assert_eq!(plugins(&server, &alice, off).await, 200);
    assert_eq!(server.count("plugin_auth").await, 1);
    assert_eq!(
        server.get_json("/api/user", &alice.token).await["plugins"],
        json!(["calculator", "wolfram"])
    );
    // Uninstalled naming the variable: forgotten.
    let off =
        json!({"pluginKey": "wolfram", "action": "uninstall", "auth": {"WOLFRAM_APP_ID": ""}});
    assert_eq!(plugins(&server, &alice, off).await, 200);
    assert_eq!(server.count("plugin_auth").await, 0);
    assert_eq!(
        server.get_json("/api/user", &alice.token).await["plugins"],
        json!(["calculator"])
    );
    assert_eq!(
        auth_status(&server, &alice, "wolfram").await.1["authenticated"],
        false
    );

    // Tools without credentials are set up by the server; unknown ones are not found; web
    // search keeps LibreChat's answer for a server without it.
    assert_eq!(
        auth_status(&server, &alice, "calculator").await,
        (
            200,
            json!({"authenticated": true, "message": "system_defined"})
        )
    );
    assert_eq!(auth_status(&server, &alice, "no_such_tool").await.0, 404);
    assert_eq!(auth_status(&server, &alice, "execute_code").await.0, 404);
    assert_eq!(
        auth_status(&server, &alice, "web_search").await.1["authenticated"],
        false
    );
}

#[tokio::test]
async fn the_tool_uses_its_persons_key_and_nobody_elses() {
    let fake = FakeOpenAi::start().await;
    let wolfram = FakeWolfram::start(&[ALICE_KEY]).await;
    let server = server(&fake, &wolfram, None).await;
    let (alice, bob) = server.two_users(PW).await;
    fake.script(
        "asks-wolfram",
        ToolScript::calls([("wolfram", json!({"input": "France `population`\nnow"}))]),
    );

    // Bob has no key, and Alice's is not his: the model is told what is missing; Wolfram
    // is not asked.
    let install = json!({"pluginKey": "wolfram", "action": "install",
                         "auth": {"WOLFRAM_APP_ID": ALICE_KEY}});
    assert_eq!(plugins(&server, &alice, install).await, 200);
    let out = ask(&server, &bob).await;
    assert!(out.contains("no Wolfram App ID (WOLFRAM_APP_ID)"), "{out}");
    assert!(out.contains("tool's settings"), "{out}");
    assert!(wolfram.seen().is_empty());

    // Alice's call uses her key; the query goes on one line, without code quotes.
    let out = ask(&server, &alice).await;
    assert!(out.contains("Result:\n68.4 million people"), "{out}");
    assert_eq!(
        wolfram.seen(),
        vec![(
            "France population now".to_owned(),
            Some(ALICE_KEY.to_owned())
        )]
    );
    // The model was given the answer.
    let results: Vec<Value> = fake
        .requests()
        .into_iter()
        .filter(|r| r["model"] == "asks-wolfram")
        .flat_map(|r| r["messages"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["role"] == "tool")
        .collect();
    assert!(
        results
            .iter()
            .any(|m| m["content"].as_str().unwrap().contains("68.4 million")),
        "{results:?}"
    );

    // A key Wolfram refuses: its words go back to the model, the key does not.
    let install = json!({"pluginKey": "wolfram", "action": "install",
                         "auth": {"WOLFRAM_APP_ID": "BOB-WRONG-ID"}});
    assert_eq!(plugins(&server, &bob, install).await, 200);
    let out = ask(&server, &bob).await;
    assert!(out.contains("HTTP 403: Error 1: Invalid appid"), "{out}");
    assert!(!out.contains("BOB-WRONG-ID"), "{out}");
    assert_eq!(
        wolfram.seen().last().unwrap().1.as_deref(),
        Some("BOB-WRONG-ID")
    );

    // An input Wolfram cannot interpret: its suggestion goes back to the model.
    fake.script(
        "asks-wolfram",
        ToolScript::calls([("wolfram", json!({"input": "gibberish zq"}))]),
    );
    let out = ask(&server, &alice).await;
    assert!(out.contains("could not interpret"), "{out}");
    assert!(out.contains("population of France"), "{out}");
}

#[tokio::test]
async fn the_servers_key_comes_first_for_everyone() {
    let fake = FakeOpenAi::start().await;
    let wolfram = FakeWolfram::start(&[SERVER_KEY]).await;
    let server = server(&fake, &wolfram, Some(SERVER_KEY)).await;
    let (alice, bob) = server.two_users(PW).await;
    fake.script(
        "asks-wolfram",
        ToolScript::calls([("wolfram", json!({"input": "France population"}))]),
    );
    let tools = server.get_json("/api/agents/tools", &alice.token).await;
    let w = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["pluginKey"] == "wolfram")
        .unwrap()
        .clone();
    assert_eq!(w["authenticated"], true);
    assert!(!tools.to_string().contains(SERVER_KEY));
    assert_eq!(
        auth_status(&server, &bob, "wolfram").await,
        (
            200,
            json!({"authenticated": true, "message": "system_defined"})
        )
    );
    // Alice's own key is kept, but the server's is used, as in LibreChat.
    let install = json!({"pluginKey": "wolfram", "action": "install",
                         "auth": {"WOLFRAM_APP_ID": ALICE_KEY}});
    assert_eq!(plugins(&server, &alice, install).await, 200);
    for s in [&alice, &bob] {
        let out = ask(&server, s).await;
        assert!(out.contains("68.4 million"), "{out}");
    }
    let ids: Vec<Option<String>> = wolfram.seen().into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids, vec![Some(SERVER_KEY.to_owned()); 2]);
}
