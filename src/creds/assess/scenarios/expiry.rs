//! Scenarios about the secret's expiry: expired, every threshold boundary, the configured
//! date, unmatched hints, several secrets sharing a hint.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, NaiveDate};

use super::*;
use crate::creds::facts::SecretShape;
use crate::creds::report::ExpirySource;
use crate::graph::model::PasswordCredential;

#[test]
fn an_expired_secret_is_critical_and_says_how_long_ago() {
    let mut facts = healthy();
    facts.checked_at = fixture_secret_end() + Duration::days(3) + Duration::hours(2);
    // The app registration as last read; the identity platform now refuses the secret.
    facts.token = TokenFacts::Refused(rejection_fixture(TOKEN_ERROR_7000222, 401));
    let report = assess(&facts);
    let expiry = get(&report, CheckId::SecretExpiry);
    assert_eq!(expiry.severity, Severity::Critical);
    assert_eq!(
        expiry.summary,
        "the secret expired 3 days ago (on 2026-12-01)"
    );
    assert!(expiry.fix[0].starts_with("Now: open"));
    assert!(report.secret.expired);
    assert_eq!(report.secret.days_left, Some(-4));
}

#[test]
fn an_expired_secret_sharing_the_hint_is_not_the_one_a_granted_token_used() {
    let mut facts = healthy();
    facts.checked_at = fixture_secret_end() + Duration::days(3);
    if let Readable::Read(app) = &mut facts.application {
        let mut current = app.password_credentials[0].clone();
        current.key_id = "11111111-1111-4111-8111-111111111111".into();
        current.end_date_time = facts.checked_at + Duration::days(100);
        app.password_credentials.push(current);
    }
    let report = assess(&facts);
    let expiry = get(&report, CheckId::SecretExpiry);
    assert_eq!(expiry.severity, Severity::Ok, "{expiry:?}");
    assert!(!report.secret.expired);
    assert_eq!(report.secret.days_left, Some(100));
}

#[test]
fn expiry_thresholds_are_crossed_exactly_at_their_boundaries() {
    let second = Duration::seconds(1);
    let day = Duration::days(1);
    let cases = [
        (day * 30 + second, Severity::Ok, None),
        (day * 30, Severity::Warning, Some(30)),
        (day * 14, Severity::Warning, Some(14)),
        (day * 7 + second, Severity::Warning, Some(14)),
        (day * 7, Severity::Warning, Some(7)),
        (day * 6, Severity::Warning, Some(7)),
        (day + second, Severity::Warning, Some(7)),
        (day, Severity::Critical, Some(1)),
        (Duration::hours(5), Severity::Critical, Some(1)),
    ];
    for (remaining, severity, crossed) in cases {
        let mut facts = healthy();
        facts.checked_at = fixture_secret_end() - remaining;
        let report = assess(&facts);
        let expiry = get(&report, CheckId::SecretExpiry);
        assert_eq!(expiry.severity, severity, "{remaining}");
        assert_eq!(report.secret.threshold_crossed_days, crossed, "{remaining}");
        assert_eq!(expiry.fix.is_empty(), crossed.is_none(), "{remaining}");
        if let Some(days) = crossed {
            assert!(
                expiry
                    .summary
                    .ends_with(&format!("(under the {days}-day threshold)")),
                "{}",
                expiry.summary
            );
        }
    }
    let mut facts = healthy();
    facts.checked_at = fixture_secret_end() - day * 6;
    assert_eq!(
        get(&assess(&facts), CheckId::SecretExpiry).summary,
        "the secret expires in 6 days (under the 7-day threshold)"
    );
}

#[test]
fn the_configured_expiry_is_used_when_graph_cannot_tell() {
    let mut facts = healthy();
    facts.application = Readable::NotReadable {
        grant: "Application.Read.All".into(),
    };
    facts.configured_secret_expires = NaiveDate::from_ymd_opt(2026, 10, 5);
    let report = assess(&facts);
    let expiry = get(&report, CheckId::SecretExpiry);
    assert_eq!(report.secret.expiry_source, ExpirySource::Configured);
    assert_eq!(
        report.secret.expires_at.unwrap().to_rfc3339(),
        "2026-10-05T23:59:59+00:00"
    );
    assert_eq!(expiry.severity, Severity::Warning);
    assert!(expiry.summary.contains("under the 14-day threshold"));
    assert!(expiry.evidence[0].contains("secret_expires = 2026-10-05"));
    assert!(
        expiry
            .fix
            .iter()
            .any(|s| s.contains("Set `secret_expires`"))
    );

    facts.configured_secret_expires = None;
    let unknown = assess(&facts);
    let expiry = get(&unknown, CheckId::SecretExpiry);
    assert_eq!(expiry.severity, Severity::Ok);
    assert_eq!(
        expiry.summary,
        "secret expiry unknown: grant Application.Read.All or set secret_expires in profile contoso"
    );
    assert_eq!(unknown.secret.expiry_source, ExpirySource::Unknown);
}

#[test]
fn a_configured_expiry_is_judged_even_without_a_token() {
    let mut facts = refused(healthy(), rejection_fixture(TOKEN_ERROR_7000215, 401));
    facts.configured_secret_expires = NaiveDate::from_ymd_opt(2026, 9, 22);
    let report = assess(&facts);
    let expiry = get(&report, CheckId::SecretExpiry);
    assert_eq!(expiry.severity, Severity::Critical);
    assert_eq!(
        expiry.summary,
        "the secret expires in 15h (under the 1-day threshold)"
    );
    assert_eq!(report.secret.expiry_source, ExpirySource::Configured);
}

#[test]
fn a_secret_matching_none_of_the_apps_secrets_is_a_warning() {
    let mut facts = healthy();
    facts.secret.loaded = Ok(SecretShape {
        hint: "abc".into(),
        looks_like_secret_id: false,
        length: 40,
    });
    let report = assess(&facts);
    let expiry = get(&report, CheckId::SecretExpiry);
    assert_eq!(expiry.severity, Severity::Warning);
    assert_eq!(
        expiry.summary,
        "the configured secret (beginning `abc`) is none of the app's listed secrets"
    );
    assert!(
        expiry
            .evidence
            .contains(&"none of the app's 1 listed secrets begins with `abc`".to_owned())
    );
    assert_eq!(report.secret.expiry_source, ExpirySource::Unknown);
}

#[test]
fn when_several_secrets_share_the_hint_the_earliest_expiry_counts() {
    let mut facts = healthy();
    let mut app = application();
    let mut sooner: PasswordCredential = app.password_credentials[0].clone();
    sooner.key_id = "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9".into();
    sooner.end_date_time = now() + Duration::days(8);
    app.password_credentials.push(sooner);
    facts.application = Readable::Read(app);
    let report = assess(&facts);
    assert_eq!(report.secret.days_left, Some(8));
    assert_eq!(
        report.secret.credential_key_id.as_deref(),
        Some("1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9")
    );
    assert_eq!(
        get(&report, CheckId::SecretExpiry).severity,
        Severity::Warning
    );
}
