//! Bad calls go back to the model, a model that never stops is stopped at the limit (saved
//! and billed for every call), and one person's calls are never another's.

use serde_json::{Value, json};

use crate::support::fake_tools::ToolScript;
use crate::*;

#[tokio::test]
async fn unknown_tools_and_invalid_arguments_go_back_to_the_model() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let s = server.signed_in("alice@example.org", PW).await;
    fake.script(
        "bad-calls",
        ToolScript::calls([("web_search", json!({"query": "news"}))])
            .raw("calculator", "{\"input\": \"1 +")
            .raw("calculator", "{\"expression\": \"1\"}"),
    );
    let id = server
        .start_chat(&s, "openAI", ask("bad-calls", "try"))
        .await;
    let frames = frames(&server, &s, &id, "").await;
    let last = frames.last().unwrap();
    assert!(last.get("error").is_none(), "not a failure: {last}");
    let response = &last["responseMessage"];
    // The model was asked again with the three errors, and answered.
    let text = response["text"].as_str().unwrap();
    assert!(
        text.starts_with("Results: Error: there is no tool named \"web_search\""),
        "{text}"
    );
    assert!(
        text.contains("Error: the arguments are not valid JSON"),
        "{text}"
    );
    assert!(
        text.contains("missing the required property \"input\""),
        "{text}"
    );
    let calls: Vec<&Value> = parts(response, "tool_call")
        .iter()
        .map(|p| &p["tool_call"])
        .collect();
    assert_eq!(calls.len(), 3);
    assert!(
        calls
            .iter()
            .all(|c| c["output"].as_str().unwrap().starts_with("Error: "))
    );
    assert!(calls[0].get("inputValidationError").is_none());
    assert_eq!(calls[1]["inputValidationError"], true);
    assert_eq!(calls[2]["inputValidationError"], true);
    assert_eq!(calls[1]["args"], "{\"input\": \"1 +");
    let sent = fake.last_chat();
    let results: Vec<&Value> = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .collect();
    assert_eq!(results.len(), 3, "every call got an answer");
    assert_eq!(tool_calls(&server, &s, &id).await.len(), 3);
}

/// The balance's transactions: (context, token type, token value).
async fn transactions(server: &crate::support::TestServer) -> Vec<(String, String, i64)> {
    server
        .state
        .db
        .read(|c| {
            let mut stmt = c.prepare(
                "SELECT context, token_type, token_value FROM transactions ORDER BY created_at, id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_model_that_never_stops_is_stopped_at_the_limit_saved_and_billed() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(
        &fake,
        Some("version: 1.2.8\nbalance:\n  enabled: true\n  startBalance: 1000000\n"),
    )
    .await;
    let s = server.signed_in("alice@example.org", PW).await;
    fake.script(
        "forever",
        ToolScript::calls([("calculator", json!({"input": "1 + 1"}))]).always(),
    );
    let id = server
        .start_chat(&s, "openAI", ask("forever", "loop"))
        .await;
    let frames = frames(&server, &s, &id, "").await;
    let last = frames.last().unwrap();
    // LibreChat ends such a run normally, with its error as the answer's last part.
    assert!(last.get("error").is_none(), "{last}");
    let response = &last["responseMessage"];
    assert_eq!(response["unfinished"], false);
    assert_eq!(response["error"], false);
    let content = response["content"].as_array().unwrap();
    // The default limit, 50 steps: 25 model calls, each with its round of tools.
    assert_eq!(parts(response, "tool_call").len(), 25);
    assert!(
        parts(response, "tool_call")
            .iter()
            .all(|p| p["tool_call"]["output"] == "2")
    );
    let error = content.last().unwrap();
    assert_eq!(error["type"], "error");
    assert_eq!(
        error["error"],
        "An error occurred while processing the request: Recursion limit of 50 reached without \
         hitting a stop condition. You can increase the limit by setting the \"recursionLimit\" \
         config key."
    );
    // (The title is asked of the same model, without tools.)
    let asked = fake
        .requests()
        .iter()
        .filter(|r| r["model"] == "forever" && r.get("tools").is_some())
        .count();
    assert_eq!(asked, 25);
    let saved = messages(&server, &s, &id).await;
    assert_eq!(saved[1]["content"], response["content"]);
    assert_eq!(tool_calls(&server, &s, &id).await.len(), 25);
    // Every model call billed: a prompt and a completion transaction each (30 and 12 tokens
    // each time, as the fake reports), and the balance is what they add up to.
    let all = transactions(&server).await;
    let message: Vec<_> = all.iter().filter(|t| t.0 == "message").collect();
    assert_eq!(message.len(), 50, "{all:?}");
    assert_eq!(message.iter().filter(|t| t.1 == "prompt").count(), 25);
    assert!(message.iter().all(|t| t.2 < 0));
    // The balance is what every transaction adds up to (the title is billed too, in the
    // background: both read in one snapshot).
    let user = s.user["id"].as_str().unwrap().to_owned();
    let (balance, total) = server
        .state
        .db
        .read(move |c| {
            c.execute_batch("BEGIN")?;
            let balance = librechat::db::balances::get(c, &user)?
                .unwrap()
                .token_credits;
            let total = librechat::db::balances::transactions_total(c, &user)?;
            c.execute_batch("COMMIT")?;
            Ok((balance, total))
        })
        .await
        .unwrap();
    assert_eq!(balance, total);
    let spent: i64 = message.iter().map(|t| t.2).sum();
    assert!(balance <= 1_000_000 + spent);
    assert_eq!(response["tokenCount"], 25 * 12);
}

#[tokio::test]
async fn another_persons_tool_calls_are_not_listed() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, None).await;
    let (alice, bob) = server.two_users(PW).await;
    fake.script(
        "calc",
        ToolScript::calls([("calculator", json!({"input": "2 + 2"}))]),
    );
    let id = server
        .start_chat(&alice, "openAI", ask("calc", "sum"))
        .await;
    frames(&server, &alice, &id, "").await;
    assert_eq!(tool_calls(&server, &alice, &id).await.len(), 1);
    assert!(tool_calls(&server, &bob, &id).await.is_empty());
    // Without a conversation: none (LibreChat would list every call of the person).
    let all = server
        .get_json("/api/agents/tools/calls", &alice.token)
        .await;
    assert_eq!(all, json!([]));
    let anonymous = server.get("/api/agents/tools/calls?conversationId=x").await;
    assert_eq!(anonymous.status(), 401);
    // Deleting the conversation takes its calls with it.
    let resp = server
        .send(
            "DELETE",
            "/api/convos",
            &alice.token,
            json!({"arg": {"conversationId": id}}),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    assert!(tool_calls(&server, &alice, &id).await.is_empty());
}
