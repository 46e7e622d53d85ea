//! Licences: `GET /subscribedSkus` (the tenant's SKUs and their service plans) and
//! `GET /users`, `/users/{id}` with `assignedPlans` (graph-facts §7).
//!
//! When the scenario has Copilot licences, the tenant owns a `Microsoft_365_Copilot` SKU with
//! the six documented Copilot plans provisioned, and licensed users hold its plans (the Chat
//! plan `3f30311c-…` Enabled). Every tenant also owns Office 365 E3 (`ENTERPRISEPACK`) for
//! everyone. Plan names other than `M365_COPILOT_BUSINESS_CHAT`, the E3 ids and the
//! `service` strings are placeholders/UNVERIFIED, as `graph-fixtures/README.md` warns: match on
//! ids.
//!
//! Depends on the directory helpers, the simulator's state and `graph::model`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{OriginalUri, Path, State};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::{Map, Value, json};

use super::{
    ORGANIZATION_READERS, USER_READERS, bad_request, context, entity, narrow, not_found,
    require_any, version_of,
};
use crate::graph::model::well_known::{COPILOT_CHAT_PLAN_ID, COPILOT_SERVICE_PLANS};
use crate::graph::model::{AssignedPlan, PrepaidUnits, ServicePlanInfo, SubscribedSku};
use crate::sim::auth::Caller;
use crate::sim::http_error::{GraphFailure, RequestMeta};
use crate::sim::odata::QueryOptions;
use crate::sim::server::BaseUrl;
use crate::sim::state::SimState;
use crate::sim::tenant::SimUser;

/// The Microsoft 365 Copilot SKU (UNVERIFIED id, graph-facts §1.2).
const COPILOT_SKU_ID: &str = "639dec6b-bb19-468b-871c-c5c441c4b0cb";

/// Office 365 E3 (UNVERIFIED id).
const E3_SKU_ID: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";

/// `servicePlanName` of each Copilot plan, by plan id, as in `subscribed-skus.json`.
const COPILOT_PLAN_NAMES: [(&str, &str); 6] = [
    (
        "82d30987-df9b-4486-b146-198b21d164c7",
        "GRAPH_CONNECTORS_COPILOT",
    ),
    (
        "931e4a88-a67f-48b5-814f-16a5f1e6028d",
        "M365_COPILOT_INTELLIGENT_SEARCH",
    ),
    ("b95945de-b3bd-46db-8437-f2beb6ea2347", "M365_COPILOT_TEAMS"),
    ("a62f8878-de10-42f3-b68f-6149a25ceb97", "M365_COPILOT_APPS"),
    (COPILOT_CHAT_PLAN_ID, "M365_COPILOT_BUSINESS_CHAT"),
    (
        "89f1c4c8-0878-40f7-804d-869c9128ab5d",
        "M365_COPILOT_CONNECTORS",
    ),
];

/// E3's plans every user holds: (plan id, plan name, `service`).
const E3_PLANS: [(&str, &str, &str); 3] = [
    (
        "efb87545-963c-4e0d-99df-69c6916d9eb0",
        "EXCHANGE_S_ENTERPRISE",
        "exchange",
    ),
    (
        "5dbe027f-2339-4123-9542-606e4d348a72",
        "SHAREPOINTENTERPRISE",
        "SharePoint",
    ),
    (
        "57ff2da0-773e-42df-b2af-ffb7a2317929",
        "TEAMS1",
        "TeamspaceAPI",
    ),
];

/// Seats bought of each SKU.
const COPILOT_SEATS: u64 = 10;
const E3_SEATS: u64 = 25;

/// Selectable user properties, in answer order.
const USER_PROPERTIES: [&str; 15] = [
    "id",
    "displayName",
    "userPrincipalName",
    "givenName",
    "surname",
    "mail",
    "jobTitle",
    "officeLocation",
    "mobilePhone",
    "businessPhones",
    "preferredLanguage",
    "accountEnabled",
    "usageLocation",
    "assignedLicenses",
    "assignedPlans",
];

/// What Graph returns for a user without `$select`.
const USER_DEFAULT_PROPERTIES: [&str; 11] = [
    "id",
    "displayName",
    "userPrincipalName",
    "givenName",
    "surname",
    "mail",
    "jobTitle",
    "officeLocation",
    "mobilePhone",
    "businessPhones",
    "preferredLanguage",
];

const JOB_TITLES: [&str; 4] = [
    "Operations Engineer",
    "Product Manager",
    "Finance Analyst",
    "Sales Lead",
];

/// `/users` page size when no `$top` is given, and the largest accepted (Graph: 100 and 999).
const USERS_DEFAULT_TOP: usize = 100;
const USERS_MAX_TOP: usize = 999;

/// `GET /subscribedSkus`.
pub(super) async fn subscribed_skus(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<Value>, GraphFailure> {
    require_any(&caller, &meta, &ORGANIZATION_READERS)?;
    QueryOptions::parse(uri.query(), &[]).map_err(|e| bad_request(&meta, e.0))?;
    let licensed = licensed_count(&state);
    let plan = |(id, name): (&str, &str)| ServicePlanInfo {
        service_plan_id: id.to_owned(),
        service_plan_name: Some(name.to_owned()),
        provisioning_status: "Success".to_owned(),
        applies_to: Some("User".to_owned()),
    };
    let sku = |id: &str, part: &str, consumed: u64, seats: u64, plans: Vec<ServicePlanInfo>| {
        SubscribedSku {
            sku_id: id.to_owned(),
            sku_part_number: part.to_owned(),
            applies_to: Some("User".to_owned()),
            capability_status: Some("Enabled".to_owned()),
            consumed_units: Some(consumed),
            prepaid_units: Some(PrepaidUnits {
                enabled: seats,
                suspended: 0,
                warning: 0,
            }),
            service_plans: plans,
        }
    };
    let mut skus = Vec::new();
    if state.scenario().directory.copilot_licences {
        let plans = COPILOT_SERVICE_PLANS
            .iter()
            .map(|(id, _)| plan((id, copilot_plan_name(id))))
            .collect();
        skus.push(sku(
            COPILOT_SKU_ID,
            "Microsoft_365_Copilot",
            licensed,
            COPILOT_SEATS,
            plans,
        ));
    }
    let e3_plans = E3_PLANS
        .iter()
        .map(|(id, name, _)| plan((id, name)))
        .collect();
    let everyone = state.tenant.users.len() as u64;
    skus.push(sku(
        E3_SKU_ID,
        "ENTERPRISEPACK",
        everyone,
        E3_SEATS,
        e3_plans,
    ));
    Ok(Json(json!({
        "@odata.context": context(&base, version_of(&uri), "subscribedSkus", None),
        "value": skus,
    })))
}

/// `GET /users`, paged by `$top` and an opaque `$skiptoken`.
pub(super) async fn list_users(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<Value>, GraphFailure> {
    require_any(&caller, &meta, &USER_READERS)?;
    let options = QueryOptions::parse(uri.query(), &["select", "top", "skiptoken"])
        .map_err(|e| bad_request(&meta, e.0))?;
    let select = options
        .select(&USER_PROPERTIES, "user")
        .map_err(|e| bad_request(&meta, e.0))?;
    let top = options
        .top(USERS_DEFAULT_TOP, USERS_MAX_TOP)
        .map_err(|e| bad_request(&meta, e.0))?;
    let skip = match options.get("skiptoken") {
        Some(token) => decode_user_skip(token)
            .ok_or_else(|| bad_request(&meta, "The $skiptoken is malformed."))?,
        None => 0,
    };
    let users = &state.tenant.users;
    let value: Vec<Value> = users
        .iter()
        .skip(skip)
        .take(top)
        .map(|user| Value::Object(user_properties(&state, user, select.as_deref())))
        .collect();
    let version = version_of(&uri);
    let mut body = Map::new();
    body.insert(
        "@odata.context".to_owned(),
        json!(context(&base, version, "users", select.as_deref())),
    );
    if skip + top < users.len() {
        let mut link = format!("{base}{version}/users?$top={top}");
        if let Some(selected) = &select {
            link.push_str(&format!("&$select={}", selected.join(",")));
        }
        link.push_str(&format!("&$skiptoken={}", encode_user_skip(skip + top)));
        body.insert("@odata.nextLink".to_owned(), json!(link));
    }
    body.insert("value".to_owned(), Value::Array(value));
    Ok(Json(Value::Object(body)))
}

/// `GET /users/{id}` (object id or user principal name).
pub(super) async fn get_user(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    OriginalUri(uri): OriginalUri,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, GraphFailure> {
    require_any(&caller, &meta, &USER_READERS)?;
    let select = super::entity_select(&meta, &uri, &USER_PROPERTIES, "user")?;
    let Path(id) = id.map_err(|_| not_found(&meta, "?"))?;
    let user = state
        .tenant
        .users
        .iter()
        .find(|user| {
            user.id.eq_ignore_ascii_case(&id) || user.user_principal_name.eq_ignore_ascii_case(&id)
        })
        .ok_or_else(|| not_found(&meta, &id))?;
    let properties = user_properties(&state, user, select.as_deref());
    let context = format!(
        "{}/$entity",
        context(&base, version_of(&uri), "users", select.as_deref())
    );
    Ok(Json(entity(context, properties)))
}

fn user_properties(
    state: &SimState,
    user: &SimUser,
    select: Option<&[&'static str]>,
) -> Map<String, Value> {
    let (given, surname) = user
        .display_name
        .split_once(' ')
        .unwrap_or((user.display_name.as_str(), ""));
    let index = state
        .tenant
        .users
        .iter()
        .position(|other| other.id == user.id)
        .unwrap_or(0);
    let job = JOB_TITLES.get(index % JOB_TITLES.len()).copied();
    let copilot = state.is_licensed(&user.id);
    let mut licences = vec![json!({ "disabledPlans": [], "skuId": E3_SKU_ID })];
    if copilot {
        licences.push(json!({ "disabledPlans": [], "skuId": COPILOT_SKU_ID }));
    }
    let all = json!({
        "id": user.id,
        "displayName": user.display_name,
        "userPrincipalName": user.user_principal_name,
        "givenName": given,
        "surname": surname,
        "mail": user.user_principal_name,
        "jobTitle": job,
        "officeLocation": "Building 4",
        "mobilePhone": null,
        "businessPhones": [],
        "preferredLanguage": "en-US",
        "accountEnabled": true,
        "usageLocation": "US",
        "assignedLicenses": licences,
        "assignedPlans": assigned_plans(state, copilot),
    });
    let Value::Object(all) = all else {
        return Map::new();
    };
    narrow(all, select, &USER_DEFAULT_PROPERTIES)
}

/// E3's plans for everyone, plus the six Copilot plans for a licensed user.
fn assigned_plans(state: &SimState, copilot: bool) -> Vec<AssignedPlan> {
    let assigned = licences_assigned(state);
    let plan = |id: &str, service: &str| AssignedPlan {
        assigned_date_time: Some(assigned),
        capability_status: "Enabled".to_owned(),
        service: Some(service.to_owned()),
        service_plan_id: id.to_owned(),
    };
    let mut plans: Vec<AssignedPlan> = E3_PLANS
        .iter()
        .map(|(id, _, service)| plan(id, service))
        .collect();
    if copilot {
        for (id, _) in COPILOT_SERVICE_PLANS {
            // The Chat plan's service is as in `user-assigned-plans.json`; the others are
            // placeholders.
            let service = if id == COPILOT_CHAT_PLAN_ID {
                "MicrosoftCommunicationsOnline"
            } else {
                "M365Copilot"
            };
            plans.push(plan(id, service));
        }
    }
    plans
}

/// When licences were assigned: a stable moment well before the secret was created.
fn licences_assigned(state: &SimState) -> DateTime<Utc> {
    (state.tenant.app.secret_created - Duration::days(60)).trunc_subsecs(0)
}

fn copilot_plan_name(id: &str) -> &'static str {
    COPILOT_PLAN_NAMES
        .iter()
        .find(|(plan, _)| *plan == id)
        .map_or("M365_COPILOT", |(_, name)| name)
}

fn licensed_count(state: &SimState) -> u64 {
    state
        .tenant
        .users
        .iter()
        .filter(|user| state.is_licensed(&user.id))
        .count() as u64
}

fn encode_user_skip(skip: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("UserSkip={skip}"))
}

fn decode_user_skip(token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("UserSkip=")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copilot_plan_names_cover_every_documented_plan() {
        for (id, _) in COPILOT_SERVICE_PLANS {
            assert_ne!(copilot_plan_name(id), "M365_COPILOT", "{id}");
        }
        assert_eq!(
            copilot_plan_name(COPILOT_CHAT_PLAN_ID),
            "M365_COPILOT_BUSINESS_CHAT"
        );
    }

    #[test]
    fn user_skip_tokens_round_trip_and_refuse_garbage() {
        assert_eq!(decode_user_skip(&encode_user_skip(7)), Some(7));
        assert_eq!(decode_user_skip("garbage!"), None);
        assert_eq!(
            decode_user_skip(&URL_SAFE_NO_PAD.encode("UserSkip=x")),
            None
        );
    }
}
