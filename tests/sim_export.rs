//! The simulated export API, `getAllEnterpriseInteractions`, against graph-facts §1 and the
//! fixtures: paging by `@odata.nextLink` against the simulator's ground truth, `$filter`,
//! errors, throttling, permissions, licences, versions and item shapes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use common::TestSim;
use pilotwatch::graph::model::well_known::COPILOT_BOT_APP_ID;
use pilotwatch::graph::model::{AiInteraction, Collection, GraphError, InteractionType};
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::activity::shape::activity_level;
use pilotwatch::sim::export::SkipToken;
use pilotwatch::sim::scenario::Scenario;
use reqwest::StatusCode;
use serde_json::{Value, json};

const WORD: &str = "IPM.SkypeTeams.Message.Copilot.Word";
const EXCEL: &str = "IPM.SkypeTeams.Message.Copilot.Excel";

/// A Wednesday afternoon: the history before it is busy.
fn start_time() -> DateTime<Utc> {
    "2026-11-25T14:00:00Z".parse().unwrap()
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../shared/graph-fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Starts `scenario` at [`start_time`], then silences the live generator so the log holds only
/// the seeded history plus what a test generates itself.
async fn start_quiet(scenario: &str) -> TestSim {
    let mut options = SimOptions::loopback(Scenario::load(scenario).unwrap());
    options.start_time = Some(start_time());
    let sim = TestSim::start_with(options).await;
    let mut quiet = Scenario::load(scenario).unwrap();
    quiet.activity.pairs_per_hour = 0.0;
    sim.sim.state.set_scenario(quiet);
    sim
}

fn export_path(user: &str) -> String {
    format!("/v1.0/copilot/users/{user}/interactionHistory/getAllEnterpriseInteractions")
}

fn iso(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn window_filter(after: DateTime<Utc>, before: DateTime<Utc>) -> String {
    format!(
        "createdDateTime gt {} and createdDateTime lt {}",
        iso(after),
        iso(before)
    )
}

async fn tenant(sim: &TestSim) -> Value {
    sim.http
        .get(sim.url("/_sim/tenant"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Ids of the tenant's users, licensed ones first, as `(licensed, unlicensed)`.
async fn users(sim: &TestSim) -> (Vec<String>, Vec<String>) {
    let tenant = tenant(sim).await;
    let mut licensed = Vec::new();
    let mut unlicensed = Vec::new();
    for user in tenant["users"].as_array().unwrap() {
        let id = user["id"].as_str().unwrap().to_owned();
        if user["licensed"].as_bool().unwrap() {
            licensed.push(id);
        } else {
            unlicensed.push(id);
        }
    }
    (licensed, unlicensed)
}

/// Ground truth: every interaction the simulator generated, with its user.
async fn ground_truth(sim: &TestSim) -> Vec<(String, AiInteraction)> {
    let body: Value = sim
        .http
        .get(sim.url("/_sim/interactions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let user = g["user_id"].as_str().unwrap().to_owned();
            (
                user,
                serde_json::from_value(g["interaction"].clone()).unwrap(),
            )
        })
        .collect()
}

/// GET `url` with `token`, waiting out 429s as a well-behaved client does.
async fn get(sim: &TestSim, url: &str, token: &str) -> reqwest::Response {
    for _ in 0..10 {
        let response = sim.http.get(url).bearer_auth(token).send().await.unwrap();
        if response.status() != StatusCode::TOO_MANY_REQUESTS {
            return response;
        }
        let wait: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        tokio::time::sleep(StdDuration::from_secs(wait)).await;
    }
    panic!("still throttled after 10 tries: {url}");
}

async fn get_page(sim: &TestSim, url: &str, token: &str) -> Collection<AiInteraction> {
    let response = get(sim, url, token).await;
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.json().await.unwrap()
}

fn first_url(sim: &TestSim, user: &str, query: &[(&str, &str)]) -> String {
    let url = reqwest::Url::parse_with_params(&sim.url(&export_path(user)), query).unwrap();
    url.to_string()
}

fn error_keys(value: &Value) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for (key, inner) in value["error"].as_object().unwrap() {
        keys.insert(key.clone());
        if let Some(object) = inner.as_object() {
            keys.extend(object.keys().map(|k| format!("{key}.{k}")));
        }
    }
    keys
}

async fn expect_graph_error(response: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        error_keys(&body),
        error_keys(&fixture("graph-error-403.json")),
        "{body}"
    );
    assert_eq!(body["error"]["code"], code, "{body}");
    serde_json::from_value::<GraphError>(body.clone()).unwrap();
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_by_next_link_matches_ground_truth_and_ignores_new_arrivals() {
    let sim = start_quiet("healthy").await;
    let token = sim.token();
    let (licensed, _) = users(&sim).await;
    let user = &licensed[0];
    let after = start_time() - Duration::hours(3);
    let before = start_time() + Duration::hours(1);
    let filter = window_filter(after, before);
    let mut url = first_url(&sim, user, &[("$top", "25"), ("$filter", &filter)]);

    let mut collected: Vec<AiInteraction> = Vec::new();
    let mut posted = HashSet::new();
    let mut until_ms = None;
    let mut pages = 0;
    loop {
        let page = get_page(&sim, &url, &token).await;
        pages += 1;
        assert!(page.value.len() <= 25);
        collected.extend(page.value);
        let Some(next) = page.next_link else { break };
        assert!(next.starts_with(&format!("{}/v1.0/copilot/users/{user}/", sim.base)));
        let token_text = reqwest::Url::parse(&next)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "$skiptoken")
            .unwrap()
            .1
            .into_owned();
        let decoded = SkipToken::decode(&token_text).unwrap();
        until_ms.get_or_insert(decoded.until_ms);
        assert_eq!(decoded.skipped as usize, collected.len());
        if pages == 2 {
            // New activity for the same user between page fetches.
            let made: Value = sim
                .http
                .post(sim.url("/_sim/interactions"))
                .json(&json!({ "pairs": 5, "userId": user }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for item in made["value"].as_array().unwrap() {
                posted.insert(item["id"].as_str().unwrap().to_owned());
            }
            assert_eq!(posted.len(), 10);
        }
        url = next;
    }
    assert!(
        pages > 3,
        "only {pages} pages: the window should hold several"
    );

    let ids: Vec<&str> = collected.iter().map(|i| i.id.as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicates across pages");
    let times: Vec<_> = collected.iter().map(|i| i.created_date_time).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "not newest first");
    assert!(posted.iter().all(|id| !unique.contains(id.as_str())));

    let until_ms = until_ms.unwrap();
    let mut truth: Vec<AiInteraction> = ground_truth(&sim)
        .await
        .into_iter()
        .filter(|(owner, item)| {
            owner == user
                && item.created_date_time > after
                && item.created_date_time < before
                && item.created_date_time.timestamp_millis() <= until_ms
                && !posted.contains(&item.id)
        })
        .map(|(_, item)| item)
        .collect();
    truth.reverse();
    let truth_ids: Vec<&str> = truth.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, truth_ids);
    assert_eq!(collected, truth, "items differ from ground truth");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_narrow_by_window_and_app_class() {
    let sim = start_quiet("healthy").await;
    let token = sim.token();
    let (licensed, _) = users(&sim).await;
    let truth = ground_truth(&sim).await;
    let after = start_time() - Duration::hours(20);
    let before = start_time() - Duration::hours(2);
    for user in licensed.iter().take(3) {
        let filter = window_filter(after, before);
        let page = get_page(
            &sim,
            &first_url(&sim, user, &[("$top", "1000"), ("$filter", &filter)]),
            &token,
        )
        .await;
        let expected = truth
            .iter()
            .filter(|(owner, i)| {
                owner == user && i.created_date_time > after && i.created_date_time < before
            })
            .count();
        assert!(expected > 0);
        assert_eq!(page.value.len(), expected, "window for {user}");
        assert!(
            page.value
                .iter()
                .all(|i| i.created_date_time > after && i.created_date_time < before)
        );

        let classes = format!("(appClass eq '{WORD}' or appClass eq '{EXCEL}') and {filter}");
        let page = get_page(
            &sim,
            &first_url(&sim, user, &[("$top", "1000"), ("$filter", &classes)]),
            &token,
        )
        .await;
        let expected = truth
            .iter()
            .filter(|(owner, i)| {
                owner == user
                    && (i.app_class == WORD || i.app_class == EXCEL)
                    && i.created_date_time > after
                    && i.created_date_time < before
            })
            .count();
        assert_eq!(page.value.len(), expected, "classes for {user}");
        assert!(
            page.value
                .iter()
                .all(|i| i.app_class == WORD || i.app_class == EXCEL)
        );
    }
    // appClass alone needs no date bounds.
    let only = format!("appClass eq '{WORD}' or appClass eq '{EXCEL}'");
    let page = get_page(
        &sim,
        &first_url(&sim, &licensed[0], &[("$filter", &only)]),
        &token,
    )
    .await;
    assert!(!page.value.is_empty());
    assert!(
        page.value
            .iter()
            .all(|i| i.app_class == WORD || i.app_class == EXCEL)
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_filters_and_query_options_are_400_in_graph_shape() {
    let sim = start_quiet("healthy").await;
    let token = sim.token();
    let (licensed, _) = users(&sim).await;
    let user = &licensed[0];
    let lower = iso(start_time() - Duration::hours(1));
    let one_bound = format!("createdDateTime gt {lower}");
    let response = get(
        &sim,
        &first_url(&sim, user, &[("$filter", &one_bound)]),
        &token,
    )
    .await;
    let body = expect_graph_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("both a lower (gt) and an upper (lt) bound"),
        "{body}"
    );
    let cases: Vec<(&str, String)> = vec![
        ("$filter", "conversationType eq 'bizchat'".to_owned()),
        (
            "$filter",
            format!("createdDateTime ge {lower} and createdDateTime lt {lower}"),
        ),
        (
            "$filter",
            format!("createdDateTime gt '{lower}' and createdDateTime lt {lower}"),
        ),
        ("$filter", "appClass eq 'unterminated".to_owned()),
        ("$filter", "contains(appClass,'Word')".to_owned()),
        ("$filter", "appClass eq".to_owned()),
        (
            "$filter",
            "createdDateTime gt 2025-13-01T00:00:00Z and createdDateTime lt 2026-01-01T00:00:00Z"
                .to_owned(),
        ),
        ("$top", "0".to_owned()),
        ("$top", "5000".to_owned()),
        ("$top", "ten".to_owned()),
        ("$select", "id".to_owned()),
        ("$orderby", "createdDateTime desc".to_owned()),
        ("$expand", "attachments".to_owned()),
        ("$count", "true".to_owned()),
        ("$bogus", "1".to_owned()),
        (
            "$skiptoken",
            "U2tpcFZhbHVlPTEwI01haWxib3hGb2xkZXI9TWFpbEZvbGRlcnMvVGVhbXNNZXNzYWdlc0RhdGE"
                .to_owned(),
        ),
    ];
    for (option, value) in cases {
        let response = get(&sim, &first_url(&sim, user, &[(option, &value)]), &token).await;
        let body = expect_graph_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
        if option == "$filter" {
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.starts_with("Invalid filter clause: "),
                "{value}: {message}"
            );
        }
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_export_answers_429_with_retry_after_then_recovers() {
    let sim = start_quiet("throttled").await;
    let token = sim.token();
    let (licensed, _) = users(&sim).await;
    let url = first_url(&sim, &licensed[0], &[("$top", "5")]);
    let first = sim.http.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let second = sim.http.get(&url).bearer_auth(&token).send().await.unwrap();
    let retry_after: u64 = second.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body = expect_graph_error(second, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests").await;
    let state = &sim.sim.state;
    let expected = format!(
        "Too many requests from Identifier:{}+{} under category:throttle.copilot.export.",
        state.tenant.id, state.tenant.app.client_id
    );
    assert_eq!(body["error"]["message"], expected);
    tokio::time::sleep(StdDuration::from_secs(retry_after)).await;
    let again = sim.http.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let page: Collection<AiInteraction> = again.json().await.unwrap();
    assert_eq!(page.value.len(), 5);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn licences_roles_and_unknown_users_are_refused() {
    let sim = start_quiet("healthy").await;
    let (licensed, unlicensed) = users(&sim).await;
    assert_eq!(unlicensed.len(), 2);
    let token = sim.token();

    let response = get(&sim, &sim.url(&export_path(&unlicensed[0])), &token).await;
    let body = expect_graph_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("licence"),
        "{body}"
    );

    let without_role = sim.token_with_roles(&["User.Read.All"]);
    let response = get(&sim, &sim.url(&export_path(&licensed[0])), &without_role).await;
    let body = expect_graph_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
    assert_eq!(
        body["error"]["message"],
        "Missing role permissions on the request. API requires one of 'AiEnterpriseInteraction.Read.All'. Roles on the request 'User.Read.All'."
    );
    let no_roles = sim.token_with_roles(&[]);
    let response = get(&sim, &sim.url(&export_path(&licensed[0])), &no_roles).await;
    let body = expect_graph_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
    assert_eq!(
        body["error"]["message"],
        fixture("graph-error-403.json")["error"]["message"]
    );

    let unknown = "00000000-1111-2222-3333-444444444444";
    let response = get(&sim, &sim.url(&export_path(unknown)), &token).await;
    expect_graph_error(response, StatusCode::NOT_FOUND, "itemNotFound").await;

    let anonymous = sim
        .http
        .get(sim.url(&export_path(&licensed[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlicensed_tenant_answers_403_for_everyone() {
    let sim = start_quiet("unlicensed").await;
    let (licensed, unlicensed) = users(&sim).await;
    assert!(licensed.is_empty());
    let response = get(&sim, &sim.url(&export_path(&unlicensed[0])), &sim.token()).await;
    expect_graph_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
    assert!(
        ground_truth(&sim).await.is_empty(),
        "no activity without licences"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_and_beta_answer_alike_and_links_keep_their_version() {
    let sim = start_quiet("healthy").await;
    let token = sim.token();
    let (licensed, _) = users(&sim).await;
    let user = &licensed[1];
    let v1 = get_page(&sim, &first_url(&sim, user, &[("$top", "3")]), &token).await;
    let beta_url = sim.url(&format!(
        "/beta/copilot/users/{user}/interactionHistory/getAllEnterpriseInteractions?$top=3"
    ));
    let beta = get_page(&sim, &beta_url, &token).await;
    assert_eq!(v1.value, beta.value);
    assert_eq!(
        v1.context.as_deref(),
        Some(
            format!(
                "{}/v1.0/$metadata#Collection(microsoft.graph.aiInteraction)",
                sim.base
            )
            .as_str()
        )
    );
    assert!(
        beta.context
            .unwrap()
            .starts_with(&format!("{}/beta/$metadata#", sim.base))
    );
    assert!(
        v1.next_link
            .unwrap()
            .starts_with(&format!("{}/v1.0/copilot/users/", sim.base))
    );
    let beta_next = beta.next_link.unwrap();
    assert!(beta_next.starts_with(&format!("{}/beta/copilot/users/", sim.base)));
    let second = get_page(&sim, &beta_next, &token).await;
    assert_eq!(second.value.len(), 3);
    assert!(second.value[0].created_date_time <= beta.value[2].created_date_time);
    // The SDKs' function-call form reaches the same function.
    let called = sim.url(&format!(
        "/v1.0/copilot/users/{user}/interactionHistory/getAllEnterpriseInteractions()?$top=3"
    ));
    assert_eq!(get_page(&sim, &called, &token).await.value, v1.value);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_have_the_fixture_shape_and_pairs_share_request_ids() {
    let sim = start_quiet("healthy").await;
    let token = sim.token();
    let (licensed, _) = users(&sim).await;
    let tenant_id = sim.sim.state.tenant.id.clone();
    let fixture_page = fixture("interactions-page.json");
    let fixture_keys: BTreeSet<String> = fixture_page["value"][0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let fixture_page_keys: BTreeSet<String> =
        fixture_page.as_object().unwrap().keys().cloned().collect();
    let user = &licensed[0];
    let filter = window_filter(start_time() - Duration::hours(6), start_time());
    let url = first_url(&sim, user, &[("$top", "1000"), ("$filter", &filter)]);
    let raw: Value = get(&sim, &url, &token).await.json().await.unwrap();
    let page_keys: BTreeSet<String> = raw.as_object().unwrap().keys().cloned().collect();
    assert!(page_keys.is_subset(&fixture_page_keys), "{page_keys:?}");
    let items = raw["value"].as_array().unwrap();
    assert!(items.len() > 50);
    let mut by_request: HashMap<String, Vec<AiInteraction>> = HashMap::new();
    for item in items {
        let keys: BTreeSet<String> = item.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, fixture_keys, "{item}");
        let created = item["createdDateTime"].as_str().unwrap();
        assert_eq!(created.len(), "2024-11-21T00:19:16.886Z".len(), "{created}");
        let parsed: AiInteraction = serde_json::from_value(item.clone()).unwrap();
        assert_eq!(
            parsed.id,
            parsed.created_date_time.timestamp_millis().to_string()
        );
        assert_eq!(parsed.etag.as_deref(), Some(parsed.id.as_str()));
        assert_eq!(parsed.locale.as_deref(), Some("en-us"));
        let from = &item["from"];
        assert_eq!(
            from["@odata.type"],
            "#microsoft.graph.chatMessageFromIdentitySet"
        );
        assert!(from["device"].is_null());
        match parsed.interaction_type {
            InteractionType::UserPrompt => {
                assert!(from["application"].is_null());
                assert_eq!(from["user"]["id"], user.as_str());
                assert_eq!(from["user"]["displayName"], format!("8:orgid:{user}"));
                assert_eq!(from["user"]["userIdentityType"], "aadUser");
                assert_eq!(from["user"]["tenantId"], tenant_id.as_str());
                assert_eq!(parsed.body.as_ref().unwrap().content_type, "text");
            }
            InteractionType::AiResponse => {
                assert!(from["user"].is_null());
                assert_eq!(from["application"]["id"], COPILOT_BOT_APP_ID);
                assert_eq!(from["application"]["applicationIdentityType"], "bot");
                let body = parsed.body.as_ref().unwrap();
                assert_eq!(body.content_type, "html");
                for attachment in &parsed.attachments {
                    let placeholder = format!(
                        "<attachment id=\"{}\"></attachment>",
                        attachment.attachment_id
                    );
                    assert!(body.content.contains(&placeholder));
                }
            }
            InteractionType::UnknownFutureValue => panic!("unexpected type"),
        }
        by_request
            .entry(parsed.request_id.clone())
            .or_default()
            .push(parsed);
    }
    let complete: Vec<_> = by_request.values().filter(|pair| pair.len() == 2).collect();
    assert!(complete.len() > 20);
    assert!(by_request.values().all(|group| group.len() <= 2));
    for pair in complete {
        let (response, prompt) = (&pair[0], &pair[1]);
        assert_eq!(prompt.interaction_type, InteractionType::UserPrompt);
        assert_eq!(response.interaction_type, InteractionType::AiResponse);
        assert_eq!(prompt.session_id, response.session_id);
        assert_eq!(prompt.app_class, response.app_class);
        let delay = response.created_date_time - prompt.created_date_time;
        assert!(delay >= Duration::seconds(1) && delay <= Duration::milliseconds(8_100));
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_interactions_are_validated_and_exported_at_once() {
    let sim = start_quiet("healthy").await;
    let (licensed, unlicensed) = users(&sim).await;
    let post = |body: Value| {
        let request = sim.http.post(sim.url("/_sim/interactions")).json(&body);
        async move { request.send().await.unwrap() }
    };
    for bad in [
        json!({ "pairs": 0 }),
        json!({ "pairs": 1001 }),
        json!({ "pairs": 1, "userId": unlicensed[0] }),
        json!({ "pairs": 1, "userId": "00000000-0000-0000-0000-000000000000" }),
        json!({ "pairs": 1, "appClass": "IPM.Note" }),
    ] {
        let response = post(bad.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let response = post(json!({ "pairs": 3, "userId": licensed[2], "appClass": WORD })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let made: Value = response.json().await.unwrap();
    let made: Vec<AiInteraction> = serde_json::from_value(made["value"].clone()).unwrap();
    assert_eq!(made.len(), 6);
    assert!(made.iter().all(|i| i.app_class == WORD));
    let page = get_page(
        &sim,
        &first_url(&sim, &licensed[2], &[("$top", "6")]),
        &sim.token(),
    )
    .await;
    let mut exported: Vec<&str> = page.value.iter().map(|i| i.id.as_str()).collect();
    let mut expected: Vec<&str> = made.iter().map(|i| i.id.as_str()).collect();
    exported.sort_unstable();
    expected.sort_unstable();
    assert_eq!(
        exported, expected,
        "the newest items are the generated ones"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_activity_is_published_on_time_and_clock_jumps_are_skipped() {
    // One real second is one simulated hour.
    let mut options = SimOptions::loopback(Scenario::load("healthy").unwrap());
    options.start_time = Some(start_time());
    options.speed = 3600.0;
    let sim = TestSim::start_with(options).await;
    let state = sim.sim.state.clone();
    let history = |all: &[(String, AiInteraction)]| {
        all.iter()
            .filter(|(_, item)| item.created_date_time < start_time())
            .count()
    };
    let seeded = history(&ground_truth(&sim).await);
    assert!(seeded > 5_000);
    tokio::time::sleep(StdDuration::from_secs(2)).await;
    let now = state.now();
    let after_two_hours = ground_truth(&sim).await;
    let live: Vec<&AiInteraction> = after_two_hours
        .iter()
        .map(|(_, item)| item)
        .filter(|item| item.created_date_time >= start_time())
        .collect();
    // 240 pairs an hour at the peak, shaped by the working day: integrate the shape over the
    // simulated time that really passed (it varies with how busy the test host is).
    let minutes = (now - start_time()).num_minutes();
    assert!(minutes > 90, "{minutes} min");
    let expected: f64 = (0..minutes)
        .map(|m| 2.0 * 240.0 / 60.0 * activity_level(start_time() + Duration::minutes(m)))
        .sum();
    let ratio = live.len() as f64 / expected;
    assert!(
        (0.75..1.25).contains(&ratio),
        "{} live items over {minutes} min, {expected:.0} expected",
        live.len()
    );
    assert_eq!(
        history(&after_two_hours),
        seeded,
        "the past does not change"
    );
    assert!(
        live.iter().all(|item| item.created_date_time <= now),
        "an interaction was published before its createdDateTime"
    );
    let (licensed, unlicensed) = users(&sim).await;
    assert!(
        after_two_hours
            .iter()
            .all(|(user, _)| licensed.contains(user))
    );
    assert!(
        after_two_hours
            .iter()
            .all(|(user, _)| !unlicensed.contains(user))
    );

    let before_jump = state.now();
    let advanced = sim
        .http
        .post(sim.url("/_sim/clock/advance"))
        .json(&json!({ "seconds": 86_400 }))
        .send()
        .await
        .unwrap();
    assert_eq!(advanced.status(), StatusCode::OK);
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let after_jump = ground_truth(&sim).await;
    let in_gap = after_jump
        .iter()
        .filter(|(_, item)| {
            item.created_date_time > before_jump + Duration::hours(6)
                && item.created_date_time < before_jump + Duration::hours(20)
        })
        .count();
    assert_eq!(in_gap, 0, "the jumped-over day was generated in a burst");
    let added = after_jump.len() - after_two_hours.len();
    assert!(added < 600, "{added} items after the jump");
    sim.stop().await;
}
