//! Every canonical shape in `shared/graph-fixtures/` parses into the model types, and the model
//! serialises back without losing a field the fixture has.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use pilotwatch::graph::model::{
    AccessTokenClaims, AiInteraction, Application, ChangeNotificationCollection, Collection,
    GraphError, InteractionType, LifecycleEvent, ServicePrincipal, SubscribedSku, Subscription,
    SubscriptionCreate, TokenError, TokenResponse, User, ValidationTokenClaims, ValidationTokens,
};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/graph-fixtures")
}

fn raw(name: &str) -> Value {
    let path = fixtures_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn parse<T: DeserializeOwned>(name: &str) -> T {
    serde_json::from_value(raw(name)).unwrap_or_else(|e| panic!("{name} does not parse: {e}"))
}

/// Every key path of `value` (objects recursively; arrays by their first element).
fn key_paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = format!("{prefix}/{key}");
                out.insert(path.clone());
                key_paths(child, &path, out);
            }
        }
        Value::Array(items) => {
            if let Some(first) = items.first() {
                key_paths(first, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// Parses the fixture into `T`, serialises it again, and requires every key path of the fixture
/// to survive (identity sets are opaque JSON, so they survive whole).
fn round_trips<T: DeserializeOwned + Serialize>(name: &str) {
    let original = raw(name);
    let parsed: T = parse(name);
    let again = serde_json::to_value(&parsed).unwrap();
    let (mut want, mut got) = (BTreeSet::new(), BTreeSet::new());
    key_paths(&original, "", &mut want);
    key_paths(&again, "", &mut got);
    let lost: Vec<_> = want.difference(&got).collect();
    assert!(
        lost.is_empty(),
        "{name}: fields lost in the model: {lost:?}"
    );
}

#[test]
fn every_fixture_file_is_covered_by_this_test() {
    let covered = [
        "access-token-claims.json",
        "application.json",
        "graph-error-400-validation.json",
        "graph-error-403.json",
        "graph-error-409.json",
        "graph-error-429.json",
        "interactions-page.json",
        "lifecycle-reauthorization-required.json",
        "notification-rich-null-tokens.json",
        "notification-rich.json",
        "service-principal.json",
        "subscribed-skus.json",
        "subscription-create.json",
        "subscription.json",
        "subscriptions-list.json",
        "token-error-700016.json",
        "token-error-7000215.json",
        "token-error-7000222.json",
        "token-error-90002.json",
        "token-success.json",
        "user-assigned-plans.json",
        "validation-token-claims-v1.json",
        "validation-token-claims-v2.json",
    ];
    let present: BTreeSet<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    let covered: BTreeSet<String> = covered.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        present, covered,
        "a fixture was added or removed: cover it here"
    );
}

#[test]
fn interactions_page_parses_with_paging_and_both_identity_sides() {
    round_trips::<Collection<AiInteraction>>("interactions-page.json");
    let page: Collection<AiInteraction> = parse("interactions-page.json");
    assert!(page.next_link.as_deref().unwrap().contains("$skiptoken="));
    let [prompt, response] = &page.value[..] else {
        panic!("two items expected")
    };
    assert_eq!(prompt.interaction_type, InteractionType::UserPrompt);
    assert_eq!(response.interaction_type, InteractionType::AiResponse);
    assert_eq!(prompt.request_id, response.request_id);
    assert_eq!(
        prompt.from.as_ref().unwrap().user_id(),
        Some("6b3c2f1e-2d4a-4b7e-9c1d-0a1b2c3d4e5f")
    );
    assert!(response.from.as_ref().unwrap().user_id().is_none());
    assert_eq!(response.attachments[0].attachment_id, "a1");
    assert_eq!(
        prompt.created_date_time.timestamp_millis().to_string(),
        prompt.id
    );
}

#[test]
fn unknown_interaction_types_map_to_the_sentinel() {
    let t: InteractionType = serde_json::from_str("\"somethingNew\"").unwrap();
    assert_eq!(t, InteractionType::UnknownFutureValue);
}

#[test]
fn subscriptions_parse() {
    round_trips::<SubscriptionCreate>("subscription-create.json");
    round_trips::<Subscription>("subscription.json");
    round_trips::<Collection<Subscription>>("subscriptions-list.json");
    let list: Collection<Subscription> = parse("subscriptions-list.json");
    assert!(
        list.value[0].client_state.is_none(),
        "the list never returns clientState"
    );
}

#[test]
fn rich_notifications_keep_the_three_shapes_of_validation_tokens_apart() {
    round_trips::<ChangeNotificationCollection>("notification-rich.json");
    round_trips::<ChangeNotificationCollection>("notification-rich-null-tokens.json");
    let rich: ChangeNotificationCollection = parse("notification-rich.json");
    assert!(matches!(&rich.validation_tokens, ValidationTokens::Tokens(t) if t.len() == 1));
    assert!(!rich.validation_tokens.is_null_like());
    let content = rich.value[0].encrypted_content.as_ref().unwrap();
    assert_eq!(content.encryption_certificate_id, "pilotwatch-2026-11");

    let null: ChangeNotificationCollection = parse("notification-rich-null-tokens.json");
    assert_eq!(null.validation_tokens, ValidationTokens::Null);
    assert!(null.validation_tokens.is_null_like());
    let again = serde_json::to_value(&null).unwrap();
    assert!(
        again.get("validationTokens").unwrap().is_null(),
        "null must stay an explicit null"
    );

    let entry: ChangeNotificationCollection =
        serde_json::from_str(r#"{"value":[],"validationTokens":[null]}"#).unwrap();
    assert!(entry.validation_tokens.is_null_like());
}

#[test]
fn lifecycle_notifications_have_no_validation_tokens_field() {
    round_trips::<ChangeNotificationCollection>("lifecycle-reauthorization-required.json");
    let lifecycle: ChangeNotificationCollection = parse("lifecycle-reauthorization-required.json");
    assert_eq!(lifecycle.validation_tokens, ValidationTokens::Absent);
    assert_eq!(
        lifecycle.value[0].lifecycle_event,
        Some(LifecycleEvent::ReauthorizationRequired)
    );
    let again = serde_json::to_value(&lifecycle).unwrap();
    assert!(again.get("validationTokens").is_none());
}

#[test]
fn identity_answers_parse_and_the_token_is_a_secret() {
    let success: TokenResponse = parse("token-success.json");
    assert_eq!(success.token_type, "Bearer");
    assert_eq!(success.expires_in, 3599);
    assert!(!format!("{success:?}").contains(success.access_token.expose_secret()));
    for (name, code, error) in [
        ("token-error-700016.json", 700016, "unauthorized_client"),
        ("token-error-7000215.json", 7000215, "invalid_client"),
        ("token-error-7000222.json", 7000222, "invalid_client"),
        ("token-error-90002.json", 90002, "invalid_tenant"),
    ] {
        round_trips::<TokenError>(name);
        let parsed: TokenError = parse(name);
        assert_eq!(parsed.code(), Some(code), "{name}");
        assert_eq!(parsed.error, error, "{name}");
    }
}

#[test]
fn token_claims_parse() {
    round_trips::<AccessTokenClaims>("access-token-claims.json");
    round_trips::<ValidationTokenClaims>("validation-token-claims-v1.json");
    round_trips::<ValidationTokenClaims>("validation-token-claims-v2.json");
    let v1: ValidationTokenClaims = parse("validation-token-claims-v1.json");
    let v2: ValidationTokenClaims = parse("validation-token-claims-v2.json");
    assert_eq!(
        v1.appid.as_deref(),
        Some("0bf30f3b-4a52-48df-9a82-234910c4a086")
    );
    assert_eq!(
        v2.azp.as_deref(),
        Some("0bf30f3b-4a52-48df-9a82-234910c4a086")
    );
}

#[test]
fn graph_errors_parse() {
    for name in [
        "graph-error-400-validation.json",
        "graph-error-403.json",
        "graph-error-409.json",
        "graph-error-429.json",
    ] {
        round_trips::<GraphError>(name);
        let error: GraphError = parse(name);
        assert!(error.error.inner_error.is_some(), "{name}");
    }
    let throttled: GraphError = parse("graph-error-429.json");
    assert_eq!(throttled.error.code, "TooManyRequests");
}

#[test]
fn directory_objects_parse() {
    round_trips::<ServicePrincipal>("service-principal.json");
    round_trips::<Application>("application.json");
    round_trips::<Collection<SubscribedSku>>("subscribed-skus.json");
    round_trips::<User>("user-assigned-plans.json");
    let app: Application = parse("application.json");
    assert_eq!(app.password_credentials[0].hint.as_deref(), Some("Q~7"));
    let skus: Collection<SubscribedSku> = parse("subscribed-skus.json");
    assert_eq!(skus.value[0].service_plans.len(), 6);
}

#[test]
fn client_state_never_reaches_debug_output() {
    let mut subscription: Subscription = parse("subscription.json");
    subscription.client_state = Some("s3cr3t-client-state".to_owned());
    let mut create: SubscriptionCreate = parse("subscription-create.json");
    create.client_state = Some("s3cr3t-client-state".to_owned());
    let mut batch: ChangeNotificationCollection = parse("notification-rich.json");
    batch.value[0].client_state = Some("s3cr3t-client-state".to_owned());
    for debug in [
        format!("{subscription:?}"),
        format!("{create:?}"),
        format!("{batch:?}"),
    ] {
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }
    // The rest stays visible for diagnosis.
    assert!(format!("{subscription:?}").contains(&subscription.id));
}
