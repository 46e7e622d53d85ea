//! The collector's status endpoints served from a fake verdict source on 127.0.0.1:0:
//! `/metrics` is Prometheus text with its content type, `/diagnosis.json` round-trips the
//! verdicts, anything else is 404, and `serve`'s announcement names the listener.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod status_support;

use std::sync::Arc;

use pilotwatch::clock::SystemClock;
use pilotwatch::commands::status_endpoint;
use pilotwatch::diagnose::ProfileVerdict;
use pilotwatch::status::announcement::Announcement;
use pilotwatch::status::{self, DIAGNOSIS_PATH, METRICS_PATH};
use status_support::{FakeSource, verdict_with_expiring_secret};
use tokio_util::sync::CancellationToken;

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_diagnosis_are_served_and_anything_else_is_404() {
    let verdicts = vec![verdict_with_expiring_secret("contoso")];
    let shutdown = CancellationToken::new();
    let server = status::serve(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(FakeSource(verdicts.clone())),
        Arc::new(SystemClock),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let base = format!("http://{}", server.local_addr);
    let http = http();

    let metrics = http
        .get(format!("{base}{METRICS_PATH}"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert_eq!(
        metrics.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = metrics.text().await.unwrap();
    assert!(text.contains("\npilotwatch_up 1\n"), "{text}");
    assert!(
        text.contains(
            "pilotwatch_finding{profile=\"contoso\",code=\"secret-expiring\",severity=\"warning\",area=\"credentials\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("pilotwatch_findings{profile=\"contoso\",severity=\"warning\"} 1\n"),
        "{text}"
    );

    let json = http
        .get(format!("{base}{DIAGNOSIS_PATH}"))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 200);
    assert!(
        json.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let back: Vec<ProfileVerdict> = json.json().await.unwrap();
    assert_eq!(back, verdicts);

    for path in ["/", "/metrics/extra", "/diagnosis", "/../etc/passwd"] {
        let answer = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), 404, "{path}");
    }

    shutdown.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(5), server.stopped())
        .await
        .unwrap();
    assert!(
        http.get(format!("{base}{METRICS_PATH}"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_announces_its_status_address_and_withdraws_it_on_stop() {
    let dir = tempfile::tempdir().unwrap();
    let bind = pilotwatch::cli::StatusBind::At("127.0.0.1:0".parse().unwrap());
    let endpoints = status_endpoint::start(
        Some(bind),
        Arc::new(FakeSource(vec![verdict_with_expiring_secret("contoso")])),
        Arc::new(SystemClock),
        dir.path(),
    )
    .await
    .unwrap();
    let addr = endpoints.local_addr().unwrap();
    let announced = Announcement::read(dir.path()).unwrap().unwrap();
    assert_eq!(announced.pid, std::process::id());
    assert_eq!(announced.status_addr, Some(addr));
    let answer = http()
        .get(format!("http://{addr}{DIAGNOSIS_PATH}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    endpoints.stop().await;
    assert_eq!(Announcement::read(dir.path()).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_off_announces_the_collector_without_an_address() {
    let dir = tempfile::tempdir().unwrap();
    let endpoints = status_endpoint::start(
        Some(pilotwatch::cli::StatusBind::Off),
        Arc::new(FakeSource(Vec::new())),
        Arc::new(SystemClock),
        dir.path(),
    )
    .await
    .unwrap();
    assert_eq!(endpoints.local_addr(), None);
    let announced = Announcement::read(dir.path()).unwrap().unwrap();
    assert_eq!(announced.status_addr, None);
    endpoints.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_address_that_is_taken_is_an_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let error = status_endpoint::start(
        Some(pilotwatch::cli::StatusBind::At(addr)),
        Arc::new(FakeSource(Vec::new())),
        Arc::new(SystemClock),
        dir.path(),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
    assert_eq!(Announcement::read(dir.path()).unwrap(), None);
}
