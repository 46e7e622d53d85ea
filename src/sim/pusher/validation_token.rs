//! `validationTokens` of rich notifications (graph-facts §4, fixtures
//! `validation-token-claims-v1.json` / `-v2.json`): one JWT per distinct (app, tenant) pair in a
//! POST, issued by the simulated identity platform for the Microsoft Graph Change Tracking app
//! and addressed to the subscribing app. Each token is v1 or v2 at random (seeded), because real
//! receivers meet both: v1 names the caller in `appid` and is issued by
//! `https://sts.windows.net/{tid}/`; v2 names it in `azp` and is issued by
//! `https://login.microsoftonline.com/{tid}/v2.0`. Lifetimes follow the documented examples
//! (about 8 h for v1, about 24 h for v2), so a token minted at delivery is still valid at the
//! last retry four hours later.
//!
//! Also decides the shape of the field under the scenario: real tokens, `null`, or `[null]`
//! (graph-facts §4.1). Depends on `graph::model` and the scenario types; signing is done by the
//! caller's `SigningKeys`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use crate::graph::model::ValidationTokenClaims;
use crate::graph::model::well_known::CHANGE_TRACKING_APP_ID;
use crate::sim::scenario::{Scenario, TokenMode};

/// Lifetime of a v1 validation token (the documented example: 29,100 s).
pub const V1_LIFETIME: Duration = Duration::seconds(29_100);

/// Lifetime of a v2 validation token (the documented example: 86,700 s).
pub const V2_LIFETIME: Duration = Duration::seconds(86_700);

/// Which token format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    /// `ver` 1.0: `appid`, `appidacr`, `idp`.
    V1,
    /// `ver` 2.0: `azp`, `azpacr`, `oid`, `sub`, `rh`.
    V2,
}

/// What `validationTokens` carries under a scenario.
pub fn token_mode(scenario: &Scenario) -> TokenMode {
    match scenario.delivery.validation_tokens {
        // Graph cannot mint tokens while the app's service principal requires assignment
        // (graph-facts §4.1), whatever else the scenario says.
        TokenMode::Signed if scenario.directory.app_role_assignment_required => TokenMode::Null,
        mode => mode,
    }
}

/// Claims of one validation token for `audience` (the app id) in `tenant_id`, issued at `now`.
pub fn claims<R: Rng + ?Sized>(
    rng: &mut R,
    version: TokenVersion,
    audience: &str,
    tenant_id: &str,
    now: DateTime<Utc>,
) -> ValidationTokenClaims {
    let v1_issuer = format!("https://sts.windows.net/{tenant_id}/");
    let aio = Some(random_text(rng, 48));
    let uti = Some(random_text(rng, 16));
    let base = ValidationTokenClaims {
        aud: audience.to_owned(),
        iss: v1_issuer.clone(),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: (now + V1_LIFETIME).timestamp(),
        aio,
        appid: None,
        appidacr: None,
        azp: None,
        azpacr: None,
        idp: None,
        oid: None,
        rh: None,
        sub: None,
        tid: tenant_id.to_owned(),
        uti,
        ver: "1.0".to_owned(),
    };
    match version {
        TokenVersion::V1 => ValidationTokenClaims {
            appid: Some(CHANGE_TRACKING_APP_ID.to_owned()),
            appidacr: Some("2".to_owned()),
            idp: Some(v1_issuer),
            ..base
        },
        TokenVersion::V2 => {
            let object_id = change_tracking_object_id(tenant_id);
            ValidationTokenClaims {
                iss: format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
                exp: (now + V2_LIFETIME).timestamp(),
                azp: Some(CHANGE_TRACKING_APP_ID.to_owned()),
                azpacr: Some("2".to_owned()),
                oid: Some(object_id.clone()),
                sub: Some(object_id),
                rh: Some(format!("0.A{}.", random_text(rng, 36))),
                ver: "2.0".to_owned(),
                ..base
            }
        }
    }
}

/// v1 or v2, evenly.
pub fn pick_version<R: Rng + ?Sized>(rng: &mut R) -> TokenVersion {
    if rng.random::<bool>() {
        TokenVersion::V1
    } else {
        TokenVersion::V2
    }
}

/// The object id of the Change Tracking app's service principal in `tenant_id`: stable per
/// tenant, like a real service principal's.
pub fn change_tracking_object_id(tenant_id: &str) -> String {
    let seed = format!(
        "{CHANGE_TRACKING_APP_ID}/{}",
        tenant_id.to_ascii_lowercase()
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, seed.as_bytes());
    let mut bytes = [0_u8; 16];
    for (out, byte) in bytes.iter_mut().zip(digest.as_ref()) {
        *out = *byte;
    }
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

fn random_text<R: Rng + ?Sized>(rng: &mut R, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const TENANT: &str = "2c9b8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d";
    const APP: &str = "24d3b144-21ae-4080-943f-7067b395b913";

    fn fixture(name: &str) -> serde_json::Value {
        let path = format!(
            "{}/../shared/graph-fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn keys(value: &serde_json::Value) -> Vec<String> {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    #[test]
    fn both_versions_have_exactly_the_fixture_claims() {
        let mut rng = StdRng::seed_from_u64(3);
        let now: DateTime<Utc> = "2026-11-22T08:00:00Z".parse().unwrap();
        for (version, file, lifetime) in [
            (
                TokenVersion::V1,
                "validation-token-claims-v1.json",
                V1_LIFETIME,
            ),
            (
                TokenVersion::V2,
                "validation-token-claims-v2.json",
                V2_LIFETIME,
            ),
        ] {
            let expected = fixture(file);
            let made = serde_json::to_value(claims(&mut rng, version, APP, TENANT, now)).unwrap();
            assert_eq!(keys(&made), keys(&expected), "{file}");
            for same in [
                "aud", "iss", "tid", "ver", "idp", "appid", "appidacr", "azp", "azpacr",
            ] {
                assert_eq!(made.get(same), expected.get(same), "{file}: {same}");
            }
            assert_eq!(
                made["exp"].as_i64().unwrap() - made["iat"].as_i64().unwrap(),
                lifetime.num_seconds()
            );
            assert_eq!(made["nbf"], made["iat"]);
        }
    }

    #[test]
    fn versions_are_mixed_and_the_change_tracking_object_id_is_stable() {
        let mut rng = StdRng::seed_from_u64(11);
        let picks: Vec<TokenVersion> = (0..50).map(|_| pick_version(&mut rng)).collect();
        assert!(picks.contains(&TokenVersion::V1) && picks.contains(&TokenVersion::V2));
        assert_eq!(
            change_tracking_object_id(TENANT),
            change_tracking_object_id(&TENANT.to_uppercase())
        );
        assert_ne!(
            change_tracking_object_id(TENANT),
            change_tracking_object_id(APP)
        );
    }

    #[test]
    fn assignment_required_forces_null_tokens() {
        let mut scenario = Scenario::load("healthy").unwrap();
        assert_eq!(token_mode(&scenario), TokenMode::Signed);
        scenario.directory.app_role_assignment_required = true;
        assert_eq!(token_mode(&scenario), TokenMode::Null);
        scenario.delivery.validation_tokens = TokenMode::NullEntry;
        assert_eq!(token_mode(&scenario), TokenMode::NullEntry);
    }
}
