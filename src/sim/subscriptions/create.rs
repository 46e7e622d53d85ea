//! `POST /subscriptions` (graph-facts §2, §3.1–3.3): checks the body, licences, duplicates and
//! quotas, runs the validation handshake against each endpoint, then stores the subscription
//! and answers `201 Created`. The registry lock is held only for checks and the insert, never
//! across a handshake; duplicates and quotas are checked again after it.
//!
//! Depends on the subscription rule modules, the handshake, the registry and the state.

use std::sync::Arc;

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rand::Rng as _;
use serde_json::Value;

use super::certificate::parse_encryption_certificate;
use super::properties::check_create_properties;
use super::resource::{ParsedResource, Scope, parse_resource};
use super::validate::{
    ChangeTypes, Operation, check_certificate_id, check_client_state, check_endpoint_url,
    parse_change_types, settle_expiry, tls_version,
};
use super::{REQUIRED_ROLES, Refusal, entity, owned_by};
use crate::graph::model::well_known::{COPILOT_CHAT_PLAN_ID, COPILOT_SERVICE_PLANS};
use crate::graph::model::{Subscription, SubscriptionCreate};
use crate::sim::auth::Caller;
use crate::sim::handshake::validate_endpoint;
use crate::sim::http_error::{GraphFailure, GraphJson, RequestMeta};
use crate::sim::registry::{Registry, SubscriptionRecord};
use crate::sim::server::BaseUrl;
use crate::sim::state::SimState;

/// Tenant-wide Copilot subscriptions per app and tenant (graph-facts §2, §8).
const TENANT_WIDE_PER_APP: usize = 1;

/// Per-user Copilot subscriptions per app and user.
const PER_USER_PER_APP: usize = 1;

/// Per-user Copilot subscriptions per user, all apps together.
const PER_USER_TOTAL: usize = 10;

/// Copilot (Teams-family) subscriptions per organisation.
const PER_ORGANIZATION: usize = 10_000;

/// The fixture's message for a failed handshake (`graph-error-400-validation.json`).
pub const VALIDATION_FAILED: &str = "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.";

/// `POST /subscriptions`.
pub(super) async fn create(
    State(state): State<Arc<SimState>>,
    caller: Caller,
    meta: RequestMeta,
    BaseUrl(base): BaseUrl,
    OriginalUri(uri): OriginalUri,
    body: Result<GraphJson<Value>, GraphFailure>,
) -> Result<Response, GraphFailure> {
    caller.require_any(&meta, REQUIRED_ROLES)?;
    let GraphJson(body) = body?;
    let planned = plan(&state, &caller, body).map_err(|refusal| refusal.into_failure(&meta))?;
    check_room(
        &state.registry(),
        &caller,
        &planned.resource_rule,
        state.now(),
    )
    .map_err(|refusal| refusal.into_failure(&meta))?;

    let subscription = &planned.record.subscription;
    let mut endpoints = vec![subscription.notification_url.clone()];
    endpoints.extend(subscription.lifecycle_notification_url.clone());
    for endpoint in endpoints {
        // Two identical URLs get two validation requests, as in Graph (graph-facts §3.3).
        if let Err(error) = validate_endpoint(&state, &endpoint, None).await {
            tracing::info!(
                target: "pilotwatch::sim::subscriptions",
                %error,
                "subscription not created: endpoint validation failed"
            );
            return Err(meta.error(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                VALIDATION_FAILED,
            ));
        }
    }

    let now = state.now();
    let mut record = planned.record;
    record.created = now;
    let answer = {
        let mut registry = state.registry();
        check_room(&registry, &caller, &planned.resource_rule, now)
            .map_err(|refusal| refusal.into_failure(&meta))?;
        let answer = entity(&base, &uri, &record.subscription);
        registry.insert(record);
        answer
    };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// A checked request: the record to insert and what its duplicate and quota rules need.
#[derive(Debug)]
struct Planned {
    record: SubscriptionRecord,
    resource_rule: ResourceRule,
}

/// What the duplicate and quota rules compare.
#[derive(Debug, Clone)]
struct ResourceRule {
    resource: ParsedResource,
    change_types: ChangeTypes,
}

/// Every check that needs no registry: body, resource, URLs, expiry, certificate, licences.
fn plan(state: &SimState, caller: &Caller, body: Value) -> Result<Planned, Refusal> {
    let Value::Object(body) = body else {
        return Err(Refusal::invalid(
            "The request body must be a JSON object describing the subscription.",
        ));
    };
    check_create_properties(&body)?;
    let create: SubscriptionCreate = serde_json::from_value(Value::Object(body))
        .map_err(|error| Refusal::invalid(format!("Invalid request: {error}")))?;
    let resource = parse_resource(&create.resource)?;
    let change_types = parse_change_types(&create.change_type)?;
    check_endpoint_url("notificationUrl", &create.notification_url)?;
    if let Some(lifecycle_url) = &create.lifecycle_notification_url {
        check_endpoint_url("lifecycleNotificationUrl", lifecycle_url)?;
    }
    check_client_state(create.client_state.as_deref())?;
    let tls = tls_version(create.latest_supported_tls_version.as_deref())?;
    let now = state.now();
    let expiry = settle_expiry(
        create.expiration_date_time,
        now,
        create.lifecycle_notification_url.is_some(),
        Operation::Create,
    )?;
    let include_resource_data = create.include_resource_data.unwrap_or(false);
    let certificate = if include_resource_data {
        let Some(encoded) = create.encryption_certificate.as_deref() else {
            return Err(Refusal::invalid(
                "encryptionCertificate is required when includeResourceData is true.",
            ));
        };
        let id = check_certificate_id(create.encryption_certificate_id.as_deref())?;
        Some(parse_encryption_certificate(&id, encoded)?)
    } else {
        None
    };
    check_licences(state, &resource)?;

    let id = uuid::Builder::from_random_bytes(state.rng().random())
        .into_uuid()
        .hyphenated()
        .to_string();
    let user_id = match &resource.scope {
        Scope::TenantWide => None,
        Scope::User(user) => Some(user.clone()),
    };
    let subscription = Subscription {
        odata_context: None,
        id,
        resource: create.resource.clone(),
        application_id: Some(caller.app_id.clone()),
        change_type: create.change_type.clone(),
        client_state: create.client_state,
        notification_url: create.notification_url,
        notification_query_options: None,
        lifecycle_notification_url: create.lifecycle_notification_url,
        expiration_date_time: expiry,
        creator_id: Some(caller.object_id.clone()),
        include_resource_data: Some(include_resource_data),
        latest_supported_tls_version: Some(tls),
        encryption_certificate: create.encryption_certificate,
        encryption_certificate_id: create.encryption_certificate_id,
        notification_url_app_id: create.notification_url_app_id,
        notification_content_type: Some("application/json".to_owned()),
    };
    let record = SubscriptionRecord {
        subscription,
        tenant_id: caller.tenant_id.clone(),
        app_id: caller.app_id.clone(),
        certificate,
        app_class_filter: resource.filter.app_classes.clone(),
        conversation_type_filter: resource.filter.conversation_types.clone(),
        user_id,
        created: now,
        last_renewed: None,
        last_reauthorized: None,
        last_reauthorization_sent: None,
        last_reauthorize_call: None,
        reauthorize_patch_pairs: 0,
    };
    Ok(Planned {
        record,
        resource_rule: ResourceRule {
            resource,
            change_types,
        },
    })
}

/// Tenant-wide needs all six Copilot plans provisioned; per-user needs an existing user with
/// the Copilot Chat plan (graph-facts §1.2, §2).
fn check_licences(state: &SimState, resource: &ParsedResource) -> Result<(), Refusal> {
    match &resource.scope {
        Scope::TenantWide => {
            if state.scenario().directory.copilot_licences {
                return Ok(());
            }
            let missing: Vec<String> = COPILOT_SERVICE_PLANS
                .iter()
                .map(|(id, name)| format!("{name} ({id})"))
                .collect();
            Err(Refusal::forbidden(format!(
                "A tenant-wide subscription to Copilot interactions needs every Microsoft 365 Copilot service plan provisioned and active in the tenant. Missing: {}.",
                missing.join(", ")
            )))
        }
        Scope::User(user) => {
            if state.tenant.user(user).is_none() {
                // Graph's answer for an unknown user on this resource is not documented
                // (graph-facts §10.1): 404, as for any missing directory object.
                let shown: String = user.chars().take(64).collect();
                return Err(Refusal {
                    status: StatusCode::NOT_FOUND,
                    code: "ResourceNotFound",
                    message: format!("User '{shown}' was not found in the tenant."),
                });
            }
            if state.is_licensed(user) {
                Ok(())
            } else {
                Err(Refusal::forbidden(format!(
                    "User '{user}' does not have the Microsoft 365 Copilot Chat service plan ({COPILOT_CHAT_PLAN_ID}) enabled; a per-user subscription to Copilot interactions needs it."
                )))
            }
        }
    }
}

/// Duplicates (409) and quotas (403) against the live subscriptions at `now`.
fn check_room(
    registry: &Registry,
    caller: &Caller,
    rule: &ResourceRule,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let live: Vec<(&SubscriptionRecord, ParsedResource)> = registry
        .live(now)
        .filter_map(|record| {
            parse_resource(&record.subscription.resource)
                .ok()
                .map(|parsed| (record, parsed))
        })
        .collect();
    let mine = || live.iter().filter(|(record, _)| owned_by(record, caller));
    if let Some((existing, _)) = mine().find(|(record, parsed)| {
        parsed.key == rule.resource.key
            && parse_change_types(&record.subscription.change_type)
                .is_ok_and(|kinds| kinds == rule.change_types)
    }) {
        return Err(Refusal::extension(
            StatusCode::CONFLICT,
            format!(
                "Subscription Id {} already exists for the requested combination",
                existing.subscription.id
            ),
        ));
    }
    // Quota messages name the limit (graph-facts §2); their exact wording is UNVERIFIED.
    let quota = |limit: &str| {
        Refusal::extension(
            StatusCode::FORBIDDEN,
            format!(
                "Subscription quota exceeded: {limit}. Delete an existing subscription or reuse it."
            ),
        )
    };
    match &rule.resource.scope {
        Scope::TenantWide => {
            let count = mine()
                .filter(|(_, parsed)| parsed.scope == Scope::TenantWide)
                .count();
            if count >= TENANT_WIDE_PER_APP {
                return Err(quota(&format!(
                    "at most {TENANT_WIDE_PER_APP} tenant-wide subscription to /copilot/interactionHistory/getAllEnterpriseInteractions per application and tenant"
                )));
            }
        }
        Scope::User(user) => {
            let for_user = |parsed: &ParsedResource| parsed.scope == Scope::User(user.clone());
            if mine().filter(|(_, parsed)| for_user(parsed)).count() >= PER_USER_PER_APP {
                return Err(quota(&format!(
                    "at most {PER_USER_PER_APP} subscription per application and user to /copilot/users/{{id}}/interactionHistory/getAllEnterpriseInteractions"
                )));
            }
            if live.iter().filter(|(_, parsed)| for_user(parsed)).count() >= PER_USER_TOTAL {
                return Err(quota(&format!(
                    "at most {PER_USER_TOTAL} Copilot interaction subscriptions per user"
                )));
            }
        }
    }
    if live.len() >= PER_ORGANIZATION {
        return Err(quota(&format!(
            "at most {PER_ORGANIZATION} subscriptions per organization"
        )));
    }
    Ok(())
}
