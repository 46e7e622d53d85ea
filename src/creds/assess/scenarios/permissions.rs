//! Scenarios about the token's application permissions: no admin consent, the connectors
//! permission set, missing roles, delegated and undecodable tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;

use super::*;
use crate::creds::facts::TokenFacts;
use crate::graph::model::well_known::CONNECTOR_ROLES;

#[test]
fn the_least_privileged_connector_permissions_are_the_wrong_set_too() {
    let report = assess(&with_roles(Some(vec![
        "ExternalConnection.ReadWrite.OwnedBy",
        "ExternalItem.ReadWrite.OwnedBy",
    ])));
    assert!(report.roles.wrong_permission_set);
    assert_eq!(get(&report, CheckId::Roles).severity, Severity::Critical);
}

#[test]
fn no_roles_claim_means_admin_consent_is_missing() {
    for roles in [None, Some(vec![])] {
        let report = assess(&with_roles(roles));
        let check = get(&report, CheckId::Roles);
        assert_eq!(check.severity, Severity::Critical);
        assert!(check.summary.starts_with("admin consent missing"));
        assert!(report.roles.admin_consent_missing);
        let fix = check.fix.join("\n");
        assert!(fix.contains("Application permissions"));
        assert!(fix.contains("Select AiEnterpriseInteraction.Read.All and User.Read.All"));
        assert!(fix.contains("Grant admin consent"));
    }
}

#[test]
fn the_connectors_permission_set_is_named_as_the_wrong_one() {
    let report = assess(&with_roles(Some(CONNECTOR_ROLES.to_vec())));
    let check = get(&report, CheckId::Roles);
    assert_eq!(check.severity, Severity::Critical);
    assert!(check.summary.starts_with("wrong permission set"));
    assert!(
        check
            .cause
            .as_deref()
            .unwrap()
            .contains("Copilot connectors set-up")
    );
    assert!(report.roles.wrong_permission_set);
    assert_eq!(
        report.roles.missing_required,
        ["AiEnterpriseInteraction.Read.All"]
    );

    // Connector roles next to the export role are not a mistake.
    let both = assess(&with_roles(Some(vec![
        "AiEnterpriseInteraction.Read.All",
        "User.Read.All",
        "ExternalItem.ReadWrite.All",
    ])));
    assert!(!both.roles.wrong_permission_set);
    assert_eq!(get(&both, CheckId::Roles).severity, Severity::Ok);
}

#[test]
fn missing_export_role_is_critical_and_missing_user_read_a_warning() {
    let report = assess(&with_roles(Some(vec!["User.Read.All"])));
    let check = get(&report, CheckId::Roles);
    assert_eq!(check.severity, Severity::Critical);
    assert!(!report.roles.wrong_permission_set);
    assert!(check.fix[1].contains("Select AiEnterpriseInteraction.Read.All and"));

    let report = assess(&with_roles(Some(vec!["AiEnterpriseInteraction.Read.All"])));
    let check = get(&report, CheckId::Roles);
    assert_eq!(check.severity, Severity::Warning);
    assert_eq!(report.roles.missing_recommended, ["User.Read.All"]);
    assert!(check.fix[1].contains("Select User.Read.All and choose"));
}

#[test]
fn a_delegated_token_is_critical() {
    let mut facts = healthy();
    let mut claims = claims();
    claims.scp = Some("AiEnterpriseInteraction.Read User.Read".into());
    claims.idtyp = Some("user".into());
    claims.roles = None;
    facts.token = TokenFacts::Granted {
        claims: Some(claims.clone()),
        expires_at: now() + Duration::hours(1),
    };
    let report = assess(&facts);
    let check = get(&report, CheckId::Roles);
    assert_eq!(check.severity, Severity::Critical);
    assert!(check.summary.contains("delegated"));
    assert!(report.roles.delegated);
    assert!(text(check).contains("scp claim (delegated scopes): AiEnterpriseInteraction.Read"));

    claims.scp = None;
    facts.token = TokenFacts::Granted {
        claims: Some(claims),
        expires_at: now() + Duration::hours(1),
    };
    assert!(assess(&facts).roles.delegated, "idtyp=user alone is enough");
}

#[test]
fn an_undecodable_token_leaves_roles_unknown() {
    let mut facts = healthy();
    facts.token = TokenFacts::Granted {
        claims: None,
        expires_at: now() + Duration::hours(1),
    };
    let report = assess(&facts);
    assert_eq!(get(&report, CheckId::Roles).severity, Severity::Unknown);
    assert!(!report.roles.checked);
    assert_eq!(report.severity, Severity::Unknown);
}
