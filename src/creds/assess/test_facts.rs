//! Test-only builders of [`CredentialFacts`] from the canonical fixtures in
//! `shared/graph-fixtures/`, starting from a healthy profile that each scenario then breaks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;

use crate::creds::facts::{
    CredentialFacts, Readable, SecretFacts, SecretShape, ServerClock, TokenFacts,
};
use crate::graph::auth::{AadstsKind, AuthError};
use crate::graph::model::{
    AccessTokenClaims, Application, Collection, ServicePrincipal, SubscribedSku, TokenError, User,
};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/graph-fixtures/",
            $name
        ))
    };
}

fn parse<T: DeserializeOwned>(json: &str) -> T {
    serde_json::from_str(json).unwrap()
}

/// The instant every scenario is judged at: 70 days before the fixture secret's expiry.
pub(crate) fn now() -> DateTime<Utc> {
    "2026-09-22T08:00:00Z".parse().unwrap()
}

/// The fixture app's only secret begins with this hint.
pub(crate) const FIXTURE_HINT: &str = "Q~7";

pub(crate) fn claims() -> AccessTokenClaims {
    parse(fixture!("access-token-claims.json"))
}

pub(crate) fn service_principal() -> ServicePrincipal {
    let mut principal: ServicePrincipal = parse(fixture!("service-principal.json"));
    // The fixture shows the misconfiguration; a healthy tenant has it off.
    principal.app_role_assignment_required = false;
    principal
}

pub(crate) fn application() -> Application {
    parse(fixture!("application.json"))
}

pub(crate) fn subscribed_skus() -> Vec<SubscribedSku> {
    parse::<Collection<SubscribedSku>>(fixture!("subscribed-skus.json")).value
}

pub(crate) fn licensed_user() -> User {
    parse(fixture!("user-assigned-plans.json"))
}

pub(crate) fn unlicensed_user() -> User {
    let mut user = licensed_user();
    user.id = "7c4d3e2f-3e5b-4c8f-8d2e-1b2c3d4e5f60".into();
    user.display_name = Some("Megan Bowen".into());
    user.user_principal_name = Some("megan.bowen@contoso.com".into());
    user.assigned_plans = Some(Vec::new());
    user
}

/// A profile whose every check passes.
pub(crate) fn healthy() -> CredentialFacts {
    let claims = claims();
    CredentialFacts {
        profile: "contoso".into(),
        tenant: claims.tid.clone(),
        client_id: claims.appid.clone().unwrap(),
        authority: "https://login.microsoftonline.com".into(),
        graph_root: "https://graph.microsoft.com".into(),
        checked_at: now(),
        secret: SecretFacts {
            source: "file /home/ops/.local/share/pilotwatch/secrets/contoso".into(),
            loaded: Ok(SecretShape {
                hint: FIXTURE_HINT.into(),
                looks_like_secret_id: false,
                length: 40,
            }),
        },
        token: TokenFacts::Granted {
            claims: Some(claims),
            expires_at: now() + Duration::seconds(3599),
        },
        service_principal: Readable::Read(service_principal()),
        application: Readable::Read(application()),
        subscribed_skus: Readable::Read(subscribed_skus()),
        sampled_users: Readable::Read(vec![licensed_user(), unlicensed_user()]),
        server_date: Some(ServerClock {
            server: now(),
            local: now(),
        }),
        configured_secret_expires: None,
        expiry_warning_days: vec![30, 14, 7, 1],
    }
}

/// `facts` after the identity platform refused the token: nothing else could be read.
pub(crate) fn refused(mut facts: CredentialFacts, error: AuthError) -> CredentialFacts {
    facts.token = TokenFacts::Refused(error);
    facts.service_principal = Readable::NotTried;
    facts.application = Readable::NotTried;
    facts.subscribed_skus = Readable::NotTried;
    facts.sampled_users = Readable::NotTried;
    facts
}

/// A rejection built from a `token-error-*.json` fixture, with the status the fixtures'
/// README gives for it.
pub(crate) fn rejection_fixture(json: &str, status: u16) -> AuthError {
    let body: TokenError = parse(json);
    rejection_from(&body, status)
}

pub(crate) fn rejection_from(body: &TokenError, status: u16) -> AuthError {
    AuthError::Rejected {
        status,
        code: body.code(),
        error: body.error.clone(),
        kind: AadstsKind::from_code(body.code()),
        description: body.error_description.clone().into(),
        trace_id: body.trace_id.clone(),
        correlation_id: body.correlation_id.clone(),
    }
}

/// A rejection with only a code (for codes no fixture covers).
pub(crate) fn rejection(code: Option<u64>, error: &str, status: u16) -> AuthError {
    let body = TokenError {
        error: error.into(),
        error_description: code
            .map(|c| format!("AADSTS{c}: something went wrong.\r\nTrace ID: t-1"))
            .unwrap_or_default(),
        error_codes: code.into_iter().collect(),
        timestamp: None,
        trace_id: Some("t-1".into()),
        correlation_id: Some("c-1".into()),
        error_uri: None,
    };
    rejection_from(&body, status)
}

pub(crate) const TOKEN_ERROR_700016: &str = fixture!("token-error-700016.json");
pub(crate) const TOKEN_ERROR_7000215: &str = fixture!("token-error-7000215.json");
pub(crate) const TOKEN_ERROR_7000222: &str = fixture!("token-error-7000222.json");
pub(crate) const TOKEN_ERROR_90002: &str = fixture!("token-error-90002.json");
