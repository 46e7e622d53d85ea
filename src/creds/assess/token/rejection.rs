//! What an OAuth rejection at the token endpoint means, by AADSTS group (graph-facts §6.1,
//! §6.3): the check's summary, its evidence, the cause in plain words and the numbered fix,
//! naming the profile, the app and the portal blade to open. Branches on the code's group,
//! never on the description text, which is only quoted.
//!
//! Depends on the facts, the report types and `graph::auth`'s AADSTS groups; pure.

use crate::creds::facts::CredentialFacts;
use crate::creds::report::{Check, CheckId};
use crate::graph::auth::AadstsKind;
use crate::graph::model::well_known::GRAPH_DEFAULT_SCOPE;
use crate::severity::Severity;

use super::super::{app_registration, check, new_secret_steps};

/// The cause and fix for an OAuth rejection, by AADSTS group.
pub(super) fn assess(
    facts: &CredentialFacts,
    kind: AadstsKind,
    code: Option<u64>,
    error: &str,
    status: u16,
) -> Check {
    let code_text = code.map_or_else(|| "no AADSTS code".to_owned(), |c| format!("AADSTS{c}"));
    let refused = |what: &str| {
        check(
            CheckId::Token,
            Severity::Critical,
            format!("token refused: {what} ({code_text})"),
        )
    };
    let profile = &facts.profile;
    let tenant = &facts.tenant;
    let client_id = &facts.client_id;
    let secret_shape = facts.secret.loaded.as_ref().ok();

    match kind {
        AadstsKind::UnknownTenant => {
            let mut c = refused("unknown tenant");
            c.cause = Some(format!(
                "Tenant `{tenant}` does not exist at {}: the tenant id or domain is mistyped, or \
                 the tenant lives in another cloud (public vs US Government).",
                facts.authority
            ));
            c.fix = vec![
                format!(
                    "Open {} > Overview and copy the Directory (tenant) ID.",
                    app_registration(client_id)
                ),
                format!("Set `tenant` in profile {profile} to it."),
                format!(
                    "If the tenant is in US Government, set `cloud = \"usgov-l4\"` (GCC High) or \
                     `\"usgov-l5\"` (DoD) in profile {profile}; otherwise `cloud = \"public\"`."
                ),
            ];
            c
        }
        AadstsKind::MalformedTenant => {
            let mut c = refused("malformed tenant");
            c.cause = Some(format!(
                "Tenant `{tenant}` is neither a GUID nor a valid domain name."
            ));
            c.fix = vec![
                format!(
                    "Open {} > Overview and copy the Directory (tenant) ID (a GUID).",
                    app_registration(client_id)
                ),
                format!("Set `tenant` in profile {profile} to it."),
            ];
            c
        }
        AadstsKind::UnknownClient => {
            let mut c = refused("unknown client id");
            if uuid::Uuid::try_parse(client_id).is_err() {
                c.evidence
                    .push(format!("client id `{client_id}` is not shaped like a GUID"));
            }
            c.cause = Some(format!(
                "No application with client id {client_id} exists in tenant `{tenant}`: a typo, \
                 an app registered in another tenant, or the app's \"Object ID\" pasted instead \
                 of its \"Application (client) ID\"."
            ));
            c.fix = vec![
                "Open Microsoft Entra admin center > App registrations > the app > Overview."
                    .to_owned(),
                "Copy the \"Application (client) ID\" (not the Object ID) and check that the \
                 Directory (tenant) ID on the same page is the profile's tenant."
                    .to_owned(),
                format!("Set `client_id` (and `tenant` if it differs) in profile {profile}."),
            ];
            c
        }
        AadstsKind::InvalidSecret => {
            let mut c = refused("wrong client secret");
            if secret_shape.is_some_and(|shape| shape.looks_like_secret_id) {
                c.cause = Some(
                    "The configured secret is shaped like a GUID: it is almost certainly the \
                     \"Secret ID\" pasted instead of the \"Value\". Only the Value signs in, and \
                     the portal shows it only once, when the secret is created."
                        .to_owned(),
                );
            } else {
                let hint = secret_shape
                    .map(|shape| shape.hint.as_str())
                    .filter(|hint| !hint.is_empty());
                c.cause = Some(format!(
                    "The secret matches none of app {client_id}'s current secrets: mistyped or \
                     cut short, copied from another app, or deleted.{}",
                    hint.map(|h| format!(
                        " The portal lists each secret's first three characters: look for `{h}`."
                    ))
                    .unwrap_or_default()
                ));
            }
            c.fix = new_secret_steps(facts);
            c
        }
        AadstsKind::ExpiredSecret => {
            let mut c = refused("the client secret has expired");
            c.cause = Some(format!(
                "The secret configured for app {client_id} has passed its expiry date; the \
                 identity platform refuses expired secrets."
            ));
            c.fix = new_secret_steps(facts);
            c.fix.push(format!(
                "Delete the expired secret in the portal. If the app cannot read its own \
                 registration (Application.Read.All), set `secret_expires` in profile {profile} \
                 to the new secret's expiry date so pilotwatch warns before it ends."
            ));
            c
        }
        AadstsKind::MissingSecret => {
            let mut c = refused("no client secret arrived");
            c.cause = Some(
                "The request reached the identity platform without a client secret. pilotwatch \
                 always sends one, so something in between (a proxy rewriting request bodies) \
                 removed it, or the authority is not the identity platform itself."
                    .to_owned(),
            );
            c.fix = vec![
                format!(
                    "Check any proxy between this host and {} passes POST bodies unchanged.",
                    facts.authority
                ),
                format!("Run `pilotwatch creds test {profile}` again."),
            ];
            c
        }
        AadstsKind::BadScope => {
            let mut c = refused("invalid scope");
            c.cause = Some(format!(
                "The identity platform at {} refused the scope {GRAPH_DEFAULT_SCOPE}: the \
                 authority and the Graph root {} probably belong to different clouds.",
                facts.authority, facts.graph_root
            ));
            c.fix = vec![format!(
                "Set `cloud` in profile {profile} to the cloud the tenant lives in (\"public\", \
                 \"usgov-l4\" or \"usgov-l5\"), or make a custom authority and Graph root match."
            )];
            c
        }
        AadstsKind::AppDisabled => {
            let mut c = refused("the application is disabled");
            c.cause = Some(format!(
                "App {client_id} is disabled in tenant `{tenant}`, so it cannot sign in."
            ));
            c.fix = vec![
                "Open Microsoft Entra admin center > Enterprise applications > the app > \
                 Properties."
                    .to_owned(),
                "Set \"Enabled for users to sign-in?\" to Yes and save.".to_owned(),
            ];
            c
        }
        AadstsKind::Other(n) => {
            let mut c = check(
                CheckId::Token,
                Severity::Critical,
                format!("token refused: {error} (HTTP {status}, AADSTS{n})"),
            );
            c.cause = Some(format!(
                "The identity platform refused with AADSTS{n}, which pilotwatch has no specific \
                 advice for; its own words are in the evidence."
            ));
            c.fix = vec![
                format!(
                    "Read Microsoft's explanation: https://login.microsoftonline.com/error?code={n}"
                ),
                "If that does not help, open a support case quoting the trace and correlation \
                 ids in the evidence."
                    .to_owned(),
            ];
            c
        }
        AadstsKind::NoCode => {
            let mut c = check(
                CheckId::Token,
                Severity::Critical,
                format!("token refused: {error} (HTTP {status}, no AADSTS code)"),
            );
            c.cause = Some(format!(
                "{} answered with an OAuth error but no AADSTS code: it may not be the \
                 Microsoft identity platform.",
                facts.authority
            ));
            c.fix = vec![format!(
                "Check the `cloud` setting of profile {profile} (it decides the authority URL)."
            )];
            c
        }
    }
}
