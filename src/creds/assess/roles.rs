//! The `roles` check: the application permissions in the token's (unverified) `roles` claim
//! against what interaction export needs (graph-facts §1.2, §6.1, §6.2). Required:
//! `AiEnterpriseInteraction.Read.All`; recommended: `User.Read.All` (names, licence sampling);
//! optional: `Application.Read.All`, `Organization.Read.All` (deeper diagnosis). Also names the
//! classic mistakes: no admin consent at all (no `roles` claim), the Copilot *connectors*
//! permission set instead of the export one, and a delegated token.
//!
//! Depends on the facts, the report types and the well-known role names.

use crate::creds::facts::{CredentialFacts, TokenFacts};
use crate::creds::report::{Check, CheckId, RolesSection};
use crate::graph::model::AccessTokenClaims;
use crate::graph::model::well_known::{
    APPLICATION_READ_ROLE, CONNECTOR_PERMISSION_FAMILY, INTERACTION_EXPORT_ROLE,
    ORGANIZATION_READ_ROLE, USER_READ_ROLE,
};
use crate::severity::Severity;

use super::{app_registration, check, not_checked_without_token};

const REQUIRED: [&str; 1] = [INTERACTION_EXPORT_ROLE];
const RECOMMENDED: [&str; 1] = [USER_READ_ROLE];
const OPTIONAL: [&str; 2] = [APPLICATION_READ_ROLE, ORGANIZATION_READ_ROLE];

/// Judges the token's application permissions.
pub(super) fn assess(facts: &CredentialFacts) -> (Check, RolesSection) {
    let mut section = RolesSection {
        checked: false,
        granted: Vec::new(),
        required: owned(&REQUIRED),
        recommended: owned(&RECOMMENDED),
        optional: owned(&OPTIONAL),
        missing_required: Vec::new(),
        missing_recommended: Vec::new(),
        missing_optional: Vec::new(),
        admin_consent_missing: false,
        wrong_permission_set: false,
        delegated: false,
    };
    let claims = match &facts.token {
        TokenFacts::Granted {
            claims: Some(claims),
            ..
        } => claims,
        TokenFacts::Granted { claims: None, .. } => {
            let undecodable = check(
                CheckId::Roles,
                Severity::Unknown,
                "not checked: the token could not be decoded to read its permissions",
            );
            return (undecodable, section);
        }
        TokenFacts::Refused(_) | TokenFacts::NotTried => {
            return (not_checked_without_token(CheckId::Roles), section);
        }
    };

    let granted: Vec<String> = claims.roles.clone().unwrap_or_default();
    let missing = |wanted: &[&str]| -> Vec<String> {
        wanted
            .iter()
            .filter(|role| !granted.iter().any(|g| g == *role))
            .map(|role| (*role).to_owned())
            .collect()
    };
    section.checked = true;
    section.missing_required = missing(&REQUIRED);
    section.missing_recommended = missing(&RECOMMENDED);
    section.missing_optional = missing(&OPTIONAL);
    section.admin_consent_missing = granted.is_empty();
    section.delegated = is_delegated(claims);
    let connector_roles: Vec<&String> = granted
        .iter()
        .filter(|role| CONNECTOR_PERMISSION_FAMILY.contains(&role.as_str()))
        .collect();
    section.wrong_permission_set =
        !connector_roles.is_empty() && !section.missing_required.is_empty();

    let granted_line = if granted.is_empty() {
        "roles claim: absent (no application permission is consented)".to_owned()
    } else {
        format!("roles claim: {}", granted.join(", "))
    };
    let to_add = [
        section.missing_required.as_slice(),
        section.missing_recommended.as_slice(),
    ]
    .concat();

    let mut result = if section.delegated {
        let mut delegated = check(
            CheckId::Roles,
            Severity::Critical,
            "the token is delegated (on behalf of a user), not app-only",
        );
        if let Some(scp) = &claims.scp {
            delegated
                .evidence
                .push(format!("scp claim (delegated scopes): {scp}"));
        }
        if let Some(idtyp) = &claims.idtyp {
            delegated.evidence.push(format!("idtyp claim: {idtyp}"));
        }
        delegated.cause = Some(format!(
            "The export API supports only the *application* permission {INTERACTION_EXPORT_ROLE}; \
             delegated access is not supported. The app must sign in as itself with client \
             credentials."
        ));
        delegated.fix = consent_steps(facts, &[INTERACTION_EXPORT_ROLE.to_owned()]);
        delegated.fix.push(format!(
            "Make sure profile {} points at the Microsoft identity platform (`cloud`), which \
             issues app-only tokens for client credentials.",
            facts.profile
        ));
        delegated
    } else if section.admin_consent_missing {
        let mut unconsented = check(
            CheckId::Roles,
            Severity::Critical,
            "admin consent missing: the token carries no application permission",
        );
        unconsented.cause = Some(
            "An app-only token lists the admin-consented application permissions in its roles \
             claim. Without it the token is still issued, but Graph refuses every request."
                .to_owned(),
        );
        unconsented.fix = consent_steps(facts, &to_add);
        unconsented
    } else if section.wrong_permission_set {
        let names: Vec<&str> = connector_roles.iter().map(|r| r.as_str()).collect();
        let mut wrong = check(
            CheckId::Roles,
            Severity::Critical,
            "wrong permission set: the Copilot connectors permissions are consented instead of \
             interaction export",
        );
        wrong.cause = Some(format!(
            "{} belong to the Copilot connectors set-up (bringing external content into \
             Microsoft 365 Copilot). Exporting Copilot interactions needs \
             {INTERACTION_EXPORT_ROLE}, which is not granted.",
            names.join(" and ")
        ));
        wrong.fix = consent_steps(facts, &to_add);
        wrong.fix.push(format!(
            "Remove {} from the app unless it also runs a Copilot connector.",
            names.join(" and ")
        ));
        wrong
    } else if !section.missing_required.is_empty() {
        let mut missing = check(
            CheckId::Roles,
            Severity::Critical,
            format!(
                "{INTERACTION_EXPORT_ROLE} is not granted: the export API refuses every request"
            ),
        );
        missing.cause = Some(format!(
            "{INTERACTION_EXPORT_ROLE} is the only permission the export API and the tenant-wide \
             subscription accept."
        ));
        missing.fix = consent_steps(facts, &to_add);
        missing
    } else if !section.missing_recommended.is_empty() {
        let mut partial = check(
            CheckId::Roles,
            Severity::Warning,
            format!(
                "{USER_READ_ROLE} is not granted: users show as ids instead of names, and their \
                 licences cannot be sampled"
            ),
        );
        partial.cause = Some(format!(
            "{INTERACTION_EXPORT_ROLE} is granted, so the export works; reading users needs \
             {USER_READ_ROLE}."
        ));
        partial.fix = consent_steps(facts, &to_add);
        partial
    } else {
        check(
            CheckId::Roles,
            Severity::Ok,
            format!("{INTERACTION_EXPORT_ROLE} and {USER_READ_ROLE} are granted"),
        )
    };

    result.evidence.insert(0, granted_line);
    if !section.missing_optional.is_empty() && !section.delegated {
        result.evidence.push(format!(
            "optional, not granted: {} (deeper diagnosis only)",
            section.missing_optional.join(", ")
        ));
    }
    section.granted = granted;
    (result, section)
}

/// A delegated token: a `scp` claim, or `idtyp` saying it was issued for a user.
fn is_delegated(claims: &AccessTokenClaims) -> bool {
    claims.scp.is_some() || claims.idtyp.as_deref() == Some("user")
}

/// The portal steps that add application permissions and grant admin consent.
fn consent_steps(facts: &CredentialFacts, roles: &[String]) -> Vec<String> {
    vec![
        format!(
            "Open {} > API permissions > Add a permission > Microsoft Graph > Application \
             permissions.",
            app_registration(&facts.client_id)
        ),
        format!(
            "Select {} and choose Add permissions.",
            if roles.is_empty() {
                INTERACTION_EXPORT_ROLE.to_owned()
            } else {
                roles.join(" and ")
            }
        ),
        "Choose Grant admin consent for the tenant (an administrator must do this).".to_owned(),
        format!(
            "Run `pilotwatch creds test {}` again: the next token carries the new roles.",
            facts.profile
        ),
    ]
}

fn owned(roles: &[&str]) -> Vec<String> {
    roles.iter().map(|role| (*role).to_owned()).collect()
}
