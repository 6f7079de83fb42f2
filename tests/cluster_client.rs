//! LibreChat's own web client in a real browser against two replicas behind HAProxy (the
//! shipped packaging/compose/haproxy.cfg) on one PostgreSQL, one Redis and one S3-compatible
//! store: the client build is unpacked once and served by both replicas (`CLIENT_DIR`), and
//! `tests/e2e/librechat-cluster.test.mjs` signs up, chats, reloads and searches through the
//! load balancer, which spreads the page's requests over both. Skipped with a note where a
//! peer (the client build, chromium, PostgreSQL, Redis, moto, HAProxy) is missing, unless
//! LIBRECHAT_REQUIRE_PEERS is set (as `.ci/run` does). Screenshots land in
//! tests/e2e/artifacts/librechat-cluster/.

mod support;

use support::client_build::{self, client_tarball, unpack};
use support::cluster::Cluster;
use support::node;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librechat_s_client_through_haproxy_on_two_replicas() {
    if !node::ready(
        "LibreChat's client on two replicas",
        client_build::missing(),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let into = dir.path().join("client");
    std::fs::create_dir(&into).unwrap();
    let client = unpack(&client_tarball().unwrap(), &into);
    let client = client.to_str().unwrap();
    // A debug build gzips the client's 21 MB slowly; the compression layer has its own tests.
    let Some(cluster) = Cluster::start(
        2,
        &[
            ("CLIENT_DIR", client),
            ("DISABLE_COMPRESSION", "true"),
            ("LOGIN_MAX", "100"),
            ("REGISTER_MAX", "100"),
        ],
    )
    .await
    else {
        return;
    };
    let base = format!("{}/", cluster.lb);
    let outcome = node::node_suite("librechat-cluster.test.mjs", &[("BASE_URL", &base)]).await;
    let logs: Vec<String> = cluster
        .replicas
        .iter()
        .flatten()
        .map(|r| r.stderr.lock().unwrap().clone())
        .collect();
    if let Err(out) = outcome {
        panic!(
            "{}",
            node::failure(
                "LibreChat's client failed on two replicas",
                &out,
                &logs.join("\n--- the other replica ---\n")
            )
        );
    }
    // Both replicas served the page's API calls: HAProxy spread them, none was stuck to one.
    // Which one took what is printed, to read a run by.
    for (i, log) in logs.iter().enumerate() {
        assert!(
            log.contains("path=\"/api/"),
            "replica {} served no API call",
            i + 1
        );
        let took = |path: &str| log.matches(&format!("path=\"{path}")).count();
        println!(
            "replica {}: {} chat(s) posted, {} stream(s) followed, {} title(s), {} message search(es)",
            i + 1,
            took("/api/agents/chat/openAI"),
            took("/api/agents/chat/stream/"),
            took("/api/convos/gen_title/"),
            took("/api/messages\""),
        );
    }
    let servers = cluster.servers().await;
    assert!(
        servers
            .iter()
            .filter(|(name, ..)| name != "replica3")
            .all(|(_, status, requests)| status == "UP" && *requests > 0),
        "{servers:?}"
    );
}
