//! Every simulator scenario, end to end, yields its expected headline finding: the real
//! collector against the simulator on each built-in scenario (one table row each), the
//! collector's own verdict read from its `VerdictSource`. `healthy` yields nothing above info —
//! not at the end, and not on the way there: its findings history holds no episode above info,
//! so a false alarm that came and went (a fresh start read as a broken push path) fails too.
//!
//! The rows run concurrently, each with its own simulator, collector and data directory, so
//! the file costs about its slowest row. Each row's speed is chosen for what it judges (see
//! `diagnosis_support`'s `FAST` and `GENTLE`): where durations or rates measured in real time
//! are judged, or where the expected headline is only a warning (at `FAST` the receiver's real
//! milliseconds read as simulated seconds and would break the delivery rung), the row runs
//! slowly enough for the simulated clock to tell the truth.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod diagnosis_support;

use std::time::{Duration, Instant};

use diagnosis_support::{FAST, GENTLE, Run, run, settled, worst_finding};
use pilotwatch::diagnose::{FindingCode, ProfileVerdict};
use pilotwatch::severity::Severity;

/// Longest real wait for a row's verdict: the rows share two loaded cores.
///
/// Rows whose verdict needs no notification (credentials, handshake) run without new Copilot
/// activity, and the others with as little as shows their finding: the simulator's signing
/// and encryption of every notification is what the rows compete for.
const ROW_WAIT: Duration = Duration::from_secs(45);

/// What a scenario must yield.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// This headline finding, at this severity.
    Headline(FindingCode, Severity),
    /// No finding above info, no headline, and none above info ever in the findings history.
    NothingAboveInfo,
}

/// One scenario: how to run it and what it must yield.
#[derive(Debug, Clone, Copy)]
struct Row {
    scenario: &'static str,
    /// Simulated seconds per real second.
    speed: f64,
    /// Copilot prompt-and-response pairs an hour of simulated time.
    pairs_per_hour: f64,
    expect: Expect,
}

const fn row(scenario: &'static str, speed: f64, pairs_per_hour: f64, expect: Expect) -> Row {
    Row {
        scenario,
        speed,
        pairs_per_hour,
        expect,
    }
}

fn table() -> Vec<Row> {
    use Expect::{Headline, NothingAboveInfo};
    use FindingCode as C;
    use Severity::{Critical, Warning};
    vec![
        row("healthy", GENTLE, 3600.0, NothingAboveInfo),
        row(
            "app-role-assignment-required",
            FAST,
            6.0,
            Headline(C::ValidationTokensNull, Critical),
        ),
        row(
            "cert-rotated",
            FAST,
            6.0,
            Headline(C::DecryptionFailing, Critical),
        ),
        row(
            "clock-skew",
            GENTLE,
            240.0,
            Headline(C::ClockSkew, Critical),
        ),
        // The subscription-alive rung comes before the handshake rung, so the missing
        // subscription heads the ladder; its title names the failing handshake.
        row(
            "endpoint-unreachable",
            FAST,
            0.0,
            Headline(C::SubscriptionMissing, Critical),
        ),
        // Two simulated minutes of good answers come first, so the window's failures are a
        // share (a warning), not all of them. No new activity: Graph's failures are what is
        // judged, and notifications would only add acknowledgements to stretch.
        row("graph-outage", 60.0, 0.0, Headline(C::GraphOutage, Warning)),
        row(
            "invalid-client-id",
            FAST,
            0.0,
            Headline(C::ClientIdUnknown, Critical),
        ),
        row(
            "latency-degraded",
            10.0,
            1200.0,
            Headline(C::LatencyHigh, Warning),
        ),
        row(
            "missing-admin-consent",
            FAST,
            0.0,
            Headline(C::AdminConsentMissing, Critical),
        ),
        row(
            "secret-expired",
            FAST,
            0.0,
            Headline(C::SecretExpired, Critical),
        ),
        row(
            "secret-expiring",
            GENTLE,
            240.0,
            Headline(C::SecretExpiring, Warning),
        ),
        row(
            "secret-id-pasted",
            FAST,
            0.0,
            Headline(C::SecretIdPasted, Critical),
        ),
        // The injected delay is on the way to the receiver, which cannot time it: what it
        // sees is Graph's retries and delay state, as late notifications. Slow enough that
        // the receiver's own real milliseconds stay far under Graph's 2.9 s slow line.
        row(
            "slow-endpoint",
            15.0,
            1200.0,
            Headline(C::LatencyHigh, Warning),
        ),
        // Graph removes each subscription ten minutes in; the keeper recreates it, so the
        // finding is the warning of removals that keep coming. Slow enough that recreating
        // (real milliseconds) is short beside the ten simulated minutes between removals.
        row(
            "subscription-removed",
            300.0,
            0.0,
            Headline(C::SubscriptionRemoved, Warning),
        ),
        row(
            "throttled",
            GENTLE,
            240.0,
            Headline(C::GraphThrottling, Warning),
        ),
        row(
            "unlicensed",
            FAST,
            0.0,
            Headline(C::TenantLicenceMissing, Critical),
        ),
        row(
            "wrong-permissions",
            FAST,
            0.0,
            Headline(C::WrongPermissionSet, Critical),
        ),
    ]
}

/// Whether `verdict` is what `expect` asks for.
fn meets(expect: Expect, verdict: &ProfileVerdict) -> bool {
    if verdict.facts.credentials.is_none() {
        return false;
    }
    match expect {
        Expect::Headline(code, severity) => verdict
            .diagnosis
            .headline
            .as_ref()
            .is_some_and(|h| h.code == code && h.severity == severity),
        Expect::NothingAboveInfo => {
            settled(verdict)
                && worst_finding(verdict) <= Severity::Info
                && verdict.diagnosis.headline.is_none()
        }
    }
}

/// Runs one row to its verdict; the error says what was expected and renders what was seen.
async fn check(row: Row) -> Result<Duration, String> {
    let started = Instant::now();
    let run = run(row.scenario, row.speed, row.pairs_per_hour).await;
    let outcome = judge(&run, row).await;
    run.stop().await;
    outcome.map(|()| started.elapsed())
}

async fn judge(run: &Run, row: Row) -> Result<(), String> {
    let expect = row.expect;
    run.try_await_verdict(ROW_WAIT, |v| meets(expect, v))
        .await
        .map_err(|latest| {
            format!(
                "{}: expected {expect:?}; latest diagnosis:\n{latest}",
                row.scenario
            )
        })?;
    if let Expect::NothingAboveInfo = expect {
        let alarms: Vec<String> = run
            .history()
            .iter()
            .filter(|episode| episode.severity > Severity::Info)
            .map(|episode| format!("{episode:?}"))
            .collect();
        if !alarms.is_empty() {
            return Err(format!(
                "{}: settled with nothing above info, but on the way raised:\n{}",
                row.scenario,
                alarms.join("\n")
            ));
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_yields_its_expected_headline() {
    let started = Instant::now();
    let rows = table();
    let outcomes = futures_util::future::join_all(rows.iter().map(|&row| check(row))).await;
    let mut failures = Vec::new();
    for (row, outcome) in rows.iter().zip(outcomes) {
        match outcome {
            Ok(took) => eprintln!("{:<30} ok in {took:.1?}", row.scenario),
            Err(failure) => failures.push(failure),
        }
    }
    eprintln!("{} scenarios in {:.1?}", rows.len(), started.elapsed());
    assert!(
        failures.is_empty(),
        "{} of {} scenarios missed their headline:\n\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_table_covers_every_built_in_scenario() {
    let mut listed: Vec<&str> = table().iter().map(|row| row.scenario).collect();
    listed.sort_unstable();
    let mut built_in: Vec<&str> = pilotwatch::sim::scenario::EMBEDDED
        .iter()
        .map(|(name, _)| *name)
        .collect();
    built_in.sort_unstable();
    assert_eq!(listed, built_in);
}
