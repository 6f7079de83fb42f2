//! Balances and transactions: start balance, spending per answer and title, the incomplete
//! rate, the check before a request, auto-refill, the admin commands, and transactions that
//! always add up to the balance.

mod support;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

async fn server(fake: &FakeOpenAi, yaml: &str) -> TestServer {
    TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o,gated,server-error")
        .env("LIMIT_MESSAGE_IP", "false")
        .env("CONCURRENT_MESSAGE_MAX", "100")
        .yaml(yaml)
        .start()
        .await
}

async fn credits(server: &TestServer, s: &Session) -> i64 {
    let b: Value = server
        .get_as("/api/balance", &s.token)
        .await
        .json()
        .await
        .unwrap();
    b["tokenCredits"].as_i64().unwrap()
}

/// Sends a message and waits for its final frame.
async fn chat(server: &TestServer, s: &Session, body: Value) -> Value {
    server.chat(s, "openAI", body).await
}

async fn final_frame(server: &TestServer, s: &Session, id: &str) -> Value {
    server.final_frame(s, id).await
}

/// Waits until the `gated` answer has its first piece.
async fn first_piece(server: &TestServer, s: &Session, id: &str) {
    for _ in 0..200 {
        let st: Value = server
            .get_as(&format!("/api/agents/chat/status/{id}"), &s.token)
            .await
            .json()
            .await
            .unwrap();
        if st["aggregatedContent"][0]["text"] == "part one" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

async fn transactions(server: &TestServer) -> Vec<(String, String, i64, f64)> {
    server
        .state
        .db
        .read(|c| {
            let mut stmt = c.prepare("SELECT context, token_type, token_value, COALESCE(rate, 0) FROM transactions ORDER BY created_at, id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap()
}

/// The balance and the sum of the transactions, read in one snapshot (titles are billed in
/// the background, so two separate reads could straddle one).
async fn ledger(server: &TestServer, s: &Session) -> (i64, i64) {
    let id = s.user["id"].as_str().unwrap().to_owned();
    server
        .state
        .db
        .read(move |c| {
            c.execute_batch("BEGIN")?;
            let balance = librechat::db::balances::get(c, &id)?.unwrap().token_credits;
            let total = librechat::db::balances::transactions_total(c, &id)?;
            c.execute_batch("COMMIT")?;
            Ok((balance, total))
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn answers_and_titles_are_paid_for_and_transactions_add_up() {
    let fake = FakeOpenAi::start().await;
    let server = server(
        &fake,
        "version: 1.2.8\nbalance:\n  enabled: true\n  startBalance: 100000\n",
    )
    .await;
    let s = server.signed_in("alice@example.org", PW).await;
    assert_eq!(credits(&server, &s).await, 100_000);
    let cfg: Value = server.get_json("/api/config", &s.token).await;
    assert_eq!(cfg["balance"]["enabled"], true);

    // "Echo: hi there" is 3 chunks; the fake reports 11 prompt and 3 completion tokens.
    let done = chat(&server, &s, json!({"text": "hi there", "model": "gpt-4o"})).await;
    assert_eq!(done["responseMessage"]["text"], "Echo: hi there");
    // gpt-4o: 2.5 per prompt token, 10 per completion token: ceil(27.5) + 30.
    let after = 100_000 - 28 - 30;
    // The title is billed too (11 prompt, 3 completion tokens).
    for _ in 0..200 {
        if transactions(&server).await.iter().any(|t| t.0 == "title") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let all = transactions(&server).await;
    assert_eq!(
        all[0],
        ("startBalance".into(), "credits".into(), 100_000, 0.0)
    );
    assert_eq!(all[1], ("message".into(), "prompt".into(), -28, 2.5));
    assert_eq!(all[2], ("message".into(), "completion".into(), -30, 10.0));
    assert_eq!(all[3].0, "title");
    assert_eq!(credits(&server, &s).await, after - 28 - 30);

    // Stopped answers cost 1.15 times per completion token.
    let resp = server
        .send(
            "POST",
            "/api/agents/chat/openAI",
            &s.token,
            json!({"text": "go", "model": "gated"}),
        )
        .await;
    let id = resp.json::<Value>().await.unwrap()["streamId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Wait for the first piece before stopping.
    first_piece(&server, &s, &id).await;
    server
        .send(
            "POST",
            "/api/agents/chat/abort",
            &s.token,
            json!({"streamId": id}),
        )
        .await;
    assert_eq!(final_frame(&server, &s, &id).await["aborted"], true);
    let incomplete: Vec<_> = transactions(&server)
        .await
        .into_iter()
        .filter(|t| t.0 == "incomplete")
        .collect();
    assert_eq!(incomplete.len(), 2, "{incomplete:?}");
    // "gated" is not in the price table: the default rate, 6, times 1.15.
    let completion = incomplete.iter().find(|t| t.1 == "completion").unwrap();
    assert!((completion.3 - 6.9).abs() < 1e-9, "{completion:?}");

    // A provider failure with nothing generated costs nothing.
    let before = credits(&server, &s).await;
    let failed = chat(&server, &s, json!({"text": "x", "model": "server-error"})).await;
    assert!(failed["error"].is_object());
    assert_eq!(credits(&server, &s).await, before);

    // A hundred more, mixed: the ledger always matches.
    for i in 0..100 {
        let model = if i % 10 == 0 {
            "server-error"
        } else {
            "gpt-4o"
        };
        chat(
            &server,
            &s,
            json!({"text": format!("message number {i}"), "model": model}),
        )
        .await;
    }
    let (balance, total) = ledger(&server, &s).await;
    assert!(balance < before);
    assert_eq!(total, balance);
}

#[tokio::test]
async fn an_empty_balance_stops_the_request_and_auto_refill_restores_it() {
    let fake = FakeOpenAi::start().await;
    let server = server(
        &fake,
        "version: 1.2.8\nbalance:\n  enabled: true\n  startBalance: 10\n",
    )
    .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let done = chat(
        &server,
        &s,
        json!({"text": "a long enough question to cost more than ten credits", "model": "gpt-4o"}),
    )
    .await;
    assert_eq!(done["error"]["code"], "token_balance");
    assert!(
        done["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Insufficient funds")
    );
    assert_eq!(credits(&server, &s).await, 10);
    assert!(fake.requests().is_empty(), "the provider was not called");

    let refill = "version: 1.2.8\nbalance:\n  enabled: true\n  startBalance: 0\n  autoRefillEnabled: true\n  refillIntervalValue: 30\n  refillIntervalUnit: days\n  refillAmount: 5000\n";
    let server = self::server(&fake, refill).await;
    let s = server.signed_in("bob@example.org", PW).await;
    let b: Value = server
        .get_as("/api/balance", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b["tokenCredits"], 0);
    assert_eq!(b["autoRefillEnabled"], true);
    assert_eq!(b["refillAmount"], 5000);
    let done = chat(&server, &s, json!({"text": "hi", "model": "gpt-4o"})).await;
    assert_eq!(done["responseMessage"]["text"], "Echo: hi");
    let all = transactions(&server).await;
    assert!(
        all.iter().any(|t| t.0 == "autoRefill" && t.2 == 5000),
        "{all:?}"
    );
    let b: Value = server
        .get_as("/api/balance", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(b["lastRefill"].is_string());
    let (balance, total) = ledger(&server, &s).await;
    assert_eq!(total, balance);
}

#[tokio::test]
async fn balances_off_and_the_admin_commands() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, "version: 1.2.8\n").await;
    let s = server.signed_in("alice@example.org", PW).await;
    // LibreChat answers 204, no body, when balances are off.
    let off = server.get_as("/api/balance", &s.token).await;
    assert_eq!(off.status(), 204);
    assert_eq!(off.text().await.unwrap(), "");
    let dir = server.stop().await;

    std::fs::write(
        dir.path().join("librechat.yaml"),
        "version: 1.2.8\nbalance:\n  enabled: true\n  startBalance: 1000\n",
    )
    .unwrap();
    let cmd = |args: &[&str]| {
        let mut c = support::librechat(dir.path());
        c.args(args)
            .env("LIBRECHAT_DATA_DIR", dir.path().join("data"))
            .env("CONFIG_PATH", dir.path().join("librechat.yaml"));
        support::run(&mut c)
    };
    let out = cmd(&["balance", "add", "alice@example.org", "500"]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    assert!(support::text(&out.stdout).contains("now has 1500 credits"));
    let out = cmd(&["balance", "set", "alice@example.org", "42"]);
    assert!(support::text(&out.stdout).contains("now has 42 credits"));
    let out = cmd(&["balance", "add", "alice@example.org", "-2"]);
    assert!(support::text(&out.stdout).contains("now has 40 credits"));
    let out = cmd(&["balance", "list"]);
    assert!(
        support::text(&out.stdout).contains("40  alice@example.org"),
        "{}",
        support::text(&out.stdout)
    );
    support::assert_clean_failure(
        &cmd(&["balance", "add", "nobody@example.org", "5"]),
        "no account",
    );
    support::assert_clean_failure(
        &cmd(&["balance", "add", "alice@example.org", "lots"]),
        "invalid value",
    );
}

#[tokio::test]
async fn continuing_without_credits_is_refused_unbilled_and_keeps_the_answer() {
    let fake = FakeOpenAi::start().await;
    let server = server(
        &fake,
        "version: 1.2.8\nbalance:\n  enabled: true\n  startBalance: 100000\n",
    )
    .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let resp = server
        .send(
            "POST",
            "/api/agents/chat/openAI",
            &s.token,
            json!({"text": "go", "messageId": "q", "model": "gated"}),
        )
        .await;
    let id = resp.json::<Value>().await.unwrap()["streamId"]
        .as_str()
        .unwrap()
        .to_owned();
    first_piece(&server, &s, &id).await;
    server
        .send(
            "POST",
            "/api/agents/chat/abort",
            &s.token,
            json!({"streamId": id}),
        )
        .await;
    let stopped = final_frame(&server, &s, &id).await;
    let answer = stopped["responseMessage"]["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let uid = s.user["id"].as_str().unwrap().to_owned();
    server
        .state
        .db
        .write(move |c| librechat::db::balances::set(c, &uid, 0))
        .await
        .unwrap();
    let before = transactions(&server).await.len();

    let done = chat(&server, &s, json!({"isContinued": true, "conversationId": id, "parentMessageId": "q", "responseMessageId": answer, "model": "gated"})).await;
    assert_eq!(done["error"]["code"], "token_balance");
    assert_eq!(transactions(&server).await.len(), before, "nothing billed");
    let all: Vec<Value> = server
        .get_as(&format!("/api/messages/{id}"), &s.token)
        .await
        .json()
        .await
        .unwrap();
    let kept = all
        .iter()
        .find(|m| m["messageId"] == answer.as_str())
        .unwrap();
    assert_eq!(kept["text"], "part one");
    assert_eq!(kept["error"], false);
    let (balance, total) = ledger(&server, &s).await;
    assert_eq!((balance, total), (0, 0));
}
