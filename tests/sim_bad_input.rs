//! Oversized bodies on Graph routes get Graph's 413 error document, and the simulator keeps
//! serving afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestSim;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_gets_graphs_413_and_nothing_breaks() {
    let sim = TestSim::start("healthy").await;
    // The server refuses the body before reading it and then closes the connection, so the
    // request goes on a client that keeps no idle connections to reuse.
    let alone = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let padding = "x".repeat(2 * 1024 * 1024);
    let body = format!("{{\"changeType\":\"created\",\"padding\":\"{padding}\"}}");
    let answer = alone
        .post(sim.url("/v1.0/subscriptions"))
        .bearer_auth(sim.token())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    let error: Value = answer.json().await.unwrap();
    assert_eq!(error["error"]["code"], "RequestEntityTooLarge", "{error}");
    assert!(
        error["error"]["innerError"]["request-id"].is_string(),
        "{error}"
    );

    let list = sim
        .http
        .get(sim.url("/v1.0/subscriptions"))
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap();
    assert_eq!(
        list.status(),
        200,
        "the simulator still serves after refusing the body"
    );
    sim.stop().await;
}
