//! Unit tests of the authenticity findings (null and invalid validation tokens, clientState
//! mismatches, decryption failures) at their thresholds, on facts from `diagnose::test_facts`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::creds::Readable;
use crate::diagnose::test_facts::*;

fn run(build: Build) -> Vec<Finding> {
    findings(&build.done(), now())
}

fn codes(build: Build) -> Vec<(FindingCode, Severity)> {
    run(build)
        .into_iter()
        .map(|f| (f.code, f.severity))
        .collect()
}

fn one(build: Build, code: FindingCode) -> Finding {
    let found = run(build);
    found
        .iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("{code:?} not in {found:?}"))
        .clone()
}

fn assignment_required() -> crate::creds::CredentialFacts {
    let mut facts = crate::creds::test_facts::healthy();
    let mut principal = crate::creds::test_facts::service_principal();
    principal.app_role_assignment_required = true;
    facts.service_principal = Readable::Read(principal);
    facts
}

#[test]
fn healthy_notifications_have_no_finding() {
    assert_eq!(codes(Build::healthy()), []);
    assert_eq!(codes(Build::healthy().without(|f| f.delivery = None)), []);
}

#[test]
fn one_null_token_is_critical_and_the_flag_confirms_it() {
    let unconfirmed = one(
        Build::healthy().null_tokens(1),
        FindingCode::ValidationTokensNull,
    );
    assert_eq!(unconfirmed.severity, Severity::Critical);
    assert!(unconfirmed.evidence[1].contains("does not require assignment"));

    let confirmed = one(
        Build::healthy()
            .null_tokens(40)
            .credentials(&assignment_required()),
        FindingCode::ValidationTokensNull,
    );
    assert!(
        confirmed.evidence[0].starts_with("40 of 40 items"),
        "{confirmed:?}"
    );
    assert!(confirmed.evidence[1].starts_with("confirmed: "));
    assert!(confirmed.fix[0].contains("Enterprise applications › the app › Properties"));
    assert!(confirmed.fix[1].contains(CHANGE_TRACKING_APP_ID));

    let unread = one(
        Build::healthy()
            .null_tokens(3)
            .without(|f| f.credentials = None),
        FindingCode::ValidationTokensNull,
    );
    assert!(unread.evidence[1].contains("was not read"));
}

#[test]
fn the_check_step_names_the_profile_s_own_app() {
    let check = |build: Build| {
        let finding = one(build, FindingCode::ValidationTokensNull);
        finding
            .fix
            .iter()
            .find(|step| step.starts_with("Check: GET /servicePrincipals"))
            .cloned()
            .unwrap()
    };
    let configured = check(Build::healthy().null_tokens(1).without(|f| {
        f.client_id = Some("0a1b2c3d-0000-4000-8000-00000000c0de".into());
    }));
    assert!(
        configured.contains("/servicePrincipals(appId='0a1b2c3d-0000-4000-8000-00000000c0de')"),
        "{configured}"
    );
    // Facts from before the field existed: the credential report still names the app.
    let from_report = check(
        Build::healthy()
            .null_tokens(1)
            .without(|f| f.client_id = None),
    );
    let report_id = crate::creds::test_facts::healthy().client_id;
    assert!(
        from_report.contains(&format!("(appId='{report_id}')")),
        "{from_report}"
    );
    // Known from nowhere: the placeholder, for the operator to fill in.
    let unknown = check(Build::healthy().null_tokens(1).without(|f| {
        f.client_id = None;
        f.credentials = None;
    }));
    assert!(unknown.contains("(appId='{client-id}')"), "{unknown}");
}

#[test]
fn absent_tokens_count_as_null() {
    let build = Build::healthy().delivery(|d| {
        d.rejected.insert(RejectReason::TokensAbsent, 2);
    });
    let finding = one(build, FindingCode::ValidationTokensNull);
    assert!(finding.evidence[0].contains("no validationTokens"));
}

#[test]
fn invalid_tokens_say_which_check_and_hint_at_the_clock() {
    let build = Build::healthy().delivery(|d| {
        d.rejected.insert(RejectReason::TokensInvalid, 5);
        d.token_failures.insert(TokenRejection::Expired, 5);
    });
    let mut skewed = crate::creds::test_facts::healthy();
    skewed.server_date = Some(crate::creds::ServerClock {
        server: now(),
        local: now() - chrono::Duration::minutes(9),
    });
    let finding = one(
        build.clone().credentials(&skewed),
        FindingCode::ValidationTokensInvalid,
    );
    assert_eq!(
        finding.severity,
        Severity::Warning,
        "items still got through"
    );
    assert!(
        finding
            .evidence
            .iter()
            .any(|l| l.starts_with("expired: 5 tokens"))
    );
    assert!(
        finding
            .evidence
            .iter()
            .any(|l| l.contains("differs") && l.contains("540 s"))
    );
    assert!(finding.fix[0].contains("NTP"));

    // With the clock right, expired tokens are stale: replayed.
    let finding = one(build.clone(), FindingCode::ValidationTokensInvalid);
    assert!(finding.evidence.iter().any(|l| l.contains("agrees")));
    assert!(finding.cause.contains("replayed"), "{}", finding.cause);

    let nothing_through = build.delivery(|d| {
        d.accepted = 0;
        d.token_failures.insert(TokenRejection::WrongAppId, 1);
    });
    let finding = one(nothing_through, FindingCode::ValidationTokensInvalid);
    assert_eq!(finding.severity, Severity::Critical);
    assert!(finding.cause.contains("someone else is posting"));
}

#[test]
fn client_state_mismatch_points_at_stale_subscriptions_or_spoofing() {
    let build = Build::healthy().delivery(|d| {
        d.rejected.insert(RejectReason::ClientStateMismatch, 3);
    });
    let finding = one(build, FindingCode::ClientStateMismatch);
    assert_eq!(finding.severity, Severity::Warning);
    assert!(finding.cause.contains("stale subscription"));
    assert!(finding.cause.contains("forged"));
    assert!(finding.fix[1].contains("DELETE /subscriptions/{id}"));
}

#[test]
fn decryption_failures_name_the_certificate_graph_asked_for() {
    let build = Build::healthy().delivery(|d| {
        d.accepted = 0;
        d.rejected.insert(RejectReason::DecryptFailed, 40);
        d.decrypt_failures
            .insert(DecryptFailure::UnknownCertificate, 40);
        d.unknown_certificates = vec!["pilotwatch-2025 / 9F3A…C2".into()];
    });
    let finding = one(build, FindingCode::DecryptionFailing);
    assert_eq!(finding.severity, Severity::Critical);
    assert!(
        finding
            .evidence
            .iter()
            .any(|l| l.contains("pilotwatch-2025"))
    );
    assert!(
        finding
            .evidence
            .iter()
            .any(|l| l.ends_with("pilotwatch-2026"))
    );
    assert!(finding.cause.contains("rotated"));
}
