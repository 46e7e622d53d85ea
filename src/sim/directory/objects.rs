//! Service principals and application objects: `GET /servicePrincipals(appId='…')`,
//! `/servicePrincipals/{id}`, `/applications(appId='…')`, `/applications/{id}`, with `$select`.
//!
//! The tenant holds the app's own service principal plus those of two Microsoft apps every
//! tenant has (Microsoft Graph and Microsoft Graph Change Tracking), so "reading another app"
//! can be exercised; only the app's own application object lives in the tenant.
//!
//! Depends on the directory helpers, the simulator's state and `graph::model`.

use std::sync::Arc;

use aws_lc_rs::digest;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use chrono::{Duration, SubsecRound};
use serde_json::{Map, Value, json};

use super::{
    APPLICATION_READERS, context, entity, entity_select, narrow, not_found, require_any, version_of,
};
use crate::graph::model::well_known::CHANGE_TRACKING_APP_ID;
use crate::graph::model::{Application, PasswordCredential, ServicePrincipal};
use crate::sim::auth::Caller;
use crate::sim::http_error::{GraphFailure, RequestMeta};
use crate::sim::server::BaseUrl;
use crate::sim::state::SimState;
use crate::sim::tenant::is_guid;

/// Microsoft Graph's application id.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The tenant that owns Microsoft's first-party apps ("Microsoft Services"); UNVERIFIED.
const MICROSOFT_TENANT_ID: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

/// Selectable service principal properties, in answer order.
const SERVICE_PRINCIPAL_PROPERTIES: [&str; 9] = [
    "id",
    "appId",
    "displayName",
    "appDisplayName",
    "appOwnerOrganizationId",
    "appRoleAssignmentRequired",
    "accountEnabled",
    "servicePrincipalType",
    "signInAudience",
];

/// Selectable application properties, in answer order.
const APPLICATION_PROPERTIES: [&str; 7] = [
    "id",
    "appId",
    "displayName",
    "signInAudience",
    "createdDateTime",
    "passwordCredentials",
    "keyCredentials",
];

/// The description the app's client secret was created with.
const SECRET_DESCRIPTION: &str = "pilotwatch";

/// Which way a handler was addressed.
enum Address {
    AppId(String),
    ObjectId(String),
}

/// `GET /servicePrincipals(appId='{appId}')`.
pub(super) async fn service_principal_by_app_id(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    OriginalUri(uri): OriginalUri,
    key: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, GraphFailure> {
    let app_id = alternate_key(&meta, key)?;
    service_principal(&state, &meta, &caller, &base, &uri, Address::AppId(app_id))
}

/// `GET /servicePrincipals/{id}`.
pub(super) async fn service_principal_by_id(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    OriginalUri(uri): OriginalUri,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, GraphFailure> {
    let id = object_id(&meta, id)?;
    service_principal(&state, &meta, &caller, &base, &uri, Address::ObjectId(id))
}

/// `GET /applications(appId='{appId}')`.
pub(super) async fn application_by_app_id(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    OriginalUri(uri): OriginalUri,
    key: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, GraphFailure> {
    let app_id = alternate_key(&meta, key)?;
    application(&state, &meta, &caller, &base, &uri, Address::AppId(app_id))
}

/// `GET /applications/{id}`.
pub(super) async fn application_by_id(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    OriginalUri(uri): OriginalUri,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, GraphFailure> {
    let id = object_id(&meta, id)?;
    application(&state, &meta, &caller, &base, &uri, Address::ObjectId(id))
}

fn service_principal(
    state: &SimState,
    meta: &RequestMeta,
    caller: &Caller,
    base: &str,
    uri: &axum::http::Uri,
    address: Address,
) -> Result<Json<Value>, GraphFailure> {
    let select = entity_select(meta, uri, &SERVICE_PRINCIPAL_PROPERTIES, "servicePrincipal")?;
    let found = service_principals(state)
        .into_iter()
        .find(|sp| match &address {
            Address::AppId(app_id) => sp.0.app_id.eq_ignore_ascii_case(app_id),
            Address::ObjectId(id) => sp.0.id.eq_ignore_ascii_case(id),
        });
    let is_self = found
        .as_ref()
        .is_some_and(|sp| sp.0.app_id.eq_ignore_ascii_case(&caller.app_id));
    if !is_self {
        require_any(caller, meta, &APPLICATION_READERS)?;
    }
    let Some((principal, owner)) = found else {
        return Err(not_found(meta, address.text()));
    };
    let mut properties = to_map(&principal);
    properties.insert("appDisplayName".to_owned(), json!(principal.display_name));
    properties.insert("appOwnerOrganizationId".to_owned(), json!(owner));
    properties.insert("servicePrincipalType".to_owned(), json!("Application"));
    properties.insert(
        "signInAudience".to_owned(),
        json!(sign_in_audience(&owner, state)),
    );
    let properties = narrow(properties, select.as_deref(), &SERVICE_PRINCIPAL_PROPERTIES);
    let context = format!(
        "{}/$entity",
        context(
            base,
            version_of(uri),
            "servicePrincipals",
            select.as_deref()
        )
    );
    Ok(Json(entity(context, properties)))
}

fn application(
    state: &SimState,
    meta: &RequestMeta,
    caller: &Caller,
    base: &str,
    uri: &axum::http::Uri,
    address: Address,
) -> Result<Json<Value>, GraphFailure> {
    let select = entity_select(meta, uri, &APPLICATION_PROPERTIES, "application")?;
    let app = &state.tenant.app;
    let found = match &address {
        Address::AppId(app_id) => app.client_id.eq_ignore_ascii_case(app_id),
        Address::ObjectId(id) => app.object_id.eq_ignore_ascii_case(id),
    };
    if !(found && app.client_id.eq_ignore_ascii_case(&caller.app_id)) {
        require_any(caller, meta, &APPLICATION_READERS)?;
    }
    if !found {
        return Err(not_found(meta, address.text()));
    }
    let secret = PasswordCredential {
        custom_key_identifier: None,
        display_name: Some(SECRET_DESCRIPTION.to_owned()),
        end_date_time: state.secret_expires().trunc_subsecs(0),
        hint: Some(app.secret_hint()),
        key_id: app.secret_key_id.clone(),
        secret_text: None,
        start_date_time: Some(app.secret_created.trunc_subsecs(0)),
    };
    let application = Application {
        odata_context: None,
        id: app.object_id.clone(),
        app_id: app.client_id.clone(),
        display_name: app.display_name.clone(),
        password_credentials: vec![secret],
        key_credentials: Vec::new(),
    };
    let mut properties = to_map(&application);
    properties.insert("signInAudience".to_owned(), json!("AzureADMyOrg"));
    let created = (app.secret_created - Duration::days(30)).trunc_subsecs(0);
    properties.insert("createdDateTime".to_owned(), json!(created));
    let properties = narrow(properties, select.as_deref(), &APPLICATION_PROPERTIES);
    let context = format!(
        "{}/$entity",
        context(base, version_of(uri), "applications", select.as_deref())
    );
    Ok(Json(entity(context, properties)))
}

impl Address {
    fn text(&self) -> &str {
        match self {
            Self::AppId(id) | Self::ObjectId(id) => id,
        }
    }
}

/// The tenant's service principals with their owning tenant.
fn service_principals(state: &SimState) -> Vec<(ServicePrincipal, String)> {
    let scenario = state.scenario();
    let tenant = &state.tenant;
    let own = ServicePrincipal {
        odata_context: None,
        id: tenant.app.service_principal_id.clone(),
        app_id: tenant.app.client_id.clone(),
        display_name: tenant.app.display_name.clone(),
        app_role_assignment_required: scenario.directory.app_role_assignment_required,
        account_enabled: scenario.credentials.app_enabled,
    };
    let microsoft = |app_id: &str, name: &str| ServicePrincipal {
        odata_context: None,
        id: derived_object_id(&tenant.id, app_id),
        app_id: app_id.to_owned(),
        display_name: name.to_owned(),
        app_role_assignment_required: false,
        account_enabled: true,
    };
    vec![
        (own, tenant.id.clone()),
        (
            microsoft(GRAPH_APP_ID, "Microsoft Graph"),
            MICROSOFT_TENANT_ID.to_owned(),
        ),
        (
            microsoft(CHANGE_TRACKING_APP_ID, "Microsoft Graph Change Tracking"),
            MICROSOFT_TENANT_ID.to_owned(),
        ),
    ]
}

fn sign_in_audience(owner: &str, state: &SimState) -> &'static str {
    if owner == state.tenant.id {
        "AzureADMyOrg"
    } else {
        "AzureADMultipleOrg"
    }
}

/// A stable object id for a Microsoft app's service principal in this tenant.
fn derived_object_id(tenant_id: &str, app_id: &str) -> String {
    let hash = digest::digest(&digest::SHA256, format!("{tenant_id}/{app_id}").as_bytes());
    let mut bytes = [0u8; 16];
    for (slot, byte) in bytes.iter_mut().zip(hash.as_ref()) {
        *slot = *byte;
    }
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

fn to_map(value: &impl serde::Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The value of an `(appId='…')` key: the parameter arrives as `'…')`.
fn alternate_key(
    meta: &RequestMeta,
    key: Result<Path<String>, PathRejection>,
) -> Result<String, GraphFailure> {
    let invalid = || {
        meta.error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Bad Request - Error in query syntax: expected appId='<application id>'.",
        )
    };
    let Path(raw) = key.map_err(|_| invalid())?;
    let value = raw
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix("')"))
        .filter(|value| !value.contains('\''))
        .ok_or_else(invalid)?;
    Ok(value.to_owned())
}

/// An object id from the path: directory object ids are GUIDs.
fn object_id(
    meta: &RequestMeta,
    id: Result<Path<String>, PathRejection>,
) -> Result<String, GraphFailure> {
    let Path(id) = id.map_err(|_| {
        meta.error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "Invalid object identifier.",
        )
    })?;
    if !is_guid(&id) {
        return Err(meta.error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            format!("Invalid object identifier '{id}'."),
        ));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_guids_per_tenant() {
        let a = derived_object_id("t1", GRAPH_APP_ID);
        assert_eq!(a, derived_object_id("t1", GRAPH_APP_ID));
        assert_ne!(a, derived_object_id("t2", GRAPH_APP_ID));
        assert!(is_guid(&a));
    }
}
