//! Scenarios where signing in fails, or the secret is the wrong thing: every AADSTS group,
//! network and TLS errors, a pasted Secret ID, a secret that does not load.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::creds::facts::{SecretShape, TokenFacts};
use crate::creds::report::TokenStatus;
use crate::graph::auth::AuthError;

/// What each refusal must say: the token check's summary and cause fragments.
fn refusal_cases() -> Vec<(AuthError, &'static str, &'static str)> {
    vec![
        (
            rejection_fixture(TOKEN_ERROR_90002, 400),
            "unknown tenant (AADSTS90002)",
            "https://login.microsoftonline.com",
        ),
        (
            rejection(Some(900_023), "invalid_request", 400),
            "malformed tenant (AADSTS900023)",
            "neither a GUID nor a valid domain",
        ),
        (
            rejection_fixture(TOKEN_ERROR_700016, 400),
            "unknown client id (AADSTS700016)",
            "\"Object ID\" pasted instead of its \"Application (client) ID\"",
        ),
        (
            rejection_fixture(TOKEN_ERROR_7000215, 401),
            "wrong client secret (AADSTS7000215)",
            "look for `Q~7`",
        ),
        (
            rejection_fixture(TOKEN_ERROR_7000222, 401),
            "the client secret has expired (AADSTS7000222)",
            "passed its expiry date",
        ),
        (
            rejection(Some(7_000_218), "invalid_client", 401),
            "no client secret arrived (AADSTS7000218)",
            "without a client secret",
        ),
        (
            rejection(Some(70_011), "invalid_scope", 400),
            "invalid scope (AADSTS70011)",
            "https://graph.microsoft.com/.default",
        ),
        (
            rejection(Some(1_002_012), "invalid_scope", 400),
            "invalid scope (AADSTS1002012)",
            "different clouds",
        ),
        (
            rejection(Some(7_000_112), "unauthorized_client", 400),
            "the application is disabled (AADSTS7000112)",
            "is disabled in tenant",
        ),
        (
            rejection(Some(50_196), "invalid_request", 400),
            "invalid_request (HTTP 400, AADSTS50196)",
            "no specific advice",
        ),
        (
            AuthError::Network {
                message: "invalid peer certificate: UnknownIssuer".into(),
                tls_certificate: true,
            },
            "cannot reach the token endpoint",
            "TLS certificate",
        ),
        (
            AuthError::Network {
                message: "dns error: failed to lookup address".into(),
                tls_certificate: false,
            },
            "cannot reach the token endpoint",
            "DNS, a firewall, a proxy",
        ),
        (
            AuthError::UnexpectedAnswer { status: 200 },
            "answered HTTP 200 with neither a token nor an OAuth error",
            "does not behave like the Microsoft identity platform",
        ),
        (
            AuthError::InvalidAuthority {
                authority: "mailto:ops@contoso.com".into(),
            },
            "the authority URL mailto:ops@contoso.com cannot be used",
            "cannot be appended",
        ),
    ]
}

#[test]
fn an_identity_platform_that_is_throttling_or_failing_is_unknown_not_critical() {
    for error in [
        rejection(None, "server_error", 500),
        rejection(Some(50_196), "temporarily_unavailable", 503),
        AuthError::UnexpectedAnswer { status: 429 },
        AuthError::UnexpectedAnswer { status: 502 },
    ] {
        let report = assess(&refused(healthy(), error.clone()));
        let token = get(&report, CheckId::Token);
        assert_eq!(token.severity, Severity::Unknown, "{error:?}");
        assert!(
            token.summary.contains("unavailable for the moment"),
            "{}",
            token.summary
        );
        assert!(
            token.fix[0].contains("again in a few minutes"),
            "{:?}",
            token.fix
        );
        assert_eq!(report.exit_code(), 3, "{error:?}");
    }
}

#[test]
fn every_refusal_is_critical_with_a_plain_cause_and_a_fix() {
    for (error, summary, cause) in refusal_cases() {
        let report = assess(&refused(healthy(), error));
        let token = get(&report, CheckId::Token);
        assert_eq!(token.severity, Severity::Critical, "{summary}");
        assert!(token.summary.contains(summary), "{}", token.summary);
        let token_cause = token.cause.as_deref().unwrap();
        assert!(token_cause.contains(cause), "{summary}: {token_cause}");
        assert!(!token.fix.is_empty(), "{summary}");
        assert_eq!(report.severity, Severity::Critical);
        assert_eq!(report.exit_code(), 2);
        // Everything that needed the token says so, without a fix of its own.
        for id in [
            CheckId::Roles,
            CheckId::SecretExpiry,
            CheckId::ServicePrincipal,
            CheckId::TenantLicences,
            CheckId::UserLicences,
        ] {
            let dependent = get(&report, id);
            assert_eq!(dependent.severity, Severity::Unknown, "{id:?}");
            assert_eq!(dependent.cause, None, "{id:?}");
            assert_eq!(dependent.summary, "not checked: no token");
            assert!(dependent.fix.is_empty());
        }
    }
}

#[test]
fn refusal_details_name_codes_ids_and_the_right_fix() {
    let report = assess(&refused(
        healthy(),
        rejection_fixture(TOKEN_ERROR_7000222, 401),
    ));
    assert_eq!(report.token.status, TokenStatus::Refused);
    assert_eq!(report.token.aadsts_code, Some(7_000_222));
    assert_eq!(report.token.http_status, Some(401));
    assert_eq!(
        report.token.trace_id.as_deref(),
        Some("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")
    );
    let token = text(get(&report, CheckId::Token));
    assert!(token.contains("`pilotwatch creds add contoso --replace`"));
    assert!(token.contains("the identity platform said: AADSTS7000222: The provided client"));
    assert!(token.contains("correlation id 1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809"));

    let other = assess(&refused(
        healthy(),
        rejection(Some(50_196), "invalid_request", 400),
    ));
    assert!(
        text(get(&other, CheckId::Token))
            .contains("https://login.microsoftonline.com/error?code=50196")
    );

    let tls = assess(&refused(
        healthy(),
        AuthError::Network {
            message: "invalid peer certificate: UnknownIssuer".into(),
            tls_certificate: true,
        },
    ));
    assert_eq!(tls.token.status, TokenStatus::Unreachable);
    assert!(get(&tls, CheckId::Token).fix[0].contains("Set `ca_file` in profile contoso"));

    let mut typo = healthy();
    typo.client_id = "24d3b144-21ae-4080-943f".into();
    let typo = assess(&refused(typo, rejection_fixture(TOKEN_ERROR_700016, 400)));
    assert!(text(get(&typo, CheckId::Token)).contains("is not shaped like a GUID"));
}

pub(super) fn secret_id_pasted() -> CredentialFacts {
    let mut facts = healthy();
    facts.secret.loaded = Ok(SecretShape {
        hint: "9a0".into(),
        looks_like_secret_id: true,
        length: 36,
    });
    refused(facts, rejection_fixture(TOKEN_ERROR_7000215, 401))
}

#[test]
fn a_pasted_secret_id_is_named_as_such_with_the_value_fix() {
    let report = assess(&secret_id_pasted());
    let token = get(&report, CheckId::Token);
    assert_eq!(token.severity, Severity::Critical);
    let cause = token.cause.as_deref().unwrap();
    assert!(cause.contains("almost certainly the \"Secret ID\" pasted instead of the \"Value\""));
    assert!(token.fix.iter().any(|s| s.contains("New client secret")));
    assert!(
        token
            .fix
            .iter()
            .any(|s| s.contains("\"Value\" column at once"))
    );
    assert!(
        token
            .fix
            .iter()
            .any(|s| s.contains("`pilotwatch creds add contoso --replace`"))
    );
    let secret = get(&report, CheckId::Secret);
    assert_eq!(secret.severity, Severity::Warning);
    assert!(
        secret
            .summary
            .contains("probably the Secret ID, not the Value")
    );
    assert!(report.secret.looks_like_secret_id);
}

#[test]
fn the_secret_id_shape_is_hinted_even_when_the_token_fails_otherwise() {
    let mut facts = secret_id_pasted();
    facts.token = TokenFacts::Refused(AuthError::Network {
        message: "connection refused".into(),
        tls_certificate: false,
    });
    let report = assess(&facts);
    assert_eq!(get(&report, CheckId::Secret).severity, Severity::Warning);

    // Accepted by the identity platform: whatever its shape, it is the secret.
    let mut accepted = healthy();
    accepted.secret.loaded = Ok(SecretShape {
        hint: "9a0".into(),
        looks_like_secret_id: true,
        length: 36,
    });
    let secret = assess(&accepted);
    assert_eq!(get(&secret, CheckId::Secret).severity, Severity::Ok);
}

#[test]
fn an_unloadable_secret_is_critical_and_nothing_else_is_tried() {
    let mut facts = healthy();
    let error = "secret file /home/ops/s is readable or writable by group or others (mode 0644); \
                 run: chmod 600 /home/ops/s";
    facts.secret.loaded = Err(error.into());
    facts.token = TokenFacts::NotTried;
    facts.service_principal = Readable::NotTried;
    facts.application = Readable::NotTried;
    facts.subscribed_skus = Readable::NotTried;
    facts.sampled_users = Readable::NotTried;
    let report = assess(&facts);
    let secret = get(&report, CheckId::Secret);
    assert_eq!(secret.severity, Severity::Critical);
    assert_eq!(secret.evidence, [error]);
    assert_eq!(get(&report, CheckId::Token).severity, Severity::Unknown);
    assert_eq!(report.token.status, TokenStatus::NotTried);
    assert_eq!(report.secret.load_error.as_deref(), Some(error));
    assert_eq!(report.severity, Severity::Critical);
}
