//! The `tenant-licences` and `user-licences` checks. Tenant-wide: each of the six Copilot
//! service plans must be provisioned (`Success`) in some subscribed SKU, or the tenant-wide
//! subscription cannot be created (graph-facts §1.2, §2). Per user: the export returns data
//! only for users whose Microsoft 365 Copilot Chat plan is `Enabled` (graph-facts §7). Plans are
//! matched on their ids, never on names (only one name is verified).
//!
//! Depends on the facts, the report types and the well-known plan ids.

use std::ops::ControlFlow;

use crate::creds::facts::CredentialFacts;
use crate::creds::report::{Check, CheckId, LicencesSection, PlanStatus, SampledUser};
use crate::graph::model::well_known::{COPILOT_CHAT_PLAN_ID, COPILOT_SERVICE_PLANS};
use crate::graph::model::{SubscribedSku, User};
use crate::severity::Severity;

use super::{availability, check, read_or_check};

/// The provisioning status that means a plan is usable.
const PROVISIONED: &str = "Success";
/// The capability status that means a user's plan is usable.
const ENABLED: &str = "Enabled";
/// At most this many sampled users are listed in the evidence.
const USERS_LISTED: usize = 10;

/// Judges tenant and user licences.
pub(super) fn assess(facts: &CredentialFacts) -> (Check, Check, LicencesSection) {
    let mut section = LicencesSection {
        tenant: availability(&facts.subscribed_skus),
        plans: Vec::new(),
        users: availability(&facts.sampled_users),
        users_sampled: 0,
        users_licensed: 0,
        sampled: Vec::new(),
        copilot_seats_assigned: None,
    };
    let tenant = match read_or_check(
        CheckId::TenantLicences,
        "the tenant's subscribed SKUs",
        &facts.subscribed_skus,
    ) {
        ControlFlow::Continue(skus) => {
            section.plans = plan_statuses(skus);
            section.copilot_seats_assigned = Some(copilot_seats(skus));
            tenant_check(&section.plans)
        }
        ControlFlow::Break(unread) => unread,
    };
    let users = match read_or_check(CheckId::UserLicences, "users", &facts.sampled_users) {
        ControlFlow::Continue(users) => {
            section.sampled = users.iter().map(sampled_user).collect();
            section.users_sampled = section.sampled.len();
            section.users_licensed = section
                .sampled
                .iter()
                .filter(|user| user.copilot_status.as_deref() == Some(ENABLED))
                .count();
            users_check(&section)
        }
        ControlFlow::Break(unread) => unread,
    };
    (tenant, users, section)
}

/// Seats in use across the SKUs that include the Copilot Chat plan.
fn copilot_seats(skus: &[SubscribedSku]) -> u64 {
    skus.iter()
        .filter(|sku| {
            sku.service_plans.iter().any(|plan| {
                plan.service_plan_id
                    .eq_ignore_ascii_case(COPILOT_CHAT_PLAN_ID)
            })
        })
        .filter_map(|sku| sku.consumed_units)
        .sum()
}

/// Each Copilot plan's best status across all SKUs: `Success` if any SKU provisions it, else
/// the first status seen, else none.
fn plan_statuses(skus: &[SubscribedSku]) -> Vec<PlanStatus> {
    COPILOT_SERVICE_PLANS
        .iter()
        .map(|(plan_id, name)| {
            let mut seen = skus.iter().flat_map(|sku| {
                sku.service_plans
                    .iter()
                    .filter(|plan| plan.service_plan_id.eq_ignore_ascii_case(plan_id))
                    .map(move |plan| (plan.provisioning_status.as_str(), sku))
            });
            let first = seen.next();
            let best = first
                .into_iter()
                .chain(seen)
                .find(|(status, _)| *status == PROVISIONED)
                .or(first);
            PlanStatus {
                plan_id: (*plan_id).to_owned(),
                name: (*name).to_owned(),
                provisioning_status: best.map(|(status, _)| status.to_owned()),
                sku_part_number: best.map(|(_, sku)| sku.sku_part_number.clone()),
            }
        })
        .collect()
}

fn tenant_check(plans: &[PlanStatus]) -> Check {
    let evidence: Vec<String> = plans
        .iter()
        .map(
            |plan| match (&plan.provisioning_status, &plan.sku_part_number) {
                (Some(status), Some(sku)) => {
                    format!("{} ({}): {status} in {sku}", plan.name, plan.plan_id)
                }
                _ => format!("{} ({}): in no subscribed SKU", plan.name, plan.plan_id),
            },
        )
        .collect();
    let lacking: Vec<&PlanStatus> = plans
        .iter()
        .filter(|plan| plan.provisioning_status.as_deref() != Some(PROVISIONED))
        .collect();
    let mut result = if lacking.is_empty() {
        check(
            CheckId::TenantLicences,
            Severity::Ok,
            "all six Copilot service plans are provisioned in the tenant",
        )
    } else {
        let names: Vec<&str> = lacking.iter().map(|plan| plan.name.as_str()).collect();
        let mut unlicensed = check(
            CheckId::TenantLicences,
            Severity::Critical,
            format!(
                "{}: the tenant-wide subscription cannot be created",
                match lacking.len() {
                    n if n == plans.len() =>
                        "none of the six Copilot service plans is provisioned".to_owned(),
                    1 => "1 of the six Copilot service plans is not provisioned".to_owned(),
                    n => format!("{n} of the six Copilot service plans are not provisioned"),
                }
            ),
        );
        unlicensed.cause = Some(format!(
            "A tenant-wide subscription to Copilot interactions needs all six Copilot service \
             plans provisioned and active in the tenant; not provisioned: {}. Per-user \
             subscriptions still work for users holding the Microsoft 365 Copilot Chat plan.",
            names.join(", ")
        ));
        unlicensed.fix = vec![
            "In the Microsoft 365 admin center > Billing > Your products, check that a \
             Microsoft 365 Copilot subscription is active; buy or renew it if not."
                .to_owned(),
            "Plans shown as Pending… finish provisioning on their own: check again later. For \
             Disabled or Error, open a Microsoft support case."
                .to_owned(),
        ];
        unlicensed
    };
    result.evidence = evidence;
    result
}

fn sampled_user(user: &User) -> SampledUser {
    SampledUser {
        id: user.id.clone(),
        name: user
            .display_name
            .clone()
            .or_else(|| user.user_principal_name.clone()),
        copilot_status: user.assigned_plans.as_ref().and_then(|plans| {
            let mut chat = plans.iter().filter(|plan| {
                plan.service_plan_id
                    .eq_ignore_ascii_case(COPILOT_CHAT_PLAN_ID)
            });
            let first = chat.next();
            first
                .into_iter()
                .chain(chat)
                .find(|plan| plan.capability_status == ENABLED)
                .or(first)
                .map(|plan| plan.capability_status.clone())
        }),
    }
}

fn users_check(section: &LicencesSection) -> Check {
    let sampled = section.users_sampled;
    let licensed = section.users_licensed;
    let mut evidence = vec![format!(
        "{licensed} of {sampled} sampled users have the Microsoft 365 Copilot Chat plan \
         ({COPILOT_CHAT_PLAN_ID}) enabled"
    )];
    evidence.extend(section.sampled.iter().take(USERS_LISTED).map(|user| {
        format!(
            "{}: {}",
            user.name.as_deref().unwrap_or(&user.id),
            match user.copilot_status.as_deref() {
                Some(status) => format!("Copilot Chat plan {status}"),
                None => "no Copilot Chat plan".to_owned(),
            }
        )
    }));
    if sampled > USERS_LISTED {
        evidence.push(format!("… and {} more", sampled - USERS_LISTED));
    }

    let mut result = if sampled == 0 {
        check(
            CheckId::UserLicences,
            Severity::Unknown,
            "not checked: the directory returned no users to sample",
        )
    } else if licensed == 0
        && section
            .copilot_seats_assigned
            .is_some_and(|seats| seats > 0)
    {
        // The sample is the first users of the directory; in a pilot tenant they are often
        // admins and service accounts while the licensed users sit further down.
        let seats = section.copilot_seats_assigned.unwrap_or_default();
        check(
            CheckId::UserLicences,
            Severity::Ok,
            format!(
                "none of the {sampled} sampled users holds Microsoft 365 Copilot, but {seats} \
                 Copilot seats are assigned in the tenant"
            ),
        )
    } else if licensed == 0 && section.copilot_seats_assigned.is_none() {
        check(
            CheckId::UserLicences,
            Severity::Unknown,
            format!(
                "none of the {sampled} sampled users holds Microsoft 365 Copilot; whether anyone \
                 does is unknown without the tenant's licences (grant Organization.Read.All)"
            ),
        )
    } else if licensed == 0 {
        let mut none = check(
            CheckId::UserLicences,
            Severity::Warning,
            "no user holds Microsoft 365 Copilot (0 seats assigned): the export has nothing to return",
        );
        none.cause = Some(
            "The export API returns interactions only for users whose Microsoft 365 Copilot Chat \
             plan is enabled."
                .to_owned(),
        );
        none.fix = vec![
            "In the Microsoft 365 admin center > Users > Active users, assign a Microsoft 365 \
             Copilot licence to the users whose interactions should be exported."
                .to_owned(),
            "Check that its Microsoft 365 Copilot Chat service plan is switched on in the \
             licence's apps list."
                .to_owned(),
        ];
        none
    } else {
        check(
            CheckId::UserLicences,
            Severity::Ok,
            format!("{licensed} of {sampled} sampled users hold Microsoft 365 Copilot"),
        )
    };
    result.evidence = evidence;
    result
}
