//! The `service-principal` check: the app's enterprise application in the tenant must be
//! enabled (critical), and should not require assignment (a warning) — with `appRoleAssignmentRequired = true` Graph
//! cannot mint validation tokens for rich notifications unless the Microsoft Graph Change
//! Tracking app holds an app role, and sends `validationTokens: null` (graph-facts §4.1, §7).
//!
//! Depends on the facts, the report types and the well-known Change Tracking app id.

use std::ops::ControlFlow;

use crate::creds::facts::CredentialFacts;
use crate::creds::report::{Check, CheckId, ServicePrincipalSection};
use crate::graph::model::well_known::CHANGE_TRACKING_APP_ID;
use crate::severity::Severity;

use super::{availability, check, read_or_check};

/// Judges the service principal.
pub(super) fn assess(facts: &CredentialFacts) -> (Check, ServicePrincipalSection) {
    let mut section = ServicePrincipalSection {
        availability: availability(&facts.service_principal),
        assignment_required: None,
        account_enabled: None,
        display_name: None,
    };
    let principal = match read_or_check(
        CheckId::ServicePrincipal,
        "the service principal",
        &facts.service_principal,
    ) {
        ControlFlow::Continue(principal) => principal,
        ControlFlow::Break(unread) => return (unread, section),
    };
    section.assignment_required = Some(principal.app_role_assignment_required);
    section.account_enabled = Some(principal.account_enabled);
    section.display_name = Some(principal.display_name.clone());

    let evidence = vec![
        format!(
            "enterprise application \"{}\" (object id {})",
            principal.display_name, principal.id
        ),
        format!(
            "accountEnabled = {}, appRoleAssignmentRequired = {}",
            principal.account_enabled, principal.app_role_assignment_required
        ),
    ];
    let open_properties = format!(
        "Open Microsoft Entra admin center > Enterprise applications > \"{}\" > Properties.",
        principal.display_name
    );

    let mut result = match (
        principal.account_enabled,
        principal.app_role_assignment_required,
    ) {
        (true, false) => check(
            CheckId::ServicePrincipal,
            Severity::Ok,
            "the service principal is enabled and does not require assignment",
        ),
        (false, _) => {
            let mut disabled = check(
                CheckId::ServicePrincipal,
                Severity::Critical,
                "the service principal is disabled: the app cannot sign in",
            );
            disabled.cause = Some(
                "The enterprise application is disabled for sign-in in this tenant, so no \
                 token can be issued for it."
                    .to_owned(),
            );
            disabled.fix = vec![
                open_properties.clone(),
                "Set \"Enabled for users to sign-in?\" to Yes and save.".to_owned(),
            ];
            if principal.app_role_assignment_required {
                disabled
                    .fix
                    .push("While there, set \"Assignment required?\" to No.".to_owned());
            }
            disabled
        }
        (true, true) => {
            // A warning, not critical: with the Change Tracking app holding a role this is a
            // valid set-up (§4.1), and whether it does is not readable here. The receiver sees
            // the consequence itself (null validationTokens) and reports that as critical.
            let mut assigned = check(
                CheckId::ServicePrincipal,
                Severity::Warning,
                "assignment required: unless the Change Tracking app holds a role, Graph cannot \
                 sign rich notifications for this app",
            );
            assigned.cause = Some(format!(
                "With \"Assignment required?\" on, Graph cannot mint validation tokens for the \
                 app unless the Microsoft Graph Change Tracking app ({CHANGE_TRACKING_APP_ID}) \
                 holds an app role. Without one, notifications arrive with null \
                 validationTokens, cannot be trusted, and the dashboard stays empty."
            ));
            assigned.fix = vec![
                open_properties,
                "Set \"Assignment required?\" to No and save (Microsoft's recommendation)."
                    .to_owned(),
                format!(
                    "Or, if assignment must stay required, assign the Microsoft Graph Change \
                     Tracking service principal (appId {CHANGE_TRACKING_APP_ID}) an app role of \
                     this application."
                ),
                "Then recreate the Graph subscription: the setting must be in place before a \
                 subscription with resource data is created."
                    .to_owned(),
            ];
            assigned
        }
    };
    result.evidence = evidence;
    (result, section)
}
