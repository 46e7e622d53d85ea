//! Scenarios about the tenant: licences, sampled users, the service principal, clock skew,
//! unreadable and failed directory reads, and the JSON contract.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::sign_in::secret_id_pasted;
use super::*;
use crate::graph::model::well_known::CHANGE_TRACKING_APP_ID;

#[test]
fn an_unlicensed_tenant_is_critical_and_names_every_plan() {
    let mut facts = healthy();
    facts.subscribed_skus = Readable::Read(Vec::new());
    let report = assess(&facts);
    let check = get(&report, CheckId::TenantLicences);
    assert_eq!(check.severity, Severity::Critical);
    assert!(
        check
            .summary
            .starts_with("none of the six Copilot service plans is provisioned")
    );
    assert!(
        check
            .summary
            .contains("tenant-wide subscription cannot be created")
    );
    assert_eq!(check.evidence.len(), 6);
    assert!(
        check
            .evidence
            .iter()
            .all(|line| line.ends_with("in no subscribed SKU"))
    );
    assert!(
        report
            .licences
            .plans
            .iter()
            .all(|p| p.provisioning_status.is_none())
    );
}

#[test]
fn a_plan_not_provisioned_is_named_with_its_status_unless_another_sku_has_it() {
    let mut skus = subscribed_skus();
    skus[0].service_plans[2].provisioning_status = "PendingActivation".into();
    let mut facts = healthy();
    facts.subscribed_skus = Readable::Read(skus.clone());
    let report = assess(&facts);
    let check = get(&report, CheckId::TenantLicences);
    assert_eq!(check.severity, Severity::Critical);
    assert!(
        check
            .summary
            .starts_with("1 of the six Copilot service plans is not provisioned")
    );
    assert!(
        check.evidence.contains(
            &"Microsoft 365 Copilot in Microsoft Teams (b95945de-b3bd-46db-8437-f2beb6ea2347): \
          PendingActivation in Microsoft_365_Copilot"
                .to_owned()
        )
    );

    let mut second = subscribed_skus().remove(0);
    second.sku_part_number = "Microsoft_365_Copilot_EDU".into();
    skus.push(second);
    facts.subscribed_skus = Readable::Read(skus);
    let report = assess(&facts);
    assert_eq!(get(&report, CheckId::TenantLicences).severity, Severity::Ok);
    assert_eq!(
        report.licences.plans[2].sku_part_number.as_deref(),
        Some("Microsoft_365_Copilot_EDU")
    );
}

#[test]
fn no_licensed_user_in_the_sample_is_judged_by_the_tenants_copilot_seats() {
    let mut facts = healthy();
    if let Readable::Read(skus) = &mut facts.subscribed_skus {
        for sku in skus.iter_mut() {
            sku.consumed_units = Some(0);
        }
    }
    let mut suspended = licensed_user();
    if let Some(plans) = suspended.assigned_plans.as_mut() {
        plans[0].capability_status = "Suspended".into();
    }
    facts.sampled_users = Readable::Read(vec![unlicensed_user(), suspended]);
    let report = assess(&facts);
    let check = get(&report, CheckId::UserLicences);
    assert_eq!(check.severity, Severity::Warning);
    assert_eq!(
        check.summary,
        "no user holds Microsoft 365 Copilot (0 seats assigned): the export has nothing to return"
    );
    assert!(
        check
            .evidence
            .contains(&"Megan Bowen: no Copilot Chat plan".to_owned())
    );
    assert!(
        check
            .evidence
            .contains(&"Adele Vance: Copilot Chat plan Suspended".to_owned())
    );
    assert_eq!(report.licences.users_licensed, 0);
    assert_eq!(report.licences.copilot_seats_assigned, Some(0));

    // A pilot: the first users of the directory hold nothing, yet seats are assigned further on.
    let mut pilot = facts.clone();
    pilot.subscribed_skus = healthy().subscribed_skus;
    let pilot = assess(&pilot);
    let check = get(&pilot, CheckId::UserLicences);
    assert_eq!(check.severity, Severity::Ok, "{check:?}");
    assert_eq!(pilot.licences.copilot_seats_assigned, Some(42));
    assert!(
        check.summary.contains("42 Copilot seats are assigned"),
        "{}",
        check.summary
    );

    // Without the tenant's licences the sample alone cannot tell.
    let mut blind = facts.clone();
    blind.subscribed_skus = Readable::NotReadable {
        grant: "Organization.Read.All".into(),
    };
    let blind = assess(&blind);
    assert_eq!(
        get(&blind, CheckId::UserLicences).severity,
        Severity::Unknown
    );

    facts.sampled_users = Readable::Read(Vec::new());
    let empty = assess(&facts);
    assert_eq!(
        get(&empty, CheckId::UserLicences).severity,
        Severity::Unknown
    );
}

#[test]
fn assignment_required_warns_with_the_change_tracking_fix() {
    let mut facts = healthy();
    let mut principal = service_principal();
    principal.app_role_assignment_required = true;
    facts.service_principal = Readable::Read(principal);
    let report = assess(&facts);
    let check = get(&report, CheckId::ServicePrincipal);
    assert_eq!(check.severity, Severity::Warning);
    let cause = check.cause.as_deref().unwrap();
    assert!(cause.contains("null validationTokens"));
    assert!(cause.contains("the dashboard stays empty"));
    assert!(
        check
            .fix
            .iter()
            .any(|s| s.contains("\"Assignment required?\" to No"))
    );
    assert!(check.fix.iter().any(|s| s.contains(CHANGE_TRACKING_APP_ID)));
    assert_eq!(report.service_principal.assignment_required, Some(true));
}

#[test]
fn a_disabled_service_principal_is_critical() {
    let mut facts = healthy();
    let mut principal = service_principal();
    principal.account_enabled = false;
    facts.service_principal = Readable::Read(principal);
    let report = assess(&facts);
    let check = get(&report, CheckId::ServicePrincipal);
    assert_eq!(check.severity, Severity::Critical);
    assert!(
        check
            .fix
            .iter()
            .any(|s| s.contains("\"Enabled for users to sign-in?\" to Yes"))
    );
    assert_eq!(report.service_principal.account_enabled, Some(false));
}

#[test]
fn clock_skew_warns_from_a_minute_and_is_critical_from_five() {
    let cases = [
        (0, Severity::Ok),
        (59, Severity::Ok),
        (60, Severity::Warning),
        (90, Severity::Warning),
        (-90, Severity::Warning),
        (299, Severity::Warning),
        (300, Severity::Critical),
        (7 * 60, Severity::Critical),
        (-7 * 60, Severity::Critical),
    ];
    for (skew, severity) in cases {
        let report = assess(&with_skew(skew));
        let check = get(&report, CheckId::ClockSkew);
        assert_eq!(check.severity, severity, "{skew}");
        assert_eq!(report.clock_skew.skew_seconds, Some(skew));
        assert_eq!(check.fix.is_empty(), severity == Severity::Ok, "{skew}");
    }
    let seven = assess(&with_skew(420));
    let check = get(&seven, CheckId::ClockSkew);
    assert_eq!(
        check.summary,
        "the local clock is 420 s behind the server's"
    );
    assert!(check.fix[0].contains("timedatectl set-ntp true"));
    assert!(check.cause.as_deref().unwrap().contains("nbf/exp"));
    assert_eq!(
        get(&assess(&with_skew(-90)), CheckId::ClockSkew).summary,
        "the local clock is 90 s ahead of the server's"
    );

    let mut facts = healthy();
    facts.server_date = None;
    let report = assess(&facts);
    assert_eq!(get(&report, CheckId::ClockSkew).severity, Severity::Unknown);
    assert_eq!(report.severity, Severity::Unknown);
}

#[test]
fn unreadable_optional_sections_are_ok_and_say_what_to_grant() {
    let mut facts = healthy();
    facts.service_principal = Readable::NotReadable {
        grant: "Application.Read.All".into(),
    };
    facts.application = Readable::NotReadable {
        grant: "Application.Read.All".into(),
    };
    facts.subscribed_skus = Readable::NotReadable {
        grant: "Organization.Read.All".into(),
    };
    facts.sampled_users = Readable::NotReadable {
        grant: "User.Read.All".into(),
    };
    let report = assess(&facts);
    assert_eq!(report.severity, Severity::Ok);
    assert_eq!(
        get(&report, CheckId::ServicePrincipal).summary,
        "not readable: grant Application.Read.All (optional)"
    );
    assert_eq!(
        get(&report, CheckId::TenantLicences).summary,
        "not readable: grant Organization.Read.All (optional)"
    );
    assert_eq!(
        get(&report, CheckId::UserLicences).summary,
        "not readable: grant User.Read.All (optional)"
    );
    assert_eq!(
        report.service_principal.availability,
        Availability::NotReadable {
            grant: "Application.Read.All".into()
        }
    );
    assert!(report.licences.plans.is_empty());
}

#[test]
fn a_failed_read_is_unknown_not_ok() {
    let mut facts = healthy();
    facts.subscribed_skus = Readable::Failed {
        reason: "Graph answered HTTP 503 after 4 attempts".into(),
    };
    let report = assess(&facts);
    let check = get(&report, CheckId::TenantLicences);
    assert_eq!(check.severity, Severity::Unknown);
    assert_eq!(check.evidence, ["Graph answered HTTP 503 after 4 attempts"]);
    assert_eq!(report.severity, Severity::Unknown);
    assert_eq!(report.exit_code(), 3);
}

#[test]
fn reports_round_trip_through_json_with_stable_names() {
    for facts in [
        healthy(),
        secret_id_pasted(),
        refused(healthy(), rejection_fixture(TOKEN_ERROR_90002, 400)),
        with_skew(420),
    ] {
        let report = assess(&facts);
        let json = serde_json::to_string_pretty(&report).unwrap();
        let back: CredentialReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
        // The facts serialize too (the probe may log them), and hold no more than the report.
        serde_json::to_string(&facts).unwrap();
    }
    let json = serde_json::to_value(assess(&secret_id_pasted())).unwrap();
    assert_eq!(json["severity"], "critical");
    assert_eq!(json["checks"][0]["id"], "secret");
    assert_eq!(json["checks"][3]["id"], "secret-expiry");
    assert_eq!(json["token"]["status"], "refused");
    assert_eq!(json["token"]["aadsts_code"], 7_000_215);
    assert_eq!(json["secret"]["expiry_source"], "unknown");
    assert_eq!(
        json["service_principal"]["availability"]["state"],
        "not-tried"
    );
}
