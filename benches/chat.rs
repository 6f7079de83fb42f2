//! Chat streaming benchmark (not a test): `cargo bench --bench chat`.
//!
//! A local OpenAI-compatible provider (this program, run again as a separate process) streams
//! 500 tokens as fast as it can. Measured against
//! the release server: the time the server adds to the first token (POST, then the event
//! stream, against calling the provider directly), tokens relayed per second, and the
//! server's resident memory with 1,000 answers streaming at once (`BENCH_STREAMS`).

mod common;

use std::time::{Duration, Instant};

use common::stream::{pct, read_until, rss_mb};
use serde_json::{Value, json};

/// Sends a raw HTTP/1.1 request on a new connection and reads until one of `needles` appears.
fn raw_until(addr: &str, request: &str, needles: &[&str]) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = s.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "closed before {needles:?}: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
        if needles
            .iter()
            .any(|needle| seen.windows(needle.len()).any(|w| w == needle.as_bytes()))
        {
            return;
        }
    }
}

fn main() {
    if std::env::var_os("BENCH_FAKE_PROVIDER").is_some() {
        common::fake_llm::serve_forever();
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
}

async fn run() {
    let streams: usize = std::env::var("BENCH_STREAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let fake = common::fake_llm::Fake::spawn();
    let cs = common::stream::ChatServer::start(&fake.base, "fast-500,hold").await;
    let (port, base, http, token) = (cs.port, cs.base.clone(), cs.http.clone(), cs.token.clone());
    let server = &cs.server;

    // Direct: first body bytes from the provider.
    let mut direct = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let mut resp = http.post(format!("{}/chat/completions", fake.base))
            .json(&json!({"model": "fast-500", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
            .send().await.unwrap();
        resp.chunk().await.unwrap();
        direct.push(t.elapsed());
        while resp.chunk().await.unwrap().is_some() {}
    }
    println!(
        "server RSS before any answer: {:.1} MB",
        rss_mb(server.id())
    );
    // Through the server: POST, open the stream, first delta.
    let mut relayed = Vec::new();
    let mut whole = Vec::new();
    let mut posts = Vec::new();
    let mut gets = Vec::new();
    for i in 0..200 {
        let t = Instant::now();
        let started: Value = http
            .post(format!("{base}/api/agents/chat/openAI"))
            .bearer_auth(&token)
            .json(&json!({"text": "hi", "model": "fast-500"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        posts.push(t.elapsed());
        let t_get = Instant::now();
        let id = started["streamId"].as_str().unwrap();
        let mut resp = http
            .get(format!("{base}/api/agents/chat/stream/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let mut buf = String::new();
        let headers_in = t_get.elapsed();
        read_until(&mut resp, &mut buf, |v| {
            v["event"] == "on_message_delta" || v["sync"] == true
        })
        .await;
        gets.push((headers_in, t_get.elapsed()));
        relayed.push(t.elapsed());
        let t_rest = Instant::now();
        read_until(&mut resp, &mut buf, |v| v["final"] == true).await;
        whole.push(t_rest.elapsed() + (relayed.last().copied().unwrap()));
        if i == 0 {
            println!(
                "server RSS after the first answer: {:.1} MB",
                rss_mb(server.id())
            );
        }
    }
    posts.sort();
    gets.sort_by_key(|g| g.1);
    println!(
        "GET stream: headers after {:.2} ms, first delta after {:.2} ms (median)",
        gets[gets.len() / 2].0.as_secs_f64() * 1000.0,
        gets[gets.len() / 2].1.as_secs_f64() * 1000.0
    );
    println!(
        "POST /api/agents/chat alone: p50 {:.2} ms",
        pct(&posts, 0.5)
    );
    direct.sort();
    relayed.sort();
    whole.sort();
    println!(
        "first token, provider directly: p50 {:.2} ms, p99 {:.2} ms",
        pct(&direct, 0.5),
        pct(&direct, 0.99)
    );
    println!(
        "first token, through the server (POST + stream): p50 {:.2} ms, p99 {:.2} ms",
        pct(&relayed, 0.5),
        pct(&relayed, 0.99)
    );
    println!(
        "time added by the server to the first token: p50 {:.2} ms",
        pct(&relayed, 0.5) - pct(&direct, 0.5)
    );
    let per_stream = common::fake_llm::TOKENS as f64 / (pct(&whole, 0.5) / 1000.0);
    println!(
        "one 500-token answer end to end: p50 {:.1} ms ({per_stream:.0} tokens/s relayed to one client)",
        pct(&whole, 0.5)
    );

    // The same with plain sockets (new connections, no client library), which is what the
    // headline figure uses: the first token's bytes, directly and through the server.
    let (fake_base, server_addr, tok) = (
        fake.base.clone(),
        format!("127.0.0.1:{port}"),
        token.clone(),
    );
    let (raw_direct, raw_relayed) = tokio::task::spawn_blocking(move || {
        let fake_addr = fake_base.trim_start_matches("http://").trim_end_matches("/v1").to_owned();
        let body = r#"{"model":"fast-500","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        let direct_req = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut direct = Vec::new();
        let mut relayed = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            raw_until(&fake_addr, &direct_req, &["t0 "]);
            direct.push(t.elapsed());
            let t = Instant::now();
            let resp = common::request(port, "POST", "/api/agents/chat/openAI", Some(&tok), r#"{"text":"hi","model":"fast-500"}"#).unwrap();
            let id = resp.split(r#""streamId":""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
            let get = format!("GET /api/agents/chat/stream/{id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\n\r\n");
            raw_until(&server_addr, &get, &["on_message_delta", "\"sync\":true"]);
            relayed.push(t.elapsed());
        }
        direct.sort();
        relayed.sort();
        (direct, relayed)
    })
    .await
    .unwrap();
    println!(
        "plain sockets: first token directly p50 {:.2} ms; through the server (POST + stream) p50 {:.2} ms, p99 {:.2} ms; added by the server: p50 {:.2} ms",
        pct(&raw_direct, 0.5),
        pct(&raw_relayed, 0.5),
        pct(&raw_relayed, 0.99),
        pct(&raw_relayed, 0.5) - pct(&raw_direct, 0.5)
    );

    // Many at once: start the answers, subscribe to each, hold them open.
    let idle = rss_mb(server.id());
    let t = Instant::now();
    let mut subs = Vec::with_capacity(streams);
    for _ in 0..streams {
        let started: Value = http
            .post(format!("{base}/api/agents/chat/openAI"))
            .bearer_auth(&token)
            .json(&json!({"text": "hold on", "model": "hold"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = started["streamId"].as_str().unwrap().to_owned();
        let mut resp = http
            .get(format!("{base}/api/agents/chat/stream/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let mut buf = String::new();
        read_until(&mut resp, &mut buf, |v| {
            v["event"] == "on_message_delta" || v["sync"] == true
        })
        .await;
        subs.push((resp, buf));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let busy = rss_mb(server.id());
    println!(
        "{streams} answers streaming at once (each subscribed, provider connection open): server RSS {busy:.1} MB (idle before: {idle:.1} MB; set up in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    fake.release(&http, streams).await;
    let t = Instant::now();
    let mut frames = 0;
    for (resp, buf) in subs.iter_mut() {
        frames += read_until(resp, buf, |v| v["final"] == true).await;
    }
    println!(
        "released: all {streams} finished in {:.2} s ({frames} frames)",
        t.elapsed().as_secs_f64()
    );
    drop(subs);
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "server RSS after they finished: {:.1} MB",
        rss_mb(server.id())
    );
    cs.stop();
}
