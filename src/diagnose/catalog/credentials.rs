//! Credential findings, read off the credential report: each check that is not OK becomes the
//! finding its typed section identifies (the AADSTS code behind a refused token, the roles
//! flags, the expiry threshold...), carrying the check's own evidence, cause and numbered fix
//! — the report and the catalog never word the same problem twice.
//!
//! A check the report could not carry out (severity unknown) is no finding: the ladder shows
//! its rung as unknown instead. The service principal's "assignment required" flag is the
//! documented cause of null validation tokens, so it is reported under that code, as a warning
//! until notifications confirm it (the delivery findings do).
//!
//! Depends on the credential report types only.

use crate::creds::{Check, CheckId, CredentialReport, TokenStatus};
use crate::diagnose::{Finding, FindingCode};
use crate::graph::auth::AadstsKind;
use crate::graph::model::well_known::USER_READ_ROLE;
use crate::severity::Severity;

/// The findings of `report`.
pub(super) fn findings(report: &CredentialReport) -> Vec<Finding> {
    report
        .checks
        .iter()
        .filter(|check| !matches!(check.severity, Severity::Ok | Severity::Unknown))
        .filter_map(|check| Some(from_check(check, code_of(check, report)?)))
        .collect()
}

/// The finding code a non-OK check stands for; `None` when it names no problem.
fn code_of(check: &Check, report: &CredentialReport) -> Option<FindingCode> {
    use FindingCode as C;
    let secret = &report.secret;
    Some(match check.id {
        CheckId::Secret if secret.load_error.is_some() => C::SecretUnreadable,
        CheckId::Secret if secret.looks_like_secret_id => C::SecretIdPasted,
        CheckId::Secret => C::SecretWrong,
        CheckId::Token => match report.token.status {
            TokenStatus::Refused => match AadstsKind::from_code(report.token.aadsts_code) {
                AadstsKind::UnknownTenant | AadstsKind::MalformedTenant => C::TenantUnknown,
                AadstsKind::UnknownClient => C::ClientIdUnknown,
                AadstsKind::InvalidSecret if secret.looks_like_secret_id => C::SecretIdPasted,
                AadstsKind::InvalidSecret => C::SecretWrong,
                AadstsKind::ExpiredSecret => C::SecretExpired,
                AadstsKind::MissingSecret => C::SecretUnreadable,
                AadstsKind::AppDisabled => C::AppDisabled,
                AadstsKind::BadScope | AadstsKind::Other(_) | AadstsKind::NoCode => C::TokenRefused,
            },
            TokenStatus::Unreachable
            | TokenStatus::UnexpectedAnswer
            | TokenStatus::InvalidAuthority => C::IdentityUnreachable,
            // The secret's own finding says why no token was asked for.
            TokenStatus::Granted | TokenStatus::NotTried => return None,
        },
        CheckId::Roles => {
            let roles = &report.roles;
            if roles.admin_consent_missing {
                C::AdminConsentMissing
            } else if roles.wrong_permission_set {
                C::WrongPermissionSet
            } else if roles.delegated {
                C::DelegatedPermissions
            } else if !roles.missing_required.is_empty() {
                C::PermissionMissing
            } else if roles
                .missing_recommended
                .iter()
                .any(|r| r == USER_READ_ROLE)
            {
                C::UserReadMissing
            } else {
                C::PermissionMissing
            }
        }
        CheckId::SecretExpiry if secret.expired => C::SecretExpired,
        CheckId::SecretExpiry => C::SecretExpiring,
        CheckId::ServicePrincipal => match (
            report.service_principal.account_enabled,
            report.service_principal.assignment_required,
        ) {
            (Some(false), _) => C::AppDisabled,
            (_, Some(true)) => C::ValidationTokensNull,
            _ => return None,
        },
        CheckId::TenantLicences => C::TenantLicenceMissing,
        CheckId::UserLicences => C::UserLicenceMissing,
        CheckId::ClockSkew => C::ClockSkew,
    })
}

fn from_check(check: &Check, code: FindingCode) -> Finding {
    Finding {
        code,
        severity: check.severity,
        title: check.summary.clone(),
        evidence: check.evidence.clone(),
        since: None,
        cause: check.cause.clone().unwrap_or_else(|| check.summary.clone()),
        fix: check.fix.clone(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::creds::assess;
    use crate::creds::test_facts::*;
    use crate::creds::{Readable, SecretShape};

    fn codes(facts: &crate::creds::CredentialFacts) -> Vec<(FindingCode, Severity)> {
        findings(&assess(facts))
            .into_iter()
            .map(|finding| (finding.code, finding.severity))
            .collect()
    }

    #[test]
    fn a_healthy_profile_has_no_credential_finding() {
        assert_eq!(codes(&healthy()), []);
    }

    #[test]
    fn each_refusal_becomes_the_finding_its_aadsts_code_names() {
        let table = [
            (TOKEN_ERROR_90002, 400, FindingCode::TenantUnknown),
            (TOKEN_ERROR_700016, 400, FindingCode::ClientIdUnknown),
            (TOKEN_ERROR_7000215, 401, FindingCode::SecretWrong),
            (TOKEN_ERROR_7000222, 401, FindingCode::SecretExpired),
        ];
        for (fixture, status, code) in table {
            let found = codes(&refused(healthy(), rejection_fixture(fixture, status)));
            assert!(
                found.contains(&(code, Severity::Critical)),
                "{code:?} not in {found:?}"
            );
        }
        let other = codes(&refused(
            healthy(),
            rejection(Some(50_196), "invalid_request", 400),
        ));
        assert!(other.contains(&(FindingCode::TokenRefused, Severity::Critical)));
    }

    #[test]
    fn a_secret_id_refused_is_named_as_such_once() {
        let mut facts = healthy();
        facts.secret.loaded = Ok(SecretShape {
            hint: "9a0".into(),
            looks_like_secret_id: true,
            length: 36,
        });
        let found = codes(&refused(facts, rejection_fixture(TOKEN_ERROR_7000215, 401)));
        let pasted = found
            .iter()
            .filter(|(code, _)| *code == FindingCode::SecretIdPasted)
            .count();
        assert!(pasted >= 1, "{found:?}");
        assert!(
            !found
                .iter()
                .any(|(code, _)| *code == FindingCode::SecretWrong)
        );
    }

    #[test]
    fn assignment_required_warns_of_null_validation_tokens() {
        let mut facts = healthy();
        let mut principal = service_principal();
        principal.app_role_assignment_required = true;
        facts.service_principal = Readable::Read(principal);
        assert!(
            codes(&facts).contains(&(FindingCode::ValidationTokensNull, Severity::Warning)),
            "{:?}",
            codes(&facts)
        );
    }

    #[test]
    fn findings_carry_the_reports_cause_and_fix() {
        let report = assess(&refused(
            healthy(),
            rejection_fixture(TOKEN_ERROR_7000222, 401),
        ));
        let token = report
            .checks
            .iter()
            .find(|check| check.id == CheckId::Token)
            .unwrap();
        let finding = findings(&report)
            .into_iter()
            .find(|finding| finding.code == FindingCode::SecretExpired)
            .unwrap();
        assert_eq!(Some(&finding.cause), token.cause.as_ref());
        assert_eq!(finding.fix, token.fix);
        assert!(!finding.fix.is_empty());
    }
}
