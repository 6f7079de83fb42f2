//! A run between its rounds (the model held after the tools ran): a client that reconnects
//! gets the run steps and content so far, an abort keeps the finished steps, and so does a
//! server killed outright.

use serde_json::{Value, json};

use crate::support::fake_tools::ToolScript;
use crate::*;

/// Starts a run whose second model call waits for `fake.release()`, and waits until its
/// tool round is done and saved.
async fn held_run(fake: &FakeOpenAi, server: &TestServer, s: &Session) -> String {
    fake.script(
        "held",
        ToolScript::calls([("calculator", json!({"input": "6 * 7"}))]).hold(),
    );
    let id = server.start_chat(s, "openAI", ask("held", "wait")).await;
    eventually(|| async {
        let saved = messages(server, s, &id).await;
        saved.len() == 2
            && parts(&saved[1], "tool_call")
                .first()
                .is_some_and(|p| p["tool_call"]["output"] == "42")
    })
    .await;
    id
}

#[tokio::test]
async fn a_client_that_reconnects_mid_run_gets_the_steps_so_far() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let id = held_run(&fake, &server, &s).await;
    // The saved answer is unfinished until the run ends.
    assert_eq!(messages(&server, &s, &id).await[1]["unfinished"], true);

    let status = server
        .get_json(&format!("/api/agents/chat/status/{id}"), &s.token)
        .await;
    assert_eq!(status["active"], true);
    let steps = status["resumeState"]["runSteps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["type"], "tool_calls");
    assert_eq!(
        steps[0]["stepDetails"]["tool_calls"][0]["name"],
        "calculator"
    );

    let reader = {
        let (server, s, id) = (&server, &s, id.clone());
        async move { frames(server, s, &id, "?resume=true").await }
    };
    let (got, ()) = tokio::join!(reader, async {
        // Let the reader join first, then let the model answer.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        fake.release();
    });
    let sync = got
        .iter()
        .find(|f| f["sync"] == true)
        .expect("a sync frame");
    let state = &sync["resumeState"];
    assert_eq!(state["runSteps"][0]["type"], "tool_calls");
    let content = state["aggregatedContent"].as_array().unwrap();
    assert_eq!(content.len(), 1);
    assert_eq!(content[0]["tool_call"]["output"], "42");
    assert_eq!(content[0]["tool_call"]["progress"], 1);
    // Then the rest live: the answer's step at the next index, and the end.
    let step = events(&got, "on_run_step");
    assert_eq!(step.last().unwrap()["data"]["index"], 1);
    let last = got.last().unwrap();
    assert_eq!(last["responseMessage"]["text"], "Results: 42");
    assert_eq!(last["responseMessage"]["content"][1]["text"], "Results: 42");
}

#[tokio::test]
async fn an_abort_between_rounds_keeps_the_finished_steps() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let id = held_run(&fake, &server, &s).await;
    let resp = server
        .send(
            "POST",
            "/api/agents/chat/abort",
            &s.token,
            json!({"streamId": id}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let last = server.final_frame(&s, &id).await;
    assert_eq!(last["aborted"], true);
    let response = &last["responseMessage"];
    assert_eq!(response["unfinished"], true);
    assert_eq!(parts(response, "tool_call")[0]["tool_call"]["output"], "42");
    let saved = messages(&server, &s, &id).await;
    assert_eq!(saved[1]["unfinished"], true);
    assert_eq!(saved[1]["content"], response["content"]);
    assert_eq!(tool_calls(&server, &s, &id).await.len(), 1);
    fake.release();
}

#[tokio::test]
async fn a_killed_server_keeps_the_finished_steps() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "held",
        ToolScript::calls([("calculator", json!({"input": "6 * 7"}))]).hold(),
    );
    let dir = tempfile::tempdir().unwrap();
    let vars = env(&fake);
    let spawn = move |dir: &std::path::Path| {
        let mut cmd = support::librechat(dir);
        // SQLite, under any profile: the steps are watched arriving in its file.
        cmd.env("DATABASE_URL", "");
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        support::ServeProcess::start(cmd)
    };
    let spawn = std::sync::Arc::new(spawn);
    let server = spawn(dir.path());
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = server.base.clone();
    let resp = http.post(format!("{base}/api/auth/register")).json(&json!({"email": "alice@example.org", "password": PW, "confirm_password": PW, "name": "Alice", "username": "alice"})).send().await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let login = |base: String| {
        let http = http.clone();
        async move {
            let v: Value = http
                .post(format!("{base}/api/auth/login"))
                .json(&json!({"email": "alice@example.org", "password": PW}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["token"].as_str().unwrap().to_owned()
        }
    };
    let token = login(base.clone()).await;
    let started: Value = http
        .post(format!("{base}/api/agents/chat/openAI"))
        .bearer_auth(&token)
        .json(&ask("held", "wait"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["conversationId"].as_str().unwrap().to_owned();

    // Wait until the tool round is in the database file, then kill -9.
    let db = dir.path().join("data/librechat.db");
    let saved = |db: &std::path::Path, id: &str| -> Option<String> {
        let conn =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .ok()?;
        conn.query_row(
            "SELECT content FROM messages WHERE conversation_id = ?1 AND is_created_by_user = 0",
            [id],
            |r| r.get(0),
        )
        .ok()
    };
    eventually(|| {
        let found = saved(&db, &id);
        async move { found.is_some_and(|c| c.contains("\"output\":\"42\"")) }
    })
    .await;
    let (exit, _) = tokio::task::spawn_blocking(move || server.signal_and_wait("KILL"))
        .await
        .unwrap();
    assert!(!exit.success());

    let server = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        let spawn = spawn.clone();
        move || spawn(&dir)
    })
    .await
    .unwrap();
    let token = login(server.base.clone()).await;
    let get = |path: String| {
        let (http, token, base) = (http.clone(), token.clone(), server.base.clone());
        async move {
            http.get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let all = get(format!("/api/messages/{id}")).await;
    let answer = &all.as_array().unwrap()[1];
    assert_eq!(answer["unfinished"], true);
    let call = &parts(answer, "tool_call")[0]["tool_call"];
    assert_eq!(call["output"], "42");
    assert_eq!(call["name"], "calculator");
    let calls = get(format!("/api/agents/tools/calls?conversationId={id}")).await;
    assert_eq!(calls.as_array().unwrap().len(), 1);
    fake.release();
}
