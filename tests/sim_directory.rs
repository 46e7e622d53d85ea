//! The simulated directory reads (graph-facts §7) against their fixtures: service principal,
//! application, subscribedSkus, users with assignedPlans; permissions including the documented
//! self-read; and the scenarios that change what they say.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use common::TestSim;
use pilotwatch::graph::model::well_known::{COPILOT_CHAT_PLAN_ID, COPILOT_SERVICE_PLANS};
use pilotwatch::graph::model::{Application, Collection, ServicePrincipal, SubscribedSku, User};
use reqwest::StatusCode;
use serde_json::Value;

const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const EXCHANGE_PLAN_ID: &str = "efb87545-963c-4e0d-99df-69c6916d9eb0";
const SP_SELECT: &str = "id,appId,displayName,appRoleAssignmentRequired,accountEnabled";
const APP_SELECT: &str = "id,appId,displayName,passwordCredentials,keyCredentials";
const USER_SELECT: &str = "id,displayName,userPrincipalName,assignedPlans";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../shared/graph-fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

async fn get(sim: &TestSim, path: &str, token: &str) -> (StatusCode, Value) {
    let response = sim
        .http
        .get(sim.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let error_keys = keys(&body["error"]);
    assert_eq!(error_keys, keys(&fixture("graph-error-403.json")["error"]));
}

fn no_roles(sim: &TestSim) -> String {
    sim.token_with_roles(&[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_principal_matches_the_fixture_and_reads_itself_without_roles() {
    let sim = TestSim::start("healthy").await;
    let state = &sim.sim.state;
    let app = &state.tenant.app;
    let token = no_roles(&sim);
    let (status, body) = get(
        &sim,
        &format!(
            "/v1.0/servicePrincipals(appId='{}')?$select={SP_SELECT}",
            app.client_id
        ),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), keys(&fixture("service-principal.json")));
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/v1.0/$metadata#servicePrincipals({SP_SELECT})/$entity",
            sim.base
        )
    );
    let principal: ServicePrincipal = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(principal.id, app.service_principal_id);
    assert_eq!(principal.app_id, app.client_id);
    assert!(!principal.app_role_assignment_required);
    assert!(principal.account_enabled);

    // By object id, with the quotes percent-encoded, and narrowed further.
    let (status, by_id) = get(
        &sim,
        &format!(
            "/v1.0/servicePrincipals/{}?$select={SP_SELECT}",
            app.service_principal_id
        ),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id, body);
    let (status, narrow) = get(
        &sim,
        &format!(
            "/beta/servicePrincipals(appId=%27{}%27)?$select=appId",
            app.client_id
        ),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{narrow}");
    let expected: BTreeSet<String> = ["@odata.context", "id", "appId"].map(String::from).into();
    assert_eq!(keys(&narrow), expected);
    assert!(
        narrow["@odata.context"]
            .as_str()
            .unwrap()
            .contains("/beta/$metadata#servicePrincipals(appId)/$entity")
    );

    let (status, body) = get(
        &sim,
        &format!(
            "/v1.0/servicePrincipals(appId='{}')?$select=id,nonsense",
            app.client_id
        ),
        &token,
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");
    for malformed in [
        "/v1.0/servicePrincipals(appId=abc)",
        "/v1.0/servicePrincipals/not-a-guid",
    ] {
        let (status, body) = get(&sim, malformed, &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{malformed}: {body}");
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_apps_need_application_or_directory_read() {
    let sim = TestSim::start("healthy").await;
    let path = format!("/v1.0/servicePrincipals(appId='{GRAPH_APP_ID}')?$select={SP_SELECT}");
    let (status, body) = get(&sim, &path, &no_roles(&sim)).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
    );
    let (status, body) = get(&sim, &path, &sim.token_with_roles(&["User.Read.All"])).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
    );
    for role in ["Application.Read.All", "Directory.Read.All"] {
        let (status, body) = get(&sim, &path, &sim.token_with_roles(&[role])).await;
        assert_eq!(status, StatusCode::OK, "{role}: {body}");
        assert_eq!(body["displayName"], "Microsoft Graph");
        assert_eq!(body["appId"], GRAPH_APP_ID);
    }
    let unknown = "11111111-2222-3333-4444-555555555555";
    let missing = format!("/v1.0/servicePrincipals(appId='{unknown}')");
    let (status, body) = get(&sim, &missing, &sim.token()).await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
    );
    let (status, body) = get(&sim, &missing, &no_roles(&sim)).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
    );
    let (status, body) = get(
        &sim,
        &format!("/v1.0/applications(appId='{unknown}')"),
        &sim.token(),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
    );
    let (status, body) = get(
        &sim,
        &format!("/v1.0/applications(appId='{GRAPH_APP_ID}')"),
        &no_roles(&sim),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_lists_the_secret_like_the_fixture() {
    let sim = TestSim::start("healthy").await;
    let state = &sim.sim.state;
    let app = &state.tenant.app;
    let path = format!(
        "/v1.0/applications(appId='{}')?$select={APP_SELECT}",
        app.client_id
    );
    let (status, body) = get(&sim, &path, &no_roles(&sim)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expected = fixture("application.json");
    assert_eq!(keys(&body), keys(&expected));
    assert_eq!(
        keys(&body["passwordCredentials"][0]),
        keys(&expected["passwordCredentials"][0])
    );
    assert_eq!(body["keyCredentials"], Value::Array(Vec::new()));
    assert!(body["passwordCredentials"][0]["secretText"].is_null());
    assert!(body["passwordCredentials"][0]["customKeyIdentifier"].is_null());
    let application: Application = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(application.id, app.object_id);
    let secret = &application.password_credentials[0];
    assert_eq!(secret.key_id, app.secret_key_id);
    assert_eq!(secret.hint.as_deref(), Some(app.secret_hint().as_str()));
    assert_eq!(secret.display_name.as_deref(), Some("pilotwatch"));
    let tenant: Value = sim
        .http
        .get(sim.url("/_sim/tenant"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expires: DateTime<Utc> = serde_json::from_value(tenant["secret_expires"].clone()).unwrap();
    assert!((secret.end_date_time - expires).num_seconds().abs() <= 1);
    let started = secret.start_date_time.unwrap();
    assert!((started - app.secret_created).num_seconds().abs() <= 1);

    let (status, by_id) = get(
        &sim,
        &format!("/v1.0/applications/{}?$select={APP_SELECT}", app.object_id),
        &sim.token_with_roles(&["Application.Read.All"]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id, body);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_change_the_service_principal_and_the_secret() {
    let sim = TestSim::start("app-role-assignment-required").await;
    let client_id = sim.sim.state.tenant.app.client_id.clone();
    let path = format!("/v1.0/servicePrincipals(appId='{client_id}')?$select={SP_SELECT}");
    let (_, body) = get(&sim, &path, &sim.token()).await;
    assert_eq!(body["appRoleAssignmentRequired"], true);
    sim.stop().await;

    let sim = TestSim::start("secret-expiring").await;
    let app = &sim.sim.state.tenant.app;
    let path = format!(
        "/v1.0/applications(appId='{}')?$select={APP_SELECT}",
        app.client_id
    );
    let (_, body) = get(&sim, &path, &sim.token()).await;
    let application: Application = serde_json::from_value(body).unwrap();
    let expires = application.password_credentials[0].end_date_time;
    let in_a_week = sim.sim.state.now() + Duration::days(7);
    assert!((expires - in_a_week).num_seconds().abs() < 60, "{expires}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribed_skus_list_copilot_and_need_organization_read() {
    let sim = TestSim::start("healthy").await;
    let (status, body) = get(&sim, "/v1.0/subscribedSkus", &no_roles(&sim)).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
    );
    let (status, body) = get(
        &sim,
        "/v1.0/subscribedSkus",
        &sim.token_with_roles(&["Directory.Read.All"]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = get(
        &sim,
        "/v1.0/subscribedSkus",
        &sim.token_with_roles(&["Organization.Read.All"]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expected = fixture("subscribed-skus.json");
    assert_eq!(keys(&body), keys(&expected));
    assert_eq!(
        body["@odata.context"],
        format!("{}/v1.0/$metadata#subscribedSkus", sim.base)
    );
    let skus = body["value"].as_array().unwrap();
    let copilot = skus
        .iter()
        .find(|s| s["skuPartNumber"] == "Microsoft_365_Copilot")
        .unwrap();
    assert_eq!(keys(copilot), keys(&expected["value"][0]));
    assert_eq!(
        keys(&copilot["prepaidUnits"]),
        keys(&expected["value"][0]["prepaidUnits"])
    );
    assert_eq!(
        keys(&copilot["servicePlans"][0]),
        keys(&expected["value"][0]["servicePlans"][0])
    );
    assert_eq!(copilot["skuId"], "639dec6b-bb19-468b-871c-c5c441c4b0cb");
    assert_eq!(
        copilot["consumedUnits"], 6,
        "six of eight users hold Copilot"
    );
    let plans: BTreeSet<&str> = copilot["servicePlans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["provisioningStatus"], "Success");
            p["servicePlanId"].as_str().unwrap()
        })
        .collect();
    let documented: BTreeSet<&str> = COPILOT_SERVICE_PLANS.iter().map(|(id, _)| *id).collect();
    assert_eq!(plans, documented);
    assert!(skus.iter().any(|s| s["skuPartNumber"] == "ENTERPRISEPACK"));
    let parsed: Collection<SubscribedSku> = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(parsed.value.len(), 2);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_carry_assigned_plans_like_the_fixture() {
    let sim = TestSim::start("healthy").await;
    let state = &sim.sim.state;
    let licensed = state
        .tenant
        .users
        .iter()
        .find(|u| u.has_copilot_seat)
        .unwrap();
    let unlicensed = state
        .tenant
        .users
        .iter()
        .find(|u| !u.has_copilot_seat)
        .unwrap();
    let token = sim.token_with_roles(&["User.Read.All"]);
    let path = format!("/v1.0/users/{}?$select={USER_SELECT}", licensed.id);

    let (status, body) = get(&sim, &path, &no_roles(&sim)).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
    );
    let (status, body) = get(&sim, &path, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expected = fixture("user-assigned-plans.json");
    assert_eq!(keys(&body), keys(&expected));
    assert_eq!(
        keys(&body["assignedPlans"][0]),
        keys(&expected["assignedPlans"][0])
    );
    assert_eq!(
        body["@odata.context"],
        format!("{}/v1.0/$metadata#users({USER_SELECT})/$entity", sim.base)
    );
    let user: User = serde_json::from_value(body).unwrap();
    assert_eq!(
        user.display_name.as_deref(),
        Some(licensed.display_name.as_str())
    );
    let plans = user.assigned_plans.unwrap();
    let chat = plans
        .iter()
        .find(|p| p.service_plan_id == COPILOT_CHAT_PLAN_ID)
        .unwrap();
    assert_eq!(chat.capability_status, "Enabled");
    assert_eq!(
        chat.service.as_deref(),
        Some("MicrosoftCommunicationsOnline")
    );
    for (id, _) in COPILOT_SERVICE_PLANS {
        assert!(plans.iter().any(|p| p.service_plan_id == id), "{id}");
    }
    assert!(plans.iter().any(|p| p.service_plan_id == EXCHANGE_PLAN_ID));

    // By user principal name, and for someone without Copilot.
    let path = format!(
        "/v1.0/users/{}?$select={USER_SELECT}",
        unlicensed.user_principal_name
    );
    let (status, body) = get(&sim, &path, &sim.token_with_roles(&["Directory.Read.All"])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user: User = serde_json::from_value(body).unwrap();
    assert_eq!(user.id, unlicensed.id);
    let plans = user.assigned_plans.unwrap();
    assert!(plans.iter().any(|p| p.service_plan_id == EXCHANGE_PLAN_ID));
    assert!(plans.iter().all(|p| {
        COPILOT_SERVICE_PLANS
            .iter()
            .all(|(id, _)| *id != p.service_plan_id)
    }));

    let (status, body) = get(
        &sim,
        "/v1.0/users/11111111-2222-3333-4444-555555555555",
        &token,
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
    );
    let (status, body) = get(&sim, &format!("/v1.0/users/{}", licensed.id), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.get("assignedPlans").is_none(),
        "not a default property"
    );
    assert!(body.get("userPrincipalName").is_some());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_page_by_next_link() {
    let sim = TestSim::start("healthy").await;
    let token = sim.token();
    let mut url = sim.url("/v1.0/users?$top=3&$select=id,displayName");
    let mut seen = Vec::new();
    loop {
        let response = sim.http.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let page: Collection<User> = response.json().await.unwrap();
        assert!(page.value.len() <= 3);
        seen.extend(page.value.into_iter().map(|u| u.id));
        match page.next_link {
            Some(next) => url = next,
            None => break,
        }
    }
    let all: Vec<String> = sim
        .sim
        .state
        .tenant
        .users
        .iter()
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(seen, all);
    let (status, body) = get(&sim, "/v1.0/users?$skiptoken=bogus", &token).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlicensed_tenant_has_no_copilot_sku_plans_or_licensed_users() {
    let sim = TestSim::start("unlicensed").await;
    let token = sim.token();
    let (_, body) = get(&sim, "/v1.0/subscribedSkus", &token).await;
    let skus: Collection<SubscribedSku> = serde_json::from_value(body).unwrap();
    assert!(
        skus.value
            .iter()
            .all(|s| s.sku_part_number != "Microsoft_365_Copilot")
    );
    assert!(skus.value.iter().all(|s| {
        s.service_plans
            .iter()
            .all(|p| p.service_plan_id != COPILOT_CHAT_PLAN_ID)
    }));
    assert!(!skus.value.is_empty(), "ordinary licences remain");
    for user in &sim.sim.state.tenant.users {
        let (_, body) = get(
            &sim,
            &format!("/v1.0/users/{}?$select={USER_SELECT}", user.id),
            &token,
        )
        .await;
        let user: User = serde_json::from_value(body).unwrap();
        let plans = user.assigned_plans.unwrap();
        assert!(!plans.is_empty());
        assert!(plans.iter().all(|p| {
            COPILOT_SERVICE_PLANS
                .iter()
                .all(|(id, _)| *id != p.service_plan_id)
        }));
    }
    let tenant: Value = sim
        .http
        .get(sim.url("/_sim/tenant"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let users = tenant["users"].as_array().unwrap();
    assert_eq!(users.len(), 8);
    assert!(users.iter().all(|u| u["licensed"] == false));
    sim.stop().await;
}
