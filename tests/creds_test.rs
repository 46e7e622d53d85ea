//! `pilotwatch creds test` end to end, in-process, one simulator scenario per test: the profile is
//! saved with `creds add` (with `--force` where the credentials are meant to be refused), then
//! tested; the JSON report, the text an operator reads and the Nagios exit code are checked
//! against what the scenario breaks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;

use common::TestSim;
use common::workspace::{Held, Outcome, Workspace, add, held};
use pilotwatch::commands::creds::ScriptedInput;
use pilotwatch::creds::{Availability, CheckId, CredentialReport, ExpirySource, TokenStatus};
use pilotwatch::graph::model::well_known::{COPILOT_SERVICE_PLANS, INTERACTION_EXPORT_ROLE};
use pilotwatch::severity::Severity;
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;

/// What `creds test NAME` printed, as text and as JSON, with its exit code.
struct Tested {
    text: Outcome,
    report: CredentialReport,
    code: u8,
}

async fn test_profile(ws: &Workspace, name: &str) -> Tested {
    let text = ws
        .run(&["test", name], &mut ScriptedInput::non_interactive())
        .await;
    let json = ws
        .run(
            &["test", name, "--json"],
            &mut ScriptedInput::non_interactive(),
        )
        .await;
    assert!(
        json.error.is_none(),
        "{:?}",
        json.error.map(|e| e.to_string())
    );
    let report: CredentialReport = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(text.code, json.code, "text and JSON runs disagree");
    assert_eq!(json.code, report.severity.exit_code());
    Tested {
        code: json.code,
        text,
        report,
    }
}

/// Saves a profile for the scenario's credentials (forced: some are meant to fail) and tests it.
async fn scenario(name: &str) -> (Tested, TestSim) {
    let sim = TestSim::start(name).await;
    let ws = Workspace::new();
    add(&ws, &held(&sim), "sim", &["--force"]).await.ok();
    (test_profile(&ws, "sim").await, sim)
}

fn severity_of(report: &CredentialReport, id: CheckId) -> Severity {
    report.check(id).unwrap().severity
}

/// The token was refused with `code`; every check after it says it was not checked, and the
/// overall result stays the token's CRITICAL (exit 2).
fn assert_refused(tested: &Tested, code: u64) {
    let report = &tested.report;
    assert_eq!(report.token.status, TokenStatus::Refused);
    assert_eq!(report.token.aadsts_code, Some(code));
    assert_eq!(severity_of(report, CheckId::Token), Severity::Critical);
    assert_eq!(report.severity, Severity::Critical);
    assert_eq!(tested.code, 2);
    assert!(!report.check(CheckId::Token).unwrap().fix.is_empty());
    assert_eq!(
        report.service_principal.availability,
        Availability::NotTried
    );
    let text = &tested.text.stdout;
    assert!(text.contains(&format!("AADSTS{code}")), "{text}");
    assert!(text.contains("Fix:") && text.contains("  1. "), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_is_ok_in_every_check_and_exits_0() {
    let (tested, sim) = scenario("healthy").await;
    let report = &tested.report;
    for check in &report.checks {
        assert_eq!(check.severity, Severity::Ok, "{check:?}");
    }
    assert_eq!(tested.code, 0);
    assert_eq!(report.token.status, TokenStatus::Granted);
    assert!(
        report
            .roles
            .granted
            .iter()
            .any(|r| r == INTERACTION_EXPORT_ROLE)
    );
    assert!(report.roles.missing_required.is_empty());
    // The secret in use was found among the app's secrets by its hint.
    let hint = sim.sim.state.tenant.app.secret_hint();
    assert_eq!(report.secret.hint.as_deref(), Some(hint.as_str()));
    assert_eq!(report.secret.expiry_source, ExpirySource::Graph);
    assert!(report.secret.days_left.unwrap() > 30);
    assert_eq!(report.service_principal.assignment_required, Some(false));
    assert_eq!(report.service_principal.account_enabled, Some(true));
    assert_eq!(report.licences.plans.len(), COPILOT_SERVICE_PLANS.len());
    for plan in &report.licences.plans {
        assert_eq!(
            plan.provisioning_status.as_deref(),
            Some("Success"),
            "{plan:?}"
        );
    }
    let users = &sim.sim.state.tenant.users;
    assert_eq!(report.licences.users_sampled, users.len());
    assert_eq!(
        report.licences.users_licensed,
        users.iter().filter(|u| u.has_copilot_seat).count()
    );
    assert!(report.clock_skew.skew_seconds.unwrap().abs() < 5);
    assert!(
        tested.text.stdout.starts_with("profile sim"),
        "{}",
        tested.text.stdout
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_client_id_is_named_with_its_fix() {
    let (tested, sim) = scenario("invalid-client-id").await;
    assert_refused(&tested, 700_016);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_secret_id_is_called_the_secret_id() {
    let (tested, sim) = scenario("secret-id-pasted").await;
    assert_refused(&tested, 7_000_215);
    assert!(tested.report.secret.looks_like_secret_id);
    let token = tested.report.check(CheckId::Token).unwrap();
    let told = format!("{} {:?} {:?}", token.summary, token.cause, token.fix);
    assert!(told.contains("Secret ID"), "{told}");
    assert!(told.contains("Value"), "{told}");
    let secret = tested.report.check(CheckId::Secret).unwrap();
    assert_eq!(secret.severity, Severity::Warning);
    assert_eq!(secret.fix.len(), 1, "the steps are given once, under Token");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_secret_is_refused_as_expired() {
    let (tested, sim) = scenario("secret-expired").await;
    assert_refused(&tested, 7_000_222);
    let fix = tested.report.check(CheckId::Token).unwrap().fix.join(" ");
    assert!(fix.contains("pilotwatch creds add"), "{fix}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_expiring_in_7_days_warns_with_the_threshold_and_exits_1() {
    let (tested, sim) = scenario("secret-expiring").await;
    let report = &tested.report;
    assert_eq!(report.token.status, TokenStatus::Granted);
    assert_eq!(
        severity_of(report, CheckId::SecretExpiry),
        Severity::Warning
    );
    assert_eq!(report.secret.expiry_source, ExpirySource::Graph);
    let days = report.secret.days_left.unwrap();
    assert!((6..=7).contains(&days), "{days}");
    assert_eq!(report.secret.threshold_crossed_days, Some(7));
    assert_eq!(report.severity, Severity::Warning);
    assert_eq!(tested.code, 1);
    let expiry = report.check(CheckId::SecretExpiry).unwrap();
    assert!(expiry.summary.contains("7-day"), "{}", expiry.summary);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_admin_consent_is_named_although_the_token_is_granted() {
    let (tested, sim) = scenario("missing-admin-consent").await;
    let report = &tested.report;
    assert_eq!(report.token.status, TokenStatus::Granted);
    assert!(report.roles.admin_consent_missing);
    assert!(report.roles.granted.is_empty());
    assert_eq!(report.roles.missing_required, [INTERACTION_EXPORT_ROLE]);
    assert_eq!(severity_of(report, CheckId::Roles), Severity::Critical);
    assert_eq!(tested.code, 2);
    let roles = report.check(CheckId::Roles).unwrap();
    assert!(roles.fix.join(" ").contains("admin consent"), "{roles:?}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copilot_connectors_permissions_are_named_the_wrong_set() {
    let (tested, sim) = scenario("wrong-permissions").await;
    let report = &tested.report;
    assert!(report.roles.wrong_permission_set);
    assert!(!report.roles.admin_consent_missing);
    assert_eq!(severity_of(report, CheckId::Roles), Severity::Critical);
    // Without Application.Read.All etc. the directory sections are "not readable", not failures.
    assert_eq!(
        report.licences.tenant,
        Availability::NotReadable {
            grant: "Organization.Read.All".to_owned()
        }
    );
    assert_eq!(severity_of(report, CheckId::TenantLicences), Severity::Ok);
    assert!(
        tested
            .text
            .stdout
            .contains("not readable: grant Organization.Read.All"),
        "{}",
        tested.text.stdout
    );
    assert_eq!(tested.code, 2);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlicensed_tenant_is_critical_naming_the_missing_plans() {
    let (tested, sim) = scenario("unlicensed").await;
    let report = &tested.report;
    assert_eq!(report.token.status, TokenStatus::Granted);
    assert_eq!(
        severity_of(report, CheckId::TenantLicences),
        Severity::Critical
    );
    assert!(
        report
            .licences
            .plans
            .iter()
            .all(|p| p.provisioning_status.is_none())
    );
    assert_eq!(report.licences.users_licensed, 0);
    assert_eq!(
        severity_of(report, CheckId::UserLicences),
        Severity::Warning
    );
    let evidence = report
        .check(CheckId::TenantLicences)
        .unwrap()
        .evidence
        .join("\n");
    assert!(
        evidence.contains("Microsoft 365 Copilot Chat"),
        "{evidence}"
    );
    assert_eq!(tested.code, 2);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_7_minutes_behind_graph_is_critical_skew() {
    let (tested, sim) = scenario("clock-skew").await;
    let report = &tested.report;
    let skew = report.clock_skew.skew_seconds.unwrap();
    // Server minus local: positive, the local clock is behind.
    assert!((415..=425).contains(&skew), "{skew}");
    assert_eq!(severity_of(report, CheckId::ClockSkew), Severity::Critical);
    let fix = report.check(CheckId::ClockSkew).unwrap().fix.join(" ");
    assert!(fix.contains("NTP") || fix.contains("ntp"), "{fix}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignment_required_warns_with_both_fixes() {
    let (tested, sim) = scenario("app-role-assignment-required").await;
    let report = &tested.report;
    assert_eq!(report.service_principal.assignment_required, Some(true));
    assert_eq!(
        severity_of(report, CheckId::ServicePrincipal),
        Severity::Warning
    );
    let check = report.check(CheckId::ServicePrincipal).unwrap();
    let told = format!("{:?} {}", check.cause, check.fix.join(" "));
    assert!(told.contains("Assignment required"), "{told}");
    assert!(
        told.contains("0bf30f3b-4a52-48df-9a82-234910c4a086"),
        "{told}"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_tenant_is_named_with_the_authority_used() {
    let sim = TestSim::start("healthy").await;
    let ws = Workspace::new();
    let stranger = Held {
        tenant: "0f8fad5b-d9cb-469f-a165-70867728950e".to_owned(),
        ..held(&sim)
    };
    add(&ws, &stranger, "sim", &["--force"]).await.ok();
    let tested = test_profile(&ws, "sim").await;
    assert_refused(&tested, 90_002);
    let token = tested.report.check(CheckId::Token).unwrap();
    assert!(format!("{token:?}").contains(&sim.base), "{token:?}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_the_simulators_ca_file_is_healthy() {
    let sim = TestSim::start_with(SimOptions {
        https_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..SimOptions::loopback(Scenario::load("healthy").unwrap())
    })
    .await;
    let ws = Workspace::new();
    let ca = ws.root.join("sim-ca.pem");
    std::fs::write(&ca, &sim.sim.ca_pem).unwrap();
    let https = format!("https://localhost:{}", sim.sim.https_addr.unwrap().port());
    let over_https = Held {
        base: https,
        ..held(&sim)
    };
    add(
        &ws,
        &over_https,
        "tls",
        &["--ca-file", ca.to_str().unwrap()],
    )
    .await
    .ok();
    let tested = test_profile(&ws, "tls").await;
    assert_eq!(
        tested.report.severity,
        Severity::Ok,
        "{}",
        tested.text.stdout
    );
    assert_eq!(tested.code, 0);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_profiles_are_tested_and_the_worst_sets_the_exit_code() {
    let healthy = TestSim::start("healthy").await;
    let expiring = TestSim::start("secret-expiring").await;
    let ws = Workspace::new();
    add(&ws, &held(&healthy), "good", &[]).await.ok();
    add(&ws, &held(&expiring), "soon", &[]).await.ok();
    let text = ws
        .run(&["test"], &mut ScriptedInput::non_interactive())
        .await;
    assert_eq!(text.code, 1, "{}", text.stdout);
    assert!(text.stdout.contains("profile good") && text.stdout.contains("profile soon"));
    let json = ws
        .run(&["test", "--json"], &mut ScriptedInput::non_interactive())
        .await;
    let reports: Vec<CredentialReport> = serde_json::from_str(&json.stdout).unwrap();
    let severities: Vec<_> = reports
        .iter()
        .map(|r| (r.profile.as_str(), r.severity))
        .collect();
    assert_eq!(
        severities,
        [("good", Severity::Ok), ("soon", Severity::Warning)]
    );
    healthy.stop().await;
    expiring.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_to_test_is_unknown_exit_3() {
    let ws = Workspace::new();
    let none = ws
        .run(&["test"], &mut ScriptedInput::non_interactive())
        .await;
    let (message, code) = none.err();
    assert_eq!(code, 3);
    assert!(message.contains("pilotwatch creds add"), "{message}");
    let unknown = ws
        .run(&["test", "ghost"], &mut ScriptedInput::non_interactive())
        .await;
    assert_eq!(unknown.err().1, 3);
    std::fs::create_dir_all(ws.config_file().parent().unwrap()).unwrap();
    std::fs::write(ws.config_file(), "[[profile]]\nname = 1\n").unwrap();
    let broken = ws
        .run(&["test"], &mut ScriptedInput::non_interactive())
        .await;
    let (message, code) = broken.err();
    assert_eq!(code, 3);
    assert!(message.contains("config.toml"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_that_never_answers_is_reported_within_the_deadline() {
    use pilotwatch::commands::creds::test::test_profiles;
    use pilotwatch::creds::probe::ProbeOptions;

    let sim = TestSim::start("healthy").await;
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let ws = Workspace::new();
    let mut held = held(&sim);
    let token_base = held.base.clone();
    held.base = silent_url.clone();
    let args = [
        "add",
        "slow",
        "--tenant",
        &held.tenant,
        "--client-id",
        &held.client_id,
        "--authority",
        &token_base,
        "--graph-url",
        &silent_url,
        "--secret-stdin",
    ];
    ws.run(&args, &mut common::workspace::stdin_with(&held.secret))
        .await
        .ok();
    let profiles = ws.config().profiles;
    let options = ProbeOptions {
        deadline: std::time::Duration::from_secs(1),
        ..ProbeOptions::default()
    };
    let started = std::time::Instant::now();
    let reports = test_profiles(&profiles, &ws.context, &options).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let report = &reports[0];
    assert_eq!(report.token.status, TokenStatus::Granted);
    assert_eq!(
        report.service_principal.availability,
        Availability::Failed {
            reason: "no answer within the check's 1 s limit".to_owned()
        }
    );
    assert_eq!(
        severity_of(report, CheckId::ServicePrincipal),
        Severity::Unknown
    );
    drop(silent);
    sim.stop().await;
}
