//! The running collector diagnoses what it sees: the real collector (receiver, keeper, poller,
//! store, credential probe, diagnosis round) against the simulator at high `--speed`, wired as
//! `pilotwatch serve --sim` wires it. A healthy tenant settles with nothing above info; a
//! service principal with "Assignment required" is headlined as null validation tokens; a
//! subscription Graph removes shows in the findings history as a problem that started and, once
//! recreated and past, ended.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod diagnosis_support;

use diagnosis_support::{FAST, GENTLE, run, settled, summary, worst_finding};
use pilotwatch::collector::update::Update;
use pilotwatch::diagnose::FindingCode;
use pilotwatch::severity::Severity;
use pilotwatch::sim::scenario::Scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_tenant_settles_with_nothing_above_info() {
    let run = run("healthy", GENTLE, 3600.0).await;
    let mut updates = run.collector.updates();
    run.await_verdict("the collector to settle", settled).await;
    let verdict = run
        .await_verdict("no finding above info", |v| {
            settled(v) && worst_finding(v) <= Severity::Info
        })
        .await;
    assert_eq!(verdict.diagnosis.headline, None, "{:#?}", summary(&verdict));
    assert!(matches!(
        verdict.facts.source,
        pilotwatch::diagnose::facts::FactSource::Collector { pid, .. } if pid == std::process::id()
    ));
    let facts = &verdict.facts;
    assert!(
        facts.graph.as_ref().unwrap().requests > 0,
        "Graph traffic is counted"
    );
    assert!(
        facts
            .delivery
            .as_ref()
            .unwrap()
            .current_certificate_id
            .is_some(),
        "the certificate in use is known"
    );
    let mut announced = false;
    while let Ok(update) = updates.try_recv() {
        announced |= matches!(update, Update::Diagnosis(v) if v.diagnosis.profile == "sim");
    }
    assert!(
        announced,
        "a changed verdict is announced on the update channel"
    );
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignment_required_is_headlined_as_null_validation_tokens() {
    let run = run("app-role-assignment-required", FAST, 24.0).await;
    // The credential probe sees the flag first (a warning); once the null-token notifications
    // arrive, the finding is critical and heads the ladder.
    let verdict = run
        .await_verdict("a critical validation-tokens-null as the headline", |v| {
            v.facts.credentials.is_some()
                && v.diagnosis.headline.as_ref().is_some_and(|h| {
                    h.code == FindingCode::ValidationTokensNull && h.severity == Severity::Critical
                })
        })
        .await;
    assert_eq!(verdict.diagnosis.severity, Severity::Critical);
    let delivery = verdict.facts.delivery.as_ref().unwrap();
    assert!(
        delivery.received > 0 && delivery.accepted == 0,
        "{delivery:#?}"
    );
    let headline = verdict.diagnosis.headline.as_ref().unwrap();
    assert!(
        headline
            .evidence
            .iter()
            .any(|line| line.contains("appRoleAssignmentRequired = true")),
        "the service principal's flag confirms it: {headline:#?}"
    );
    run.await_history("the finding to be open in the history", |history| {
        history
            .iter()
            .any(|r| r.code == "validation-tokens-null" && r.ended_at.is_none())
    })
    .await;
    let open = run.collector.store().findings().open("sim").unwrap();
    let null = open
        .iter()
        .find(|r| r.code == "validation-tokens-null")
        .unwrap();
    assert_eq!(null.severity, Severity::Critical);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_subscription_starts_and_ends_in_the_findings_history() {
    let run = run("subscription-removed", FAST, 24.0).await;
    run.await_history("subscription-removed to start", |history| {
        history.iter().any(|r| r.code == "subscription-removed")
    })
    .await;
    // Graph stops removing subscriptions; the recreated one stays, and once the removal is
    // older than the lookback hour the finding is over.
    run.sim
        .sim
        .state
        .set_scenario(Scenario::load("healthy").unwrap());
    run.await_history("subscription-removed to end", |history| {
        let episodes: Vec<_> = history
            .iter()
            .filter(|r| r.code == "subscription-removed")
            .collect();
        !episodes.is_empty() && episodes.iter().all(|r| r.ended_at.is_some())
    })
    .await;
    let history = run.history();
    let episode = history
        .iter()
        .find(|r| r.code == "subscription-removed")
        .unwrap();
    let ended = episode.ended_at.unwrap();
    assert!(ended > episode.started_at, "{episode:#?}");
    let verdict = run.verdict().unwrap();
    assert!(
        verdict
            .facts
            .subscriptions
            .as_ref()
            .is_some_and(|s| !s.active.is_empty()),
        "the keeper recreated the subscription"
    );
    assert!(
        !verdict
            .diagnosis
            .findings
            .iter()
            .any(|f| f.code == FindingCode::SubscriptionRemoved),
        "{:#?}",
        summary(&verdict)
    );
    run.stop().await;
}
