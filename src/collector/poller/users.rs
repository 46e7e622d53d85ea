//! Who the poller reads: the tenant's users whose `assignedPlans` hold the Microsoft 365
//! Copilot Chat plan with `capabilityStatus = Enabled` (graph-facts §1.2, §7) — the export API
//! answers only for them.
//!
//! One paged `GET /users?$select=id,assignedPlans` through the shared Graph client. Depends on
//! the Graph client and the model only.

use crate::graph::http::{GraphClient, RequestError};
use crate::graph::model::User;
use crate::graph::model::well_known::COPILOT_CHAT_PLAN_ID;

/// Users per page (Graph's maximum for `/users`).
const USERS_PER_PAGE: u32 = 999;

/// Pages read at most: 999 × 200 users is far beyond any tenant pilotwatch watches.
const MAX_USER_PAGES: usize = 200;

/// Ids of the licensed users, in directory order.
pub async fn licensed_users(graph: &GraphClient) -> Result<Vec<String>, RequestError> {
    let path = format!("/users?$select=id,assignedPlans&$top={USERS_PER_PAGE}");
    let users = graph.get_all::<User>(&path, MAX_USER_PAGES).await?;
    Ok(users
        .items
        .into_iter()
        .filter(has_copilot)
        .map(|user| user.id)
        .collect())
}

/// True when the Copilot Chat plan is assigned and enabled.
pub fn has_copilot(user: &User) -> bool {
    user.assigned_plans.iter().flatten().any(|plan| {
        plan.service_plan_id
            .eq_ignore_ascii_case(COPILOT_CHAT_PLAN_ID)
            && plan.capability_status.eq_ignore_ascii_case("Enabled")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::model::AssignedPlan;

    fn user(plans: &[(&str, &str)]) -> User {
        User {
            odata_context: None,
            id: "u".into(),
            display_name: None,
            user_principal_name: None,
            assigned_plans: Some(
                plans
                    .iter()
                    .map(|(id, status)| AssignedPlan {
                        assigned_date_time: None,
                        capability_status: (*status).to_owned(),
                        service: None,
                        service_plan_id: (*id).to_owned(),
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn only_an_enabled_copilot_chat_plan_counts() {
        assert!(has_copilot(&user(&[(COPILOT_CHAT_PLAN_ID, "Enabled")])));
        assert!(has_copilot(&user(&[
            ("other", "Enabled"),
            (&COPILOT_CHAT_PLAN_ID.to_uppercase(), "enabled"),
        ])));
        assert!(!has_copilot(&user(&[(COPILOT_CHAT_PLAN_ID, "Suspended")])));
        assert!(!has_copilot(&user(&[("other", "Enabled")])));
        let mut unselected = user(&[]);
        unselected.assigned_plans = None;
        assert!(!has_copilot(&unselected));
    }
}
