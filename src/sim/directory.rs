//! Directory reads pilotwatch uses for diagnosis (graph-facts §7): the app's service principal
//! (`appRoleAssignmentRequired`, `accountEnabled`), its application object (client secret
//! expiry), the tenant's licences (`subscribedSkus`) and users with their `assignedPlans`.
//!
//! Permissions follow §7: a service principal reads its **own** service principal and
//! application objects without any role; anything else needs `Application.Read.All` (or
//! `Directory.Read.All`, or a ReadWrite variant) for apps, `Organization.Read.All` or
//! `Directory.Read.All` for licences, `User.Read.All` or `Directory.Read.All` for users. A
//! missing role answers `403 Authorization_RequestDenied`, the directory's own error (unlike
//! the `Forbidden` of Teams-family APIs); that code and message are from memory, UNVERIFIED.
//!
//! Depends on the simulator's state, auth, errors and OData parsing, and on `graph::model`.

mod licences;
mod objects;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::routing::get;
use serde_json::{Map, Value};

use super::auth::Caller;
use super::http_error::{GraphFailure, RequestMeta};
use super::odata::QueryOptions;

/// Roles that read any app's service principal and application objects.
const APPLICATION_READERS: [&str; 4] = [
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// Roles that read `subscribedSkus`.
const ORGANIZATION_READERS: [&str; 4] = [
    "Organization.Read.All",
    "Organization.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// Roles that read users and their plans.
const USER_READERS: [&str; 4] = [
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// Routes of the directory reads (mounted under `/v1.0` and `/beta`).
pub fn routes() -> Router<Arc<super::state::SimState>> {
    // `(appId='…')` is an OData alternate key: the part after `appId=` arrives as one parameter
    // (`'…')`) and is unpacked by the handler.
    Router::new()
        .route(
            "/servicePrincipals(appId={key}",
            get(objects::service_principal_by_app_id),
        )
        .route(
            "/servicePrincipals/{id}",
            get(objects::service_principal_by_id),
        )
        .route(
            "/applications(appId={key}",
            get(objects::application_by_app_id),
        )
        .route("/applications/{id}", get(objects::application_by_id))
        .route("/subscribedSkus", get(licences::subscribed_skus))
        .route("/users", get(licences::list_users))
        .route("/users/{id}", get(licences::get_user))
}

/// `Ok` when the caller holds one of `roles`; else the directory's 403.
fn require_any(caller: &Caller, meta: &RequestMeta, roles: &[&str]) -> Result<(), GraphFailure> {
    if roles.iter().any(|role| caller.has(role)) {
        Ok(())
    } else {
        Err(meta.error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ))
    }
}

/// The directory's 404 for an object that does not exist.
fn not_found(meta: &RequestMeta, id: &str) -> GraphFailure {
    meta.error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// A 400 for a bad query option.
fn bad_request(meta: &RequestMeta, message: impl Into<String>) -> GraphFailure {
    meta.error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// `/v1.0` or `/beta`, from the path the client called.
fn version_of(uri: &Uri) -> &'static str {
    if uri.path().starts_with("/beta/") {
        "/beta"
    } else {
        "/v1.0"
    }
}

/// The `$select` of a single-entity read, checked against `known`.
fn entity_select(
    meta: &RequestMeta,
    uri: &Uri,
    known: &[&'static str],
    entity: &str,
) -> Result<Option<Vec<&'static str>>, GraphFailure> {
    let options =
        QueryOptions::parse(uri.query(), &["select"]).map_err(|e| bad_request(meta, e.0))?;
    options
        .select(known, entity)
        .map_err(|e| bad_request(meta, e.0))
}

/// `properties` narrowed to `select` (`id` always kept), or to `default` when nothing is
/// selected.
fn narrow(
    properties: Map<String, Value>,
    select: Option<&[&'static str]>,
    default: &[&str],
) -> Map<String, Value> {
    let wanted = |name: &str| {
        name == "id"
            || match select {
                Some(selected) => selected.contains(&name),
                None => default.contains(&name),
            }
    };
    properties
        .into_iter()
        .filter(|(name, _)| wanted(name))
        .collect()
}

/// `…/$metadata#<set>` or `…/$metadata#<set>(a,b)`, the OData context of a set or selection.
fn context(base: &str, version: &str, set: &str, select: Option<&[&'static str]>) -> String {
    match select {
        Some(selected) => format!("{base}{version}/$metadata#{set}({})", selected.join(",")),
        None => format!("{base}{version}/$metadata#{set}"),
    }
}

/// A single-entity answer: `@odata.context` then the properties.
fn entity(context: String, properties: Map<String, Value>) -> Value {
    let mut body = Map::new();
    body.insert("@odata.context".to_owned(), Value::String(context));
    body.extend(properties);
    Value::Object(body)
}
